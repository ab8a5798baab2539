"""``python -m analytics COMMAND``: write reports and other computed outputs."""

from __future__ import annotations

import sys

from data.commands import build_parser as _build_parser
from data.commands import run_command

COMMAND_MODULES = (
    "analytics.report",
    "analytics.refresh",
    "analytics.inventory.alerts",
    "analytics.insights.cli",
)


def build_parser():
    return _build_parser("python -m analytics", "Write reports and other computed outputs.", COMMAND_MODULES)


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

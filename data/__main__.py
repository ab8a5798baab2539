"""``python -m data COMMAND``: export the warehouse, give BI tools a read-only login, erase a customer's
contact details."""

from __future__ import annotations

import sys

from data.commands import build_parser as _build_parser
from data.commands import run_command

COMMAND_MODULES = (
    "data.export.cli",
    "data.bi_user",
    "data.erase",
)


def build_parser():
    return _build_parser("python -m data", "Export the warehouse; give BI tools a read-only login; erase a "
                         "customer's contact details.", COMMAND_MODULES)


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

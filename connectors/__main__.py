"""``python -m connectors COMMAND``: build the demo store, import CSV, sync stores, load exchange rates."""

from __future__ import annotations

import sys

from data.commands import build_parser as _build_parser
from data.commands import run_command

COMMAND_MODULES = (
    "connectors.demo.cli",
    "connectors.csv_import.cli",
    "connectors.sync.cli",
    "connectors.fx.cli",
    "connectors.worker.cli",
)


def build_parser():
    return _build_parser("python -m connectors", "Build the demo store, import CSV files, sync connected stores, load exchange rates.", COMMAND_MODULES)


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

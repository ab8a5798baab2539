"""``python -m connectors COMMAND``: build the demo store, import CSV, sync stores.

Each command lives in its own module exposing ``register(subparsers)``; the
handler it sets as ``func`` takes the parsed arguments and returns an exit
code. Errors a user can cause print one sentence and exit non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from data.warehouse import WarehouseError

COMMAND_MODULES = (
    "connectors.demo.cli",
    "connectors.csv_import.cli",
    "connectors.sync.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m connectors", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # command not installed in this build
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing after the last completed step was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

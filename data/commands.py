"""The shape shared by ``python -m connectors`` and ``python -m analytics``.

Each command lives in its own module exposing ``register(subparsers)``; the
handler it sets as ``func`` takes the parsed arguments and returns an exit
code. Errors a user can cause (``WarehouseError``) print one sentence and exit 2.
Logging is configured once for every command (``data/logs.py``: ``LOG_LEVEL``, stderr).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from data.logs import configure_logging
from data.warehouse import WarehouseError


def build_parser(prog: str, description: str, modules: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # command not installed in this build
            raise
        module.register(sub)
    return parser


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    args = parser.parse_args(argv)
    configure_logging()
    try:
        return int(args.func(args) or 0)
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing after the last completed step was written", file=sys.stderr)
        return 130

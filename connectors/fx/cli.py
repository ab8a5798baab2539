"""``python -m connectors fx [--refresh | --no-refresh] [--url URL] [--full] [--db URL]``."""

from __future__ import annotations

import argparse
import sys

from connectors.sync.runner import SyncError
from data.warehouse import connect


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "fx", help="load the ECB exchange rates (the shipped history, then the published file when FX_REFRESH is on)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--refresh", dest="refresh", action="store_true", default=None,
                       help="fetch the published file whatever FX_REFRESH says")
    group.add_argument("--no-refresh", dest="refresh", action="store_false",
                       help="load only the shipped history (no network)")
    parser.add_argument("--url", help="the rates file to fetch (default: FX_RATES_URL)")
    parser.add_argument("--full", action="store_true", help="load the whole shipped history again")
    parser.add_argument("--db", help="warehouse URL (default: DATABASE_URL or the embedded file)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from connectors.fx.ecb import latest_rate_date, load_rates

    wh = connect(args.db)
    try:
        result = load_rates(wh, refresh=args.refresh, url=args.url, full=args.full)
    except SyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        newest = latest_rate_date(wh)
        if newest is not None:
            print(f"the rates stored before stay in use (the newest is of {newest:%d %B %Y})", file=sys.stderr)
        return 1
    newest = latest_rate_date(wh)
    print(f"{result.rows_written:,} exchange rates written; the newest is of "
          f"{newest:%d %B %Y}" if newest else "no exchange rates stored")
    return 0

"""``python -m connectors import-csv PATH [--kind orders|ad-spend]``: import an order or ad-spend CSV."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from connectors.csv_import.cells import CsvImportError
from connectors.csv_import.importer import DEFAULT_STORE, import_csv
from data.warehouse import connect


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-csv",
        help="import orders from a CSV file (the generic order-lines CSV or a Shopify orders export)",
        description=(
            "Import orders (or, with --kind ad-spend, ad spend) from a CSV file: the generic order-lines CSV (order_id, created_at, sku, quantity, "
            "unit_price, ...) or Shopify's \"Export orders\" file. The whole file is checked first; if any row "
            "is wrong, nothing is written and the error names the row and column. Importing the same file "
            "again changes nothing."
        ),
    )
    parser.add_argument("path", help="the CSV file (UTF-8, comma-separated, with a header row)")
    parser.add_argument("--kind", choices=("orders", "ad-spend"), default="orders",
                        help="what the file holds: orders (default) or ad spend (date, channel, campaign, spend, "
                             "currency, optional impressions, clicks, conversions)")
    parser.add_argument("--store", default=None, metavar="ID",
                        help=f"the store to import into (orders: default {DEFAULT_STORE}, created when new; "
                             "ad spend: an existing store, by default the only one)")
    parser.add_argument("--timezone", metavar="TZ",
                        help="the timezone of a new store, for times written without an offset (default UTC)")
    parser.add_argument("--currency", metavar="CUR",
                        help="the currency of a new store (default: the file's currency column, else USD)")
    parser.add_argument("--db", metavar="URL",
                        help="the warehouse: duckdb:///path/file.duckdb or postgresql://... "
                             "(default: DATABASE_URL, else the embedded file)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "not there"
        raise CsvImportError(f"{path} is {what}: give the path of a CSV file.")
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.1f} s] {message}", file=sys.stderr, flush=True)

    wh = connect(args.db)
    try:
        if args.kind == "ad-spend":
            if args.timezone or args.currency:
                raise CsvImportError("--timezone and --currency are for orders; ad spend goes into an existing "
                                     "store, and each row names its currency.")
            from connectors.csv_import.ad_spend import import_ad_spend

            result = import_ad_spend(wh, path, store_id=args.store)
        else:
            result = import_csv(wh, path, store_id=args.store or DEFAULT_STORE, timezone=args.timezone,
                                currency=args.currency, progress=progress)
    finally:
        wh.close()
    print(result.summary())
    return 0

"""``python -m data export parquet DIR`` (and ``bigquery``, ``lookml``): the export commands."""

from __future__ import annotations

import argparse
import sys

from data.warehouse import connect


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="export the warehouse (Parquet files, BigQuery, a LookML project)")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")

    parquet = kinds.add_parser(
        "parquet", help="write every contract table as Parquet, partitioned by store and month",
        description="Write what changed since the last export (everything the first time) into DIR: "
                    "DIR/<table>/store_id=<store>/month=<YYYY-MM>/data.parquet and DIR/_manifest.json.")
    parquet.add_argument("directory", metavar="DIR", help="folder to write (created when missing)")
    parquet.add_argument("--table", action="append", dest="tables", metavar="NAME",
                         help="export only this table (repeatable)")
    parquet.add_argument("--db", help="warehouse URL (default: DATABASE_URL or the embedded file)")
    parquet.set_defaults(func=run_parquet)


def run_parquet(args: argparse.Namespace) -> int:
    from data.export.parquet import export_parquet

    wh = connect(args.db)
    try:
        result = export_parquet(wh, args.directory, tables=args.tables)
    finally:
        wh.close()
    for name, done in result.tables.items():
        if done.partitions_written or done.partitions_removed:
            print(f"  {name}: {done.rows_written:,} rows in {done.partitions_written} partitions"
                  + (f", {done.partitions_removed} removed" if done.partitions_removed else ""), file=sys.stderr)
    print(f"exported {result.rows_written:,} rows ({result.bytes_written / 1e6:.1f} MB) in "
          f"{result.partitions_written} partitions to {result.directory} in {result.seconds:.1f} s")
    return 0

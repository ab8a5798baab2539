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

    bigquery = kinds.add_parser(
        "bigquery", help="merge every contract table into a BigQuery dataset and create the bi_* views there",
        description="Load what changed since the last export (everything the first time) into staging tables "
                    "and MERGE it on each table's key into PROJECT.DATASET; then (re)create the bi_* views.")
    bigquery.add_argument("--project", required=True, help="Google Cloud project id")
    bigquery.add_argument("--dataset", required=True, help="dataset (created when missing)")
    bigquery.add_argument("--location", help="where a new dataset lives (default: BigQuery's, US)")
    bigquery.add_argument("--credentials", metavar="FILE",
                          help="service-account key file (default: GOOGLE_APPLICATION_CREDENTIALS or the "
                               "environment's default credentials)")
    bigquery.add_argument("--table", action="append", dest="tables", metavar="NAME",
                          help="export only this table (repeatable)")
    bigquery.add_argument("--db", help="warehouse URL (default: DATABASE_URL or the embedded file)")
    bigquery.set_defaults(func=run_bigquery)

    lookml = kinds.add_parser(
        "lookml", help="write a LookML project (a model and a view file per bi_* view) for Looker",
        description="Write DIR/ecommerce_analytics.model.lkml and DIR/views/<view>.view.lkml from the bi_* views.")
    lookml.add_argument("directory", metavar="DIR", help="folder to write (created when missing)")
    lookml.add_argument("--connection", default="ecommerce_warehouse",
                        help="the Looker connection's name (default: ecommerce_warehouse)")
    lookml.add_argument("--schema", help="schema (PostgreSQL) or project.dataset (BigQuery) holding the views")
    lookml.add_argument("--dialect", choices=["postgres", "bigquery"], default="postgres",
                        help="the connection's database (default: postgres)")
    lookml.set_defaults(func=run_lookml)


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


def run_bigquery(args: argparse.Namespace) -> int:
    from data.export.bigquery import export_bigquery, make_client

    client = make_client(args.project, args.credentials, args.location)
    wh = connect(args.db)
    try:
        result = export_bigquery(wh, client, args.dataset, tables=args.tables, location=args.location)
    finally:
        wh.close()
    for name, changed in result.rows_changed.items():
        if changed:
            print(f"  {name}: {changed:,} rows inserted or updated", file=sys.stderr)
    print(f"merged {sum(result.rows_changed.values()):,} changed rows of {result.rows_loaded:,} loaded "
          f"({result.bytes_loaded / 1e6:.1f} MB in {result.load_jobs} load jobs) into {result.dataset} "
          f"in {result.seconds:.1f} s")
    return 0


def run_lookml(args: argparse.Namespace) -> int:
    from data.export.lookml import write_lookml

    written = write_lookml(args.directory, connection=args.connection, schema=args.schema, dialect=args.dialect)
    print(f"wrote {len(written)} LookML files to {args.directory}")
    return 0

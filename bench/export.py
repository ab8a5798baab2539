"""Export throughput: the Parquet export and the BigQuery export (against the local emulator).

    python -m bench.export [--orders 100000] [--days 730] [--backend duckdb] [--no-bigquery]

Builds a demo store of ``--orders`` orders (default dates: two years up to
31 December 2026), then times:

- ``parquet_full``: the first export of every contract table to an empty folder;
- ``parquet_incremental``: the next export after 1 % of the orders changed
  (their ``updated_at`` moved to after the first export): only their months'
  partitions of orders, lines and rollups, and the recent ones, are written again;
- ``bigquery_full`` and ``bigquery_incremental``: the same two runs into a
  dataset of the BigQuery emulator (bqemulator, BigQuery's REST API on DuckDB,
  in this process), through the official client. The emulator, not the export,
  sets most of this pace: real BigQuery loads and merges in its own time.

Each line gives rows and MB written (Parquet, compressed) or loaded, seconds,
rows/s and MB/s. Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from pathlib import Path

from bench.common import emit, scratch_url, timer

END = dt.date(2026, 12, 31)
AFTER = dt.datetime(2027, 1, 2, tzinfo=dt.timezone.utc)


def _rates(rows: int, size: int, seconds: float) -> dict:
    return {"rows": rows, "mb": round(size / 1e6, 1), "seconds": seconds,
            "rows_per_s": round(rows / seconds) if seconds else None,
            "mb_per_s": round(size / 1e6 / seconds, 1) if seconds else None}


def _touch_orders(wh, share: float, when: dt.datetime) -> int:
    ids = [r[0] for r in wh.rows("SELECT order_id FROM orders ORDER BY order_id")]
    chosen = ids[:: max(1, round(1 / share))]
    wh.execute("UPDATE orders SET updated_at = :t WHERE order_id IN (SELECT unnest(CAST(:ids AS TEXT[])))"
               if wh.dialect == "duckdb" else
               "UPDATE orders SET updated_at = :t WHERE order_id = ANY(CAST(:ids AS TEXT[]))",
               {"t": when, "ids": chosen})
    return len(chosen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--backend", default="duckdb")
    parser.add_argument("--no-bigquery", action="store_true", help="time the Parquet export only")
    args = parser.parse_args(argv)

    from connectors.demo import build_demo
    from data.export.parquet import export_parquet
    from data.warehouse import connect

    common = {"orders": args.orders, "backend": args.backend}
    with scratch_url(args.backend) as url, tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        wh = connect(url)
        with timer() as built:
            build_demo(wh, orders=args.orders, days=args.days, seed=7, end=END)
        emit(bench="export_build", **common, seconds=built["seconds"])

        out = Path(tmp) / "parquet"
        with timer() as t:
            full = export_parquet(wh, out, now=AFTER)
        emit(bench="parquet_full", **common, partitions=full.partitions_written,
             **_rates(full.rows_written, full.bytes_written, t["seconds"]))
        touched = _touch_orders(wh, 0.01, AFTER + dt.timedelta(hours=2))
        with timer() as t:
            again = export_parquet(wh, out, now=AFTER + dt.timedelta(hours=3))
        emit(bench="parquet_incremental", **common, orders_changed=touched, partitions=again.partitions_written,
             **_rates(again.rows_written, again.bytes_written, t["seconds"]))

        if not args.no_bigquery:
            _bigquery(wh, common)
        wh.close()
    return 0


def _bigquery(wh, common: dict) -> None:
    import logging

    try:
        from tests.emulators.bigquery import BigQueryEmulator
    except ImportError:
        emit(bench="bigquery_full", **common, skipped="bqemulator (a test dependency) is not installed")
        return
    from data.export.bigquery import export_bigquery, make_client

    logging.disable(logging.WARNING)
    emulator = BigQueryEmulator().start()
    os.environ["BIGQUERY_EMULATOR_HOST"] = emulator.url
    try:
        client = make_client("bench-project")
        with timer() as t:
            full = export_bigquery(wh, client, "bench", now=AFTER + dt.timedelta(hours=3), timeout=600)
        emit(bench="bigquery_full", **common, load_jobs=full.load_jobs, target="bqemulator 1.4.0",
             **_rates(full.rows_loaded, full.bytes_loaded, t["seconds"]))
        touched = _touch_orders(wh, 0.01, AFTER + dt.timedelta(hours=5))
        with timer() as t:
            again = export_bigquery(wh, client, "bench", now=AFTER + dt.timedelta(hours=6), timeout=600)
        emit(bench="bigquery_incremental", **common, orders_changed=touched, load_jobs=again.load_jobs,
             rows_changed=sum(again.rows_changed.values()), target="bqemulator 1.4.0",
             **_rates(again.rows_loaded, again.bytes_loaded, t["seconds"]))
    finally:
        emulator.stop()
        os.environ.pop("BIGQUERY_EMULATOR_HOST", None)


if __name__ == "__main__":
    raise SystemExit(main())

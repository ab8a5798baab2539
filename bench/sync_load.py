"""Load rate of normalized records through the sync runner's writer.

    python -m bench.sync_load --orders 50000 --backend duckdb

Builds a demo store in a scratch DuckDB file, then replays its orders, lines
and refunds page by page (250 orders a page, like a Shopify page) through
``connectors.sync.runner.write_batch`` into an empty warehouse on the chosen
backend: each page an upsert of every table, its rollups refreshed and its
cursor saved in one transaction, as a real sync does.
"""

from __future__ import annotations

import argparse
import time

from bench.common import emit, scratch_url

PAGE = 250


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_load")
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--backend", choices=["duckdb", "postgres"], default="duckdb")
    parser.add_argument("--page", type=int, default=PAGE, help="orders per batch (250: a Shopify page)")
    args = parser.parse_args(argv)

    from connectors.demo import build_demo
    from connectors.sync.runner import Batch, write_batch
    from data.warehouse import connect

    with scratch_url("duckdb") as source_url, scratch_url(args.backend) as target_url:
        source = connect(source_url)
        build_demo(source, orders=args.orders, days=365, seed=3)
        store = source.query("SELECT store_id, platform, name, currency, timezone, created_at FROM stores")
        orders = source.query("SELECT * FROM orders ORDER BY updated_at, order_id")
        lines = source.query("SELECT * FROM order_lines")
        refunds = source.query("SELECT * FROM refunds")
        refund_lines = source.query("SELECT * FROM refund_lines")
        source.close()

        target = connect(target_url)
        target.upsert("stores", store)
        written_lines = 0
        start = time.perf_counter()
        for first in range(0, orders.height, args.page):
            page = orders.slice(first, args.page)
            ids = page["order_id"]
            page_refunds = refunds.filter(refunds["order_id"].is_in(ids.implode()))
            batch = Batch(
                tables={
                    "orders": page,
                    "order_lines": lines.filter(lines["order_id"].is_in(ids.implode())),
                    "refunds": page_refunds,
                    "refund_lines": refund_lines.filter(
                        refund_lines["refund_id"].is_in(page_refunds["refund_id"].implode())),
                },
                cursor=str(page["updated_at"].max()),
            )
            written_lines += batch.tables["order_lines"].height
            write_batch(target, "demo", "orders", batch, batch.cursor)
        seconds = time.perf_counter() - start
        target.close()
    emit(bench="sync_load", backend=args.backend, orders=orders.height, order_lines=written_lines,
         page_orders=args.page, pages=(orders.height + args.page - 1) // args.page, seconds=round(seconds, 2),
         order_lines_per_s=round(written_lines / seconds), orders_per_s=round(orders.height / seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

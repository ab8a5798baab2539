"""Load rate of normalized records through the sync runner's writer.

    python -m bench.sync_load --orders 50000 --backend duckdb

    python -m bench.sync_load --page 100 --commit-rows 1   # one transaction a page

Builds a demo store in a scratch DuckDB file, then replays its orders, lines
and refunds page by page (250 orders a page, like a Shopify page; 100 for
WooCommerce) into an empty warehouse on the chosen backend, the way the sync
runner writes a first sync: pages grouped by ``group_batches`` (until
``--commit-rows`` rows or ``--commit-seconds``), each group's upserts, the
rollups of its orders and its cursor in one transaction. ``--commit-rows 1``
commits every page on its own. Every page is cut from the demo store before
the clock starts (in a sync they arrive normalized from the platform's API), so
``seconds`` and the rates are the writer's: grouping, upserts, rollups, cursor
and commits; ``write_seconds`` is the part spent inside ``write_batches``.
"""

from __future__ import annotations

import argparse
import time

from bench.common import emit, scratch_url
from connectors.sync.runner import COMMIT_ROWS, COMMIT_SECONDS

PAGE = 250


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_load")
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--backend", choices=["duckdb", "postgres"], default="duckdb")
    parser.add_argument("--page", type=int, default=PAGE, help="orders per batch (250: a Shopify page)")
    parser.add_argument("--commit-rows", type=int, default=COMMIT_ROWS, help="rows a transaction gathers")
    parser.add_argument("--commit-seconds", type=float, default=COMMIT_SECONDS,
                        help="longest a page waits for its transaction")
    args = parser.parse_args(argv)

    from connectors.demo import build_demo
    from connectors.sync.runner import Batch, group_batches, write_batches
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
        counts = {"lines": 0, "transactions": 0, "writing": 0.0}

        def pages():
            for first in range(0, orders.height, args.page):
                page = orders.slice(first, args.page)
                ids = page["order_id"].implode()
                page_refunds = refunds.filter(refunds["order_id"].is_in(ids))
                page_lines = lines.filter(lines["order_id"].is_in(ids))
                counts["lines"] += page_lines.height
                yield Batch(
                    tables={
                        "orders": page,
                        "order_lines": page_lines,
                        "refunds": page_refunds,
                        "refund_lines": refund_lines.filter(
                            refund_lines["refund_id"].is_in(page_refunds["refund_id"].implode())),
                    },
                    # The connectors replace an order's lines with its current set.
                    deletes={"order_lines": page.select("store_id", "order_id")},
                    cursor=str(page["updated_at"].max()),
                )

        # Cut every page before the clock starts: in a sync the pages arrive from the platform's API,
        # already normalized; cutting them from the demo tables is this benchmark's cost, not the writer's.
        batches = list(pages())
        start = time.perf_counter()
        for group in group_batches(batches, rows=args.commit_rows, seconds=args.commit_seconds):
            began = time.perf_counter()
            write_batches(target, "demo", "orders", group, group[-1].cursor)
            counts["writing"] += time.perf_counter() - began
            counts["transactions"] += 1
        seconds = time.perf_counter() - start
        target.close()
    emit(bench="sync_load", backend=args.backend, orders=orders.height, order_lines=counts["lines"],
         page_orders=args.page, pages=(orders.height + args.page - 1) // args.page,
         transactions=counts["transactions"], commit_rows=args.commit_rows, seconds=round(seconds, 2),
         write_seconds=round(counts["writing"], 2),
         order_lines_per_s=round(counts["lines"] / seconds), orders_per_s=round(orders.height / seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

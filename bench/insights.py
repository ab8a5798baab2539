"""Time the insights facts, the offline writer and the grounding check on a demo store.

    python -m bench.insights --orders 100000             # builds a demo store in a scratch file
    python -m bench.insights --db duckdb:///path/x.duckdb # reuses a warehouse that holds one

One JSON line per range (the last full week and the last 90 days before the
store's newest order): ``facts_s`` (every query of the facts: KPIs, movers,
anomalies with their 8 weeks of history, segments, stock, forecast; the
median of ``--repeat`` runs), ``facts_bytes`` (what a provider receives),
``offline_s`` (the writer) and ``grounding_s`` (checking the writer's text,
``numbers`` numbers). Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from bench.common import emit, scratch_url, timer


def measure(url: str, store_id: str, repeat: int, **labels) -> None:
    from analytics.insights.facts import build_facts, facts_json
    from analytics.insights.grounding import check
    from analytics.insights.offline import write_offline
    from data.warehouse import connect

    with connect(url) as wh:
        newest = wh.scalar("SELECT MAX(local_date) FROM order_facts WHERE store_id = :s", {"s": store_id})
        orders = wh.scalar("SELECT COUNT(*) FROM order_facts WHERE store_id = :s", {"s": store_id})
        if newest is None:
            raise SystemExit(f"no orders for store {store_id!r} in that warehouse")
        week_end = newest - dt.timedelta(days=newest.weekday() + 1)
        for name, (start, end) in {"last_week": (week_end - dt.timedelta(days=6), week_end),
                                   "last_90_days": (newest - dt.timedelta(days=90), newest - dt.timedelta(days=1))
                                   }.items():
            runs = []
            for _ in range(repeat):
                started = time.perf_counter()
                facts = build_facts(wh, store_id, start, end)
                runs.append(time.perf_counter() - started)
            with timer() as written:
                text = write_offline(facts)
            with timer() as grounded:
                result = check(text, facts)
            emit(bench="insights", orders=int(orders), range=name, facts_s=round(statistics.median(runs), 3),
                 facts_bytes=len(facts_json(facts).encode()), offline_s=written["seconds"],
                 grounding_s=grounded["seconds"], numbers=len(result.numbers), ungrounded=len(result.ungrounded),
                 **labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.insights")
    parser.add_argument("--orders", type=int, default=100_000, help="demo store size when building one")
    parser.add_argument("--db", help="a warehouse URL that already holds the store (nothing is built)")
    parser.add_argument("--store", default="demo")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.db:
        measure(args.db, args.store, args.repeat, backend=args.db.split(":", 1)[0])
        return 0

    from connectors.demo import build_demo
    from data.warehouse import connect

    with scratch_url("duckdb") as url:
        with connect(url) as wh, timer() as t:
            build_demo(wh, orders=args.orders, days=730, seed=7, store_id=args.store)
        emit(bench="insights_build", orders=args.orders, seconds=t["seconds"])
        measure(url, args.store, args.repeat, backend="duckdb")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

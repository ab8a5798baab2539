"""Build a demo store and time the metric queries on it.

    python -m bench.warehouse --orders 1000000 --backend duckdb

Prints JSON lines: the generator time (and rows per table), then the time of
each metric query (cold = first run, warm = best of the next three), with the
process's peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from bench.common import emit, scratch_url, timer


def metric_queries(wh, store_id: str, end: dt.date) -> dict:
    from analytics import metrics

    last30 = (end - dt.timedelta(days=29), end)
    last365 = (end - dt.timedelta(days=364), end)
    everything = (end - dt.timedelta(days=3650), end)
    return {
        "sales_summary_30d": lambda: metrics.sales_summary(wh, store_id, *last30),
        "sales_summary_365d": lambda: metrics.sales_summary(wh, store_id, *last365),
        "sales_summary_all": lambda: metrics.sales_summary(wh, store_id, *everything),
        "sales_over_time_day_365d": lambda: metrics.sales_over_time(wh, store_id, *last365, "day"),
        "sales_over_time_week_all": lambda: metrics.sales_over_time(wh, store_id, *everything, "week"),
        "sales_over_time_month_all": lambda: metrics.sales_over_time(wh, store_id, *everything, "month"),
    }


def time_queries(wh, store_id: str, end: dt.date, **labels) -> None:
    for name, run in metric_queries(wh, store_id, end).items():
        start = time.perf_counter()
        run()
        cold = time.perf_counter() - start
        warm = []
        for _ in range(3):
            start = time.perf_counter()
            run()
            warm.append(time.perf_counter() - start)
        emit(bench="metric_query", query=name, cold_s=round(cold, 4), warm_s=round(min(warm), 4), **labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.warehouse")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--backend", choices=["duckdb", "postgres"], default="duckdb")
    args = parser.parse_args(argv)

    from connectors.demo import build_demo
    from data.warehouse import connect

    labels = {"orders": args.orders, "backend": args.backend}
    with scratch_url(args.backend) as url:
        wh = connect(url)
        end = dt.date.today()
        with timer() as t:
            summary = build_demo(wh, orders=args.orders, days=args.days, seed=7)
        counts = summary.get("counts", summary) if isinstance(summary, dict) else {}
        emit(bench="demo_build", seconds=t["seconds"], rows=counts, **labels)
        time_queries(wh, "demo", end, **labels)
        wh.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

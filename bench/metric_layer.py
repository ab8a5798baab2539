"""Time the metric layer against its two yardsticks (``bench/yardsticks.py``).

    python -m bench.metric_layer --orders 1000000            # builds a demo store in a scratch file
    python -m bench.metric_layer --db duckdb:///path/x.duckdb # reuses a warehouse that holds one

What the Sales page asks the layer for a range (``sales_summary`` and the
``sales_over_time`` series, by day) is timed three ways over the last 30 days,
the last 365 days and the whole history up to the store's last sale or refund:

- ``layer_s``: the metric layer (warm: the median of ``--repeats`` runs after a first one,
  taking turns with the query's runs so that other work on the machine weighs on both alike);
- ``duckdb_s``: one hand-written DuckDB query over the same rollups, its rows made into the
  same figures (same warm median); ``duckdb_query_s``: the query and its fetch alone;
- ``pandas_compute_s``: plain pandas over the raw tables already in memory (median of
  ``--pandas-repeats``); ``pandas_load_s``: reading those tables from the warehouse into
  pandas (the median of as many reads, once for all ranges); ``pandas_s``: the two added.

One JSON line per range with the ratios ``layer_vs_duckdb`` (target ≤ 1.5;
``layer_vs_duckdb_query`` against the bare query, stricter) and
``pandas_vs_layer`` (target ≥ 10; ``pandas_compute_vs_layer`` leaves reading out),
whether each yardstick's figures matched the layer's exactly (``matched_*``, with the
first differences if not), the load average when the range's timings started and
ended, and peak memory: ``layer_peak_rss_mb`` before pandas read anything,
``peak_rss_mb`` the process's. Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from typing import Callable

from bench.common import emit, peak_rss_mb, scratch_url, timer


def timed(run: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """(first run's seconds, median seconds of the next ``repeats``, the last result)."""
    (cold, warm, result), = interleaved({"run": run}, repeats).values()
    return cold, warm, result


def interleaved(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, float, object]]:
    """:func:`timed` for several runs taking turns, so that other work on the machine weighs on each alike."""
    cold: dict[str, float] = {}
    warm: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, object] = {}
    for round_no in range(repeats + 1):
        for name, run in runs.items():
            start = time.perf_counter()
            results[name] = run()
            seconds = time.perf_counter() - start
            if round_no == 0:
                cold[name] = seconds
            else:
                warm[name].append(seconds)
    return {name: (cold[name], statistics.median(warm[name]) if warm[name] else cold[name], results[name])
            for name in runs}


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def date_ranges(con, store_id: str) -> dict[str, tuple[dt.date, dt.date]]:
    first, last = con.execute(
        """SELECT MIN(d), MAX(d) FROM (
               SELECT local_date AS d FROM order_facts WHERE store_id = $s
               UNION ALL SELECT local_date FROM refund_facts WHERE store_id = $s)""",
        {"s": store_id},
    ).fetchone()
    if last is None:
        raise SystemExit(f"no sales for store {store_id!r} in that warehouse")
    return {
        "last_30_days": (max(first, last - dt.timedelta(days=29)), last),
        "last_365_days": (max(first, last - dt.timedelta(days=364)), last),
        "all_history": (first, last),
    }


def measure(url: str, store_id: str, grain: str, repeats: int, pandas_repeats: int) -> None:
    import duckdb

    from bench.yardsticks import differences, duckdb_rows, duckdb_sales, layer_sales, load_tables, pandas_sales
    from data.duckdb_backend import path_from_url
    from data.warehouse import connect

    wh = connect(url)
    con = duckdb.connect(path_from_url(url))  # the same database, through DuckDB's own client
    con.execute("SET enable_progress_bar = false")
    orders, counted = con.execute(
        "SELECT (SELECT COUNT(*) FROM orders WHERE store_id = $s), "
        "(SELECT COUNT(*) FROM order_facts WHERE store_id = $s)",
        {"s": store_id},
    ).fetchone()
    ranges = date_ranges(con, store_id)

    found: dict[str, dict] = {}
    for name, (start, end) in ranges.items():
        load_before = load_average()
        runs = interleaved({
            "layer": lambda: layer_sales(wh, store_id, start, end, grain),
            "duckdb": lambda: duckdb_sales(con, store_id, start, end, grain),
            "query": lambda: duckdb_rows(con, store_id, start, end, grain),
        }, repeats)
        (layer_cold, layer, by_layer), (duck_cold, duck, by_duckdb) = runs["layer"], runs["duckdb"]
        query = runs["query"][1]
        found[name] = {"start": start, "end": end, "layer_s": layer, "layer_cold_s": layer_cold,
                       "duckdb_s": duck, "duckdb_cold_s": duck_cold, "duckdb_query_s": query, "by_layer": by_layer,
                       "by_duckdb": by_duckdb, "load_before": load_before, "load_after": load_average()}
    layer_peak = peak_rss_mb()

    loads, tables = [], None
    for _ in range(max(1, pandas_repeats)):
        with timer() as t:
            tables = load_tables(con, store_id)
        loads.append(t["seconds"])
    pandas_load = statistics.median(loads)

    for name, f in found.items():
        load_before = load_average()
        _, compute, by_pandas = timed(lambda: pandas_sales(tables, f["start"], f["end"], grain), pandas_repeats)
        off_duckdb = differences(f["by_layer"], f["by_duckdb"], limit=3)
        off_pandas = differences(f["by_layer"], by_pandas, limit=3)
        emit(
            bench="metric_layer", orders=int(orders), counted_orders=int(counted), range=name,
            start=f["start"], end=f["end"], grain=grain, buckets=len(f["by_layer"]["series"]),
            layer_s=round(f["layer_s"], 4), layer_cold_s=round(f["layer_cold_s"], 4),
            duckdb_s=round(f["duckdb_s"], 4), duckdb_cold_s=round(f["duckdb_cold_s"], 4),
            duckdb_query_s=round(f["duckdb_query_s"], 4),
            pandas_load_s=round(pandas_load, 3), pandas_compute_s=round(compute, 3),
            pandas_s=round(pandas_load + compute, 3),
            layer_vs_duckdb=round(f["layer_s"] / f["duckdb_s"], 2),
            layer_vs_duckdb_query=round(f["layer_s"] / f["duckdb_query_s"], 2),
            pandas_vs_layer=round((pandas_load + compute) / f["layer_s"], 1),
            pandas_compute_vs_layer=round(compute / f["layer_s"], 1),
            matched_duckdb=not off_duckdb, matched_pandas=not off_pandas,
            **({"differences_duckdb": off_duckdb} if off_duckdb else {}),
            **({"differences_pandas": off_pandas} if off_pandas else {}),
            load_average=[f["load_before"], f["load_after"], load_before, load_average()],
            layer_peak_rss_mb=layer_peak,
        )
    con.close()
    wh.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metric_layer")
    parser.add_argument("--orders", type=int, default=1_000_000, help="demo store size when building one")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--db", help="a DuckDB warehouse URL that already holds the store (nothing is built)")
    parser.add_argument("--store", default="demo")
    parser.add_argument("--grain", choices=["day", "week", "month"], default="day")
    parser.add_argument("--repeats", type=int, default=7, help="warm runs of the layer and the query")
    parser.add_argument("--pandas-repeats", type=int, default=3)
    args = parser.parse_args(argv)

    if args.db:
        if not args.db.startswith("duckdb:"):
            raise SystemExit("the yardsticks read DuckDB: --db must be a duckdb:/// URL")
        measure(args.db, args.store, args.grain, args.repeats, args.pandas_repeats)
        return 0

    from connectors.demo import build_demo
    from data.warehouse import connect

    with scratch_url("duckdb") as url:
        with connect(url) as wh, timer() as t:
            build_demo(wh, orders=args.orders, days=args.days, seed=7, store_id=args.store)
        emit(bench="metric_layer_build", orders=args.orders, seconds=t["seconds"])
        measure(url, args.store, args.grain, args.repeats, args.pandas_repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

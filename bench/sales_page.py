"""Time the Sales page's script run on a demo store.

    python -m bench.sales_page --orders 1000000            # builds a demo store in a scratch file
    python -m bench.sales_page --db duckdb:///path/x.duckdb # reuses a warehouse that holds one

The page runs under Streamlit's AppTest (the same script the server runs, with
the live demo feed off). For each date preset, one JSON line:

- ``first_s``: the first run in this process (imports, warehouse opened, empty caches);
- ``cold_s``: a run with the page caches emptied, as after new data arrives or for
  filters never seen before;
- ``warm_s``: the median of the next reruns (what a click that changes nothing
  heavy, or a filter seen before, costs);
- ``channel_filter_s``: a rerun after picking one sales channel (uncached figures).

Targets on a 2-core machine at a million orders: cold ≤ 3 s, warm ≤ 0.5 s.
Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from bench.common import emit, scratch_url, timer

PAGE = Path(__file__).resolve().parent.parent / "pages" / "sales.py"


def page_runs(url: str, store_id: str, preset: str, reruns: int, first: bool) -> dict:
    """Run the page cold, then warm ``reruns`` times, then with a channel filter; seconds for each."""
    from streamlit.testing.v1 import AppTest

    from ui import cache

    def fresh() -> AppTest:
        at = AppTest.from_file(str(PAGE), default_timeout=300)
        at.session_state["filters_preset"] = preset
        at.session_state["filters_store"] = store_id
        return at

    def timed(run) -> float:
        start = time.perf_counter()
        result = run()
        if result.exception:
            raise RuntimeError(f"the page failed: {result.exception[0].value}")
        return time.perf_counter() - start

    figures: dict = {}
    cache.clear()
    at = fresh()
    figures["first_s" if first else "cold_s"] = timed(at.run)
    if first:
        cache.clear()
        at = fresh()
        figures["cold_s"] = timed(at.run)
    figures["warm_s"] = statistics.median(timed(at.run) for _ in range(reruns))
    channels = at.multiselect(key="filters_channels").options
    if channels:
        figures["channel_filter_s"] = timed(at.multiselect(key="filters_channels").set_value([channels[0]]).run)
    return {name: round(value, 3) for name, value in figures.items()}


def measure(url: str, store_id: str, presets: list[str], reruns: int, **labels) -> None:
    from data.warehouse import close_shared, connect

    os.environ["DATABASE_URL"] = url
    os.environ["DEMO_FEED"] = "off"
    with connect(url) as wh:
        orders = wh.scalar("SELECT COUNT(*) FROM orders WHERE store_id = :s", {"s": store_id}) or 0
    if not orders:
        raise SystemExit(f"no orders for store {store_id!r} in that warehouse")
    close_shared()
    for n, preset in enumerate(presets):
        figures = page_runs(url, store_id, preset, reruns, first=n == 0)
        emit(bench="sales_page", orders=int(orders), preset=preset, **figures, **labels)
    close_shared()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sales_page")
    parser.add_argument("--orders", type=int, default=1_000_000, help="demo store size when building one")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--db", help="a warehouse URL that already holds the store (nothing is built)")
    parser.add_argument("--store", default="demo")
    parser.add_argument("--presets", default="last_30_days,year_to_date,last_90_days")
    parser.add_argument("--reruns", type=int, default=5)
    args = parser.parse_args(argv)
    presets = [p for p in args.presets.split(",") if p]

    if args.db:
        measure(args.db, args.store, presets, args.reruns, backend=args.db.split(":", 1)[0])
        return 0

    from connectors.demo import build_demo
    from data.warehouse import connect

    with scratch_url("duckdb") as url:
        with connect(url) as wh, timer() as t:
            build_demo(wh, orders=args.orders, days=args.days, seed=7, store_id=args.store)
        emit(bench="sales_page_build", orders=args.orders, seconds=t["seconds"])
        measure(url, args.store, presets, args.reruns, backend="duckdb")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

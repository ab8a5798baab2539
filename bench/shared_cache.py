"""Time a page figure answered by Redis, by Streamlit's cache and by the warehouse.

    python -m bench.shared_cache [--orders 30000] [--redis redis://127.0.0.1:6379/0]
    python -m bench.shared_cache --db duckdb:///path/x.duckdb   # reuses a warehouse that holds the store

Builds the demo store in a scratch DuckDB file (or reads ``--db``), then, for
a few figures of the Sales and Products pages over ranges ending today, one
JSON line with the median of ``--repeat`` calls of ``ui.cache.cached_query``:

- ``compute_ms``: the function itself, no cache (what a miss everywhere costs);
- ``st_cache_hit_ms``: answered by this process's Streamlit cache (``REDIS_URL`` unset, as without Redis);
- ``redis_hit_ms``: this process's cache emptied before each call, so the figure comes from Redis,
  as in a replica that has not seen it yet (the data version is read once a second in every case);
- ``value_kb``: the pickled size stored in Redis.

Keys go under a prefix of their own, removed at the end. Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import pickle
import statistics
import time
import uuid

from bench.common import emit, scratch_url, timer


def _median_ms(run, repeat: int, before=None) -> float:
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 3)


def measure(url: str, store_id: str, redis_url: str, repeat: int, **labels) -> None:
    import redis

    from analytics.metrics import sales_over_time, sales_summary
    from analytics.products import product_performance
    from analytics.store_state import data_version
    from data.warehouse import connect
    from ui import cache, shared_cache

    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)  # no runtime here
    os.environ.pop("REDIS_URL", None)
    prefix = f"bench-shared-cache:{uuid.uuid4().hex[:8]}"
    shared_cache.KEY_PREFIX = prefix
    with connect(url) as wh:
        orders = int(wh.scalar("SELECT COUNT(*) FROM orders WHERE store_id = :s", {"s": store_id}) or 0)
        today = data_version(wh, store_id).today
        figures = {
            "sales_summary_30d": (sales_summary, (today - dt.timedelta(days=29), today), {}),
            "sales_over_time_365d": (sales_over_time, (today - dt.timedelta(days=364), today, "day"), {}),
            "product_performance_90d": (product_performance, (today - dt.timedelta(days=89), today),
                                        {"as_of": today}),
        }
        try:
            for name, (fn, args, kwargs) in figures.items():
                def cached():
                    return cache.cached_query(fn, wh, store_id, *args, **kwargs)

                compute_ms = _median_ms(lambda: fn(wh, store_id, *args, **kwargs), repeat)
                os.environ.pop("REDIS_URL", None)
                cache.clear()
                cached()
                st_ms = _median_ms(cached, repeat)
                os.environ["REDIS_URL"] = redis_url
                cache.clear()
                value = cached()
                redis_ms = _median_ms(cached, repeat, before=cache._cached.clear)
                if not cache.shared().available:
                    raise SystemExit(cache.shared_status())
                emit(bench="shared_cache", figure=name, orders=orders, compute_ms=compute_ms,
                     st_cache_hit_ms=st_ms, redis_hit_ms=redis_ms,
                     value_kb=round(len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)) / 1024, 1),
                     repeat=repeat, **labels)
        finally:
            os.environ["REDIS_URL"] = redis_url
            cache.clear()  # drops this run's keys
            redis.Redis.from_url(redis_url).delete(f"{prefix}:generation")
            os.environ.pop("REDIS_URL", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shared_cache")
    parser.add_argument("--orders", type=int, default=30_000, help="demo store size when building one")
    parser.add_argument("--db", help="a warehouse URL that already holds the store (nothing is built)")
    parser.add_argument("--store", default="demo")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args(argv)
    if args.db:
        measure(args.db, args.store, args.redis, args.repeat, backend=args.db.split(":", 1)[0])
        return 0

    from connectors.demo import build_demo
    from data.warehouse import connect

    with scratch_url("duckdb") as url:
        with connect(url) as wh, timer() as t:
            build_demo(wh, orders=args.orders, seed=7, store_id=args.store)
        emit(bench="shared_cache_build", orders=args.orders, seconds=t["seconds"])
        measure(url, args.store, args.redis, args.repeat, backend="duckdb")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

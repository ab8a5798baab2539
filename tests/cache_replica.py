"""One app replica for tests/test_shared_cache.py, in a process of its own.

    REDIS_URL=redis://... python -m tests.cache_replica WAREHOUSE_URL KEY_PREFIX START END

Asks the page cache for the sales summary and daily series of store ``s`` over
START–END and prints one JSON line: how many times the figures were computed
in this process (0: another replica's result came from Redis) and the figures.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from analytics.metrics import sales_over_time, sales_summary
from data.warehouse import connect
from ui import cache, shared_cache

computed = 0


def figures(wh, store_id: str, start: dt.date, end: dt.date) -> dict:
    global computed
    computed += 1
    return {"summary": sales_summary(wh, store_id, start, end), "daily": sales_over_time(wh, store_id, start, end)}


def main(argv: list[str]) -> int:
    url, prefix, start, end = argv
    shared_cache.KEY_PREFIX = prefix
    wh = connect(url, read_only=True)
    try:
        value = cache.cached_query(figures, wh, "s", dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    finally:
        wh.close()
    print(json.dumps({"computed": computed, "summary": {k: str(v) for k, v in value["summary"].items()},
                      "daily": [{k: str(v) for k, v in row.items()} for row in value["daily"].to_dicts()]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

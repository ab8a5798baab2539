"""Time every page's script run, and every command, on a demo store.

    python -m bench.pages --orders 1000000 --backend duckdb          # builds a demo store in a scratch warehouse
    python -m bench.pages --orders 1000000 --backend postgres --keep # builds it once, reuses it next time
    python -m bench.pages --db duckdb:///path/x.duckdb               # reuses a warehouse that holds one

``--keep`` keeps the built store for the next run: a DuckDB file
``bench/results/demo-<orders>.duckdb`` (git-ignored), or a PostgreSQL database
``bench_demo_<orders>`` on the server of ``BENCH_POSTGRES_URL``; a kept store
that holds orders is reused as it is (delete the file or drop the database to
build it again).

The steps, each printing JSON lines:

1. the store is built with ``python -m connectors demo`` (``bench: "command"``);
2. ``python -m analytics refresh`` (RFM, lifetime value, forecasts) so the
   Customers and Inventory pages show real content, with each step's seconds
   from ``model_runs``; then the other commands once: ``analytics alerts``,
   ``analytics report --no-charts``, ``analytics insights --provider offline``,
   ``connectors import-csv`` (a generated file, into a store of its own that is
   removed afterwards) and ``auth list``. A sync needs a platform
   (``bench.first_sync`` times it against the emulators). ``peak_rss_mb`` is
   the command process's own;
3. every page under Streamlit's AppTest (the script the server runs, logged in
   as an owner, the live demo feed off), one line per page and date preset:

   - ``first_s``: the page's first run in this process (its imports, empty caches);
   - ``cold_s``: a run with the page caches emptied (``ui.cache.clear()``), as
     after new data arrives or for filters never seen before;
   - ``warm_s``: the median of the next reruns (a click that changes nothing
     heavy, or a filter seen before);
   - ``filter_s``: a rerun after picking one sales channel (uncached figures),
     on pages with the channel filter;
   - ``peak_rss_mb``: the peak memory of this process so far (the one serving
     the pages);

   and on a page whose tabs run only when open (the Customers page), each
   other tab opened (``bench: "page_tab"``): ``cold_s`` with the caches
   emptied (the part above the tabs computed again too), ``warm_s``.

``--table out.jsonl ...`` prints the README's table (page × backend × size, warm /
cold) from saved output, the newest line of each winning.

``--profile`` adds, for each cold run, the seconds of every ``cached_query``
call (``bench: "page_queries"``), to find what a slow page waits for.

Targets on a 2-core machine at a million orders: cold ≤ 3 s, warm ≤ 0.5 s, the
process under 1.5 GB. Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

from bench.common import PG_ADMIN_URL, emit, scratch_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PAGES = ("sales", "orders", "products", "customers", "inventory", "insights", "settings")
# Pages whose tabs run only when open: (page, the tabs' key); each other tab is timed too.
LAZY_TABS = {"customers": "customers_tab"}
USER = {"authentication_status": True, "username": "owner", "name": "Owner", "roles": ["owner"]}


# -- the store ---------------------------------------------------------------------------

def kept_url(backend: str, orders: int) -> str:
    if backend == "duckdb":
        return f"duckdb:///{RESULTS / f'demo-{orders}.duckdb'}"
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/bench_demo_{orders}"


def order_count(url: str, store_id: str) -> int:
    """Orders of ``store_id`` at ``url``; 0 when the warehouse or the store is not there."""
    from data.warehouse import connect

    if url.startswith("duckdb") and not Path(url.split(":///", 1)[1]).exists():
        return 0
    try:
        with connect(url) as wh:
            return int(wh.scalar("SELECT COUNT(*) FROM orders WHERE store_id = :s", {"s": store_id}) or 0)
    except Exception:  # noqa: BLE001 - a database that does not exist yet holds no store
        return 0


@contextlib.contextmanager
def kept_warehouse(backend: str, orders: int) -> Iterator[str]:
    url = kept_url(backend, orders)
    if backend == "duckdb":
        RESULTS.mkdir(parents=True, exist_ok=True)
    else:
        import sqlalchemy as sa

        from data.postgres_backend import sqlalchemy_url

        engine = sa.create_engine(sqlalchemy_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        with engine.connect() as conn:
            if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    yield url


# -- commands ----------------------------------------------------------------------------

def command(args: list[str], env: dict | None = None, **labels) -> dict:
    """Run ``python -m <args>`` once; emit its seconds, exit code and its own peak memory; return them
    with what it printed."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env={**os.environ, **(env or {})},
                                stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        printed, complaint = out.read(), err.read().strip()
    figures = {"command": " ".join(args[:2]), "seconds": round(seconds, 3),
               "exit": proc.returncode, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}
    if proc.returncode != 0:
        figures["stderr"] = complaint.splitlines()[-1:]
    emit(bench="command", **figures, **labels)
    return {**figures, "stdout": printed}


def refresh_steps(url: str, store_id: str) -> dict:
    """Each step's seconds in the newest refresh (from ``model_runs``)."""
    from analytics.refresh import latest_run, refresh_steps as steps
    from data.warehouse import connect

    with connect(url) as wh:
        runs = {step.key: latest_run(wh, store_id, step.key) for step in steps()}
    return {f"{kind}_s": (run or {}).get("metrics", {}).get("seconds") for kind, run in runs.items()}


def run_commands(url: str, store_id: str, csv_lines: int, **labels) -> None:
    """Every command once against the store at ``url`` (the refresh first: the pages need it)."""
    from connectors.csv_import.sample import write_sample_csv
    from connectors.demo.store import delete_store
    from data.warehouse import connect

    db = ["--db", url]
    refresh = command(["analytics", "refresh", "--store", store_id, *db], **labels)
    emit(bench="refresh_steps", **refresh_steps(url, store_id), **labels)
    if refresh["exit"] != 0:
        print(refresh["stdout"], file=sys.stderr)
    today = dt.date.today()
    last_week = (today - dt.timedelta(days=today.weekday() + 7), today - dt.timedelta(days=today.weekday() + 1))
    dates = ["--from", last_week[0].isoformat(), "--to", last_week[1].isoformat()]
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        command(["analytics", "alerts", "--store", store_id, *db], **labels)
        command(["analytics", "report", *dates, "--out", str(Path(tmp) / "report"), "--no-charts",
                 "--store", store_id, *db], **labels)
        command(["analytics", "insights", *dates, "--provider", "offline", "--no-cache", "--json",
                 "--store", store_id, *db], **labels)
        path = Path(tmp) / "orders.csv"
        write_sample_csv(path, lines=csv_lines, seed=1)
        command(["connectors", "import-csv", str(path), "--store", "csv:bench", "--timezone", "America/Chicago",
                 "--currency", "USD", *db], lines=csv_lines, **labels)
        with connect(url) as wh:
            delete_store(wh, "csv:bench")
        users = Path(tmp) / "credentials.yaml"
        write_users(users)
        command(["auth", "list"], env={"AUTH_CREDENTIALS_FILE": str(users)}, **labels)


def write_users(path: Path) -> Path:
    from auth.users import UserStore

    UserStore(path, rounds=4).add("owner", role="owner", name="Owner", password="bench-owner-password-1")
    return path


# -- pages -------------------------------------------------------------------------------

def timed(run) -> float:
    start = time.perf_counter()
    result = run()
    if result.exception:
        raise RuntimeError(f"the page failed: {result.exception[0].value}")
    return time.perf_counter() - start


@contextlib.contextmanager
def timed_queries() -> Iterator[list]:
    """Every ``cached_query`` call made meanwhile, as (function, seconds), in order."""
    from ui import cache

    original, calls = cache.cached_query, []

    def timed_query(fn, wh, store_id, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original(fn, wh, store_id, *args, **kwargs)
        finally:
            calls.append((f"{fn.__module__}.{fn.__qualname__}", round(time.perf_counter() - start, 3)))

    holders = [m for m in list(sys.modules.values()) if getattr(m, "cached_query", None) is original]
    for module in holders:
        module.cached_query = timed_query
    try:
        yield calls
    finally:
        for module in holders:
            module.cached_query = original


def page_app(page: str, store_id: str, preset: str):
    """``pages/<page>.py`` under AppTest, logged in as an owner, on ``store_id`` and the date ``preset``."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=600)
    for key, value in {**USER, "filters_preset": preset, "filters_store": store_id}.items():
        at.session_state[key] = value
    return at


def page_runs(page: str, store_id: str, preset: str, reruns: int, profile: bool = False) -> dict:
    """Run ``pages/<page>.py`` first, cold, warm ``reruns`` times, then with a channel filter."""
    from ui import cache

    figures: dict = {}
    cache.clear()
    figures["first_s"] = timed(page_app(page, store_id, preset).run)
    cache.clear()
    at = page_app(page, store_id, preset)
    with timed_queries() if profile else contextlib.nullcontext([]) as calls:
        figures["cold_s"] = timed(at.run)
    if profile:
        emit(bench="page_queries", page=page, preset=preset,
             queries=sorted(calls, key=lambda call: -call[1]), in_queries_s=round(sum(c[1] for c in calls), 3))
    figures["warm_s"] = statistics.median(timed(at.run) for _ in range(reruns))
    channel = [m for m in at.multiselect if m.key == "filters_channels"]
    if channel and channel[0].options:
        figures["filter_s"] = timed(channel[0].set_value([channel[0].options[0]]).run)
    return {name: round(value, 3) for name, value in figures.items()}


def tab_runs(page: str, store_id: str, preset: str, reruns: int) -> list[dict]:
    """For a page whose tabs run only when open: each tab but the first opened, cold (caches emptied: the page
    above the tabs is computed again too) and warm."""
    from ui import cache

    key = LAZY_TABS.get(page)
    if key is None:
        return []
    at = page_app(page, store_id, preset)
    at.run()
    rows = []
    for label in [t.label for t in at.tabs][1:]:
        at.session_state[key] = label
        cache.clear()
        cold = timed(at.run)
        warm = statistics.median(timed(at.run) for _ in range(reruns))
        rows.append({"tab": label, "cold_s": round(cold, 3), "warm_s": round(warm, 3)})
    return rows


def measure_pages(url: str, store_id: str, pages: list[str], presets: list[str], reruns: int,
                  profile: bool = False, **labels) -> None:
    import logging

    import streamlit.testing.v1  # noqa: F401 - its loggers exist before they are quietened

    from data.warehouse import close_shared

    # ui.cache.clear() outside a script run warns once per cache; nothing is wrong
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    os.environ["DATABASE_URL"] = url
    os.environ["DEMO_FEED"] = "off"
    close_shared()
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        os.environ["AUTH_CREDENTIALS_FILE"] = str(write_users(Path(tmp) / "credentials.yaml"))
        for page in pages:
            for preset in presets if page != "settings" else presets[:1]:
                figures = page_runs(page, store_id, preset, reruns, profile)
                emit(bench="page", page=page, preset=preset, **figures, **labels)
                for tab in tab_runs(page, store_id, preset, reruns):
                    emit(bench="page_tab", page=page, preset=preset, **tab, **labels)
    close_shared()


# -- the README table ----------------------------------------------------------------------

def table(paths: list[str]) -> str:
    """A Markdown table of the newest page lines in ``paths`` (JSON lines of this benchmark):
    one row per page, warm / cold seconds per store size and backend."""
    latest: dict = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            row = json.loads(line) if line.startswith("{") else {}
            if row.get("bench") in ("page", "page_tab"):
                size = "1M" if row["orders"] >= 500_000 else f"{round(row['orders'] / 1000)}k"
                name = row["page"].title() + (f" › {row['tab']}" if row.get("tab") else "")
                latest[(name, row["backend"], size)] = row
    columns = sorted({(b, s) for _, b, s in latest}, key=lambda c: (c[0], c[1] != "100k", c[1]))
    head = "| page | " + " | ".join(f"{b} {s}: warm / cold" for b, s in columns) + " |"
    lines = [head, "| --- |" + " --- |" * len(columns)]
    names = list(dict.fromkeys(name for name, _, _ in latest))
    for page in PAGES:
        for name in [page.title()] + [n for n in names if n.startswith(f"{page.title()} › ")]:
            cells = [(f"{latest[(name, b, s)]['warm_s']:.2f} / {latest[(name, b, s)]['cold_s']:.2f} s"
                      if (name, b, s) in latest else "–") for b, s in columns]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    peaks = [max((r.get("peak_rss_mb", 0) for (_, b, s), r in latest.items() if (b, s) == c), default=0)
             for c in columns]
    lines.append("| peak memory of the process | " + " | ".join(f"{p / 1024:.1f} GB" for p in peaks) + " |")
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------

def load() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"load": [round(one, 2), round(five, 2), round(fifteen, 2)]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages")
    parser.add_argument("--orders", type=int, default=1_000_000, help="demo store size when building one")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--backend", choices=["duckdb", "postgres"], default="duckdb")
    parser.add_argument("--db", help="a warehouse URL that already holds the store (nothing is built)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the built store (bench/results/ or a bench_demo_N database) and reuse it")
    parser.add_argument("--store", default="demo")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--presets", default="last_30_days", help="date presets, comma-separated")
    parser.add_argument("--reruns", type=int, default=5)
    parser.add_argument("--csv-lines", type=int, default=100_000, help="lines of the file import-csv reads")
    parser.add_argument("--no-commands", action="store_true",
                        help="only the pages (the store must have been refreshed before)")
    parser.add_argument("--profile", action="store_true",
                        help="also print the seconds of each cached query of every cold run")
    parser.add_argument("--table", nargs="+", metavar="JSONL",
                        help="print the README's table from saved output of this benchmark, and run nothing")
    args = parser.parse_args(argv)
    if args.table:
        print(table(args.table))
        return 0
    pages = [p for p in args.pages.split(",") if p]
    presets = [p for p in args.presets.split(",") if p]

    backend = args.db.split(":", 1)[0].replace("postgresql", "postgres") if args.db else args.backend
    if args.db:
        where = contextlib.nullcontext(args.db)
    elif args.keep:
        where = kept_warehouse(backend, args.orders)
    else:
        where = scratch_url(backend)
    with where as url:
        orders = order_count(url, args.store)
        if not orders:
            command(["connectors", "demo", "--orders", str(args.orders), "--days", str(args.days),
                     "--store", args.store, "--db", url], orders=args.orders, backend=backend, **load())
            orders = order_count(url, args.store)
        if not orders:
            raise SystemExit(f"no orders for store {args.store!r} in that warehouse")
        labels = {"backend": backend, "orders": orders}
        if not args.no_commands:
            run_commands(url, args.store, args.csv_lines, **labels, **load())
        measure_pages(url, args.store, pages, presets, args.reruns, args.profile, **labels, **load())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

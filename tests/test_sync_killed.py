"""A sync killed with SIGKILL at any point, then run again, ends where an
uninterrupted sync ends: every page is committed with its cursor, so nothing
is lost and nothing is doubled. The killed runs end ``interrupted`` (with when
they were last seen), not ``running`` for ever; on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data.warehouse import connect
from tests.emulators.woocommerce import WooEmulator

UTC = dt.timezone.utc
ROOT = Path(__file__).resolve().parent.parent
TABLES = {
    "orders": "order_id, order_number, customer_id, created_at, financial_status, subtotal, total_price",
    "order_lines": "line_id, order_id, sku, quantity, unit_price, discount, tax",
    "customers": "customer_id, email_hash, country",
    "products": "product_id, title",
    "variants": "variant_id, sku, price",
    "order_facts": "order_id, local_date, customer_order_index, gross_sales, discounts, units_sold",
}


def _store(emu: WooEmulator, orders: int) -> None:
    start = dt.datetime(2026, 10, 1, 12, tzinfo=UTC)
    for p in range(1, 6):
        emu.add_product(p, name=f"Item {p}", sku=f"SKU-{p}", price=f"{p * 5}.00", stock=50, created=start)
    for c in range(1, 41):
        emu.add_customer(c, email=f"buyer{c}@example.com", created=start)
    for n in range(1, orders + 1):
        product = n % 5 + 1
        emu.add_order(1000 + n, created=start + dt.timedelta(hours=n), customer_id=n % 40 + 1,
                      email=f"buyer{n % 40 + 1}@example.com",
                      lines=[dict(id=50_000 + n, product_id=product, sku=f"SKU-{product}", quantity=n % 3 + 1,
                                  subtotal=f"{(n % 3 + 1) * product * 5}.00")])


def _sync(url: str, emu: WooEmulator) -> subprocess.Popen:
    env = {**os.environ, "WOOCOMMERCE_URL": emu.url, "WOOCOMMERCE_KEY": emu.key,
           "WOOCOMMERCE_SECRET": emu.secret, "DEMO_FEED": "off"}
    return subprocess.Popen([sys.executable, "-m", "connectors", "sync", "woocommerce", "--db", url],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _orders_pages_read(emu: WooEmulator, since: int, pages: int, timeout: float) -> bool:
    """Wait until the emulator has served ``pages`` pages of orders after its ``since``-th request: the orders
    stream (the longest) is then reading, and its run is recorded 'running'."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for r in emu.requests[since:] if r.path == "orders") >= pages:
            return True
        time.sleep(0.02)
    return False


def _contents(url: str) -> dict[str, list[tuple]]:
    wh = connect(url)
    try:
        return {t: wh.rows(f"SELECT {cols} FROM {t} ORDER BY 1") for t, cols in TABLES.items()}
    finally:
        wh.close()


def _run_ids(url: str) -> list[tuple]:
    wh = connect(url)
    try:
        return wh.rows("SELECT run_id, status FROM sync_runs ORDER BY run_id")
    finally:
        wh.close()


def _runs(url: str) -> dict[str, tuple]:
    wh = connect(url)
    try:
        return {r[0]: r[1:] for r in wh.rows("SELECT run_id, status, last_seen_at IS NOT NULL, error FROM sync_runs")}
    finally:
        wh.close()


@pytest.mark.parametrize(("backend", "seed"), [("duckdb", 1), ("duckdb", 2), ("postgres", 1)],
                         ids=["duckdb-kill-pattern-1", "duckdb-kill-pattern-2", "postgres-kill-pattern-1"])
def test_sigkilled_sync_resumes_to_the_same_warehouse(tmp_path, request, backend, seed):
    rng = random.Random(seed)
    if backend == "postgres":
        base = request.getfixturevalue("pg_database_url")
        reference = f"{base}?schema=ref_{os.getpid()}_{seed}"
        killed = f"{base}?schema=killed_{os.getpid()}_{seed}"
    else:
        reference = f"duckdb:///{tmp_path / 'reference.duckdb'}"
        killed = f"duckdb:///{tmp_path / 'killed.duckdb'}"
    with WooEmulator(timezone="Europe/Berlin") as emu:
        _store(emu, orders=450)
        emu.hooks.append(lambda request: time.sleep(0.1))  # a real store answers in tens of ms

        started = time.monotonic()
        done = _sync(reference, emu)
        assert done.wait(timeout=300) == 0, done.stderr.read()
        duration = time.monotonic() - started

        kills = 0
        left_running: set[str] = set()
        for attempt in range(3):
            served = len(emu.requests)
            proc = _sync(killed, emu)
            if attempt == 0:
                # The first kill comes while the orders stream (the longest) reads: its run is
                # recorded 'running' by then (a kill while Python starts would leave none).
                assert _orders_pages_read(emu, served, 2, timeout=120), "the sync read no page of orders"
                time.sleep(rng.uniform(0.0, 0.3))
            else:
                # Somewhere in the middle of the sync (measured on this machine: kills
                # there leave 300 or 400 of the 450 orders committed, never a broken page).
                time.sleep(rng.uniform(0.35, 0.9) * duration)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=60)
            left_running |= {run_id for run_id, status in _run_ids(killed) if status == "running"}
        final = _sync(killed, emu)
        assert final.wait(timeout=300) == 0, final.stderr.read()

    assert kills >= 1
    expected = _contents(reference)
    assert len(expected["orders"]) == 450
    assert _contents(killed) == expected
    # A kill leaves the stream it was in 'running' (unless it fell between two streams); the next sync
    # of the store marked each such run interrupted, saying when it was last seen.
    runs = _runs(killed)
    assert left_running, "the first kill, in the orders stream, left no run to mark"
    assert {status for status, _, _ in runs.values()} <= {"succeeded", "interrupted"}, runs
    assert sorted(r for r, (status, _, _) in runs.items() if status == "interrupted") == sorted(left_running)
    assert all(runs[r][1] and "last seen" in runs[r][2] for r in left_running)

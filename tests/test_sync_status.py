"""Sync status per stream and connection tests' sentences, on each backend."""

from __future__ import annotations

import datetime as dt
import socket

import polars as pl

from connectors.sync import status
from data.settings import overridden, setting
from tests.emulators.woocommerce import WooEmulator

UTC = dt.timezone.utc


def _run(run_id, store, stream, started, finished, state, read, written, error=None, note=None) -> dict:
    return dict(run_id=run_id, store_id=store, stream=stream, started_at=started, finished_at=finished,
                status=state, rows_read=read, rows_written=written, error=error, note=note)


def test_stream_status_shows_the_cursor_and_the_latest_run(wh):
    assert status.stream_status(wh).height == 0
    t = dt.datetime(2026, 3, 10, 12, tzinfo=UTC)
    runs = [
        _run("r1", "woocommerce:a", "orders", t, t + dt.timedelta(minutes=1), "succeeded", 10, 10),
        _run("r2", "woocommerce:a", "orders", t + dt.timedelta(hours=1), t + dt.timedelta(hours=1, minutes=1),
             "failed", 3, 2, error="WooCommerce at x answered HTTP 500 for orders."),
        _run("r3", "woocommerce:a", "products", t, t + dt.timedelta(minutes=2), "succeeded", 5, 4,
             note="Everything was read again."),
        _run("r4", "stripe:acct", "charges", t + dt.timedelta(hours=2), None, "running", 0, 0),
    ]
    wh.upsert("sync_runs", pl.DataFrame(runs, schema_overrides={
        "finished_at": pl.Datetime("us", "UTC"), "error": pl.String, "note": pl.String}))
    wh.upsert("sync_state", pl.DataFrame({
        "store_id": ["woocommerce:a", "woocommerce:a", "shopify:b"], "stream": ["orders", "products", "orders"],
        "cursor": ["2026-03-10T12:00:00+00:00", "2026-03-09T00:00:00+00:00", "2026-01-01T00:00:00+00:00"],
        "updated_at": [t, t, t]}))

    frame = status.stream_status(wh)
    assert frame.columns == list(status.STATUS_COLUMNS)
    rows = {(r["store_id"], r["stream"]): r for r in frame.iter_rows(named=True)}
    assert list(rows) == [("shopify:b", "orders"), ("stripe:acct", "charges"), ("woocommerce:a", "orders"),
                          ("woocommerce:a", "products")]
    orders = rows[("woocommerce:a", "orders")]
    assert (orders["status"], orders["rows_read"], orders["rows_written"]) == ("failed", 3, 2)
    assert orders["cursor"] == "2026-03-10T12:00:00+00:00"
    assert "HTTP 500" in orders["error"]
    assert orders["started_at"] == t + dt.timedelta(hours=1)
    assert rows[("woocommerce:a", "products")]["note"] == "Everything was read again."
    assert rows[("shopify:b", "orders")]["status"] is None  # a cursor, no recorded run
    charges = rows[("stripe:acct", "charges")]
    assert (charges["status"], charges["cursor"], charges["finished_at"]) == ("running", None, None)


def test_overridden_settings_hold_on_this_thread_only(monkeypatch):
    monkeypatch.setenv("WOOCOMMERCE_URL", "https://env.example")
    with overridden({"WOOCOMMERCE_URL": "https://typed.example"}):
        assert setting("WOOCOMMERCE_URL") == "https://typed.example"
        seen = []
        import threading
        thread = threading.Thread(target=lambda: seen.append(setting("WOOCOMMERCE_URL")))
        thread.start()
        thread.join()
        assert seen == ["https://env.example"]
    assert setting("WOOCOMMERCE_URL") == "https://env.example"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_sentences_on_failure():
    port = _closed_port()
    ok, sentence = status.test_connection("woocommerce", {
        "WOOCOMMERCE_URL": f"http://127.0.0.1:{port}", "WOOCOMMERCE_KEY": "ck_secret_1",
        "WOOCOMMERCE_SECRET": "cs_secret_2"})
    assert not ok
    assert sentence == f"Could not reach http://127.0.0.1:{port}: connection refused."

    ok, sentence = status.test_connection("woocommerce", {
        "WOOCOMMERCE_URL": "https://shop.example", "WOOCOMMERCE_KEY": "", "WOOCOMMERCE_SECRET": ""})
    assert not ok and "WOOCOMMERCE_KEY" in sentence

    ok, sentence = status.test_connection("stripe", {"STRIPE_SECRET_KEY": "sk_test_hidden",
                                                     "STRIPE_API_BASE": f"http://127.0.0.1:{port}"})
    assert not ok and "connection refused" in sentence and "sk_test_hidden" not in sentence

    ok, sentence = status.test_connection("shopify", {"SHOPIFY_STORE": "", "SHOPIFY_ACCESS_TOKEN": "shpat_x"})
    assert not ok and "SHOPIFY_STORE" in sentence and "shpat_x" not in sentence


def test_connection_with_the_emulator():
    with WooEmulator(timezone="Europe/Berlin", currency="EUR", name="Berlin Shop") as emu:
        values = {"WOOCOMMERCE_URL": emu.url, "WOOCOMMERCE_KEY": emu.key, "WOOCOMMERCE_SECRET": emu.secret}
        assert status.test_connection("woocommerce", values) == (
            True, "Connected to Berlin Shop (EUR, Europe/Berlin).")
        ok, sentence = status.test_connection("woocommerce", {**values, "WOOCOMMERCE_SECRET": "cs_wrong_value"})
        assert (ok, sentence) == (False, "The key was refused by the store (401).")


def test_the_scheduler_syncs_configured_platforms_and_skips_the_rest(wh, monkeypatch):
    import threading
    import time

    from connectors.sync.scheduler import run_scheduler
    from tests.test_woocommerce import build_store

    for name in ("SHOPIFY_STORE", "SHOPIFY_ACCESS_TOKEN", "STRIPE_SECRET_KEY"):
        monkeypatch.setenv(name, "")
    with WooEmulator() as emu:
        build_store(emu)
        store_id = f"woocommerce:{emu.host}"
        monkeypatch.setenv("WOOCOMMERCE_URL", emu.url)
        monkeypatch.setenv("WOOCOMMERCE_KEY", emu.key)
        monkeypatch.setenv("WOOCOMMERCE_SECRET", emu.secret)
        stop = threading.Event()
        thread = threading.Thread(target=run_scheduler, args=(wh, stop, lambda: 0.001),
                                  kwargs={"check_seconds": 0.02})
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if wh.scalar("SELECT count(*) FROM sync_runs WHERE stream = 'orders' AND status = 'succeeded'"):
                    break
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert not thread.is_alive()
    assert wh.scalar("SELECT count(*) FROM orders") > 0
    assert wh.rows("SELECT DISTINCT store_id FROM sync_runs") == [(store_id,)]


def test_the_scheduler_survives_a_failing_sync_and_can_be_off(wh, monkeypatch):
    import threading

    from connectors.sync import scheduler

    from connectors.sync.runner import SyncError

    def failing(wh, platform):
        if platform == "woocommerce":
            raise SyncError("WooCommerce at x answered HTTP 500 for orders.")
        raise RuntimeError("boom")

    monkeypatch.setattr(scheduler, "sync_platform", failing)
    outcome = scheduler.sync_configured(wh, ["woocommerce", "stripe"])
    assert outcome == {"woocommerce": "WooCommerce at x answered HTTP 500 for orders.",
                       "stripe": "unexpected error (RuntimeError)"}

    calls = []
    monkeypatch.setattr(scheduler, "sync_configured", lambda wh: calls.append(1))
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    scheduler.run_scheduler(wh, stop, lambda: 0, check_seconds=0.02)
    assert calls == []
    monkeypatch.setenv("SYNC_INTERVAL_MINUTES", "nonsense")
    assert scheduler.interval_minutes() == 15
    monkeypatch.setenv("SYNC_INTERVAL_MINUTES", "0")
    assert scheduler.interval_minutes() == 0

"""The refresh runner: steps run in order, each recorded in model_runs, a failure recorded and isolated."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.refresh import RefreshStep, StepResult, latest_run, refresh_due, run_refresh
from analytics.store_state import Store
from tests.builders import add_store

STORE = Store("s", "Shop", "USD", "America/New_York")


def test_steps_are_recorded_with_params_and_metrics(wh):
    add_store(wh, "s")
    seen = []

    def good(ctx):
        seen.append((ctx.as_of, ctx.cutoff_utc))
        ctx.progress(0.5, "half way")
        return StepResult(params={"r": 0.25, "nested": {"a": 1}}, metrics={"customers": 3}, summary="3 customers")

    def bad(ctx):
        raise RuntimeError("no data")

    calls = []
    runs = run_refresh(
        wh, STORE, dt.date(2026, 3, 7),
        steps=[RefreshStep("good", "Good", good), RefreshStep("bad", "Bad", bad)],
        progress=lambda i, n, title, f, msg: calls.append((i, n, title, f, msg)),
    )
    assert [(r.kind, r.status) for r in runs] == [("good", "succeeded"), ("bad", "failed")]
    assert runs[1].error == "RuntimeError: no data"
    # 7 Mar 2026 ends at midnight New York time (EST, UTC-5) = 05:00 UTC on 8 Mar.
    assert seen == [(dt.date(2026, 3, 7), dt.datetime(2026, 3, 8, 5, tzinfo=dt.timezone.utc))]
    assert (0, 2, "Good", 0.5, "half way") in calls and (0, 2, "Good", 1.0, "done") in calls

    latest = latest_run(wh, "s", "good")
    assert latest["params"] == {"r": 0.25, "nested": {"a": 1}}
    assert latest["metrics"]["customers"] == 3 and latest["as_of"] == dt.date(2026, 3, 7)
    assert latest_run(wh, "s", "bad") is None
    statuses = dict(wh.rows("SELECT kind, status FROM model_runs"))
    assert statuses == {"good": "succeeded", "bad": "failed"}


def test_only_chooses_steps_and_rejects_unknown_names(wh):
    add_store(wh, "s")
    step = RefreshStep("a", "A", lambda ctx: StepResult())
    assert [r.kind for r in run_refresh(wh, STORE, dt.date(2026, 1, 1), steps=[step], only=["a"])] == ["a"]
    with pytest.raises(ValueError, match="no refresh step is called zz"):
        run_refresh(wh, STORE, dt.date(2026, 1, 1), steps=[step], only=["zz"])


def test_a_store_is_due_until_every_step_has_a_recent_success(wh):
    add_store(wh, "s")
    now = dt.datetime(2026, 5, 1, 12, tzinfo=dt.timezone.utc)
    step_a = RefreshStep("a", "A", lambda ctx: StepResult())
    step_b = RefreshStep("b", "B", lambda ctx: StepResult())
    assert refresh_due(wh, "s", ["a", "b"], now, 24)  # never refreshed
    run_refresh(wh, STORE, dt.date(2026, 5, 1), steps=[step_a, step_b])
    # Both just succeeded (finished_at is the wall clock, i.e. after `now` here).
    assert not refresh_due(wh, "s", ["a", "b"], now, 24)
    assert refresh_due(wh, "s", ["a", "b", "c"], now, 24)  # a step never run
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=25)
    assert refresh_due(wh, "s", ["a", "b"], later, 24)
    # A run still going (started within the hour) holds other refreshers off.
    wh.execute("INSERT INTO model_runs (run_id, store_id, kind, status, started_at) "
               "VALUES ('x', 's', 'a', 'running', :at)", {"at": later - dt.timedelta(minutes=5)})
    assert not refresh_due(wh, "s", ["a", "b"], later, 24)
    assert not refresh_due(wh, "s", [], now, 24)


def test_the_background_loop_refreshes_due_stores_then_stops(wh, monkeypatch):
    import threading

    import analytics.refresh as refresh

    add_store(wh, "s")
    stop = threading.Event()
    calls = []

    def step(ctx):
        calls.append(ctx.store.store_id)
        stop.set()  # one pass is enough
        return StepResult()

    monkeypatch.setattr(refresh, "refresh_steps", lambda: [RefreshStep("a", "A", step)])
    refresh.run_refresh_loop(wh, stop, lambda: 24, check_seconds=0.01)
    assert calls == ["s"]
    assert wh.scalar("SELECT count(*) FROM model_runs WHERE kind = 'a' AND status = 'succeeded'") == 1
    # Turned off (0 hours): nothing runs.
    stop.clear()
    calls.clear()
    wh.execute("DELETE FROM model_runs")
    timer = threading.Timer(0.1, stop.set)
    timer.start()
    refresh.run_refresh_loop(wh, stop, lambda: 0, check_seconds=0.01)
    assert calls == []


def test_a_failed_digest_is_tried_again_after_the_delay(wh, monkeypatch):
    import analytics.inventory.alerts as alerts
    import analytics.refresh as refresh

    add_store(wh, "s")
    sent = []

    def fake_send(wh_, store, now, **_):
        sent.append(store.store_id)
        return alerts.DigestOutcome("failed" if len(sent) == 1 else "sent", now.date(), message="smtp down")

    monkeypatch.setattr(alerts, "send_daily_digest", fake_send)
    digests = refresh._Digests(retry_after=dt.timedelta(0))
    digests.send(wh, STORE)
    assert sent == ["s"] and "s" in digests.failed_at
    digests.send(wh, STORE)
    assert sent == ["s", "s"] and "s" not in digests.failed_at
    # Within the retry delay after a failure, nothing is tried.
    waiting = refresh._Digests()
    waiting.failed_at["s"] = dt.datetime.now(dt.timezone.utc)
    waiting.send(wh, STORE)
    assert sent == ["s", "s"]

"""Sync runs whose process died: marked ``interrupted`` (with when they were last seen) at the next
sync of their store or at the app's start, never while they are alive; on each backend."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from connectors.sync.runner import Batch, Stream, run_stream
from connectors.sync.runs import mark_interrupted, run_key
from connectors.sync.scheduler import close_dead_runs
from connectors.sync.status import stream_status
from data.warehouse import connect

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 1, 12, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def _running(wh, run_id: str, store: str, last_seen: dt.datetime | None) -> None:
    wh.upsert("sync_runs", pl.DataFrame({
        "run_id": [run_id], "store_id": [store], "stream": ["orders"], "started_at": [T0],
        "finished_at": [None], "status": ["running"], "rows_read": [40], "rows_written": [40],
        "last_seen_at": [last_seen]},
        schema_overrides={"finished_at": pl.Datetime("us", "UTC"), "last_seen_at": pl.Datetime("us", "UTC")}))


def _status(wh, run_id: str) -> tuple:
    return wh.rows("SELECT status, last_seen_at, error FROM sync_runs WHERE run_id = :r", {"r": run_id})[0]


def _customers(ids: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"store_id": ["s"] * len(ids), "customer_id": ids, "country": ["US"] * len(ids)})


def test_the_next_sync_of_its_store_marks_a_dead_run_interrupted(wh):
    seen = T0 + dt.timedelta(minutes=3, seconds=7)
    _running(wh, "dead", "s", seen)
    _running(wh, "other-store", "t", seen)

    def read(context):
        yield Batch(tables={"customers": _customers(["a"])}, cursor="1")

    result = run_stream(wh, "s", Stream("customers", read, cursor_is_time=False))

    status, last_seen, error = _status(wh, "dead")
    assert status == "interrupted"
    assert last_seen.astimezone(UTC) == seen
    assert "last seen 2026-11-01 12:03:07 UTC" in error
    assert _status(wh, "other-store")[0] == "running"  # another store's run waits for its own next sync
    assert _status(wh, result.run_id)[0] == "succeeded"
    shown = stream_status(wh).filter(pl.col("store_id") == "s", pl.col("stream") == "orders").row(0, named=True)
    assert (shown["status"], shown["last_seen_at"]) == ("interrupted", seen)


def test_a_run_alive_is_never_marked(wh):
    _running(wh, "alive", "s", T0)
    with wh.hold(run_key("alive")):
        assert mark_interrupted(wh) == 0
        assert _status(wh, "alive")[0] == "running"
    assert mark_interrupted(wh) == 1
    assert _status(wh, "alive")[0] == "interrupted"


def test_at_the_app_start_every_dead_run_is_marked(wh):
    _running(wh, "a", "s", None)  # left by a version that did not record when it was last seen
    _running(wh, "b", "t", T0)
    assert close_dead_runs(wh) == 2
    assert [r[0] for r in wh.rows("SELECT status FROM sync_runs ORDER BY run_id")] == ["interrupted"] * 2
    assert "last seen 2026-11-01 12:00:00 UTC" in _status(wh, "a")[2]  # its start, then


def test_the_run_is_seen_as_it_commits(wh):
    seen = []

    def read(context):
        yield Batch(tables={"customers": _customers(["a"])}, cursor="1")
        # The first page is committed before the stream is asked for the next one.
        seen.append(wh.scalar("SELECT last_seen_at FROM sync_runs WHERE status = 'running'"))
        time.sleep(0.05)
        yield Batch(tables={"customers": _customers(["b"])}, cursor="2")

    started = dt.datetime.now(UTC)
    result = run_stream(wh, "s", Stream("customers", read, cursor_is_time=False), commit_rows=1)
    first = seen[0].astimezone(UTC)
    last = _status(wh, result.run_id)[1].astimezone(UTC)
    assert started < first < last


_HOLDER = """
import sys, time
from data.warehouse import connect
wh = connect(sys.argv[1], migrate=False)
with wh.hold(sys.argv[2]):
    print("holding", flush=True)
    time.sleep(60)
"""


def test_postgres_a_run_alive_in_another_process_is_left_until_that_process_dies(pg_url):
    wh = connect(pg_url)
    try:
        _running(wh, "elsewhere", "s", T0)
        holder = subprocess.Popen([sys.executable, "-c", _HOLDER, pg_url, run_key("elsewhere")], cwd=ROOT,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "holding"
            assert mark_interrupted(wh, "s") == 0
            assert _status(wh, "elsewhere")[0] == "running"
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=10)
        deadline = time.monotonic() + 10  # PostgreSQL ends the dead session's lock once it sees the socket close
        while mark_interrupted(wh, "s") == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _status(wh, "elsewhere")[0] == "interrupted"
    finally:
        wh.close()


@pytest.mark.parametrize("status", ["succeeded", "failed"], ids=["succeeded", "failed"])
def test_finished_runs_are_left_alone(wh, status):
    _running(wh, "done", "s", T0)
    wh.execute("UPDATE sync_runs SET status = :s WHERE run_id = 'done'", {"s": status})
    assert mark_interrupted(wh) == 0
    assert _status(wh, "done")[0] == status

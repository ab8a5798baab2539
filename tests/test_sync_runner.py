"""The sync runner: cursors saved with their rows, lookback, resumable failures."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from connectors.sync.runner import Batch, Stream, SyncError, run_stream, run_sync, saved_cursor

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 1, 12, tzinfo=UTC)


def _customers(ids, updated):
    return pl.DataFrame({"store_id": ["s"] * len(ids), "customer_id": ids, "country": ["US"] * len(ids),
                         "updated_at": [updated] * len(ids)})


class ListSource:
    """A source over in-memory pages: each page is (customer ids, updated_at)."""

    platform = "csv"
    store_id = "s"

    def __init__(self, pages, fail_after=None):
        self.pages = pages
        self.fail_after = fail_after
        self.seen_resume = []

    def store_row(self):
        return pl.DataFrame({"store_id": ["s"], "platform": ["csv"], "name": ["S"], "currency": ["USD"],
                             "timezone": ["UTC"], "created_at": [T0]})

    def read(self, context):
        self.seen_resume.append(context.resume_from)
        for i, (ids, updated) in enumerate(self.pages):
            if context.resume_from and updated < context.resume_from:
                continue
            if self.fail_after is not None and i >= self.fail_after:
                raise ConnectionError("HTTP 503 from the store after 5 retries")
            yield Batch(tables={"customers": _customers(ids, updated)}, cursor=updated.isoformat())

    def streams(self):
        return [Stream("customers", self.read, lookback=dt.timedelta(minutes=10))]


def test_rows_and_cursor_commit_together_and_a_failed_run_resumes(wh):
    pages = [(["a", "b"], T0), (["c"], T0 + dt.timedelta(hours=1)), (["d"], T0 + dt.timedelta(hours=2))]
    source = ListSource(pages, fail_after=2)
    with pytest.raises(SyncError, match="503"):
        run_sync(wh, source)
    # The two pages before the failure are kept with their cursor.
    assert wh.scalar("SELECT count(*) FROM customers") == 3
    assert saved_cursor(wh, "s", "customers") == (T0 + dt.timedelta(hours=1)).isoformat()
    failed = wh.rows("SELECT status, rows_read, rows_written, error FROM sync_runs")
    assert failed == [("failed", 3, 3, "HTTP 503 from the store after 5 retries")]

    source.fail_after = None
    results = run_sync(wh, source)
    # Resumes from the saved cursor minus the 10-minute lookback: page 2 is read again, page 1 not.
    assert source.seen_resume[-1] == T0 + dt.timedelta(hours=1) - dt.timedelta(minutes=10)
    assert results[0].rows_read == 2
    assert wh.scalar("SELECT count(*) FROM customers") == 4
    assert wh.scalar("SELECT count(*) FROM sync_runs WHERE status = 'succeeded'") == 1


def test_reading_twice_writes_no_duplicates(wh):
    source = ListSource([(["a", "b"], T0)])
    run_sync(wh, source)
    run_sync(wh, source, full=True)
    assert wh.scalar("SELECT count(*) FROM customers") == 2


def test_cursor_never_passes_the_start_of_the_sync(wh):
    future = dt.datetime.now(UTC) + dt.timedelta(days=3)
    source = ListSource([(["a"], future)])
    wh.upsert("stores", source.store_row())
    started = dt.datetime.now(UTC)
    run_stream(wh, "s", source.streams()[0], started_at=started)
    assert saved_cursor(wh, "s", "customers") == started.isoformat()


def test_every_sync_takes_todays_inventory_snapshot(wh):
    source = ListSource([])
    wh.upsert("stores", source.store_row())
    wh.insert("inventory_levels", pl.DataFrame({"store_id": ["s"], "variant_id": ["v1"], "location_id": ["l1"],
                                                "available": [7]}))
    run_sync(wh, source)
    rows = wh.rows("SELECT snapshot_date, available FROM inventory_snapshots")
    assert rows == [(dt.datetime.now(UTC).date(), 7)]

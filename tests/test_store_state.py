"""Stores, channels, data versions and stale sources, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import polars as pl

from analytics.store_state import data_version, list_stores, stale_sources, store_channels
from data.rollups import refresh_store
from tests.builders import add_order, add_refund, add_store, utc

NOW = utc(2026, 3, 11, 18)  # Wednesday 11 March, 14:00 in New York


def test_list_stores_and_channels(wh):
    add_store(wh, "b", currency="EUR", timezone="Europe/Paris")
    add_store(wh, "a")
    assert [(s.store_id, s.currency, s.timezone) for s in list_stores(wh)] == [
        ("a", "USD", "America/New_York"), ("b", "EUR", "Europe/Paris")]
    add_order(wh, "o1", utc(2026, 3, 2, 15), store_id="a", channel="pos")
    add_order(wh, "o2", utc(2026, 3, 2, 16), store_id="a", channel=None)
    add_order(wh, "o3", utc(2026, 3, 2, 17), store_id="a", channel="online_store")
    add_order(wh, "o4", utc(2026, 3, 2, 17), store_id="b", channel="marketplace")
    refresh_store(wh, "a")
    refresh_store(wh, "b")
    # An order without a channel is in "other".
    assert store_channels(wh, "a") == ["online_store", "other", "pos"]
    add_order(wh, "o5", utc(2026, 3, 5, 17), store_id="a", channel="social")
    refresh_store(wh, "a")
    assert store_channels(wh, "a", through=dt.date(2026, 3, 4)) == ["online_store", "other", "pos"]
    assert store_channels(wh, "a", since=dt.date(2026, 3, 5)) == ["social"]
    assert store_channels(wh, "a", since=dt.date(2026, 3, 3), through=dt.date(2026, 3, 4)) == []


def test_the_data_version_follows_every_change_and_history_only_older_days(wh):
    add_store(wh)
    empty = data_version(wh, "s", NOW)
    assert empty.today == dt.date(2026, 3, 11)
    assert empty.orders == 0 and empty.newest_record_at is None

    add_order(wh, "old", utc(2026, 3, 2, 15), [(1, "10.00", "0")])
    refresh_store(wh, "s")
    first = data_version(wh, "s", NOW)
    assert first.everything != empty.everything and first.history != empty.history
    assert first.newest_record_at == utc(2026, 3, 2, 15)

    # A sale and a refund today: every figure may change, the days before today do not.
    add_order(wh, "today", utc(2026, 3, 11, 14), [(1, "20.00", "0")])
    add_refund(wh, "r1", "old", utc(2026, 3, 11, 15), {1: (1, "10.00")})
    refresh_store(wh, "s")
    second = data_version(wh, "s", NOW)
    assert second.everything != first.everything
    assert second.history == first.history
    assert second.newest_record_at == utc(2026, 3, 11, 15)

    # A change of money on an older day, without a new row: both change.
    add_order(wh, "old", utc(2026, 3, 2, 15), [(1, "12.00", "0")])
    refresh_store(wh, "s")
    third = data_version(wh, "s", NOW)
    assert third.everything != second.everything and third.history != second.history
    assert third.orders == 2


def test_stale_sources(wh):
    add_store(wh)
    runs = [
        # stream, started, status
        ("orders", utc(2026, 3, 11, 17), "succeeded"),      # an hour ago: fresh
        ("refunds", utc(2026, 3, 9, 17), "succeeded"),      # two days ago: stale
        ("customers", utc(2026, 3, 11, 10), "succeeded"),
        ("customers", utc(2026, 3, 11, 17), "failed"),      # the last run failed: stale
    ]
    wh.insert("sync_runs", pl.DataFrame({
        "run_id": [f"run{i}" for i in range(len(runs))], "store_id": ["s"] * len(runs),
        "stream": [r[0] for r in runs], "started_at": [r[1] for r in runs],
        "finished_at": [r[1] + dt.timedelta(minutes=1) for r in runs], "status": [r[2] for r in runs],
        "error": [None, None, None, "401 Unauthorized"],
    }, schema_overrides={"error": pl.String}))
    stale = stale_sources(wh, "s", NOW)
    assert sorted(stale["stream"].to_list()) == ["customers", "refunds"]
    customers = stale.filter(pl.col("stream") == "customers").row(0, named=True)
    assert customers["last_status"] == "failed" and customers["last_error"] == "401 Unauthorized"
    assert stale_sources(wh, "other-store", NOW).height == 0

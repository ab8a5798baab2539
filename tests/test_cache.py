"""Page caching: results are reused until the data they come from changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from data.rollups import refresh_store
from data.warehouse import connect
from tests.builders import add_order, add_store, utc
from ui import cache

calls: list[tuple] = []


def counted_sum(wh, store_id, start, end, *, channels=None):
    calls.append((start, end, channels))
    return wh.scalar(
        "SELECT COUNT(*) FROM order_facts WHERE store_id = :s AND local_date BETWEEN :a AND :b",
        {"s": store_id, "a": start, "b": end},
    )


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "VERSION_TTL", 0)  # every call looks at the data again
    cache.clear()
    calls.clear()
    wh = connect(f"duckdb:///{tmp_path / 'cache.duckdb'}")
    add_store(wh)
    add_order(wh, "o1", utc(2026, 3, 2, 15))
    refresh_store(wh, "s")
    yield wh
    wh.close()
    cache.clear()


MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def test_a_second_call_is_served_from_the_cache(store):
    assert cache.cached_query(counted_sum, store, "s", *MARCH) == 1
    assert cache.cached_query(counted_sum, store, "s", *MARCH) == 1
    assert len(calls) == 1
    # Other arguments are another entry.
    cache.cached_query(counted_sum, store, "s", *MARCH, channels=("pos",))
    assert len(calls) == 2


def test_new_orders_today_keep_past_ranges_cached_and_refresh_the_rest(store):
    now = dt.datetime.now(dt.timezone.utc)
    local_today = now.astimezone(ZoneInfo("America/New_York")).date()
    cache.cached_query(counted_sum, store, "s", *MARCH)
    cache.cached_query(counted_sum, store, "s", MARCH[0], local_today)
    assert len(calls) == 2

    add_order(store, "now", now)
    refresh_store(store, "s")
    # March ended long ago: still cached. The range up to today is worked out again.
    assert cache.cached_query(counted_sum, store, "s", *MARCH) == 1
    assert len(calls) == 2
    cache.cached_query(counted_sum, store, "s", MARCH[0], local_today)
    assert len(calls) == 3

    # A change on an older day reaches every range.
    add_order(store, "o2", utc(2026, 3, 3, 15))
    refresh_store(store, "s")
    assert cache.cached_query(counted_sum, store, "s", *MARCH) == 2
    assert len(calls) == 4


def test_a_figure_of_a_new_version_drops_the_entry_of_the_version_before(store):
    now = dt.datetime.now(dt.timezone.utc)
    today = now.astimezone(ZoneInfo("America/New_York")).date()
    week = (today - dt.timedelta(days=7), today)
    assert cache.cached_query(counted_sum, store, "s", *week) == 0
    add_order(store, "now", now)
    refresh_store(store, "s")
    assert cache.cached_query(counted_sum, store, "s", *week) == 1
    # The order is gone again: the data is as at first, but that first entry was dropped.
    store.execute("DELETE FROM order_lines WHERE order_id = 'now'")
    store.execute("DELETE FROM orders WHERE order_id = 'now'")
    refresh_store(store, "s")
    assert cache.cached_query(counted_sum, store, "s", *week) == 0
    assert len(calls) == 3
    # Past ranges are keyed on the days before today, which did not change: still one entry.
    cache.cached_query(counted_sum, store, "s", *MARCH)
    cache.cached_query(counted_sum, store, "s", *MARCH)
    assert len(calls) == 4


def test_figures_keyed_on_a_stamp_outlive_new_orders_until_the_stamp_changes(store):
    cache.cached_by(("run-1",), counted_sum, store, "s", *MARCH)
    add_order(store, "o2", utc(2026, 3, 3, 15))
    refresh_store(store, "s")
    # Orders moved the data version; the stamp did not: the cached figure stays.
    assert cache.cached_by(("run-1",), counted_sum, store, "s", *MARCH) == 1
    assert cache.cached_query(counted_sum, store, "s", *MARCH) == 2
    # A new stamp (a new run) computes it again.
    assert cache.cached_by(("run-2",), counted_sum, store, "s", *MARCH) == 2
    assert len(calls) == 3

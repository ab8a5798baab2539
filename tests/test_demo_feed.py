"""The live demo feed: each tick adds a little store activity, consistently, in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from connectors.demo import build_demo
from connectors.demo.feed import DemoFeed, run_feed

END = dt.date(2026, 6, 15)
UTC = dt.timezone.utc
TZ = ZoneInfo("America/New_York")
# The afternoon after the history ends (the store's point of sale is open).
NOW = dt.datetime(2026, 6, 16, 15, 0, tzinfo=TZ).astimezone(UTC)


@pytest.fixture
def store(wh):
    build_demo(wh, orders=500, days=60, seed=5, end=END)
    return wh


def _ticks_until(feed: DemoFeed, condition, start: dt.datetime = NOW, limit: int = 80) -> list[dict]:
    results = []
    for i in range(limit):
        results.append(feed.tick(start + dt.timedelta(seconds=5 * i)))
        if condition(results[-1]):
            return results
    raise AssertionError(f"no tick met the condition in {limit} ticks")


def _stock(wh) -> dict[tuple[str, str], int]:
    return {(v, loc): int(a) for v, loc, a in wh.rows(
        "SELECT variant_id, location_id, available FROM inventory_levels WHERE store_id = 'demo'")}


def test_a_tick_adds_orders_that_reach_the_rollups(store):
    wh = store
    feed = DemoFeed(wh, seed=1, pace="busy")
    results = _ticks_until(feed, lambda r: len(r["orders"]) >= 2)
    new = [o for r in results for o in r["orders"]]
    rows = wh.rows("SELECT order_id, created_at, financial_status FROM orders WHERE store_id = 'demo' "
                   "AND created_at >= :now", {"now": NOW})
    assert sorted(r[0] for r in rows) == sorted(new)
    facts = {r[0] for r in wh.rows("SELECT order_id FROM order_facts WHERE store_id = 'demo' AND created_at >= :now",
                                   {"now": NOW})}
    assert facts == set(new)
    # Money adds up on the new orders too, and each has lines.
    assert wh.scalar("""
        WITH l AS (SELECT order_id, SUM(unit_price * quantity) AS gross, SUM(discount) AS disc FROM order_lines
                   WHERE store_id = 'demo' GROUP BY order_id)
        SELECT count(*) FROM orders o JOIN l ON l.order_id = o.order_id WHERE o.created_at >= :now
        AND o.subtotal = l.gross - l.disc AND o.total_price = o.subtotal + o.total_shipping + o.total_tax
            + o.total_duties""", {"now": NOW}) == len(new)


def test_ids_continue_after_the_existing_ones(store):
    wh = store
    before = {
        "order": wh.scalar("SELECT max(CAST(order_number AS BIGINT)) FROM orders WHERE store_id = 'demo'"),
        "customer": wh.scalar("SELECT max(CAST(substr(customer_id, 2) AS BIGINT)) FROM customers "
                              "WHERE store_id = 'demo'"),
        "events": wh.scalar("SELECT count(*) FROM web_events WHERE store_id = 'demo'"),
    }
    feed = DemoFeed(wh, seed=2, pace="busy")
    results = _ticks_until(feed, lambda r: len([o for o in r["orders"]]) > 0 and r["sessions"] > 0)
    results += [feed.tick(NOW + dt.timedelta(minutes=10 + i)) for i in range(5)]
    numbers = wh.rows("SELECT CAST(order_number AS BIGINT) FROM orders WHERE store_id = 'demo' "
                      "AND created_at >= :now ORDER BY 1", {"now": NOW})
    assert numbers and numbers[0][0] == before["order"] + 1
    assert [n for (n,) in numbers] == list(range(before["order"] + 1, before["order"] + 1 + len(numbers)))
    new_customers = wh.rows("SELECT CAST(substr(customer_id, 2) AS BIGINT) FROM customers WHERE store_id = 'demo' "
                            "AND created_at >= :since", {"since": NOW - dt.timedelta(hours=1)})
    assert all(n > before["customer"] for (n,) in new_customers)
    for column in ("event_id", "session_id"):
        assert wh.scalar(f"SELECT count(*) - count(DISTINCT {column}) FROM web_events WHERE store_id = 'demo' "
                         "AND event_type = 'session_start'") == 0
    assert wh.scalar("SELECT count(*) - count(DISTINCT event_id) FROM web_events WHERE store_id = 'demo'") == 0
    added = wh.scalar("SELECT count(*) FROM web_events WHERE store_id = 'demo'") - before["events"]
    assert added == sum(r["events"] for r in results)


def test_online_orders_come_with_a_purchase_session(store):
    wh = store
    feed = DemoFeed(wh, seed=3, pace="busy")
    _ticks_until(feed, lambda r: wh.scalar(
        "SELECT count(*) FROM orders WHERE store_id = 'demo' AND channel = 'online_store' AND created_at >= :now",
        {"now": NOW}) >= 2)
    online = {r[0] for r in wh.rows("SELECT order_id FROM orders WHERE store_id = 'demo' "
                                    "AND channel = 'online_store' AND created_at >= :now", {"now": NOW})}
    purchases = {r[0] for r in wh.rows("SELECT order_id FROM web_events WHERE store_id = 'demo' "
                                       "AND event_type = 'purchase' AND occurred_at >= :now", {"now": NOW})}
    assert purchases == online


def test_stock_moves_with_each_tick_and_today_s_snapshot_matches(store):
    wh = store
    feed = DemoFeed(wh, seed=4, pace="busy")
    for i in range(12):
        before = _stock(wh)
        result = feed.tick(NOW + dt.timedelta(seconds=5 * i))
        after = _stock(wh)
        received = sum(q for (q,) in wh.rows(
            "SELECT quantity FROM purchase_order_lines WHERE po_id IN (SELECT po_id FROM purchase_orders "
            "WHERE received_at = :now)", {"now": NOW + dt.timedelta(seconds=5 * i)}))
        restocked = sum(q for (q,) in wh.rows(
            "SELECT rl.quantity FROM refund_lines rl JOIN refunds r ON r.store_id = rl.store_id "
            "AND r.refund_id = rl.refund_id WHERE r.created_at = :now AND rl.restock",
            {"now": NOW + dt.timedelta(seconds=5 * i)}))
        assert sum(after.values()) - sum(before.values()) == received + restocked - result["units_sold"]
        assert min(after.values()) >= 0
    today = NOW.astimezone(TZ).date()
    snapshot = {(v, loc): int(a) for v, loc, a in wh.rows(
        "SELECT variant_id, location_id, available FROM inventory_snapshots WHERE store_id = 'demo' "
        "AND snapshot_date = :d", {"d": today})}
    assert snapshot == _stock(wh)


def test_a_refund_goes_to_a_recent_paid_order_and_its_rollups(store):
    wh = store
    feed = DemoFeed(wh, seed=6, pace="busy")
    results = _ticks_until(feed, lambda r: bool(r["refunded_orders"]), limit=120)
    order_id = results[-1]["refunded_orders"][0]
    created, status, total = wh.rows("SELECT created_at, financial_status, total_price FROM orders "
                                     "WHERE store_id = 'demo' AND order_id = :o", {"o": order_id})[0]
    refunded = wh.scalar("SELECT total_refunded FROM refunds WHERE store_id = 'demo' AND order_id = :o",
                         {"o": order_id})
    assert NOW - dt.timedelta(days=60) <= created <= NOW - dt.timedelta(days=3)
    assert 0 < refunded <= total and status == ("refunded" if refunded == total else "partially_refunded")
    assert wh.scalar("""
        SELECT count(*) FROM refund_lines rl JOIN order_lines l ON l.store_id = rl.store_id
        AND l.line_id = rl.line_id WHERE rl.store_id = 'demo' AND l.order_id = :o
        AND (rl.quantity > l.quantity OR rl.subtotal > l.unit_price * l.quantity - l.discount)""",
                     {"o": order_id}) == 0
    assert wh.scalar("SELECT count(*) FROM refund_facts WHERE store_id = 'demo' AND order_id = :o",
                     {"o": order_id}) == 1
    assert wh.scalar("SELECT count(*) FROM transactions WHERE store_id = 'demo' AND order_id = :o "
                     "AND kind = 'refund' AND amount = :a", {"o": order_id, "a": refunded}) == 1


def test_days_the_app_was_off_are_carried_forward_in_the_snapshots(store):
    wh = store
    later = NOW + dt.timedelta(days=5)
    before = _stock(wh)
    DemoFeed(wh, seed=7, pace="busy").tick(later)
    slots = len(before)
    per_day = dict(wh.rows("SELECT snapshot_date, count(*) FROM inventory_snapshots WHERE store_id = 'demo' "
                           "AND snapshot_date > :end GROUP BY 1", {"end": END}))
    assert per_day == {END + dt.timedelta(days=i): slots for i in range(1, 7)}
    carried = {(v, loc): int(a) for v, loc, a in wh.rows(
        "SELECT variant_id, location_id, available FROM inventory_snapshots WHERE store_id = 'demo' "
        "AND snapshot_date = :d", {"d": END + dt.timedelta(days=3)})}
    assert carried == before


def test_a_tick_without_the_store_writes_nothing(wh):
    result = DemoFeed(wh, seed=1, pace="busy").tick(NOW)
    assert result["skipped"]
    assert wh.scalar("SELECT count(*) FROM orders") == 0


def test_run_feed_does_nothing_without_the_demo_store(wh):
    stop = threading.Event()
    thread = threading.Thread(target=run_feed, args=(wh, stop, 0.01, "demo", "busy"))
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert wh.scalar("SELECT count(*) FROM web_events") == 0


def test_run_feed_keeps_ticking_until_stopped(store):
    wh = store
    before = wh.scalar("SELECT count(*) FROM web_events WHERE store_id = 'demo'")
    stop = threading.Event()
    thread = threading.Thread(target=run_feed, args=(wh, stop, 0.05, "demo", "busy"))
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and wh.scalar(
            "SELECT count(*) FROM web_events WHERE store_id = 'demo'") < before + 100:
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert wh.scalar("SELECT count(*) FROM web_events WHERE store_id = 'demo'") >= before + 100


def test_run_feed_survives_failing_ticks(store, caplog):
    wh = store
    # An order already holds the next order id: every tick that adds an order fails on the key.
    next_number = wh.scalar("SELECT max(CAST(order_number AS BIGINT)) FROM orders WHERE store_id = 'demo'") + 1
    wh.insert("orders", pl.DataFrame({
        "store_id": ["demo"], "order_id": [f"o{next_number}"], "order_number": ["1"],
        "created_at": [NOW], "currency": ["USD"],
    }, schema_overrides={"created_at": pl.Datetime("us", "UTC")}))
    stop = threading.Event()
    thread = threading.Thread(target=run_feed, args=(wh, stop, 0.01, "demo", "busy"))
    with caplog.at_level(logging.ERROR, logger="connectors.demo.feed"):
        thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "tick failed" not in caplog.text:
            time.sleep(0.05)
        assert thread.is_alive()
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert "tick failed" in caplog.text
    assert wh.scalar("SELECT count(*) FROM orders WHERE store_id = 'demo' AND order_id = :o",
                     {"o": f"o{next_number}"}) == 1


def test_the_ordinary_pace_is_the_median_day_spread_over_its_hours(wh):
    """27 days of 4 orders (two at 09:xx, two at 15:xx) and one Black Friday of 40 at noon: the median day
    is 4 orders, spread as the 148 orders of the days before fell over the hours."""
    from connectors.demo.feed_state import ordinary_pace
    from data.rollups import refresh_store
    from tests.builders import add_order, add_store, local

    add_store(wh, "demo", timezone="America/New_York")
    today = dt.date(2026, 6, 30)
    n = 0
    for back in range(1, 29):
        day = today - dt.timedelta(days=back)
        hours = [12] * 40 if back == 3 else [9, 9, 15, 15]
        for hour in hours:
            n += 1
            add_order(wh, f"o{n}", local("America/New_York", day.year, day.month, day.day, hour, n % 60),
                      store_id="demo")
    refresh_store(wh, "demo")
    pace = ordinary_pace(wh, "demo", today)
    assert pace.sum() == pytest.approx(4.0)
    assert pace[9] == pytest.approx(4 * 54 / 148) and pace[15] == pytest.approx(4 * 54 / 148)
    assert pace[12] == pytest.approx(4 * 40 / 148) and pace[3] == 0
    # A day of ticks every 5 s adds the ordinary day on average: Σ over the ticks of the expected orders.
    feed = DemoFeed(wh, "demo", seed=1)
    from connectors.demo.feed_state import FeedState

    state = FeedState(timezone="America/New_York", variant_ids=[], product_of_variant=None, product_ids=[],
                      skus=[], titles=[], price_cents=None, is_gift=None, weight=None, location_ids=[],
                      next_order=0, next_customer=0, next_session=0, next_event=0, next_po=0, customers=[],
                      orders_per_hour=pace)
    start = dt.datetime(2026, 6, 30, 0, 0, tzinfo=TZ)
    total = 0.0
    for i in range(1, 17_281):
        state.last_tick = start + dt.timedelta(seconds=5 * (i - 1))
        total += feed.expected_orders(state, start + dt.timedelta(seconds=5 * i))
    assert total == pytest.approx(4.0, rel=1e-3)


def test_the_busy_pace_stays_for_who_asks_and_an_unknown_pace_is_refused(store):
    state_feed = DemoFeed(store, seed=1, pace="busy")
    assert len(_ticks_until(state_feed, lambda r: len(r["orders"]) >= 3)) < 40
    with pytest.raises(ValueError, match="pace"):
        DemoFeed(store, pace="frantic")

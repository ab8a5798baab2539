"""The funnel and the conversion rate from a store's daily traffic (GA4's figures), on both backends.

Figures are worked out by hand from the rows below."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from analytics.customers.funnel import conversion_rate, funnel, funnel_sessions, has_traffic
from data.rollups import refresh_store
from tests.builders import add_store, add_order, utc

MARCH = dt.date(2026, 3, 10)


def _traffic(wh, rows):
    frame = pl.DataFrame(
        [{"store_id": "s", "date": day, "source": source, "medium": medium, "campaign": "(not set)",
          "device": device, "sessions": n, "engaged_sessions": engaged, "add_to_carts": carts,
          "checkouts": checkouts, "purchases": purchases, "purchase_revenue": Decimal("0"), "currency": "USD",
          "updated_at": utc(2026, 3, 13)}
         for day, source, medium, device, n, engaged, carts, checkouts, purchases in rows],
        schema_overrides={"purchase_revenue": pl.Decimal(18, 4), "updated_at": pl.Datetime("us", "UTC")})
    wh.insert("daily_traffic", frame)


def _store(wh):
    add_store(wh, "s")
    _traffic(wh, [
        (MARCH, "google", "cpc", "mobile", 100, 60, 30, 12, 4),
        (MARCH, "google", "cpc", "desktop", 50, 40, 25, 10, 6),
        (MARCH + dt.timedelta(days=1), "(direct)", "(none)", "mobile", 50, 20, 5, 2, 0),
        (MARCH - dt.timedelta(days=1), "google", "cpc", "mobile", 999, 999, 999, 999, 999),  # outside the range
    ])
    for i, channel in enumerate(["online_store"] * 8 + ["pos", "online_store"]):
        add_order(wh, f"o{i}", utc(2026, 3, 10, 15) + dt.timedelta(days=i % 2), customer=f"c{i}", channel=channel)
    # An order on 9 March (New York) is outside the range.
    add_order(wh, "early", utc(2026, 3, 9, 15), customer="x", channel="online_store")
    refresh_store(wh, "s")


def test_the_funnel_reads_the_daily_traffic(wh):
    _store(wh)
    assert has_traffic(wh, "s") and not has_traffic(wh, "other")
    sessions = funnel_sessions(wh, "s", MARCH, MARCH + dt.timedelta(days=1))
    table = {r["step"]: r for r in funnel(sessions).iter_rows(named=True)}
    # 200 sessions, 120 engaged, 60 add-to-carts, 24 checkouts, 10 purchases
    assert [table[s]["sessions"] for s in table] == [200, 120, 60, 24, 10]
    assert list(table) == ["sessions", "engaged_sessions", "add_to_carts", "checkouts", "purchases"]
    assert [table[s]["conversion"] for s in list(table)[1:]] == pytest.approx([0.6, 0.5, 0.4, 10 / 24])
    assert table["purchases"]["share_of_sessions"] == pytest.approx(0.05)
    cpc = funnel(sessions, "medium").filter(pl.col("medium") == "cpc")
    assert cpc["sessions"].to_list() == [150, 100, 55, 22, 10]
    mobile = funnel(sessions, "device").filter(pl.col("device") == "mobile")
    assert mobile["sessions"].to_list() == [150, 80, 35, 14, 4]


def test_conversion_rate_is_online_orders_over_sessions(wh):
    _store(wh)
    # 10 orders on 10–11 March, one at the till: 9 online-store orders ÷ 200 sessions.
    assert conversion_rate(wh, "s", MARCH, MARCH + dt.timedelta(days=1)) == {
        "orders": 9, "sessions": 200, "conversion_rate": 0.045}
    assert conversion_rate(wh, "s", dt.date(2026, 4, 1), dt.date(2026, 4, 2))["conversion_rate"] is None


def test_a_store_without_traffic_keeps_its_web_events(wh):
    add_store(wh, "s")
    sessions = funnel_sessions(wh, "s", MARCH, MARCH)
    assert "viewed_product" in sessions.columns and funnel(sessions)["step"].to_list()[1] == "viewed_product"

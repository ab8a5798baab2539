"""A second demo store in another currency and timezone, beside the first and without touching it.

Both stores come from the same seed, size and last day, so their orders are
the same orders: placed at the same local hours of the same local days (New
York for the first, Tokyo for the second) and costing the same number of
minor units (cents in the first, yen in the second: $20.00 is ¥2000). Each
day's Sales figures of the yen store are therefore the dollar store's × 100,
which the test checks day by day; and one day's figures of each are worked
out from its rows here, without the metrics code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from analytics.metrics import sales_summary
from connectors.__main__ import main
from connectors.demo import build_demo
from data.keys import STORE_TABLES, TABLE_KEYS

END = dt.date(2026, 11, 30)
SIZE = {"orders": 400, "days": 21, "seed": 5, "end": END}
MONEY = ("gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "total_sales")
COUNTS = ("orders", "units_sold", "customers", "new_customers")


def snapshot(wh, store_id: str) -> dict[str, pl.DataFrame]:
    out = {}
    for table in (*STORE_TABLES, "order_facts"):
        frame = wh.query(f"SELECT * FROM {table} WHERE store_id = :s", {"s": store_id})
        # Sorted on the table's key (a daily_traffic day has rows per source, medium, campaign and device).
        key = list(TABLE_KEYS.get(table, frame.columns[:3]))
        out[table] = frame.drop([c for c in frame.columns if c == "_synced_at"]).sort(key)
    return out


def by_hand(wh, store_id: str, zone: str, day: dt.date) -> dict:
    """Orders, gross sales and units of one local day, from the rows (test and voided orders left out)."""
    tz = ZoneInfo(zone)
    orders = wh.query("SELECT order_id, created_at, is_test, financial_status, cancelled_at FROM orders "
                      "WHERE store_id = :s", {"s": store_id})
    lines = wh.query("SELECT order_id, unit_price, quantity, is_gift_card FROM order_lines WHERE store_id = :s",
                     {"s": store_id})
    counted = {r["order_id"] for r in orders.iter_rows(named=True)
               if r["created_at"].astimezone(tz).date() == day and not r["is_test"]
               and r["financial_status"] != "voided"}
    gross, units = Decimal(0), 0
    for r in lines.iter_rows(named=True):
        if r["order_id"] in counted and not r["is_gift_card"]:
            gross += Decimal(r["unit_price"]) * r["quantity"]
            units += r["quantity"]
    return {"orders": len(counted), "gross_sales": gross, "units_sold": units}


@pytest.fixture
def two_stores(wh):
    build_demo(wh, **SIZE)
    first = snapshot(wh, "demo")
    build_demo(wh, **SIZE, store_id="demo:tokyo", currency="JPY", timezone="Asia/Tokyo")
    return wh, first


def test_the_second_store_leaves_the_first_as_it_was(two_stores):
    wh, first = two_stores
    after = snapshot(wh, "demo")
    for table, frame in first.items():
        assert after[table].equals(frame), table
    assert wh.rows("SELECT store_id, currency, timezone FROM stores ORDER BY store_id") == [
        ("demo", "USD", "America/New_York"), ("demo:tokyo", "JPY", "Asia/Tokyo")]


def test_the_second_store_is_in_yen_on_tokyo_days(two_stores):
    wh, _ = two_stores
    assert wh.rows("SELECT DISTINCT currency, presentment_currency FROM orders WHERE store_id = 'demo:tokyo'") == [
        ("JPY", "JPY")]
    for table, column in (("transactions", "currency"), ("ad_spend", "currency")):
        assert wh.rows(f"SELECT DISTINCT {column} FROM {table} WHERE store_id = 'demo:tokyo'") == [("JPY",)]
    fractions = wh.scalar("SELECT COUNT(*) FROM orders WHERE store_id = 'demo:tokyo' "
                          "AND (total_price <> ROUND(total_price, 0) OR subtotal <> ROUND(subtotal, 0))")
    assert fractions == 0  # whole yen
    # The same order at the same local time: 10:00 in New York is 10:00 in Tokyo, fourteen hours earlier.
    pairs = wh.rows("SELECT a.created_at, b.created_at FROM orders a JOIN orders b ON a.order_id = b.order_id "
                    "WHERE a.store_id = 'demo' AND b.store_id = 'demo:tokyo' ORDER BY a.order_id LIMIT 5")
    for ny, tokyo in pairs:
        local_ny = ny.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
        assert tokyo.astimezone(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None) == local_ny


def test_each_days_sales_are_the_first_stores_times_one_hundred(two_stores):
    wh, _ = two_stores
    day, checked = END - dt.timedelta(days=SIZE["days"] - 1), 0
    while day <= END:
        usd, jpy = sales_summary(wh, "demo", day, day), sales_summary(wh, "demo:tokyo", day, day)
        for name in MONEY:
            assert jpy[name] == usd[name] * 100, (day, name)
        for name in COUNTS:
            assert jpy[name] == usd[name], (day, name)
        checked += usd["orders"] > 0
        day += dt.timedelta(days=1)
    assert checked >= 15


def test_one_days_figures_match_the_rows(two_stores):
    wh, _ = two_stores
    day = END - dt.timedelta(days=3)
    for store_id, zone in (("demo", "America/New_York"), ("demo:tokyo", "Asia/Tokyo")):
        figures = sales_summary(wh, store_id, day, day)
        expected = by_hand(wh, store_id, zone, day)
        assert expected["orders"] > 0
        assert {k: figures[k] for k in expected} == expected, store_id


@pytest.mark.parametrize("args, message", [
    (["--currency", "EURO"], "--currency must be an ISO 4217 code"),
    (["--timezone", "Mars/Olympus"], "--timezone must be a timezone name"),
], ids=["bad-currency", "bad-timezone"])
def test_the_command_refuses_a_bad_currency_or_timezone(duckdb_url, capsys, args, message):
    assert main(["demo", "--db", duckdb_url, "--store", "x", *args]) == 2
    assert message in capsys.readouterr().err


def test_the_command_adds_a_store_in_its_currency_and_timezone(duckdb_url, capsys):
    assert main(["demo", "--db", duckdb_url, "--orders", "60", "--days", "5", "--end", "2026-11-30"]) == 0
    assert main(["demo", "--db", duckdb_url, "--orders", "60", "--days", "5", "--end", "2026-11-30",
                 "--store", "demo:paris", "--currency", "eur", "--timezone", "Europe/Paris"]) == 0
    from data.warehouse import connect

    with connect(duckdb_url) as wh:
        assert wh.rows("SELECT store_id, currency, timezone FROM stores ORDER BY store_id") == [
            ("demo", "USD", "America/New_York"), ("demo:paris", "EUR", "Europe/Paris")]

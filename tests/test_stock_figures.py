"""One definition per stock figure: the Products page's list, the Inventory page's cards, the facts behind
Insights and Explain, the report's inventory.csv and the alert digest count the same variants, on one
store worked out by hand, on every backend.

The store is tests/inventory_store.py's (as of 31 March 2026) with two more variants:

| variant | sold | available | lead time | daily demand | cover | status |
| --- | --- | --- | --- | --- | --- | --- |
| v1 | 2 a day, forecast 2 a day | 30 | 10 (item) | 2.0 | 15.0 | ok (a reorder due: 24) |
| v2 | 1 a day, 2–31 Mar | 5 | 14 (supplier) | 30 ÷ 30 = 1.0 | 5.0 | stockout risk |
| v3 | 4 on 1 Dec 2025 | 50 | 14 (default) | none | none | dead stock |
| v4 | 3 on 20 Mar | 0 | 14 (default) | 3 ÷ 30 = 0.1 | 0 | stockout |
| v5 | 1 a day, 2–31 Mar | 20 | 30 (item) | 1.0 | 20.0 | stockout risk |
| v6 | 1 a day, 2–31 Mar | 10 | 7 (item) | 1.0 | 10.0 | ok |

Low on stock = v2, v4, v5. (A flat "fewer than 14 days of cover" rule, the one the Products page had,
would have said v2, v4, v6: v5 runs out before its 30-day reorder arrives, v6 is reordered in time.)
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from analytics.insights.facts import build_facts
from analytics.inventory.alerts import alerts_from_health, digest_text
from analytics.inventory.choices import load_choices
from analytics.inventory.figures import (
    STOCK_DEFINITIONS,
    cover_words,
    daily_demand,
    days_of_cover,
    stock_counts,
    stock_status,
)
from analytics.inventory.report_section import build as inventory_report
from analytics.inventory.stock import health_summary, stock_health
from analytics.products import PRODUCT_DEFINITIONS, low_stock
from analytics.report import ReportContext
from analytics.store_state import Store
from tests.app_support import app_store  # noqa: F401 - a fixture
from tests.builders import utc
from tests.inventory_store import AS_OF, _days, add_levels, add_sales, add_variants, build_inventory_store

LOW = {"v2", "v4", "v5"}


def build_store(wh) -> None:
    """The store of the module's table."""
    build_inventory_store(wh)
    add_variants(wh, [("v5", "10", "5"), ("v6", "10", "5")])
    for variant in ("v5", "v6"):
        add_sales(wh, variant, _days(dt.date(2026, 3, 2), AS_OF), 1, "10")
    add_levels(wh, [("v5", "a", 20), ("v6", "a", 10)])
    wh.insert("supplier_items", pl.DataFrame({
        "supplier_id": ["sup-2", "sup-2"], "store_id": ["s", "s"], "variant_id": ["v5", "v6"],
        "supplier_sku": ["B-5", "B-6"], "unit_cost": [Decimal("5.00")] * 2, "moq": [None, None],
        "pack_size": [None, None], "lead_time_days": [30, 7]},
        schema_overrides={"unit_cost": pl.Decimal(18, 4), "moq": pl.Int32, "pack_size": pl.Int32,
                          "lead_time_days": pl.Int32}))


@pytest.fixture
def store(wh):
    build_store(wh)
    return wh


def test_every_page_report_summary_and_digest_count_the_same_variants(store):
    health = stock_health(store, "s", AS_OF, load_choices(store, "s"))
    rows = {r["variant_id"]: r for r in health.iter_rows(named=True)}
    assert {v: (r["daily_demand"], r["days_of_cover"], r["lead_time_days"], r["status"])
            for v, r in rows.items()} == {
        "v1": (2.0, 15.0, 10, "ok"), "v2": (1.0, 5.0, 14, "stockout_risk"), "v3": (None, None, 14, "dead_stock"),
        "v4": (0.1, 0.0, 14, "stockout"), "v5": (1.0, 20.0, 30, "stockout_risk"), "v6": (1.0, 10.0, 7, "ok")}
    assert {v for v, r in rows.items() if r["low_stock"]} == LOW
    assert {v for v, r in rows.items() if r["reorder_due"]} == {v for v, r in rows.items()
                                                               if r["suggested_order_qty"] > 0} >= {"v1", "v2", "v5"}

    # Inventory page cards.
    summary = health_summary(health)
    assert (summary["stockout"], summary["stockout_risk"], summary["low_stock"]) == (1, 2, 3)
    # Products page: the "Low on stock" card is the height of the "Running out" list.
    products = low_stock(store, "s", AS_OF)
    assert set(products["variant_id"]) == LOW
    assert products["variant_id"].to_list()[0] == "v4"  # sold out first
    # Insights card and table, and Explain (the facts the writers get).
    facts = build_facts(store, "s", dt.date(2026, 3, 1), AS_OF, stock_as_of=AS_OF)
    risks = facts["stock_risks"]
    assert risks["at_risk"] == 3
    assert [(i["variant"], i["days_of_cover"], i["lead_time_days"], i["sold_out"]) for i in risks["items"]] == [
        ("Product v4", "0.0", 14, True), ("Product v2", "5.0", 14, False), ("Product v5", "20.0", 30, False)]
    # The alert digest.
    alerts = alerts_from_health(health)
    assert set(alerts.filter(pl.col("kind").is_in(["stockout", "stockout_risk"]))["variant_id"]) == LOW
    text = digest_text(Store("s", "Store s", "USD", "America/New_York"), AS_OF, alerts)
    assert "Out of stock (1)" in text and "Will run out before a reorder arrives (2)" in text
    assert f"Reorder now ({summary['to_reorder']})" in text
    # The report's inventory.csv.
    ctx = ReportContext(store, Store("s", "Store s", "USD", "America/New_York"), dt.date(2026, 3, 1), AS_OF,
                        utc(2026, 3, 31, 12))
    out = inventory_report(ctx)
    lines = list(csv.DictReader(io.StringIO(out.files["inventory.csv"].decode("utf-8"))))
    assert {r["variant_id"] for r in lines if r["low_stock"] == "true"} == LOW
    assert sum(r["reorder_due"] == "true" for r in lines) == summary["to_reorder"]
    assert '<td>Low on stock</td><td class="num">3</td>' in out.html


def test_choices_move_every_count_together(store):
    from analytics.inventory.choices import save_choices

    # A longer lead time without a supplier: v4 still sold out, v3 has no demand; the others keep theirs.
    save_choices(store, "s", dataclasses.replace(load_choices(store, "s"), default_lead_days=30))
    health = stock_health(store, "s", AS_OF, load_choices(store, "s"))
    facts = build_facts(store, "s", dt.date(2026, 3, 1), AS_OF, stock_as_of=AS_OF)
    assert stock_counts(health)["low_stock"] == facts["stock_risks"]["at_risk"] == low_stock(store, "s", AS_OF).height


@pytest.mark.parametrize(("forecast", "trailing", "expected"), [
    ([2.0] * 30, Decimal("5"), (2.0, "forecast")),            # the forecast's first 28 days win
    ([0.0] * 28, Decimal("5"), (None, None)),                  # a forecast of nothing: no demand
    (None, Decimal("0.5"), (0.5, "trailing 30 days")),
    (None, None, (None, None)),
], ids=["forecast", "zero-forecast", "trailing", "none"])
def test_daily_demand(forecast, trailing, expected):
    assert daily_demand(forecast, trailing) == expected


@pytest.mark.parametrize(("available", "demand", "sold", "expected"), [
    (30, 2.0, True, 15.0), (0, 2.0, True, 0.0), (-3, None, True, 0.0), (5, None, True, None),
    (0, None, False, None), (None, 2.0, True, None), (10_000, 1.0, True, 365.0),
], ids=["cover", "sold-out", "oversold-no-demand", "no-demand", "never-sold", "untracked", "capped"])
def test_days_of_cover(available, demand, sold, expected):
    assert days_of_cover(available, demand, sold) == expected


@pytest.mark.parametrize(("available", "cover", "lead", "last_sold", "sold", "expected"), [
    (0, 0.0, 14, dt.date(2026, 3, 20), True, "stockout"),
    (5, 5.0, 14, AS_OF, True, "stockout_risk"),
    (5, 14.0, 14, AS_OF, True, "ok"),                              # exactly the lead time: in time
    (50, None, 14, dt.date(2025, 12, 1), False, "dead_stock"),
    (50, None, 14, dt.date(2025, 12, 31), True, "dead_stock"),     # 1 Jan–31 Mar: 90 days without a sale
    (50, None, 14, dt.date(2026, 1, 1), True, "ok"),               # 89 days
    (500, 250.0, 14, AS_OF, True, "overstock"),
], ids=["stockout", "risk", "at-lead-time", "dead", "dead-at-90-days", "not-dead-at-89-days", "overstock"])
def test_stock_status(available, cover, lead, last_sold, sold, expected):
    assert stock_status(available, cover, lead, last_sold, sold, as_of=AS_OF, dead_stock_days=90,
                        overstock_days=180) == expected


def test_the_help_beside_the_figures_is_the_definition():
    assert PRODUCT_DEFINITIONS["days_of_cover"] == STOCK_DEFINITIONS["days_of_cover"]
    assert PRODUCT_DEFINITIONS["low_stock"] == STOCK_DEFINITIONS["low_stock"]
    assert "capped at 365" in STOCK_DEFINITIONS["days_of_cover"]
    assert [cover_words(d) for d in (None, 0, 0.4, 1, 12.4, 365)] == [
        "–", "Sold out", "Under a day", "1 day", "12 days", "365+ days"]


def test_the_pages_show_the_same_count(app_store, monkeypatch):
    """Products' "Low on stock", Inventory's stockouts + stockout risks and Insights' "Low on stock", as the
    pages draw them on the store's today (31 March 2026); one order in the week before gives Insights a
    summary to show (the variants' sales are the table's)."""
    from data.rollups import refresh_store
    from tests.app_support import app, cards
    from tests.builders import add_order, local
    from ui import filters

    def build(wh):
        build_store(wh)
        # The rollups' refresh rebuilds the variant sales from orders: the hand-written ones are put back.
        sales = wh.query("SELECT * FROM variant_daily_sales WHERE store_id = 's'")
        add_order(wh, "o1", local("America/New_York", 2026, 3, 25, 12), [(1, "20.00", "0")], customer="c1")
        refresh_store(wh, "s")
        wh.execute("DELETE FROM variant_daily_sales WHERE store_id = 's'")
        wh.insert("variant_daily_sales", sales)

    app_store(build)
    monkeypatch.setattr(filters, "store_now",
                        lambda timezone: dt.datetime(2026, 3, 31, 12, 0, tzinfo=ZoneInfo(timezone)))
    shown = {}
    for page in ("pages/products.py", "pages/inventory.py", "pages/insights.py"):
        at = app(page)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        shown[page] = {label: value for label, (value, _) in cards(at).items()}
    inventory = shown["pages/inventory.py"]
    assert (inventory["Stockouts"], inventory["Stockout risk"]) == ("1", "2")
    assert shown["pages/products.py"]["Low on stock"] == shown["pages/insights.py"]["Low on stock"] == "3"

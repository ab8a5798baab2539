"""Stock health on tests/inventory_store.py's store, on both backends; figures from its docstring."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from analytics.inventory.choices import InventoryChoices, load_choices, save_choices
from analytics.inventory.stock import abc_classes, health_summary, lost_sales, sell_through, stock_health
from tests.inventory_store import AS_OF, build_inventory_store


@pytest.fixture
def health(wh):
    build_inventory_store(wh)
    frame = stock_health(wh, "s", AS_OF, InventoryChoices())
    return {row["variant_id"]: row for row in frame.iter_rows(named=True)}


def test_v1_with_a_forecast_supplier_item_and_stock_on_order(health):
    v1 = health["v1"]
    assert v1["available"] == 30 and v1["on_order"] == 6            # 20 + 10; 10 ordered − 4 received
    assert v1["daily_demand"] == 2.0 and v1["demand_source"] == "forecast"
    assert v1["days_of_cover"] == 15.0                               # 30 ÷ 2
    assert (v1["lead_time_days"], v1["lead_time_source"]) == (10, "supplier item")
    assert v1["safety_stock"] == 6                                   # ⌈1.6449 × 1.0 × √10⌉ = ⌈5.20⌉
    assert v1["reorder_point"] == 26                                 # 2 × 10 + 6
    # 26 + 2 × 7 − 30 − 6 = 4 → a pack of 6 → MOQ 20 in packs of 6 = 24
    assert v1["suggested_order_qty"] == 24
    assert v1["order_value"] == Decimal("96.0000")                   # 24 × 4.00
    assert v1["inventory_value"] == Decimal("120.0000")              # 30 × 4
    assert v1["status"] == "ok" and v1["abc_class"] == "A"
    assert (v1["forecast_model"], v1["mase"]) == ("SES", 0.8)


def test_v2_without_a_forecast_uses_the_last_30_days(health):
    v2 = health["v2"]
    assert v2["daily_demand"] == 1.0 and v2["demand_source"] == "trailing 30 days"   # 30 units ÷ 30 days
    assert v2["days_of_cover"] == 5.0                                # 5 ÷ 1
    assert (v2["lead_time_days"], v2["lead_time_source"]) == (14, "supplier")
    assert v2["status"] == "stockout_risk"                           # 5 days of cover < 14 days of lead time
    assert v2["safety_stock"] == 7                                   # ⌈1.6449 × √1 × √14⌉ = ⌈6.15⌉
    assert v2["reorder_point"] == 21                                 # 1 × 14 + 7
    assert v2["suggested_order_qty"] == 23                           # 21 + 7 − 5 − 0
    assert v2["order_value"] == Decimal("172.5000")                  # 23 × 7.50
    assert v2["abc_class"] == "B"    # 1,800 of 2,130 ranked above it: 84.5 %


def test_dead_stock_and_stockout(health):
    v3, v4 = health["v3"], health["v4"]
    assert v3["status"] == "dead_stock" and v3["days_of_cover"] is None and v3["suggested_order_qty"] == 0
    assert v3["abc_class"] == "C" and v3["inventory_value"] == Decimal("100.0000")
    assert v4["status"] == "stockout" and v4["days_of_cover"] == 0.0
    # 3 units in 30 days: 0.1 a day; lead 14 (the default); SS ⌈1.6449 × √0.1 × √14⌉ = ⌈1.95⌉ = 2;
    # ROP ⌈1.4 + 2⌉ = 4; order 4 + 0.7 − 0 − 0 = 4.7 → 5
    assert (v4["lead_time_source"], v4["safety_stock"], v4["reorder_point"], v4["suggested_order_qty"]) == \
        ("default", 2, 4, 5)


def test_summary(health):
    frame = pl.DataFrame(list(health.values()))
    summary = health_summary(frame)
    assert summary["inventory_value"] == Decimal("260")              # 120 + 40 + 100 + 0
    assert summary["units_available"] == 85                          # 30 + 5 + 50 + 0
    assert (summary["stockout"], summary["stockout_risk"], summary["dead_stock"], summary["ok"]) == (1, 1, 1, 1)
    assert summary["to_reorder"] == 3 and summary["reorder_value"] == Decimal("283.5")  # 96 + 172.5 + 5 × 3


def test_thresholds_change_the_lists(wh):
    build_inventory_store(wh)
    # Overstock above 10 days: v1's 15 days of cover is overstock; dead stock after 200 days: v3 is not dead.
    choices = dataclasses.replace(InventoryChoices(), overstock_days=10, dead_stock_days=200)
    save_choices(wh, "s", choices)
    assert load_choices(wh, "s") == choices
    frame = stock_health(wh, "s", AS_OF, load_choices(wh, "s"))
    status = dict(frame.select("variant_id", "status").iter_rows())
    assert status["v1"] == "overstock" and status["v3"] == "ok"


def test_bad_choices_are_refused(wh):
    with pytest.raises(ValueError, match="service level"):
        save_choices(wh, "s", dataclasses.replace(InventoryChoices(), service_level=1.2))
    with pytest.raises(ValueError, match="Review days"):
        save_choices(wh, "s", dataclasses.replace(InventoryChoices(), review_days=0))


def test_abc_classes_by_cumulative_share():
    # 50, 30, 15, 5 of 100: A before 0 %, A before 50 %, B before 80 %, C before 95 %; no sales: C
    classes = abc_classes({"a": Decimal(50), "b": Decimal(30), "c": Decimal(15), "d": Decimal(5), "e": Decimal(0)})
    assert classes == {"a": "A", "b": "A", "c": "B", "d": "C", "e": "C"}


def test_sell_through_and_lost_sales_with_a_censored_stockout(wh):
    build_inventory_store(wh)
    # v2 was out of stock on 20–21 Mar (snapshots 0, no sale) in the data; those days of the rollup are removed.
    wh.execute("DELETE FROM variant_daily_sales WHERE variant_id = 'v2' AND local_date IN (:a, :b)",
               {"a": dt.date(2026, 3, 20), "b": dt.date(2026, 3, 21)})
    wh.insert("inventory_snapshots", pl.DataFrame({
        "store_id": ["s", "s", "s"], "snapshot_date": [dt.date(2026, 3, 20), dt.date(2026, 3, 21), AS_OF],
        "variant_id": ["v2", "v2", "v2"], "location_id": ["a", "a", "a"], "available": [0, 0, 5]}))
    through = dict(sell_through(wh, "s", dt.date(2026, 3, 17), AS_OF).select("variant_id", "sell_through")
                   .iter_rows())
    # v2 sold 15 − 2 = 13 units of 17–31 Mar and has 5 at the end: 13 ÷ 18
    assert through["v2"] == pytest.approx(13 / 18)
    lost = lost_sales(wh, "s", dt.date(2026, 3, 17), AS_OF).row(0, named=True)
    # Each stockout day's demand is the mean of the in-stock days before it (1 a day): 2 units × 10.00
    assert (lost["variant_id"], lost["stockout_days"], lost["lost_units"], lost["lost_sales"]) == \
        ("v2", 2, 2.0, Decimal("20.0000"))

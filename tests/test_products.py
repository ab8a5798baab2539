"""Product and variant performance and stock cover, worked out by hand.

The store is the one of tests/products_store.py: its docstring has the
orders, refunds and stock, and the figures worked out from them.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import polars as pl
import pytest

from analytics.inventory.figures import trailing_demand
from analytics.products import low_stock, product_performance, stock_columns, trend_grain, variant_performance
from data.warehouse import connect
from tests.products_store import AS_OF, END, START, build_products_store

D = Decimal


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def store(request, tmp_path_factory):
    """The store above, built once per backend for the module (the tests only read it)."""
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('products') / 'warehouse.duckdb'}"
    else:
        url = f"{request.getfixturevalue('pg_database_url')}?schema=products_{os.getpid()}"
    wh = connect(url)
    try:
        build_products_store(wh)
        yield wh
    finally:
        wh.close()


def by_id(frame: pl.DataFrame, key: str) -> dict[str, dict]:
    return {row[key]: row for row in frame.to_dicts()}


def test_variants(store):
    frame = variant_performance(store, "s", START, END, as_of=AS_OF)
    assert frame["variant_id"].to_list() == ["v1", "v2", "v3"]
    rows = by_id(frame, "variant_id")
    v1, v2, v3 = rows["v1"], rows["v2"], rows["v3"]
    assert (v1["product_title"], v1["variant_title"], v1["sku"]) == ("Camp Mug", "Blue", "MUG-BLU")
    assert {k: v1[k] for k in ("units_sold", "units_returned", "net_units", "gross_sales", "discounts", "returns",
                               "net_sales", "return_rate", "cost_of_goods", "margin", "trend")} == {
        "units_sold": 6, "units_returned": 1, "net_units": 5, "gross_sales": D("60"), "discounts": D("3"),
        "returns": D("10"), "net_sales": D("47"), "return_rate": D("0.1667"), "cost_of_goods": D("20"),
        "margin": D("27"), "trend": [2, 3, 1, 0, 0]}
    assert {k: v2[k] for k in ("units_sold", "net_sales", "return_rate", "unit_cost", "cost_of_goods", "margin",
                               "trend")} == {
        "units_sold": 2, "net_sales": D("38"), "return_rate": D("0"), "unit_cost": None, "cost_of_goods": None,
        "margin": None, "trend": [1, 1, 0, 0, 0]}
    assert {k: v3[k] for k in ("units_sold", "units_returned", "net_units", "net_sales", "return_rate",
                               "cost_of_goods", "margin", "trend")} == {
        "units_sold": 1, "units_returned": 1, "net_units": 0, "net_sales": D("0"), "return_rate": D("1"),
        "cost_of_goods": D("0"), "margin": D("0"), "trend": [0, 1, 0, 0, 0]}


def test_variant_stock_columns(store):
    rows = by_id(variant_performance(store, "s", START, END, as_of=AS_OF), "variant_id")
    assert [(rows[v]["available"], rows[v]["daily_demand"], rows[v]["days_of_cover"], rows[v]["low_stock"])
            for v in ("v1", "v2", "v3")] == [
        (5, D("0.24"), D("20.8"), False),
        (0, D("0.0667"), D("0"), True),
        (None, D("0.0333"), None, False),
    ]


def test_products(store):
    frame = product_performance(store, "s", START, END, as_of=AS_OF)
    assert frame["product_id"].to_list() == ["p1", "p2"]
    p1, p2 = by_id(frame, "product_id")["p1"], by_id(frame, "product_id")["p2"]
    assert {k: p1[k] for k in ("product_title", "variants", "units_sold", "units_returned", "net_units",
                               "gross_sales", "discounts", "returns", "net_sales", "return_rate",
                               "cost_of_goods", "margin", "trend")} == {
        "product_title": "Camp Mug", "variants": 2, "units_sold": 7, "units_returned": 2, "net_units": 5,
        "gross_sales": D("90"), "discounts": D("3"), "returns": D("40"), "net_sales": D("47"),
        "return_rate": D("0.2857"), "cost_of_goods": D("20"), "margin": D("27"), "trend": [2, 4, 1, 0, 0]}
    # Stock over every variant: p1 = v1 (5) + v3 (untracked); demand 0.24 + 0.0333; cover 5 ÷ 0.2733.
    assert (p1["available"], p1["daily_demand"], p1["days_of_cover"], p1["low_stock_variants"], p1["low_stock"]) \
        == (5, D("0.2733"), D("18.3"), 0, False)
    # p2: v2 (0, low) + v4 (10, never sold) + v5 (0, a stockout): cover 10 ÷ 0.0667 = 149.9, two variants low.
    assert (p2["margin"], p2["available"], p2["days_of_cover"], p2["low_stock_variants"], p2["low_stock"]) == (
        None, 10, D("149.9"), 2, True)


def test_a_channel_filter(store):
    rows = by_id(variant_performance(store, "s", START, END, as_of=AS_OF, channels=["pos"]), "variant_id")
    assert {v: (r["units_sold"], r["units_returned"], r["net_sales"], r["trend"]) for v, r in rows.items()} == {
        "v1": (3, 0, D("27"), [0, 3, 0, 0, 0]),
        "v2": (1, 0, D("20"), [0, 1, 0, 0, 0]),
        "v3": (1, 1, D("0"), [0, 1, 0, 0, 0]),
    }
    # Stock ignores the channel filter.
    assert rows["v1"]["daily_demand"] == D("0.24")


def test_a_short_range_has_a_daily_trend(store):
    assert trend_grain(dt.date(2026, 3, 1), dt.date(2026, 3, 28)) == "day"
    assert trend_grain(dt.date(2026, 3, 1), dt.date(2026, 3, 29)) == "week"
    rows = by_id(variant_performance(store, "s", dt.date(2026, 3, 9), dt.date(2026, 3, 12), as_of=AS_OF),
                 "variant_id")
    # 9–12 March: o2's units on the 10th; r1's return on the 12th is no sale.
    assert rows["v1"]["trend"] == [0, 3, 0, 0]
    assert rows["v1"]["units_returned"] == 1


def test_stock_cover_and_the_low_stock_list(store):
    trailing = trailing_demand(store, "s", AS_OF)
    assert {v: (t["units_30d"], t["in_stock_days"], t["daily_demand"]) for v, t in trailing.items()} == {
        "v1": (6, 25, D("0.24")), "v2": (2, 30, D("0.0667")), "v3": (1, 30, D("0.0333"))}
    cover = by_id(stock_columns(store, "s", AS_OF), "variant_id")
    # No supplier: the default lead time of 14 days. v1's 20.8 days are enough; v4 never sold (dead stock).
    assert {v: (c["available"], c["days_of_cover"], c["status"], c["low_stock"]) for v, c in cover.items()} == {
        "v1": (5, D("20.8"), "ok", False),
        "v2": (0, D("0"), "stockout", True),
        "v3": (None, None, "ok", False),
        "v4": (10, None, "dead_stock", False),
        "v5": (0, D("0"), "stockout", True),
    }
    low = low_stock(store, "s", AS_OF)
    # Both have nothing left; the one with a known rate of sale comes first.
    assert low.select("variant", "product_title", "variant_title", "sku", "available", "days_of_cover").rows() == [
        ("Pocket Tee — M", "Pocket Tee", "M", "TEE-M", 0, D("0")),
        ("Pocket Tee — S", "Pocket Tee", "S", "TEE-S", 0, D("0")),
    ]


def test_an_empty_range(store):
    frame = variant_performance(store, "s", dt.date(2025, 1, 1), dt.date(2025, 1, 31), as_of=AS_OF)
    assert frame.height == 0 and "trend" in frame.columns
    products = product_performance(store, "s", dt.date(2025, 1, 1), dt.date(2025, 1, 31), as_of=AS_OF,
                                   variants=frame)
    assert products.height == 0 and "low_stock_variants" in products.columns

"""Sales breakdowns on hand-built stores, on DuckDB and PostgreSQL.

The store of ``tests/sales_store.py`` for the breakdowns; a second small
store around a daylight-saving change for the live figures.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from analytics.metrics import sales_summary
from analytics.sales_hours import sales_by_hour
from analytics.sales_breakdowns import (
    LIVE_FIGURES,
    latest_orders,
    sales_by_channel,
    sales_by_country,
    sales_by_dimension,
    sales_by_product,
    sales_by_variant,
    sales_heatmap,
    today_vs_last_week,
    top_n_with_other,
    variant_label,
)
from data.rollups import refresh_store
from tests.builders import add_order, add_refund, add_store, local, utc
from tests.sales_store import END, START, build_sales_store

D = Decimal


def by(frame: pl.DataFrame, column: str) -> dict[str, dict]:
    return {row[column]: row for row in frame.to_dicts()}


def pick(row: dict, *names: str) -> dict:
    return {name: row[name] for name in names}


# -- by channel and country ----------------------------------------------------------

def test_sales_by_channel_adds_up_to_the_summary(wh):
    build_sales_store(wh)
    frame = sales_by_channel(wh, "s", START, END)
    # Net sales, largest first; pos and other tie at 25.00 and go by name.
    assert frame["channel"].to_list() == ["online_store", "other", "pos"]
    rows = by(frame, "channel")
    # online_store: o1 + o3, gross 90 + 130, discounts 5 + 10, o1's return 22.50 on 5 March;
    # shipping 5 + 8, taxes 4 − 1; total 182.50 + 13 + 3.
    assert pick(rows["online_store"], "orders", "gross_sales", "discounts", "returns", "net_sales", "shipping",
                "taxes", "total_sales", "units_sold", "units_returned") == {
        "orders": 2, "gross_sales": D("220"), "discounts": D("15"), "returns": D("22.5"),
        "net_sales": D("182.5"), "shipping": D("13"), "taxes": D("3"), "total_sales": D("198.5"),
        "units_sold": 7, "units_returned": 1}
    # pos: o2 (the test order is left out), 25.00 + 2.00 tax.
    assert pick(rows["pos"], "orders", "net_sales", "taxes", "total_sales") == {
        "orders": 1, "net_sales": D("25"), "taxes": D("2"), "total_sales": D("27")}
    # An order without a channel is in "other".
    assert pick(rows["other"], "orders", "net_sales", "total_sales") == {
        "orders": 1, "net_sales": D("25"), "total_sales": D("25")}

    summary = sales_summary(wh, "s", START, END)
    for name in ("orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "total_sales",
                 "units_sold", "units_returned"):
        assert frame[name].sum() == summary[name], name


def test_sales_by_country(wh):
    build_sales_store(wh)
    frame = sales_by_country(wh, "s", START, END)
    assert frame["country"].to_list() == ["CA", "US", "unknown"]
    rows = by(frame, "country")
    # US: o1 + o2, gross 90 + 25, discounts 5, return 22.50 → net 87.50; taxes 4 + 2 − 1; total 87.50 + 5 + 5.
    assert pick(rows["US"], "orders", "net_sales", "shipping", "taxes", "total_sales") == {
        "orders": 2, "net_sales": D("87.5"), "shipping": D("5"), "taxes": D("5"), "total_sales": D("97.5")}
    # CA: o3, 130 − 10, shipping 8.
    assert pick(rows["CA"], "orders", "net_sales", "total_sales") == {
        "orders": 1, "net_sales": D("120"), "total_sales": D("128")}
    assert rows["unknown"]["net_sales"] == D("25")


def test_a_channel_filter_keeps_the_orders_and_their_refunds(wh):
    build_sales_store(wh)
    frame = sales_by_country(wh, "s", START, END, channels=["online_store"])
    rows = by(frame, "country")
    # o1 (US, with its refund) and o3 (CA).
    assert set(rows) == {"US", "CA"}
    assert rows["US"]["net_sales"] == D("62.5")  # 90 − 5 − 22.50
    assert rows["CA"]["net_sales"] == D("120")


def test_an_empty_range_has_no_rows(wh):
    build_sales_store(wh)
    frame = sales_by_channel(wh, "s", dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert frame.height == 0 and frame.columns[0] == "channel"


def test_only_known_dimensions_are_accepted(wh):
    add_store(wh)
    with pytest.raises(ValueError, match="dimension"):
        sales_by_dimension(wh, "s", START, END, "email; DROP TABLE orders")


# -- by product and variant ------------------------------------------------------------

def test_sales_by_product(wh):
    build_sales_store(wh)
    frame = sales_by_product(wh, "s", START, END)
    assert frame["product"].to_list() == ["Canvas tote", "Linen shirt"]
    rows = by(frame, "product_id")
    # p2 (line 2): o1 1 × 40, o3 3 × 40 less 10.00 → 4 units, 160 − 10.
    assert pick(rows["p2"], "units_sold", "units_returned", "gross_sales", "discounts", "returns", "net_sales") == {
        "units_sold": 4, "units_returned": 0, "gross_sales": D("160"), "discounts": D("10"), "returns": D("0"),
        "net_sales": D("150")}
    # p1 (line 1): o1 2 × 25 less 5, o2 25, o3 10, o4 25; one unit back for 22.50.
    assert pick(rows["p1"], "units_sold", "units_returned", "gross_sales", "discounts", "returns", "net_sales") == {
        "units_sold": 5, "units_returned": 1, "gross_sales": D("110"), "discounts": D("5"),
        "returns": D("22.5"), "net_sales": D("82.5")}
    assert frame["net_sales"].sum() == sales_summary(wh, "s", START, END)["net_sales"]


def test_sales_by_product_with_a_channel_filter(wh):
    build_sales_store(wh)
    rows = by(sales_by_product(wh, "s", START, END, channels=["online_store"]), "product_id")
    # p1: o1 2 × 25 less 5 and o3 10, the 22.50 return → 32.50; p2 unchanged.
    assert rows["p1"]["net_sales"] == D("32.5") and rows["p1"]["units_sold"] == 3
    assert rows["p2"]["net_sales"] == D("150")


def test_sales_by_variant_names_the_variants(wh):
    build_sales_store(wh)
    frame = sales_by_variant(wh, "s", START, END)
    assert frame["variant"].to_list() == ["Canvas tote (SKU2)", "Linen shirt — M / Blue"]
    assert frame["variant_id"].to_list() == ["v2", "v1"]
    assert frame["net_sales"].to_list() == [D("150"), D("82.5")]


def test_items_without_a_catalogue_fall_back_on_their_ids(wh):
    add_store(wh)
    add_order(wh, "o1", utc(2026, 3, 2, 15), [(1, "10.00", "0")])
    refresh_store(wh, "s")
    assert sales_by_product(wh, "s", START, END)["product"].to_list() == ["p1"]
    assert sales_by_variant(wh, "s", START, END)["variant"].to_list() == ["v1"]


@pytest.mark.parametrize(
    "product, variant, sku, expected",
    [
        pytest.param("Shirt", "M", "S1", "Shirt — M", id="product-and-variant"),
        pytest.param("Shirt", "Default Title", "S1", "Shirt (S1)", id="default-title-shows-sku"),
        pytest.param("Shirt", None, None, "Shirt", id="product-only"),
        pytest.param(None, None, "S1", "S1", id="sku-only"),
        pytest.param(None, None, None, "v9", id="id-only"),
    ],
)
def test_variant_label(product, variant, sku, expected):
    assert variant_label(product, variant, sku, "v9") == expected


def test_top_n_with_other_sums_the_rest():
    frame = pl.DataFrame(
        {"product": ["a", "b", "c", "d", "e"], "product_id": ["1", "2", "3", "4", "5"],
         "units_sold": [1, 2, 3, 4, 5],
         "net_sales": [D("10.00"), D("50.00"), D("30.00"), D("20.00"), D("40.00")]},
        schema={"product": pl.String, "product_id": pl.String, "units_sold": pl.Int64,
                "net_sales": pl.Decimal(38, 4)},
    )
    top = top_n_with_other(frame, "product", 2)
    assert top["product"].to_list() == ["b", "e", "Other (3)"]
    # Other: c + d + a = 30 + 20 + 10, units 3 + 4 + 1.
    assert top.row(2, named=True) == {"product": "Other (3)", "product_id": None, "units_sold": 8,
                                      "net_sales": D("60")}
    assert top["net_sales"].sum() == frame["net_sales"].sum()
    # One row more than n: no "Other" standing for a single row.
    assert top_n_with_other(frame, "product", 4)["product"].to_list() == ["b", "e", "c", "d", "a"]


# -- heatmap -------------------------------------------------------------------------------

def test_heatmap_by_store_local_weekday_and_hour(wh):
    build_sales_store(wh)
    frame = sales_heatmap(wh, "s", START, END)
    assert frame.height == 7 * 24
    cells = {(r["isodow"], r["hour"]): (r["orders"], r["order_value"]) for r in frame.to_dicts() if r["orders"]}
    # o1 Monday 10:00 (90 − 5), o2 Tuesday 10:00, o3 Tuesday 18:30 (130 − 10), o4 Wednesday 10:00:
    # New York time, though o3 was placed on Wednesday in UTC.
    assert cells == {(1, 10): (1, D("85")), (2, 10): (1, D("25")), (2, 18): (1, D("120")), (3, 10): (1, D("25"))}
    assert sales_heatmap(wh, "s", START, END, channels=["pos"])["orders"].sum() == 1


# -- live: today against the same weekday last week -----------------------------------------

NY = "America/New_York"


def build_live_store(wh) -> None:
    """Wednesday 11 March 2026 (EDT, UTC−4) against Wednesday 4 March (EST, UTC−5)."""
    add_store(wh, timezone=NY)
    add_order(wh, "o4", local(NY, 2026, 3, 4, 10), [(1, "25.00", "0")], shipping="5.00")
    add_order(wh, "o6", local(NY, 2026, 3, 4, 14), [(2, "30.00", "0")])
    add_order(wh, "o9", local(NY, 2026, 3, 4, 15), [(1, "99.00", "0")], channel="pos")
    add_order(wh, "o7", local(NY, 2026, 3, 11, 9), [(1, "40.00", "4.00")], tax="3.00")
    add_order(wh, "o8", local(NY, 2026, 3, 11, 15), [(1, "50.00", "0")])
    add_order(wh, "test", local(NY, 2026, 3, 11, 16), [(1, "1.00", "0")], test=True)
    add_refund(wh, "r1", "o4", local(NY, 2026, 3, 11, 12), {1: (1, "25.00")}, shipping="5.00")
    refresh_store(wh, "s")


def test_today_against_the_same_weekday_last_week_up_to_the_same_time(wh):
    build_live_store(wh)
    now = local(NY, 2026, 3, 11, 14, 30)
    live = today_vs_last_week(wh, "s", now)
    assert (live["today_date"], live["last_week_date"]) == (dt.date(2026, 3, 11), dt.date(2026, 3, 4))
    assert live["cutoff"] == dt.time(14, 30)
    assert set(LIVE_FIGURES) <= set(live["today"])
    # Today up to 14:30: o7 (40 − 4, tax 3) and the refund at 12:00 (25 goods, 5 shipping back);
    # o8 at 15:00 is later. Net 40 − 4 − 25 = 11; shipping −5; total 11 − 5 + 3 = 9.
    assert pick(live["today"], "orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes",
                "total_sales", "units_sold", "aov") == {
        "orders": 1, "gross_sales": D("40"), "discounts": D("4"), "returns": D("25"), "net_sales": D("11"),
        "shipping": D("-5"), "taxes": D("3"), "total_sales": D("9"), "units_sold": 1, "aov": D("36")}
    # Last week up to 14:30 EST: o4 and o6 at 14:00 (a cut 7 × 24 hours back, at 13:30 EST across the
    # clock change, would leave o6 out), not o9 at 15:00. Gross 25 + 60, shipping 5, total 90, AOV 85 / 2.
    assert pick(live["last_week"], "orders", "net_sales", "shipping", "total_sales", "units_sold", "aov") == {
        "orders": 2, "net_sales": D("85"), "shipping": D("5"), "total_sales": D("90"), "units_sold": 3,
        "aov": D("42.5")}


def test_a_day_hour_by_hour_up_to_a_time(wh):
    build_live_store(wh)
    now = local(NY, 2026, 3, 11, 14, 30)
    hours = sales_by_hour(wh, "s", dt.date(2026, 3, 11), until=now)
    # 00:00 to 14:00: the hours after the cut are left out.
    assert hours["period"].to_list() == [dt.datetime(2026, 3, 11, h) for h in range(15)]
    by_hour = {row["period"].hour: row for row in hours.iter_rows(named=True)}
    # 09:00 o7: 40 − 4 discount, tax 3. 12:00 the refund of o4 (a sale of last week): 25 goods and 5 shipping
    # back. The test order at 16:00 never counts, o8 at 15:00 is after the cut.
    assert pick(by_hour[9], "orders", "net_sales", "taxes", "total_sales") == {
        "orders": 1, "net_sales": D("36"), "taxes": D("3"), "total_sales": D("39")}
    assert pick(by_hour[12], "orders", "returns", "net_sales", "shipping", "total_sales") == {
        "orders": 0, "returns": D("25"), "net_sales": D("-25"), "shipping": D("-5"), "total_sales": D("-30")}
    assert sum(hours["net_sales"].to_list()) == D("11") == today_vs_last_week(wh, "s", now)["today"]["net_sales"]
    whole = sales_by_hour(wh, "s", dt.date(2026, 3, 11))
    assert whole.height == 24 and whole.row(15, named=True)["total_sales"] == D("50")
    assert whole.filter(pl.col("period").dt.hour() == 16)["orders"].item() == 0
    # A day before the cut's day is whole; a day after it has no hour yet.
    assert sales_by_hour(wh, "s", dt.date(2026, 3, 4), until=now).height == 24
    assert sales_by_hour(wh, "s", dt.date(2026, 3, 12), until=now).height == 0


def test_today_with_a_channel_filter_and_a_naive_time_refused(wh):
    build_live_store(wh)
    now = local(NY, 2026, 3, 11, 23, 59)
    live = today_vs_last_week(wh, "s", now, channels=["pos"])
    assert live["today"]["orders"] == 0 and live["last_week"]["orders"] == 1
    assert live["last_week"]["total_sales"] == D("99")
    with pytest.raises(ValueError, match="aware"):
        today_vs_last_week(wh, "s", dt.datetime(2026, 3, 11, 12))


def test_latest_orders_newest_first_without_test_orders(wh):
    build_live_store(wh)
    frame = latest_orders(wh, "s", 3)
    assert frame.columns == ["order_number", "created_at", "channel", "items", "total"]
    assert frame["order_number"].to_list() == ["o8", "o7", "o9"]
    # Store-local wall-clock times.
    assert frame["created_at"].to_list() == [dt.datetime(2026, 3, 11, 15), dt.datetime(2026, 3, 11, 9),
                                             dt.datetime(2026, 3, 4, 15)]
    # o7: 40 − 4 + 3 tax.
    assert frame["total"].to_list() == [D("50"), D("39"), D("99")]
    assert frame["items"].to_list() == [1, 1, 1]
    assert latest_orders(wh, "s", 5, channels=["pos"])["order_number"].to_list() == ["o9"]
    with pytest.raises(ValueError):
        latest_orders(wh, "s", 0)

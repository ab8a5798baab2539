"""The bi_* views: the same columns on every backend, and the metric layer's figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from analytics.customers.views import customer_table
from analytics.metrics import sales_over_time, sales_summary
from data.bi_views import VIEW_KEYS, VIEWS
from data.rollups import refresh_store
from data.warehouse import connect
from tests.bi_store import END, build_bi_store
from tests.builders import add_order, add_refund, add_store, utc
from tests.conftest import module_backend_url

SALES_FIGURES = ("orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "duties",
                 "total_sales", "units_sold", "units_returned")


@pytest.fixture(scope="module", params=["duckdb", "postgres", "timescale"])
def demo(request, tmp_path_factory):
    """A scored and forecast demo store per backend; tests only read it."""
    wh = connect(module_backend_url(request, tmp_path_factory, "bi"))
    build_bi_store(wh)
    yield wh
    wh.close()


def _shape(frame: pl.DataFrame) -> list[tuple[str, str]]:
    """Column names with their kind of type (decimal precision differs between engines, not the scale)."""
    out = []
    for name, dtype in frame.schema.items():
        kind = f"Decimal(scale={dtype.scale})" if isinstance(dtype, pl.Decimal) else str(dtype)
        out.append((name, kind))
    return out


@pytest.mark.parametrize("view", sorted(VIEWS), ids=sorted(VIEWS))
def test_views_have_the_same_columns_on_every_backend(demo, view):
    reference = connect("duckdb:///:memory:")
    try:
        expected = _shape(reference.query(f"SELECT * FROM {view}"))
    finally:
        reference.close()
    frame = demo.query(f"SELECT * FROM {view}")
    assert _shape(frame) == expected
    assert frame.height > 0
    keys = list(VIEW_KEYS[view])
    assert frame.select(keys).is_unique().all(), f"{view} is not unique on {keys}"


def _all_days(wh) -> tuple[dt.date, dt.date]:
    return wh.rows("SELECT MIN(day), MAX(day) FROM bi_daily_sales")[0]


def test_daily_sales_are_the_metric_layers_day_by_day(demo):
    start, end = _all_days(demo)
    expected = sales_over_time(demo, "demo", start, end, "day")
    expected = expected.filter(
        pl.any_horizontal(pl.col(c) != 0 for c in SALES_FIGURES)).rename({"period": "day"})
    got = demo.query("SELECT * FROM bi_daily_sales WHERE store_id = 'demo' ORDER BY day")
    assert got.height == expected.height > 50
    assert got.select("day", *SALES_FIGURES).rows() == expected.select("day", *SALES_FIGURES).rows()
    assert set(got["currency"]) == {"USD"} and set(got["timezone"]) == {"America/New_York"}


def test_orders_and_lines_add_up_to_the_metric_layers_totals(demo):
    start, end = _all_days(demo)
    summary = sales_summary(demo, "demo", start, end)
    money = ", ".join(f"SUM({c})" for c in SALES_FIGURES if c not in ("orders", "units_sold", "units_returned"))
    row = demo.rows(f"SELECT CAST(SUM(CASE WHEN counted THEN 1 ELSE 0 END) AS BIGINT), {money}, "
                    "SUM(units_sold), SUM(units_returned) FROM bi_orders WHERE store_id = 'demo'")[0]
    names = ["orders", *[c for c in SALES_FIGURES if c not in ("orders", "units_sold", "units_returned")],
             "units_sold", "units_returned"]
    assert dict(zip(names, [int(row[0]), *[Decimal(v) for v in row[1:-2]], int(row[-2]), int(row[-1])])) == {
        name: summary[name] for name in names}
    gross, net, units = demo.rows("SELECT SUM(gross_sales), SUM(net_of_discount), SUM(quantity) "
                                  "FROM bi_order_lines WHERE store_id = 'demo' AND counted")[0]
    assert (Decimal(gross), Decimal(net), int(units)) == (
        summary["gross_sales"], summary["gross_sales"] - summary["discounts"], summary["units_sold"])


def test_customers_are_the_latest_scores_the_customers_page_shows(demo):
    expected = customer_table(demo, "demo", END)
    got = demo.query("SELECT * FROM bi_customers WHERE store_id = 'demo' ORDER BY customer_id")
    assert set(got["scored_on"]) == {END}
    shared = [c for c in expected.columns if c in got.columns]
    assert len(shared) >= 15
    assert got.select(shared).rows() == expected.select(shared).rows()


def test_daily_stock_and_forecasts_are_what_the_inventory_pages_read(demo):
    stock = demo.query("SELECT day, variant_id, available, locations FROM bi_daily_stock "
                       "WHERE store_id = 'demo' ORDER BY day, variant_id")
    expected = demo.query("SELECT day, variant_id, available, locations FROM daily_stock "
                          "WHERE store_id = 'demo' ORDER BY day, variant_id")
    assert stock.rows() == expected.rows() and stock.height > 1000
    forecasts = demo.query("SELECT variant_id, day, yhat FROM bi_forecasts WHERE store_id = 'demo' "
                           "ORDER BY variant_id, day, model")
    assert forecasts.rows() == demo.rows("SELECT variant_id, ds, yhat FROM forecasts WHERE store_id = 'demo' "
                                         "ORDER BY variant_id, ds, model")
    assert demo.scalar("SELECT count(*) FROM bi_forecasts WHERE sku IS NULL") == 0


def test_an_order_with_a_later_refund_by_hand(wh):
    """Two lines (2 × 10.00 less 1.00, 1 × 5.00), 4.00 shipping, 2.00 tax; three days later one unit of the
    first line comes back (10.00), with 1.00 of shipping and 0.50 of tax."""
    add_store(wh, timezone="UTC")
    add_order(wh, "o1", utc(2026, 3, 2, 12), [(2, "10.00", "1.00"), (1, "5.00", "0")], shipping="4.00", tax="2.00")
    add_order(wh, "t1", utc(2026, 3, 2, 13), [(1, "99.00", "0")], test=True)
    add_refund(wh, "r1", "o1", utc(2026, 3, 5, 9), {1: (1, "10.00")}, shipping="1.00", tax="0.50")
    refresh_store(wh, "s")
    orders = {r[0]: r[1:] for r in wh.rows(
        "SELECT order_id, counted, gross_sales, discounts, returns, net_sales, shipping, taxes, total_sales, "
        "units_sold, units_returned FROM bi_orders ORDER BY order_id")}
    assert orders["o1"] == (True, Decimal("25"), Decimal("1"), Decimal("10"), Decimal("14"), Decimal("3"),
                            Decimal("1.5"), Decimal("18.5"), 3, 1)
    assert orders["t1"][0] is False and orders["t1"][1:-2] == (Decimal(0),) * 7
    days = wh.rows("SELECT day, orders, net_sales, shipping, taxes, total_sales FROM bi_daily_sales ORDER BY day")
    assert days == [(dt.date(2026, 3, 2), 1, Decimal("24"), Decimal("4"), Decimal("2"), Decimal("30")),
                    (dt.date(2026, 3, 5), 0, Decimal("-10"), Decimal("-1"), Decimal("-0.5"), Decimal("-11.5"))]
    lines = wh.rows("SELECT line_id, counted, gross_sales, net_of_discount FROM bi_order_lines "
                    "WHERE order_id = 'o1' ORDER BY line_id")
    assert lines == [("o1-1", True, Decimal("20"), Decimal("19")), ("o1-2", True, Decimal("5"), Decimal("5"))]

"""The Products page in Streamlit's AppTest on tests/products_store.py's store, in a temporary DuckDB file.

The store's "today" is 31 March 2026 (the clock of the sidebar filters is
set there), so the stock figures are those worked out in the store's
docstring.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from analytics.formatting import format_count, format_money, format_percent
from analytics.metrics import sales_summary
from analytics.products import unit_return_rate
from data.warehouse import close_shared, connect, shared
from tests.products_store import END, START, build_products_store

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "products.py")


@pytest.fixture
def store_url(monkeypatch, tmp_path):
    from ui import cache, filters

    url = f"duckdb:///{tmp_path / 'app.duckdb'}"
    wh = connect(url)
    build_products_store(wh)
    wh.close()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DEMO_FEED", "off")
    monkeypatch.setattr(filters, "store_now",
                        lambda timezone: dt.datetime(2026, 3, 31, 12, 0, tzinfo=ZoneInfo(timezone)))
    close_shared()
    cache.clear()
    yield url
    close_shared()
    cache.clear()


def open_page(start: dt.date = START, end: dt.date = END) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["filters_preset"] = "custom"
    at.session_state["filters_custom"] = (start, end)
    at.session_state["filters_comparison"] = "none"
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_cards_equal_the_metric_layer(store_url):
    at = open_page()
    figures = sales_summary(shared(), "s", START, END)  # the page's own warehouse
    assert {m.label: m.value for m in at.metric} == {
        "Units sold": format_count(figures["units_sold"]),
        "Net sales": format_money(figures["net_sales"], "USD"),
        "Return rate": format_percent(unit_return_rate(figures["units_returned"], figures["units_sold"])),
        "Low on stock": "2",
    }
    # By hand: 9 units sold, net sales 47 + 38 + 0 = 85.00, 2 of 9 units returned.
    assert [m.value for m in at.metric][:3] == ["9", "$85.00", "22.2%"]


def test_running_out_comes_first(store_url):
    at = open_page()
    low = at.dataframe[0].value
    assert low[["variant", "available", "days_of_cover"]].values.tolist() == [
        ["Pocket Tee — M", 0, 0.0], ["Pocket Tee — S", 0, 0.0]]


def test_products_then_variants(store_url):
    at = open_page()
    table = at.dataframe[1].value
    assert table[["product_title", "units_sold", "net_sales", "margin_text", "stock"]].values.tolist() == [
        ["Camp Mug", 7, 47.0, "$27.00", "OK"],
        ["Pocket Tee", 2, 38.0, "cost unknown", "2 variants low"],
    ]
    assert [round(v, 2) for v in table["return_rate"].tolist()] == [28.57, 0.0]
    assert list(table["trend"].iloc[0]) == [2, 4, 1, 0, 0]
    assert any("have no unit cost recorded" in c.value for c in at.caption)

    at.segmented_control(key="products_view").set_value("variant").run()
    assert not at.exception, at.exception
    variants = at.dataframe[1].value
    assert variants[["variant", "units_sold", "margin_text", "stock"]].values.tolist() == [
        ["Camp Mug — Blue", 6, "$27.00", "OK"],
        ["Pocket Tee — M", 2, "cost unknown", "Out of stock"],
        ["Camp Mug — Green", 1, "$0.00", "Not tracked"],
    ]
    at.selectbox(key="products_sort").select("units_sold").run()
    assert at.dataframe[1].value["variant"].tolist()[0] == "Camp Mug — Blue"


def test_a_range_without_sales(store_url):
    at = open_page(dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert any(i.value.startswith("No product sold or returned in 1–31 Jan 2025.") for i in at.info)

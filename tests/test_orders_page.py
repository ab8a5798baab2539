"""The Orders page in Streamlit's AppTest, on stores written to a temporary DuckDB file.

The hand-built store of tests/orders_store.py for the list and the detail;
a store of 120 orders for the pages of 50.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from data.rollups import refresh_store
from data.warehouse import close_shared, connect
from tests.builders import MONEY, TIMESTAMP, add_store, utc
from tests.orders_store import END, START, build_orders_store

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "orders.py")


@pytest.fixture
def app_env(monkeypatch, tmp_path):
    """A function that writes a store with ``build(wh)`` and points the app at it."""
    from ui import cache

    def use(build) -> None:
        url = f"duckdb:///{tmp_path / 'app.duckdb'}"
        wh = connect(url)
        build(wh)
        wh.close()
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("DEMO_FEED", "off")
        close_shared()
        cache.clear()

    yield use
    close_shared()
    cache.clear()


def open_page(start: dt.date = START, end: dt.date = END) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["filters_preset"] = "custom"
    at.session_state["filters_custom"] = (start, end)
    at.run()
    assert not at.exception, at.exception
    return at


def listed(at: AppTest) -> list[str]:
    return at.dataframe[0].value["order_id"].tolist()


def summary(at: AppTest) -> str:
    return next(c.value for c in at.caption if "orders match" in c.value)


def test_the_list_newest_first(app_env):
    app_env(build_orders_store)
    at = open_page()
    assert listed(at) == ["o7", "o5", "o3", "o2", "o1"]
    assert summary(at).startswith("**5** orders match · showing 1–5")
    table = at.dataframe[0].value
    first = table.iloc[3]
    assert (first["order_number"], first["customer_id"], first["items"], first["total"], first["financial_status"],
            first["fulfillment_status"], first["channel"]) == ("#999", "c2", 1, 45.0, "Paid", "Unfulfilled",
                                                                "Point of sale")
    assert str(first["placed_at"]) == "2026-03-02 23:30:00"
    downloads = at.get("download_button")
    assert [d.proto.label for d in downloads] == ["Download CSV"]


def test_search_then_one_order_in_full(app_env):
    app_env(build_orders_store)
    at = open_page()
    at.text_input(key="orders_search").input("1002").run()
    assert listed(at) == ["o3"]
    at.selectbox(key="orders_pick").select("o3").run()
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader] == ["Order #1002"]
    assert {m.label: m.value for m in at.metric} == {"Total": "$7.50", "Items": "3", "Refunded": "$7.50"}
    lines, refunds, payments = (at.dataframe[i].value for i in (1, 2, 3))
    assert lines[["title", "quantity", "line_total", "returned"]].values.tolist() == [["SKU1", 3, 7.5, 3]]
    assert refunds[["refund_id", "items_returned", "goods_returned"]].values.tolist() == [["r1", 3, 7.5]]
    assert payments[["transaction_id", "kind", "amount", "fee"]].values.tolist() == [
        ["t1", "sale", 7.5, 0.52], ["t2", "refund", 7.5, 0.0]]
    assert len(at.get("download_button")) == 4  # the list, then lines, refunds and payments


def test_filters_of_the_page(app_env):
    app_env(build_orders_store)
    at = open_page()
    at.multiselect(key="orders_financial").select("voided").run()
    assert listed(at) == ["o5"]
    at.multiselect(key="orders_financial").unselect("voided").run()
    at.selectbox(key="orders_sort").select("total").run()
    at.selectbox(key="orders_direction").select("asc").run()
    assert listed(at) == ["o7", "o3", "o1", "o2", "o5"]


def test_nothing_matches(app_env):
    app_env(build_orders_store)
    at = open_page()
    at.text_input(key="orders_search").input("no such order").run()
    assert not at.dataframe
    assert at.info[0].value.startswith("No orders match in 2–5 Mar 2026. Clear the search, widen the dates.")


def build_busy_store(wh) -> None:
    """120 orders on 1 March 2026, order n at 00:00 + n minutes New York time with total n.00."""
    add_store(wh, "s")
    n = 120
    ids = [f"b{i:03d}" for i in range(1, n + 1)]
    totals = [Decimal(i) for i in range(1, n + 1)]
    created = [utc(2026, 3, 1, 5) + dt.timedelta(minutes=i) for i in range(1, n + 1)]
    zero = [Decimal(0)] * n
    wh.insert("orders", pl.DataFrame({
        "store_id": ["s"] * n, "order_id": ids, "order_number": [f"#{i}" for i in range(1, n + 1)],
        "customer_id": [f"c{i % 7}" for i in range(1, n + 1)], "created_at": created, "currency": ["USD"] * n,
        "financial_status": ["paid"] * n, "channel": ["online_store"] * n, "subtotal": totals,
        "total_discounts": zero, "total_shipping": zero, "total_tax": zero, "total_duties": zero,
        "total_price": totals, "is_test": [False] * n,
    }, schema_overrides={"created_at": TIMESTAMP, "subtotal": MONEY, "total_discounts": MONEY,
                         "total_shipping": MONEY, "total_tax": MONEY, "total_duties": MONEY, "total_price": MONEY}))
    wh.insert("order_lines", pl.DataFrame({
        "store_id": ["s"] * n, "line_id": [f"{i}-1" for i in ids], "order_id": ids, "variant_id": ["v1"] * n,
        "quantity": [1] * n, "unit_price": totals, "discount": zero, "tax": zero, "is_gift_card": [False] * n,
    }, schema_overrides={"quantity": pl.Int32, "unit_price": MONEY, "discount": MONEY, "tax": MONEY}))
    refresh_store(wh, "s")


def test_pages_of_fifty(app_env):
    app_env(build_busy_store)
    day = dt.date(2026, 3, 1)
    at = open_page(day, day)
    assert summary(at).startswith("**120** orders match · showing 1–50")
    assert len(listed(at)) == 50 and listed(at)[0] == "b120"
    at.button(key="orders_next").click().run()
    assert summary(at).startswith("**120** orders match · showing 51–100")
    assert listed(at)[0] == "b070" and at.number_input(key="orders_page").value == 2
    at.number_input(key="orders_page").set_value(3).run()
    assert summary(at).startswith("**120** orders match · showing 101–120")
    assert listed(at) == [f"b{i:03d}" for i in range(20, 0, -1)]
    assert at.button(key="orders_next").disabled
    # A new sort starts again from the first page.
    at.selectbox(key="orders_sort").select("total").run()
    assert summary(at).startswith("**120** orders match · showing 1–50")
    assert at.dataframe[0].value["total"].tolist()[:3] == [120.0, 119.0, 118.0]

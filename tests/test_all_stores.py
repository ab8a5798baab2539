"""All stores: the store ``s`` of ``tests/sales_store.py`` (New York, USD) and a store ``b`` (Berlin, EUR) added
up in one currency at the ECB rates of ``tests/test_fx.py``, each store's days in its own timezone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from analytics.all_stores import sales_over_time_all, sales_summary_all
from connectors.fx.ecb import parse_rates
from data.rollups import refresh_store
from tests.app_support import app, app_store, cards, texts  # noqa: F401 - app_store is a fixture
from tests.builders import add_order, add_store, utc
from tests.sales_store import END, START, build_sales_store
from tests.test_fx import HISTORY

D = Decimal
MARCH = {"filters_preset": "custom", "filters_custom": (START, END)}
# Store s's net sales in euros, day by day (tests/test_fx.py): 222.357159974...
S_NET_EUR = D(85) / D("1.04") + D(145) / D("1.05") + D(25) / D("1.07") - D("22.5") / D("1.08")


def two_stores(wh) -> None:
    build_sales_store(wh)
    add_store(wh, "b", timezone="Europe/Berlin", currency="EUR")
    add_order(wh, "b1", utc(2026, 3, 3, 10), [(1, "99.00", "0")], store_id="b", currency="EUR", customer="cb")
    # 23:30 UTC on 6 March is 7 March 00:30 in Berlin: outside 1–6 March for b (it would be in for New York).
    add_order(wh, "b2", utc(2026, 3, 6, 23, 30), [(1, "50.00", "0")], store_id="b", currency="EUR", customer="cb")
    refresh_store(wh, "b")
    wh.upsert("fx_rates", parse_rates(HISTORY))


def test_stores_add_up_in_euros_each_on_its_own_days(wh):
    two_stores(wh)
    figures = sales_summary_all(wh, ("b", "s"), START, END, currency="EUR")
    assert abs(figures["net_sales"] - (S_NET_EUR + 99)) < D("1e-9")
    assert round(figures["net_sales"], 2) == D("321.36")
    # 4 orders in s and b1; customers counted per store: c1 and c2 in s, cb in b.
    assert (figures["orders"], figures["customers"]) == (5, 3)
    # Returning: c1 in s only (cb's second order is on 7 March in Berlin); 1 of 3.
    assert figures["returning_customer_rate"] == D("0.3333")
    days = sales_over_time_all(wh, ("b", "s"), START, END, "day", currency="EUR")
    # 3 March: s's 145.00 at 1.05 USD per euro, and b1's 99.00.
    assert days.filter(pl.col("period") == dt.date(2026, 3, 3))["net_sales"].to_list() == [D("237.0952380952")]
    assert days["orders"].sum() == 5


def test_in_dollars_the_euro_store_is_converted_and_the_dollar_one_is_not(wh):
    two_stores(wh)
    figures = sales_summary_all(wh, ("b", "s"), START, END, currency="USD")
    # 232.50 + 99.00 EUR × 1.05 USD per euro on 3 March.
    assert figures["net_sales"] == D("336.45")


def test_the_sales_page_adds_the_stores_up(app_store):
    app_store(two_stores)
    at = app("pages/sales.py", **MARCH)
    at.run()
    assert at.selectbox(key="filters_store").options == ["Store b", "Store s", "All stores"]
    at.selectbox(key="filters_store").set_value("all")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # Different currencies: no "store currency"; the euro by default.
    assert at.selectbox(key="filters_currency").value == "EUR"
    assert cards(at)["Net sales"][0] == "€321.36" and cards(at)["Orders"][0] == "5"
    shown = texts(at)
    assert "2 stores added up, each store's days in its own timezone" in shown
    assert "converted to EUR at ECB rates of each day" in shown
    assert at.query_params["store"] == "all"
    at.selectbox(key="filters_currency").set_value("USD")
    at.run()
    assert cards(at)["Net sales"][0] == "$336.45"
    # Another page has no "All stores": the first store is shown.
    other = app("pages/orders.py", **MARCH, _kept_filters_store="all")
    other.run()
    assert not other.exception
    assert "All stores" not in other.selectbox(key="filters_store").options


def test_a_limited_analyst_adds_up_only_their_stores(app_store, tmp_path):
    from auth.users import UserStore

    app_store(two_stores)
    UserStore(tmp_path / "credentials.yaml", rounds=4).add("viewer", password="viewer-password-1", stores=["b"])
    at = app("pages/sales.py", user=None, authentication_status=True, username="viewer", name="Viewer",
             roles=["analyst"], **MARCH)
    at.query_params.update({"store": "all"})
    at.run()
    assert not at.exception
    assert not [box for box in at.selectbox if box.key == "filters_store"]  # one store: nothing to add up
    assert cards(at)["Net sales"][0] == "€99.00"

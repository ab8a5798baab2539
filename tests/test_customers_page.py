"""The Customers page under AppTest: before any refresh (the command and a button that runs it), with
scores and a fitted model, and a store without orders."""

from __future__ import annotations

import datetime as dt

import polars as pl

from analytics.customers.steps import STEPS
from analytics.refresh import run_refresh
from analytics.store_state import Store
from tests.app_support import app, app_store, cards, texts  # noqa: F401 - app_store is a fixture
from tests.builders import add_store
from tests.customers_store import AS_OF, build_customers_store

PAGE = "pages/customers.py"
# March 2026: the store's last month of orders (custom dates), compared with the previous period.
MARCH = {"filters_preset": "custom", "filters_custom": (dt.date(2026, 3, 1), AS_OF)}


def refreshed(wh) -> None:
    build_customers_store(wh)
    run_refresh(wh, Store("s", "Store s", "USD", "America/New_York"), AS_OF, steps=STEPS)


def test_before_a_refresh_the_page_offers_its_button_and_the_button_runs_it(app_store):
    app_store(build_customers_store)
    at = app(PAGE, **MARCH).run()
    assert not at.exception
    assert "Customer scores have not been computed yet" in texts(at)
    assert "python -m" not in texts(at)  # no command that cannot run beside the app on the embedded file
    assert "Customers scored" not in cards(at)
    # Cohorts and the funnel need no refresh.
    at.session_state["customers_tab"] = "Cohorts"
    at.run()
    assert "Cohorts by month of first order" in texts(at)
    at.button(key="customers_refresh").click().run()
    assert not at.exception and not at.error
    shown = cards(at)
    assert shown["Customers scored"][0] != "0" and "Predicted CLV, next 365 days" in shown


def test_with_scores_the_page_shows_segments_value_and_the_lists(app_store):
    app_store(refreshed)
    at = app(PAGE, **MARCH).run()
    assert not at.exception and not at.error
    shown = cards(at)
    assert {"Customers scored", "High-value customers at risk", "Historical CLV per customer",
            "Predicted CLV, next 365 days"} <= set(shown)
    text = texts(at)
    assert "Scores as of 31 Mar 2026" in text and "High-value customers at risk" in text
    # Only the open tab runs: the segments, with the export of one segment's customers.
    assert "RFM segments" in text and "Conversion funnel" not in text and "not discounted." not in text
    export = at.selectbox(key="customers_export_segment")
    assert export.value in export.options
    shown = {}
    for tab in ("Cohorts", "Lifetime value", "Funnel", "Products and repeat"):
        at.session_state["customers_tab"] = tab
        at.run()
        assert not at.exception and not at.error, tab
        shown[tab] = texts(at)
        assert "RFM segments" not in shown[tab] and "High-value customers at risk" in shown[tab]
    assert "Cohorts by month of first order" in shown["Cohorts"]
    assert "not discounted." in shown["Lifetime value"]
    assert "Chosen by holding out the last 91 days" in shown["Lifetime value"]
    # No web events in this store: the funnel says why.
    assert "No web sessions in this range" in shown["Funnel"]
    assert "Products and repeat purchases" in shown["Products and repeat"]


def test_a_store_without_orders(app_store):
    app_store(lambda wh: add_store(wh, "s"))
    at = app(PAGE).run()
    assert not at.exception and not at.error
    assert "Customer scores have not been computed yet" in texts(at)
    at.session_state["customers_tab"] = "Cohorts"
    at.run()
    assert "No customer matches these filters" in texts(at)


def test_an_analyst_sees_the_model_settings_but_cannot_change_them(app_store):
    app_store(refreshed)
    at = app(PAGE, user="analyst")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "customers_rfm_window" not in {s.key for s in at.selectbox}
    assert "Only an owner can change this; analysts read and export." in texts(at)
    owner = app(PAGE)
    owner.run()
    assert "customers_rfm_window" in {s.key for s in owner.selectbox}


def test_the_lists_name_the_customers(app_store):
    def with_contacts(wh) -> None:
        refreshed(wh)
        ids = [r[0] for r in wh.rows("SELECT DISTINCT customer_id FROM customer_scores WHERE store_id = 's'")]
        wh.upsert("customer_contacts", pl.DataFrame({
            "store_id": ["s"] * len(ids), "customer_id": ids, "name": [f"Name of {i}" for i in ids],
            "email": [f"{i}@example.org" for i in ids]}))

    app_store(with_contacts)
    at = app(PAGE, **MARCH).run()
    assert not at.exception and not at.error
    (at_risk,) = [t.value for t in at.dataframe if "customer_name" in t.value.columns
                  and "last_order" in t.value.columns]
    assert len(at_risk) > 0
    assert list(at_risk["customer_name"]) == [f"Name of {i}" for i in at_risk["customer_id"]]
    assert list(at_risk["customer_email"]) == [f"{i}@example.org" for i in at_risk["customer_id"]]

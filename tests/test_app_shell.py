"""The app shell under AppTest: every page renders, unbuilt pages show no figures, filters carry over."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.app_support import ROOT, app, app_store, cards, texts  # noqa: F401 - app_store is a fixture
from tests.builders import add_store
from tests.sales_store import END, START, build_sales_store

PAGES = ["sales", "goals", "orders", "products", "marketing", "customers", "inventory", "insights", "settings"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_an_exception(app_store, page):
    if not (ROOT / "pages" / f"{page}.py").exists():
        pytest.skip(f"pages/{page}.py is not in this build")
    app_store(build_sales_store)
    at = app("app.py", filters_preset="custom", filters_custom=(START, END))
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title and at.title[0].value


def test_the_default_page_is_sales(app_store):
    app_store(build_sales_store)
    at = app("app.py", filters_preset="custom", filters_custom=(START, END))
    at.run()
    assert not at.exception
    assert at.title[0].value == "Sales"
    assert cards(at)["Total sales"][0] == "$250.50"


def test_filters_carry_across_pages(app_store):
    app_store(build_sales_store)
    at = app("app.py")
    at.run()
    at.selectbox(key="filters_preset").set_value("custom").run()
    at.date_input(key="filters_custom").set_value((dt.date(2026, 3, 1), dt.date(2026, 3, 3))).run()
    at.selectbox(key="filters_comparison").set_value("none").run()
    at.multiselect(key="filters_channels").set_value(["online_store"]).run()
    # o1 + o3: 94.00 + 128.00.
    assert cards(at)["Total sales"][0] == "$222.00"

    # Another page, which draws its own copy of the filters, then back: the same choices.
    at.switch_page("pages/customers.py").run()
    assert not at.exception
    at.switch_page("pages/sales.py").run()
    assert not at.exception
    assert at.selectbox(key="filters_preset").value == "custom"
    assert at.date_input(key="filters_custom").value == (dt.date(2026, 3, 1), dt.date(2026, 3, 3))
    assert at.selectbox(key="filters_comparison").value == "none"
    assert at.multiselect(key="filters_channels").value == ["online_store"]
    assert cards(at)["Total sales"][0] == "$222.00"


def test_an_empty_warehouse_says_what_to_do_on_every_data_page(app_store):
    app_store()
    at = app("app.py")
    at.run()
    assert not at.exception
    assert "No store yet" in texts(at)
    for page in ("orders", "products"):
        if (ROOT / "pages" / f"{page}.py").exists():
            at.switch_page(f"pages/{page}.py").run()
            assert not at.exception
            assert "No store yet" in texts(at)


def test_a_store_choice_appears_with_several_stores(app_store):
    def build(wh):
        build_sales_store(wh)
        add_store(wh, "t", currency="EUR", timezone="Europe/Paris")

    app_store(build)
    at = app("app.py", filters_preset="custom", filters_custom=(START, END))
    at.run()
    # The Sales page (the landing page) also adds the stores up.
    assert at.selectbox(key="filters_store").options == ["Store s", "Store t", "All stores"]
    at.selectbox(key="filters_store").set_value("t").run()
    assert not at.exception
    # Store t has no orders: the empty state, in its own words.
    assert "No orders or refunds in 1–6 Mar 2026" in texts(at)

"""The Inventory page under AppTest on tests/inventory_store.py's store ("today" is 31 March 2026)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from data.warehouse import connect
from tests.app_support import app, app_store, cards, texts  # noqa: F401 - app_store is a fixture
from tests.builders import add_store
from tests.inventory_store import build_inventory_store

PAGE = "pages/inventory.py"


@pytest.fixture(autouse=True)
def store_today(monkeypatch):
    from ui import filters

    monkeypatch.setattr(filters, "store_now",
                        lambda timezone: dt.datetime(2026, 3, 31, 12, 0, tzinfo=ZoneInfo(timezone)))


def run_page(**state):
    at = app(PAGE, **state)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_cards_lists_and_the_refresh_notice(app_store):
    app_store(build_inventory_store)
    at = run_page()
    shown = {label: value for label, (value, _) in cards(at).items()}
    assert shown == {
        "Inventory value": "$260.00", "Units available": "85", "To reorder": "3", "Stockouts": "1",
        "Stockout risk": "1", "Dead stock": "1", "Overstock": "0",
        # v1's backtest error 1.2 units a day against seasonal naive's 1.5: 1.2 ÷ 1.5 − 1 = −20 %.
        "Forecast error": "20% less than naive",
    }
    text = texts(at)
    assert "Demand forecasts have not been computed yet" in text and "python -m" not in text
    assert [b.label for b in at.button if b.key == "run_forecast"] == ["Compute forecasts now"]
    assert "Service level 95.0%, review period 7 days." in text
    # The stock lists: only the open one runs, stockouts first.
    assert [t.label for t in at.tabs][:4] == ["Stockouts", "Stockout risk", "Dead stock", "Overstock"]
    assert "1 variant. " in text and "No overstock today." not in text
    assert not at.error
    # Only the open tab of the lower part runs: purchase orders first.
    assert "Purchase orders" in text and "Stock by variant" not in text and "Save supplier" not in {
        b.label for b in at.button}


def test_the_forecast_accuracy_is_said_in_words_with_bias_and_coverage(app_store):
    app_store(build_inventory_store)
    text = texts(run_page(inventory_tab="Demand forecasts"))
    # One variant scored: error 1.2 against naive's 1.5, bias +5 % of 56 units, 25 of 28 days inside the interval.
    assert ("20% less error than the naive forecast (the same weekday last week); better than it for 100% of "
            "1 variants.") in text
    assert "Bias +5%: the forecasts ran high." in text and "The 90% intervals held 89% of the days." in text
    assert "Measured on the backtest the models were chosen on." in text


def test_the_overstock_list(app_store):
    app_store(build_inventory_store)
    text = texts(run_page(inventory_alerts_tab="Overstock"))
    assert "No overstock today. " in text and "variants. " not in text


@pytest.mark.parametrize("tab, shown", [
    ("Purchase orders", "Status: sent."),
    ("Demand forecasts", "Accuracy over the backtest"),
    ("Stock by variant", "Estimated sales lost to stockouts"),
    ("Suppliers", "Add or edit"),
    ("Thresholds", "Thresholds and service level"),
])
def test_each_tab_of_the_lower_part(app_store, tab, shown):
    app_store(build_inventory_store)
    at = run_page(inventory_tab=tab)
    text = texts(at) + "\n" + "\n".join(str(s.label) for s in at.selectbox)
    assert shown in text and "Reorder today" in text and not at.error
    others = {"Purchase orders": "Open an order", "Stock by variant": "Stock by location",
              "Suppliers": "Import supplier items (CSV)"}
    assert all(label not in text for t, label in others.items() if t != tab)


def test_drafting_purchase_orders_from_the_reorder_list(app_store):
    url = app_store(build_inventory_store)
    at = run_page()
    at.button(key="draft_pos").click().run()
    assert not at.exception
    with connect(url) as wh:
        assert wh.rows("SELECT supplier_id, status FROM purchase_orders WHERE po_id <> 'po-1'") == [("sup-2", "draft")]


def test_saving_thresholds(app_store):
    url = app_store(build_inventory_store)
    at = run_page(inventory_tab="Thresholds")
    at.number_input(key="inventory_overstock_days").set_value(10)   # v1 has 15 days of cover
    next(b for b in at.button if b.label == "Save thresholds").click().run()
    assert not at.exception
    assert cards(at)["Overstock"][0] == "1"
    with connect(url) as wh:
        assert wh.scalar("SELECT CAST(value AS TEXT) FROM app_settings WHERE scope = 's' "
                         "AND name = 'inventory.overstock_days'") == "10"


def test_a_store_without_stock_or_sales(app_store):
    app_store(lambda wh: add_store(wh, "s"))
    at = run_page()
    assert "No stock or sales recorded for this store yet" in texts(at)
    assert not at.metric


def test_an_analyst_reads_but_cannot_change_orders_suppliers_or_thresholds(app_store):
    app_store(build_inventory_store)
    at = app(PAGE, user="analyst")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    labels = {b.label for b in at.button}
    assert not labels & {"Create draft purchase orders", "Save quantities", "Mark sent", "Mark received",
                         "Cancel order", "Import supplier items", "Save thresholds", "Save supplier",
                         "Compute forecasts now", "Send today's stock-alert digest"}
    owner_labels, text = set(), texts(at)
    for tab in ("Suppliers", "Thresholds"):
        owner = app(PAGE, inventory_tab=tab)
        owner.run()
        owner_labels |= {b.label for b in owner.button}
        at.session_state["inventory_tab"] = tab
        at.run()
        assert not at.exception
        labels |= {b.label for b in at.button}
        assert not at.get("file_uploader")
        text += texts(at)
    assert {"Create draft purchase orders", "Save thresholds", "Save supplier"} <= owner_labels
    assert not labels & {"Save thresholds", "Save supplier", "Import supplier items"}
    assert "Only an owner can change this; analysts read and export." in text
    assert "Service level 95.0%, review period 7 days, overstock above" in text
    # The figures are the same as an owner's.
    assert cards(at)["To reorder"][0] == "3"

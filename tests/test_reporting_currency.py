"""The Sales page in a reporting currency, on the store of ``tests/sales_store.py`` with six days of ECB
rates (``tests/test_fx.py``): figures worked out by hand, day by day."""

from __future__ import annotations

from decimal import Decimal


from connectors.fx.ecb import parse_rates
from tests.app_support import app, app_store, cards, texts  # noqa: F401 - app_store is a fixture
from tests.sales_store import END, START, build_sales_store
from tests.test_fx import HISTORY

PAGE = "pages/sales.py"
MARCH = {"filters_preset": "custom", "filters_custom": (START, END)}
D = Decimal


def with_rates(wh) -> None:
    build_sales_store(wh)
    wh.upsert("fx_rates", parse_rates(HISTORY))


def run_page(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_store_currency_is_the_default_and_nothing_says_converted(app_store):
    app_store(with_rates)
    at = run_page(app(PAGE, **MARCH))
    assert cards(at)["Net sales"][0] == "$232.50"
    assert "converted to" not in texts(at)
    assert at.selectbox(key="filters_currency").options == ["Store currency (USD)", "EUR", "GBP", "JPY"]


def test_euros_convert_each_day_and_say_so(app_store):
    app_store(with_rates)
    at = run_page(app(PAGE, **MARCH))
    at.selectbox(key="filters_currency").set_value("EUR")
    run_page(at)
    shown = cards(at)
    # 85.00 / 1.04 + 145.00 / 1.05 + 25.00 / 1.07 − 22.50 / 1.08 = 222.357159974 (tests/test_fx.py).
    assert shown["Net sales"][0] == "€222.36"
    # Total adds shipping (5.00 on 2 Mar, 8.00 on 3 Mar) and taxes (4.00 on 2 Mar, 2.00 on 3 Mar, −1.00 on 5 Mar).
    total = (D("85") + 5 + 4) / D("1.04") + (D("145") + 8 + 2) / D("1.05") + D("25") / D("1.07") \
        - (D("22.5") + 1) / D("1.08")
    assert shown["Total sales"][0] == f"€{total:,.2f}" == "€239.61"
    # Margin: cost of goods per day (v1 10.00, v2 15.00), fees (3.00 EUR as they are), ad spend (1 March, a
    # Sunday, at Friday 27 February's 1.03; 4.00 GBP at 0.83 GBP per euro).
    # 2 Mar: 2 × v1 + v2 = 35.00; 3 Mar: o2's v1, o3's v1 and 3 × v2 = 65.00; 4 Mar 10.00; 5 Mar a v1 back.
    cogs = D(35) / D("1.04") + D(65) / D("1.05") + D(10) / D("1.07") - D(10) / D("1.08")
    fees = D("2.91") / D("1.04") + 3 + D("4.75") / D("1.05") + D("1.50") / D("1.07") + D("9.99") / D("1.10")
    spend = D(5) / D("1.03") + D(30) / D("1.04") + D(4) / D("0.83") + D("12.5") / D("1.10")
    net = D(85) / D("1.04") + D(145) / D("1.05") + D(25) / D("1.07") - D("22.5") / D("1.08")
    assert shown["Contribution margin"][0] == f"€{net - cogs - fees - spend:,.2f}" == "€56.02"
    assert "Figures converted to EUR at ECB rates of each day." in texts(at)
    assert "In USD, the store's currency (not converted)." in texts(at)  # the product tables
    assert at.query_params["currency"] == "EUR"


def test_days_past_the_newest_rates_say_which_rates_they_use(app_store):
    import datetime as dt

    app_store(with_rates)
    at = app(PAGE, filters_preset="custom", filters_custom=(START, dt.date(2026, 3, 12)), filters_currency="EUR",
             _kept_filters_currency="EUR")
    run_page(at)
    # The rates end on Friday 6 March; 12 March is six days later.
    assert "The newest ECB rates stored are of 6 March 2026: the days after it are converted at those" in texts(at)
    # o5 (70.00 on 10 March) at Friday's 1.10: the net sales grow by 63.6363636364.
    assert cards(at)["Net sales"][0] == "€285.99"
    march = app(PAGE, **MARCH, _kept_filters_currency="EUR")
    run_page(march)
    assert "The newest ECB rates" not in texts(march)


def test_a_link_names_the_currency_and_a_currency_without_rates_says_so(app_store):
    app_store(with_rates)
    at = app(PAGE, **MARCH)
    at.query_params.update({"currency": "gbp"})
    run_page(at)
    assert cards(at)["Net sales"][0].startswith("£")
    bad = app(PAGE, **MARCH)
    bad.query_params.update({"currency": "XYZ"})
    run_page(bad)
    assert "The link's currency (XYZ) has no exchange rates here" in " ".join(w.value for w in bad.warning)
    assert cards(bad)["Net sales"][0] == "$232.50"


def test_a_reporting_currency_setting_is_the_default(app_store, monkeypatch):
    app_store(with_rates)
    monkeypatch.setenv("REPORTING_CURRENCY", "eur")
    at = run_page(app(PAGE, **MARCH))
    assert cards(at)["Net sales"][0] == "€222.36"
    assert "currency" not in at.query_params  # the default needs no link parameter
    at.selectbox(key="filters_currency").set_value("store")
    run_page(at)
    assert cards(at)["Net sales"][0] == "$232.50" and at.query_params["currency"] == "store"


def test_without_rates_there_is_nothing_to_pick(app_store):
    app_store(build_sales_store)
    at = run_page(app(PAGE, **MARCH))
    assert not [s for s in at.selectbox if s.key == "filters_currency"]
    assert cards(at)["Net sales"][0] == "$232.50"

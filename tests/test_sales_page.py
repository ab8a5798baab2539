"""The Sales page under AppTest on the hand-built store of ``tests/sales_store.py``.

The range is set to 1–6 March 2026 (custom dates) so the figures are those
worked out in ``tests/sales_store.py``, compared with 23–28 February, where
one order (``f1``: 2 × 50.00, shipping 6.00) was placed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from analytics.formatting import format_count, format_money, format_percent
from analytics.metrics import sales_summary, with_change
from data.rollups import refresh_store
from tests.app_support import app, app_store, cards, texts  # noqa: F401 - app_store is a fixture
from tests.builders import add_order, add_store, utc
from tests.sales_store import END, START, build_sales_store

PAGE = "pages/sales.py"
MARCH = {"filters_preset": "custom", "filters_custom": (START, END)}


def with_february(wh, **options) -> None:
    build_sales_store(wh, **options)
    add_order(wh, "f1", utc(2026, 2, 24, 15), [(2, "50.00", "0")], shipping="6.00", customer="c9")
    refresh_store(wh, "s")


def run_page(**state):
    at = app(PAGE, **{**MARCH, **state})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_kpi_cards_show_the_metric_layers_figures(app_store):
    url = app_store(with_february)
    at = run_page()
    shown = cards(at)

    from data.warehouse import connect

    with connect(url) as wh:
        now = sales_summary(wh, "s", START, END)
        before = sales_summary(wh, "s", dt.date(2026, 2, 23), dt.date(2026, 2, 28))
    assert shown["Total sales"][0] == format_money(now["total_sales"], "USD") == "$250.50"
    assert shown["Net sales"][0] == format_money(now["net_sales"], "USD") == "$232.50"
    assert shown["Orders"][0] == format_count(now["orders"]) == "4"
    # AOV (270 − 15) / 4 = 63.75.
    assert shown["Average order value"][0] == format_money(now["aov"], "USD") == "$63.75"
    assert shown["Units sold"][0] == "9"
    # c1 ordered twice in the period (o1, o3) and is returning; c2 has one order up to 6 March: 1 of 2.
    assert shown["Returning customer rate"][0] == format_percent(now["returning_customer_rate"]) == "50.0%"
    # Returns 22.50 ÷ gross 270.00 = 8.33 %.
    assert shown["Refund rate"][0] == format_percent(now["refund_rate"]) == "8.3%"
    # 232.50 − 100.00 − 19.15 − 47.50 (tests/test_margin.py).
    assert shown["Contribution margin"][0] == "$65.85"

    # Deltas against 23–28 February, the previous six days: f1 alone.
    changes = with_change(now, before)
    # Total sales 250.50 against 106.00: +136.3 %; orders 4 against 1: +300.0 %.
    assert shown["Total sales"][1] == format_percent(changes["total_sales"]["relative_change"], signed=True) \
        == "+136.3%"
    assert shown["Orders"][1] == "+300.0%"
    # Net sales 232.50 against 100.00.
    assert shown["Net sales"][1] == "+132.5%"
    # A rate changes in points: refund rate 8.33 % against 0 %.
    assert shown["Refund rate"][1] == "+8.3 pts"
    # Margin: February's 100.00 − 2 × 10.00 = 80.00; 65.85 against 80.00 is −17.7 %.
    assert shown["Contribution margin"][1] == "-17.7%"


def test_the_header_writes_the_range_out(app_store):
    app_store(with_february)
    at = run_page()
    assert "1–6 Mar 2026 vs 23–28 Feb 2026" in texts(at)
    assert "Data as of" in texts(at)


@pytest.mark.parametrize(
    "change, expected_total, expected_orders",
    [
        # o2 alone: 25.00 + 2.00 tax.
        pytest.param({"filters_channels": ["pos"]}, "$27.00", "1", id="channel"),
        # 1–3 March: o1 (90 − 5 + 5 + 4), o2 (25 + 2), o3 (130 − 10 + 8); the refund of 5 March falls outside.
        pytest.param({"filters_custom": (dt.date(2026, 3, 1), dt.date(2026, 3, 3))}, "$249.00", "3", id="dates"),
    ],
)
def test_a_filter_change_changes_the_figures(app_store, change, expected_total, expected_orders):
    app_store(with_february)
    at = run_page()
    assert cards(at)["Total sales"][0] == "$250.50"
    key, value = next(iter(change.items()))
    if key == "filters_channels":
        at.multiselect(key=key).set_value(value).run()
    else:
        at.date_input(key=key).set_value(value).run()
    assert not at.exception
    assert cards(at)["Total sales"][0] == expected_total
    assert cards(at)["Orders"][0] == expected_orders


def test_a_date_preset_change_changes_the_figures(app_store):
    app_store(with_february)
    at = run_page()
    # Any preset ends in the real present, long after March 2026: no orders there.
    at.selectbox(key="filters_preset").set_value("last_7_days").run()
    assert not at.exception
    assert "No orders or refunds in" in texts(at)
    assert "Total sales" not in cards(at)


def test_same_period_last_year_and_no_comparison(app_store):
    app_store(with_february)
    at = run_page(filters_comparison="previous_year")
    assert "1–6 Mar 2026 vs 2–7 Mar 2025" in texts(at)
    # Nothing a year earlier: no change to show.
    assert cards(at)["Total sales"][1] is None
    at = run_page(filters_comparison="none")
    assert all(delta is None for label, (_, delta) in cards(at).items() if not label.endswith("today"))


def test_unknown_costs_say_so(app_store):
    app_store(lambda wh: build_sales_store(wh, costs={}))
    at = run_page()
    assert cards(at)["Contribution margin"][0] == "Costs unknown"


def test_every_card_has_its_definition(app_store):
    app_store(with_february)
    at = run_page()
    for metric in at.metric:
        assert metric.proto.help, metric.label


def test_a_store_without_orders_shows_the_empty_state(app_store):
    app_store(lambda wh: add_store(wh))
    at = run_page()
    assert "No orders or refunds in 1–6 Mar 2026" in texts(at)
    assert "Widen the dates" in texts(at)
    assert not at.metric


def test_a_warehouse_without_a_store_says_what_to_do(app_store):
    app_store()
    at = run_page()
    assert "No store yet" in texts(at)
    assert not at.metric


def test_money_figures_are_exact_to_the_cent(app_store):
    """Three orders of 0.10 + 0.20 + 0.40: a float sum would show 0.7000000000000001."""
    def build(wh):
        add_store(wh)
        for n, price in enumerate(("0.10", "0.20", "0.40")):
            add_order(wh, f"o{n}", utc(2026, 3, 2, 15), [(1, price, "0")], customer=f"c{n}")
        refresh_store(wh, "s")

    app_store(build)
    at = run_page()
    assert cards(at)["Total sales"][0] == "$0.70"
    assert cards(at)["Average order value"][0] == format_money(Decimal("0.70") / 3, "USD") == "$0.23"


def test_only_the_open_items_tab_runs(app_store):
    app_store(build_sales_store)
    for tab, item, other in (("By product", "product", "variant"), ("By variant", "variant", "product")):
        at = run_page(sales_items_tab=tab)
        charts = {e.proto.id.split("-")[-1] for e in at.get("plotly_chart")}
        files = " ".join(b.proto.id for b in at.get("download_button"))
        assert f"chart_sales_by_{item}" in charts and f"chart_sales_by_{other}" not in charts, tab
        assert f"csv_sales_by_{item}_2026-03-01" in files and f"sales_by_{other}" not in files, tab
        assert "chart_sales_by_channel" in charts


def _midday_zone() -> str:
    """A timezone where it is now between 06:00 and 18:00, so "a minute ago" and "an hour ago" are today."""
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(dt.timezone.utc)
    for zone in ("Pacific/Kiritimati", "Asia/Tokyo", "Asia/Kolkata", "Europe/London", "America/New_York",
                 "Pacific/Honolulu"):
        if 6 <= now.astimezone(ZoneInfo(zone)).hour < 18:
            return zone
    raise AssertionError("no timezone at midday")


def test_today_compares_with_the_same_weekday_last_week_up_to_the_same_time(app_store):
    zone = _midday_zone()
    now = dt.datetime.now(dt.timezone.utc)

    def build(wh):
        add_store(wh, timezone=zone)
        add_order(wh, "t1", now - dt.timedelta(hours=1), [(1, "30.00", "0")])
        add_order(wh, "t2", now - dt.timedelta(minutes=20), [(1, "20.00", "0")])
        # Last week: one order before the same time of day, one after it (left out of the comparison).
        add_order(wh, "w1", now - dt.timedelta(days=7, hours=2), [(1, "40.00", "0")])
        add_order(wh, "w2", now - dt.timedelta(days=7) + dt.timedelta(hours=3), [(1, "90.00", "0")])
        refresh_store(wh, "s")

    app_store(build)
    at = app(PAGE, filters_preset="today")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = cards(at)
    # Today so far 50.00 against 40.00 last week up to the same time: +25 %, never against last week's 130.00.
    assert shown["Total sales"] == (format_money(Decimal("50.00"), "USD"), "+25.0%")
    assert shown["Orders"][0] == "2"
    text = texts(at)
    assert "Today up to" in text and "By hour (store time)." in text
    # The live panel says the same.
    assert shown["Total sales today"][0] == shown["Total sales"][0]
    assert shown["Total sales today"][1].startswith("+25.0%")


def test_a_link_opens_the_same_view_and_a_bad_value_says_so(app_store):
    app_store(with_february)
    at = app(PAGE)
    at.query_params.update({"dates": "custom", "from": "2026-03-01", "to": "2026-03-06"})
    at.run()
    assert not at.exception
    assert "1–6 Mar 2026 vs 23–28 Feb 2026" in texts(at)
    # A change in the sidebar is written back into the address.
    at.selectbox(key="filters_comparison").set_value("previous_year").run()
    assert at.query_params["compare"] == "previous_year" and at.query_params["from"] == "2026-03-01"
    bad = app(PAGE)
    bad.query_params.update({"dates": "fortnight"})
    bad.run()
    assert not bad.exception
    assert "The link's dates ('fortnight') are not a range this app knows" in " ".join(w.value for w in bad.warning)
    assert "dates" not in bad.query_params

"""Contribution margin on the store of ``tests/sales_store.py``, worked out by hand.

Over 1–6 March: net sales 232.50. Units net of returns: v1 5 sold − 1 returned = 4,
v2 4. Fees and ad spend are listed (and summed) in ``tests/sales_store.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from analytics.margin import MARGIN_DEFINITIONS, contribution_margin, margin_costs, margin_summary
from tests.sales_store import END, START, build_sales_store

D = Decimal


def test_contribution_margin_with_every_cost_known(wh):
    build_sales_store(wh)
    figures = margin_summary(wh, "s", START, END)
    # Cost of goods 4 × 10.00 + 4 × 15.00 = 100.00; fees 19.15; ad spend 47.50.
    assert {k: figures[k] for k in ("net_sales", "cost_of_goods", "payment_fees", "ad_spend", "costs",
                                    "cost_coverage", "units_costed", "units_uncosted")} == {
        "net_sales": D("232.5"), "cost_of_goods": D("100"), "payment_fees": D("19.15"), "ad_spend": D("47.5"),
        "costs": "known", "cost_coverage": D("1"), "units_costed": 10, "units_uncosted": 0}
    # 232.50 − 100.00 − 19.15 − 47.50.
    assert figures["contribution_margin"] == D("65.85")
    # One fee in EUR and one spend in GBP are left out.
    assert figures["left_out_other_currency"] == 2


def test_contribution_margin_of_one_channel(wh):
    build_sales_store(wh)
    figures = margin_summary(wh, "s", START, END, channels=["online_store"])
    # Net 182.50; v1 (2 + 1 sold − 1 returned) × 10.00 + v2 4 × 15.00 = 80.00; fees 2.91 + 4.07; ads 30.00.
    assert (figures["net_sales"], figures["cost_of_goods"], figures["payment_fees"], figures["ad_spend"]) == (
        D("182.5"), D("80"), D("6.98"), D("30"))
    assert figures["contribution_margin"] == D("65.52")


def test_contribution_margin_of_orders_without_a_channel(wh):
    build_sales_store(wh)
    figures = margin_summary(wh, "s", START, END, channels=["other"])
    # o4 alone: net 25.00, one unit of v1 at 10.00; fees 9.99 (o4) + 1.50 (no order); ad spend without a
    # channel 5.00. 25.00 − 10.00 − 11.49 − 5.00 = −1.49: a loss.
    assert (figures["net_sales"], figures["cost_of_goods"], figures["payment_fees"], figures["ad_spend"]) == (
        D("25"), D("10"), D("11.49"), D("5"))
    assert figures["contribution_margin"] == D("-1.49")


def test_partial_costs_leave_the_unknown_ones_out_and_say_so(wh):
    build_sales_store(wh, costs={"v1": "10.00", "v2": None})
    costs = margin_costs(wh, "s", START, END)
    # v1 moved 5 sold + 1 returned = 6 of 10 units.
    assert (costs["costs"], costs["cost_coverage"], costs["cost_of_goods"]) == ("partial", D("0.6"), D("40"))
    assert contribution_margin(D("232.50"), costs) == D("232.50") - 40 - D("19.15") - D("47.50")


def test_unknown_costs_give_no_margin(wh):
    build_sales_store(wh, costs={})
    costs = margin_costs(wh, "s", START, END)
    assert (costs["costs"], costs["cost_coverage"], costs["cost_of_goods"]) == ("unknown", D("0"), D("0"))
    assert margin_summary(wh, "s", START, END)["contribution_margin"] is None


@pytest.mark.parametrize("costs, expected", [
    pytest.param({"v1": "1.00"}, "known", id="store-with-costs"),
    pytest.param({}, "unknown", id="store-without-costs"),
])
def test_a_range_without_units(wh, costs, expected):
    build_sales_store(wh, costs=costs, fees=False, ads=False)
    figures = margin_summary(wh, "s", dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert figures["costs"] == expected
    assert figures["cost_of_goods"] == figures["payment_fees"] == figures["ad_spend"] == 0
    assert figures["contribution_margin"] == (D(0) if expected == "known" else None)


def test_every_margin_figure_is_defined():
    assert set(MARGIN_DEFINITIONS) >= {"contribution_margin", "cost_of_goods", "payment_fees", "ad_spend"}

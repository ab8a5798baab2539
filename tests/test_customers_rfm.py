"""RFM scores and segments, and the customers' orders as of a day, on hand-worked figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from analytics.customers.orders import customer_orders
from analytics.customers.rfm import OTHERS, quintile_scores, rfm_scores, segment_movement, segment_of, \
    segment_summary
from data.rollups import refresh_store
from tests.builders import add_order, add_refund, add_store, local

TZ = "America/New_York"


@pytest.mark.parametrize("values, higher, expected", [
    # 1 + ⌊5 × (values strictly worse) ÷ 5⌋: 0, 1, 2, 3, 4 worse → 1, 2, 3, 4, 5.
    ([10, 20, 30, 40, 50], True, [1, 2, 3, 4, 5]),
    # Three tied at the bottom share score 1; 2 has 3 worse → 1 + ⌊15/5⌋ = 4; 5 has 4 worse → 5.
    ([1, 1, 1, 2, 5], True, [1, 1, 1, 4, 5]),
    # Recency: fewer days is better; 0 days has 3 worse of 4 → 1 + ⌊15/4⌋ = 4; 90 days → 1.
    ([0, 30, 30, 90], False, [4, 2, 2, 1]),
], ids=["distinct", "ties", "recency"])
def test_quintile_scores(values, higher, expected):
    assert quintile_scores(values, higher_is_better=higher).tolist() == expected


@pytest.mark.parametrize("scores, segment", [
    ((5, 5, 5), "Champions"),
    # Potential loyalist (R3–5 F3–5 M2–5) comes before Loyal (R2–4 F2–4 M2–4), which also holds 4-4-4.
    ((4, 4, 4), "Potential loyalist"),
    ((2, 3, 3), "Loyal"),              # Loyal before Needs attention (R1–3 F3–5 M3–5)
    ((1, 3, 3), "Needs attention"),
    ((5, 1, 1), "New"),
    ((1, 1, 1), "Lost"),
    ((2, 5, 1), OTHERS),               # no row holds R2 F5 M1 (every R1 is Lost)
], ids=["champion", "first-row-wins", "loyal", "needs-attention", "new", "lost", "others"])
def test_segment_grid(scores, segment):
    assert segment_of(*scores) == segment


def _orders(wh):
    add_store(wh, "s", timezone=TZ)
    # a: 3 orders in the window (10 Jan, 1 Mar, 20 Mar), 40 + 60 + 100 net, 20 of the last returned on 25 Mar.
    add_order(wh, "a1", local(TZ, 2026, 1, 10, 12), [(2, "20.00", "0")], customer="a")
    add_order(wh, "a2", local(TZ, 2026, 3, 1, 12), [(1, "70.00", "10.00")], customer="a")
    add_order(wh, "a3", local(TZ, 2026, 3, 20, 23, 30), [(1, "100.00", "0")], customer="a")
    add_refund(wh, "r1", "a3", local(TZ, 2026, 3, 25, 9), {1: (1, "20.00")})
    # b: one order of 30 on 15 Mar; c: one of 5 on 1 Feb; d: ordered only in 2024 (outside the window).
    add_order(wh, "b1", local(TZ, 2026, 3, 15, 12), [(1, "30.00", "0")], customer="b")
    add_order(wh, "c1", local(TZ, 2026, 2, 1, 12), [(1, "5.00", "0")], customer="c")
    add_order(wh, "d1", local(TZ, 2024, 6, 1, 12), [(1, "50.00", "0")], customer="d")
    # A guest order (no customer) is left out.
    add_order(wh, "g1", local(TZ, 2026, 3, 2, 12), [(1, "500.00", "0")], customer=None)
    refresh_store(wh, "s")


def test_customer_orders_take_off_returns_known_by_the_as_of_day(wh):
    _orders(wh)
    # 20 Mar 23:30 New York is 21 Mar in UTC: the order falls on the store's 20 Mar.
    before = customer_orders(wh, "s", dt.date(2026, 3, 24)).filter(pl.col("order_id") == "a3").row(0, named=True)
    assert before["day"] == dt.date(2026, 3, 20) and before["net_sales"] == Decimal("100")
    after = customer_orders(wh, "s", dt.date(2026, 3, 31)).filter(pl.col("order_id") == "a3").row(0, named=True)
    assert after["net_sales"] == Decimal("80")
    orders = customer_orders(wh, "s", dt.date(2026, 3, 31))
    assert sorted(orders["customer_id"].unique().to_list()) == ["a", "b", "c", "d"]
    assert orders.filter(pl.col("order_id") == "a2")["discounted"].item() is True


def test_rfm_scores_and_segment_shares(wh):
    _orders(wh)
    scores = rfm_scores(customer_orders(wh, "s", dt.date(2026, 3, 31)), dt.date(2026, 3, 31), 365)
    rows = {r["customer_id"]: r for r in scores.iter_rows(named=True)}
    assert set(rows) == {"a", "b", "c"}  # d's only order is older than 365 days
    # a: last 20 Mar → 11 days, 3 orders, 40 + 60 + (100 − 20) = 180; b: 16 days, 1, 30; c: 58 days, 1, 5.
    assert (rows["a"]["recency_days"], rows["a"]["frequency"], rows["a"]["monetary"]) == (11, 3, Decimal("180"))
    assert (rows["b"]["recency_days"], rows["c"]["recency_days"]) == (16, 58)
    # Three customers: R a = 1 + ⌊5·2/3⌋ = 4, b = 1 + ⌊5/3⌋ = 2, c = 1; F a = 4, b = c = 1 (tied);
    # M a = 4, b = 2, c = 1.
    assert [(rows[c]["r_score"], rows[c]["f_score"], rows[c]["m_score"]) for c in "abc"] == [(4, 4, 4), (2, 1, 2), (1, 1, 1)]
    # a 4-4-4: Potential loyalist (the first row that holds it); b 2-1-2: About to sleep (R2–3 F1–3 M1–4);
    # c 1-1-1: Lost.
    assert [rows[c]["rfm_segment"] for c in "abc"] == ["Potential loyalist", "About to sleep", "Lost"]
    summary = {r["segment"]: r for r in segment_summary(scores).iter_rows(named=True)}
    # Net sales 180 + 30 + 5 = 215: Potential loyalist 180/215 ≈ 0.8372, a third of the customers.
    assert summary["Potential loyalist"]["revenue_share"] == pytest.approx(180 / 215)
    assert summary["Potential loyalist"]["customer_share"] == pytest.approx(1 / 3)
    assert summary["Champions"]["customers"] == 0


def test_segment_movement_counts_customers_between_two_days():
    before = pl.DataFrame({"customer_id": ["a", "b", "c"], "rfm_segment": ["New", "New", "Lost"]})
    after = pl.DataFrame({"customer_id": ["a", "b", "e"], "rfm_segment": ["Loyal", "New", "New"]})
    moved = {(f, t): n for f, t, n in segment_movement(before, after).iter_rows()}
    assert moved == {("New", "Loyal"): 1, ("New", "New"): 1, ("Lost", "Not scored"): 1, ("Not scored", "New"): 1}

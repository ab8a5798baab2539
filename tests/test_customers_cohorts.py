"""Cohorts, products bought together, repeat purchases, time between orders, on hand-worked figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from analytics.customers.affinity import first_product_repeat, new_vs_returning, product_pairs, time_between_orders
from analytics.customers.cohorts import cohort_table

D = dt.date


def orders_frame(rows):
    """(order_id, customer, day, net, channel, discounted) → the frame of customer_orders, with order ranks."""
    frame = pl.DataFrame(
        [(o, c, d, Decimal(n), ch, disc, "US") for o, c, d, n, ch, disc in rows],
        schema={"order_id": pl.String, "customer_id": pl.String, "day": pl.Date, "net_sales": pl.Decimal(38, 4),
                "channel": pl.String, "discounted": pl.Boolean, "country": pl.String}, orient="row")
    return frame.sort("customer_id", "day").with_columns(
        pl.col("day").rank("ordinal").over("customer_id").cast(pl.Int64).alias("order_index"))


ORDERS = orders_frame([
    # January cohort: a, b, c, d. February: e, f.
    ("a1", "a", D(2026, 1, 5), "10", "online_store", False),
    ("a2", "a", D(2026, 2, 9), "20", "online_store", False),
    ("a3", "a", D(2026, 3, 1), "30", "online_store", False),
    ("b1", "b", D(2026, 1, 20), "40", "pos", True),
    ("b2", "b", D(2026, 3, 15), "10", "pos", False),
    ("c1", "c", D(2026, 1, 31), "50", "online_store", False),
    ("d1", "d", D(2026, 1, 2), "100", "online_store", True),
    ("e1", "e", D(2026, 2, 1), "60", "online_store", False),
    ("e2", "e", D(2026, 2, 20), "6", "online_store", False),
    ("f1", "f", D(2026, 2, 14), "30", "pos", False),
])


def test_cohort_retention_and_cumulative_sales():
    table = cohort_table(ORDERS, D(2026, 3, 20))
    cells = {(r["cohort"].month, r["months_since_first"]): r for r in table.iter_rows(named=True)}
    # January: 4 customers. Month 1 (Feb): only a ordered → 1/4; month 2 (Mar): a and b → 2/4.
    assert [cells[(1, k)]["retention"] for k in (0, 1, 2)] == [1.0, 0.25, 0.5]
    # Net sales per customer: month 0 = (10 + 40 + 50 + 100)/4 = 50; + 20/4 = 55; + (30 + 10)/4 = 65.
    assert [cells[(1, k)]["cumulative_net_sales_per_customer"] for k in (0, 1, 2)] == \
        [Decimal("50"), Decimal("55"), Decimal("65")]
    # February: e and f; e's second order is in February too, so month 1 (March) retention is 0.
    assert cells[(2, 0)]["customers"] == 2 and cells[(2, 1)]["retention"] == 0.0
    # (60 + 6 + 30) / 2 = 48 per customer.
    assert cells[(2, 0)]["cumulative_net_sales_per_customer"] == Decimal("48")
    # March is not over on 20 March; February is.
    assert cells[(1, 2)]["complete"] is False and cells[(1, 1)]["complete"] is True
    assert set(cells) == {(1, 0), (1, 1), (1, 2), (2, 0), (2, 1)}


@pytest.mark.parametrize("filters, january", [
    ({"channel": "pos"}, 1),           # b
    ({"discounted": True}, 2),         # b and d had a discount on their first order
    ({"discounted": False}, 2),        # a and c
], ids=["channel", "discounted", "not-discounted"])
def test_cohort_filters_select_by_first_order(filters, january):
    table = cohort_table(ORDERS, D(2026, 3, 20), **filters)
    assert table.filter((pl.col("cohort") == D(2026, 1, 1)) & (pl.col("months_since_first") == 0))["customers"].item() \
        == january


def test_cohort_filter_by_first_product():
    firsts = pl.DataFrame({"customer_id": ["a", "b", "e"], "first_product_id": ["p1", "p2", "p1"],
                           "first_product": ["One", "Two", "One"]})
    table = cohort_table(ORDERS, D(2026, 3, 20), first_products=firsts, first_product="p1")
    assert table.filter(pl.col("months_since_first") == 0)["customers"].to_list() == [1, 1]  # a in Jan, e in Feb


def test_lift_on_a_tiny_basket_set():
    # Five orders: {A, B}, {A, B}, {A, C}, {B}, {C}.
    baskets = pl.DataFrame({
        "order_id": ["1", "1", "2", "2", "3", "3", "4", "5"],
        "product_id": ["A", "B", "A", "B", "A", "C", "B", "C"],
        "product": ["Apple", "Bread", "Apple", "Bread", "Apple", "Cheese", "Bread", "Cheese"],
    })
    rules = {(r["antecedent_id"], r["consequent_id"]): r for r in product_pairs(baskets, min_orders=1).iter_rows(named=True)}
    # A ⇒ B: support 2/5 = 0.4, confidence 2/3 (A in 3 orders), lift (2/3) / (3/5) = 10/9.
    assert rules[("A", "B")]["support"] == pytest.approx(0.4)
    assert rules[("A", "B")]["confidence"] == pytest.approx(2 / 3)
    assert rules[("A", "B")]["lift"] == pytest.approx(10 / 9)
    # B ⇒ A: confidence 2/3 (B in 3 orders), lift the same (lift is symmetric).
    assert rules[("B", "A")]["lift"] == pytest.approx(10 / 9)
    # A ⇒ C: support 1/5, confidence 1/3, lift (1/3) / (2/5) = 5/6 (< 1: bought together less than by chance).
    assert rules[("A", "C")]["lift"] == pytest.approx(5 / 6)
    assert ("B", "C") not in rules
    # With the default of two orders for a pair, only A–B is left, highest lift first.
    assert [(r["antecedent_id"], r["consequent_id"]) for r in product_pairs(baskets).iter_rows(named=True)] == \
        [("A", "B"), ("B", "A")]


def test_first_product_repeat_leaves_out_customers_without_the_whole_window():
    firsts = pl.DataFrame({"customer_id": list("abcdef"), "first_product_id": ["p1"] * 3 + ["p2"] * 3,
                           "first_product": ["One"] * 3 + ["Two"] * 3})
    # As of 31 Mar with a 30-day window: first orders up to 1 Mar count (e1 on 1 Feb, f1 on 14 Feb count).
    # p1: a (came back 9 Feb, 35 days later: not within 30), b (55 days: no), c (never) → 0 of 3.
    # p2: d (never), e (back after 19 days), f (never) → 1 of 3.
    repeat = {r["first_product_id"]: r for r in first_product_repeat(ORDERS, firsts, D(2026, 3, 31), 30).iter_rows(named=True)}
    assert (repeat["p1"]["customers"], repeat["p1"]["repeat_customers"]) == (3, 0)
    assert (repeat["p2"]["customers"], repeat["p2"]["repeat_customers"]) == (3, 1)
    assert repeat["p2"]["repeat_rate"] == pytest.approx(1 / 3)


def test_new_vs_returning_and_time_between_orders():
    months = {r["month"].month: r for r in new_vs_returning(ORDERS, D(2026, 2, 1), D(2026, 3, 31)).iter_rows(named=True)}
    # February: new e, f (e twice); returning a. March: returning a, b.
    assert (months[2]["new_customers"], months[2]["returning_customers"], months[2]["new_orders"]) == (2, 1, 3)
    assert months[2]["new_net_sales"] == Decimal("96")  # 60 + 6 + 30
    assert (months[3]["new_customers"], months[3]["returning_customers"]) == (0, 2)
    table, stats = time_between_orders(ORDERS)
    # Gaps: a 35 and 20 days, b 54, e 19 → bins 15–30: 2, 31–60: 2; median (19, 20, 35, 54) = 27.5.
    counts = dict(table.iter_rows())
    assert (counts["15–30"], counts["31–60"], counts["≤7"]) == (2, 2, 0)
    assert stats == {"gaps": 4, "median": 27.5, "mean": 32.0}

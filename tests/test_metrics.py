"""Sales metrics: small stores whose figures are worked out by hand.

Every store is in America/New_York unless a case says otherwise; orders are
placed at 15:00 UTC (10:00 or 11:00 in New York) so that they fall on the
date written, unless the case is about the day boundary.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from analytics.metrics import (
    METRIC_DEFINITIONS,
    SALES_OVER_TIME_COLUMNS,
    previous_period,
    sales_over_time,
    sales_summary,
    same_period_last_year,
    with_change,
)
from analytics.periods import bucket_starts
from data.rollups import refresh_store
from tests.builders import add_order, add_refund, add_store, utc

D = Decimal
date = dt.date


def day(y: int, m: int, d: int) -> dt.datetime:
    """15:00 UTC on that date: mid-morning in New York, the same calendar day."""
    return utc(y, m, d, 15)


def summary(wh, start, end, **filters):
    refresh_store(wh, "s")
    return sales_summary(wh, "s", start, end, **filters)


def pick(figures: dict, *names: str) -> dict:
    return {name: figures[name] for name in names}


def row(frame: pl.DataFrame, period: dt.date) -> dict:
    rows = frame.filter(pl.col("period") == period).to_dicts()
    assert len(rows) == 1, f"no single row for {period}"
    return rows[0]


MONEY = ("gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "duties", "total_sales")

ZERO_SUMMARY = {
    **{name: D(0) for name in MONEY},
    "orders": 0, "aov": D(0), "units_sold": 0, "units_returned": 0, "customers": 0, "new_customers": 0,
    "returning_customers": 0, "returning_customer_rate": D(0), "repeat_customers": 0,
    "repeat_purchase_rate": D(0), "refund_rate": D(0),
}


# -- returns fall on the refund's day -----------------------------------------------

def test_a_refund_on_a_later_day_is_a_return_on_that_day(wh):
    add_store(wh)
    # 2 × 25.00, shipping 5.00, tax 4.00 on 2 March.
    add_order(wh, "o1", day(2026, 3, 2), [(2, "25.00", "0")], shipping="5.00", tax="4.00")
    # One unit back on 5 March: goods 25.00, tax 2.00 paid back.
    add_refund(wh, "r1", "o1", day(2026, 3, 5), {1: (1, "25.00")}, tax="2.00")
    refresh_store(wh, "s")

    frame = sales_over_time(wh, "s", date(2026, 3, 1), date(2026, 3, 6))
    assert frame["period"].to_list() == [date(2026, 3, d) for d in range(1, 7)]
    sale, refund = row(frame, date(2026, 3, 2)), row(frame, date(2026, 3, 5))
    # Sale day: net 50.00; total 50.00 + 5.00 + 4.00 = 59.00.
    assert pick(sale, "orders", "gross_sales", "returns", "net_sales", "shipping", "taxes", "total_sales",
                "units_sold", "aov") == {
        "orders": 1, "gross_sales": D("50"), "returns": D("0"), "net_sales": D("50"), "shipping": D("5"),
        "taxes": D("4"), "total_sales": D("59"), "units_sold": 2, "aov": D("50")}
    # Refund day: no orders; net 0 − 25.00 = −25.00; total −25.00 + 0 − 2.00 = −27.00.
    assert pick(refund, "orders", "gross_sales", "returns", "net_sales", "shipping", "taxes", "total_sales",
                "units_returned", "aov") == {
        "orders": 0, "gross_sales": D("0"), "returns": D("25"), "net_sales": D("-25"), "shipping": D("0"),
        "taxes": D("-2"), "total_sales": D("-27"), "units_returned": 1, "aov": D("0")}
    for quiet in (date(2026, 3, 1), date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 6)):
        assert row(frame, quiet)["total_sales"] == 0 and row(frame, quiet)["orders"] == 0

    whole = sales_summary(wh, "s", date(2026, 3, 1), date(2026, 3, 6))
    # Net 50 − 25 = 25; taxes 4 − 2 = 2; total 25 + 5 + 2 = 32; refund rate 25 / 50 = 0.5.
    assert pick(whole, "gross_sales", "returns", "net_sales", "shipping", "taxes", "total_sales",
                "refund_rate") == {
        "gross_sales": D("50"), "returns": D("25"), "net_sales": D("25"), "shipping": D("5"), "taxes": D("2"),
        "total_sales": D("32"), "refund_rate": D("0.5")}
    # A range that ends before the refund does not see it.
    assert sales_summary(wh, "s", date(2026, 3, 2), date(2026, 3, 4))["returns"] == 0


# -- which orders count -------------------------------------------------------------

LEFT_OUT = [
    pytest.param(dict(status="voided", cancelled=day(2026, 3, 2)), id="cancelled-voided-never-paid"),
    pytest.param(dict(status="pending", cancelled=day(2026, 3, 2)), id="cancelled-while-pending"),
    pytest.param(dict(status="authorized", cancelled=day(2026, 3, 2)), id="cancelled-while-authorized"),
    pytest.param(dict(status="paid", test=True), id="test-order"),
]


@pytest.mark.parametrize("order", LEFT_OUT)
def test_orders_that_do_not_count_are_left_out(wh, order):
    add_store(wh)
    add_order(wh, "kept", day(2026, 3, 2), [(1, "10.00", "0")], customer="c1", shipping="1.00")
    add_order(wh, "gone", day(2026, 3, 2), [(3, "99.00", "9.00")], customer="c2", shipping="5.00",
              tax="8.00", **order)
    figures = summary(wh, date(2026, 3, 1), date(2026, 3, 31))
    # Only "kept": 10.00 goods + 1.00 shipping, one new customer.
    assert figures == {
        **ZERO_SUMMARY, "gross_sales": D("10"), "net_sales": D("10"), "shipping": D("1"), "total_sales": D("11"),
        "orders": 1, "aov": D("10"), "units_sold": 1, "customers": 1, "new_customers": 1}


def test_a_cancelled_paid_order_is_a_sale_then_a_return(wh):
    add_store(wh)
    # 1 × 40.00, shipping 5.00, tax 3.60 on 2 March; cancelled and refunded in full on 3 March.
    add_order(wh, "o1", day(2026, 3, 2), [(1, "40.00", "0")], shipping="5.00", tax="3.60",
              status="refunded", cancelled=day(2026, 3, 3))
    add_refund(wh, "r1", "o1", day(2026, 3, 3), {1: (1, "40.00")}, shipping="5.00", tax="3.60")
    refresh_store(wh, "s")

    frame = sales_over_time(wh, "s", date(2026, 3, 2), date(2026, 3, 3))
    # Order day: 40.00 + 5.00 + 3.60 = 48.60; refund day: −40.00 − 5.00 − 3.60 = −48.60.
    assert pick(row(frame, date(2026, 3, 2)), "orders", "gross_sales", "total_sales") == {
        "orders": 1, "gross_sales": D("40"), "total_sales": D("48.6")}
    assert pick(row(frame, date(2026, 3, 3)), "orders", "returns", "net_sales", "shipping", "taxes",
                "total_sales") == {
        "orders": 0, "returns": D("40"), "net_sales": D("-40"), "shipping": D("-5"), "taxes": D("-3.6"),
        "total_sales": D("-48.6")}
    # Both days together: one order, everything nets to zero, refund rate 40 / 40 = 1.
    whole = sales_summary(wh, "s", date(2026, 3, 2), date(2026, 3, 3))
    assert pick(whole, "orders", "gross_sales", "returns", "net_sales", "total_sales", "refund_rate") == {
        "orders": 1, "gross_sales": D("40"), "returns": D("40"), "net_sales": D("0"), "total_sales": D("0"),
        "refund_rate": D("1")}


# -- the store-local day ------------------------------------------------------------

LOCAL_DAYS = [
    # 04:30 UTC on 2 March is 23:30 on 1 March in New York (EST, UTC−5).
    pytest.param(utc(2026, 3, 2, 4, 30), date(2026, 3, 1), id="23:30-local-is-next-day-in-utc"),
    # Clocks went forward on 8 March 2026: 04:30 UTC on 9 March is 00:30 EDT on 9 March
    # (a fixed UTC−5 offset would put it at 23:30 on the 8th).
    pytest.param(utc(2026, 3, 9, 4, 30), date(2026, 3, 9), id="dst-spring-forward"),
    # Clocks went back on 1 November 2026: 04:30 UTC on 2 November is 23:30 EST on 1 November
    # (a fixed UTC−4 offset would put it at 00:30 on the 2nd).
    pytest.param(utc(2026, 11, 2, 4, 30), date(2026, 11, 1), id="dst-fall-back"),
]


@pytest.mark.parametrize("created, local_day", LOCAL_DAYS)
def test_a_sale_falls_on_the_store_local_day(wh, created, local_day):
    add_store(wh, timezone="America/New_York")
    add_order(wh, "o1", created, [(1, "12.00", "0")])
    refresh_store(wh, "s")
    frame = sales_over_time(wh, "s", local_day - dt.timedelta(days=1), local_day + dt.timedelta(days=1))
    assert frame.select("period", "orders", "gross_sales").rows() == [
        (local_day - dt.timedelta(days=1), 0, D("0")),
        (local_day, 1, D("12")),
        (local_day + dt.timedelta(days=1), 0, D("0")),
    ]
    assert sales_summary(wh, "s", local_day, local_day)["orders"] == 1


def test_a_refund_falls_on_the_store_local_day_of_the_refund(wh):
    add_store(wh, timezone="America/New_York")
    add_order(wh, "o1", day(2026, 3, 2), [(1, "12.00", "0")])
    # 03:00 UTC on 6 March is 22:00 on 5 March in New York.
    add_refund(wh, "r1", "o1", utc(2026, 3, 6, 3), {1: (1, "12.00")})
    refresh_store(wh, "s")
    assert sales_summary(wh, "s", date(2026, 3, 5), date(2026, 3, 5))["returns"] == D("12")
    assert sales_summary(wh, "s", date(2026, 3, 6), date(2026, 3, 6))["returns"] == 0


# -- money ----------------------------------------------------------------------------

def test_a_partial_refund(wh):
    add_store(wh)
    # 2 × 30.00 with a 6.00 discount, shipping 10.00, tax 10 % of 54.00 = 5.40.
    add_order(wh, "o1", day(2026, 3, 2), [(2, "30.00", "6.00")], shipping="10.00", tax="5.40")
    # One unit back (30.00 − its 3.00 share of the discount = 27.00), 4.00 of shipping and 2.70 of tax.
    add_refund(wh, "r1", "o1", day(2026, 3, 4), {1: (1, "27.00")}, shipping="4.00", tax="2.70")
    figures = summary(wh, date(2026, 3, 1), date(2026, 3, 31))
    # net 60 − 6 − 27 = 27; shipping 10 − 4 = 6; taxes 5.40 − 2.70 = 2.70; total 27 + 6 + 2.70 = 35.70;
    # AOV (60 − 6) / 1 = 54; refund rate 27 / 60 = 0.45.
    assert figures == {
        **ZERO_SUMMARY, "gross_sales": D("60"), "discounts": D("6"), "returns": D("27"), "net_sales": D("27"),
        "shipping": D("6"), "taxes": D("2.7"), "total_sales": D("35.7"), "orders": 1, "aov": D("54"),
        "units_sold": 2, "units_returned": 1, "customers": 1, "new_customers": 1, "refund_rate": D("0.45")}


def test_figures_use_shop_money_not_the_presentment_currency(wh):
    add_store(wh, currency="CAD")
    # The buyer paid 100.00 EUR; the shop's books say 135.00 CAD goods + 13.50 CAD shipping + 6.75 duties.
    add_order(wh, "o1", day(2026, 3, 2), [(1, "135.00", "0")], shipping="13.50", duties="6.75",
              currency="CAD", presentment_currency="EUR", presentment_total="100.00")
    figures = summary(wh, date(2026, 3, 2), date(2026, 3, 2))
    # total 135.00 + 13.50 + 0 + 6.75 = 155.25 CAD.
    assert pick(figures, "gross_sales", "net_sales", "shipping", "duties", "total_sales", "aov") == {
        "gross_sales": D("135"), "net_sales": D("135"), "shipping": D("13.5"), "duties": D("6.75"),
        "total_sales": D("155.25"), "aov": D("135")}


def test_order_level_discounts_allocated_to_lines(wh):
    add_store(wh)
    # Lines 3 × 10.00 and 1 × 10.00 (40.00). A 2.00 line discount on the first line and a
    # 4.00 order-level coupon allocated by value: 3.00 to the first line, 1.00 to the second.
    add_order(wh, "o1", day(2026, 3, 2), [(3, "10.00", "5.00"), (1, "10.00", "1.00")])
    figures = summary(wh, date(2026, 3, 2), date(2026, 3, 2))
    # discounts 5 + 1 = 6; net 40 − 6 = 34; AOV 34 / 1.
    assert pick(figures, "gross_sales", "discounts", "net_sales", "aov", "units_sold") == {
        "gross_sales": D("40"), "discounts": D("6"), "net_sales": D("34"), "aov": D("34"), "units_sold": 4}


def test_gift_card_lines_are_not_sales(wh):
    add_store(wh)
    # A 20.00 shirt with a 2.00 discount and a 50.00 gift card bought together.
    add_order(wh, "o1", day(2026, 3, 2), [(1, "20.00", "2.00"), (1, "50.00", "0", True)])
    # An order of nothing but a gift card still counts as an order.
    add_order(wh, "o2", day(2026, 3, 2), [(2, "25.00", "0", True)], customer="c2")
    figures = summary(wh, date(2026, 3, 2), date(2026, 3, 2))
    # gross 20 (gift cards left out), discounts 2, units 1; AOV (20 − 2) / 2 orders = 9.
    assert pick(figures, "orders", "gross_sales", "discounts", "net_sales", "units_sold", "aov") == {
        "orders": 2, "gross_sales": D("20"), "discounts": D("2"), "net_sales": D("18"), "units_sold": 1,
        "aov": D("9")}


@pytest.mark.parametrize("prices, aov", [
    # (10.0001 + 10.0000) / 2 = 10.00005: half to even gives 10.0000 (half up would give 10.0001).
    pytest.param(("10.0001", "10.0000"), D("10.0000"), id="half-to-even-down"),
    # (10.0003 + 10.0000) / 2 = 10.00015: half to even gives 10.0002.
    pytest.param(("10.0003", "10.0000"), D("10.0002"), id="half-to-even-up"),
    # 10.00 / 3 = 3.33333...: 3.3333.
    pytest.param(("10.00", "0", "0"), D("3.3333"), id="repeating-fraction"),
], )
def test_average_order_value_is_exact_to_four_places(wh, prices, aov):
    add_store(wh)
    for i, price in enumerate(prices):
        add_order(wh, f"o{i}", day(2026, 3, 2), [(1, price, "0")], customer=f"c{i}")
    figures = summary(wh, date(2026, 3, 2), date(2026, 3, 2))
    assert figures["aov"] == aov
    assert figures["aov"].as_tuple().exponent == -4


def test_money_is_decimal_and_counts_are_int(wh):
    add_store(wh)
    add_order(wh, "o1", day(2026, 3, 2), [(1, "0.10", "0"), (1, "0.20", "0")], shipping="0.10")
    figures = summary(wh, date(2026, 3, 2), date(2026, 3, 2))
    assert figures["gross_sales"] == D("0.3")  # exact, no 0.30000000000000004
    assert figures["total_sales"] == D("0.4")
    for name, value in figures.items():
        assert isinstance(value, int if name in ("orders", "units_sold", "units_returned") or
                          name.endswith("customers") else Decimal), name
        assert not isinstance(value, bool)
    frame = sales_over_time(wh, "s", date(2026, 3, 2), date(2026, 3, 2))
    assert isinstance(frame.schema["total_sales"], pl.Decimal)
    assert frame.schema["orders"] == pl.Int64
    assert isinstance(frame["net_sales"][0], Decimal)


# -- customers ------------------------------------------------------------------------

@pytest.fixture
def customers_store(wh):
    """Orders of five customers from January to March 2026 (plus a guest)."""
    add_store(wh)
    add_order(wh, "a1", day(2026, 1, 10), customer="alice")
    add_order(wh, "a2", day(2026, 2, 5), customer="alice")
    add_order(wh, "b1", day(2026, 2, 3), customer="bob")
    add_order(wh, "b2", day(2026, 2, 20), customer="bob")
    add_order(wh, "c1", day(2026, 2, 14), customer="carol")
    add_order(wh, "c2", day(2026, 3, 10), customer="carol")
    add_order(wh, "d1", day(2026, 1, 20), customer="dave")
    # Erin's test order in January does not make her February order her second.
    add_order(wh, "e0", day(2026, 1, 5), customer="erin", test=True)
    add_order(wh, "e1", day(2026, 2, 10), customer="erin")
    add_order(wh, "g1", day(2026, 2, 11), customer=None)
    refresh_store(wh, "s")
    return wh


CUSTOMER_PERIODS = [
    # January: alice and dave, both first orders.
    pytest.param(date(2026, 1, 1), date(2026, 1, 31),
                 dict(orders=2, customers=2, new_customers=2, returning_customers=0,
                      returning_customer_rate=D("0"), repeat_customers=0, repeat_purchase_rate=D("0")),
                 id="january-all-new"),
    # February: alice (2nd order ever: returning), bob (1st and 2nd: new and returning, repeat),
    # carol (1st: new; her March order comes after the period), erin (1st: new), a guest (no customer).
    # 6 orders; 4 customers; new 3; returning 2 → 2/4 = 0.5; repeat 1 → 1/4 = 0.25.
    pytest.param(date(2026, 2, 1), date(2026, 2, 28),
                 dict(orders=6, customers=4, new_customers=3, returning_customers=2,
                      returning_customer_rate=D("0.5"), repeat_customers=1, repeat_purchase_rate=D("0.25")),
                 id="february-new-and-returning"),
    # March: carol's 2nd order: returning, not new.
    pytest.param(date(2026, 3, 1), date(2026, 3, 31),
                 dict(orders=1, customers=1, new_customers=0, returning_customers=1,
                      returning_customer_rate=D("1"), repeat_customers=0, repeat_purchase_rate=D("0")),
                 id="march-returning-only"),
    # The quarter: alice, bob, carol, dave, erin all new; alice, bob and carol returning: 3/5 = 0.6;
    # alice, bob and carol also have two orders inside the quarter: repeat 3/5.
    pytest.param(date(2026, 1, 1), date(2026, 3, 31),
                 dict(orders=9, customers=5, new_customers=5, returning_customers=3,
                      returning_customer_rate=D("0.6"), repeat_customers=3, repeat_purchase_rate=D("0.6")),
                 id="quarter"),
    # 5–14 February: alice (2nd order: returning), erin and carol (new), the guest; bob's orders
    # (3rd and 20th) are outside. 4 orders; 3 customers; returning 1/3 = 0.3333.
    pytest.param(date(2026, 2, 5), date(2026, 2, 14),
                 dict(orders=4, customers=3, new_customers=2, returning_customers=1,
                      returning_customer_rate=D("0.3333"), repeat_customers=0, repeat_purchase_rate=D("0")),
                 id="mid-february"),
]


@pytest.mark.parametrize("start, end, expected", CUSTOMER_PERIODS)
def test_new_and_returning_customers(customers_store, start, end, expected):
    figures = sales_summary(customers_store, "s", start, end)
    assert pick(figures, *expected) == expected


def test_customers_per_month(customers_store):
    frame = sales_over_time(customers_store, "s", date(2026, 1, 1), date(2026, 3, 31), "month")
    assert frame.select("period", "orders", "customers", "new_customers", "returning_customers").rows() == [
        (date(2026, 1, 1), 2, 2, 2, 0),
        (date(2026, 2, 1), 6, 4, 3, 2),
        (date(2026, 3, 1), 1, 1, 0, 1),
    ]


# -- buckets ----------------------------------------------------------------------------

@pytest.fixture
def bucket_store(wh):
    add_store(wh)
    add_order(wh, "o1", day(2026, 3, 1), [(1, "10.00", "0")])   # Sunday: ISO week of Mon 23 Feb
    add_order(wh, "o2", day(2026, 3, 2), [(1, "20.00", "0")])   # Monday 2 March
    add_order(wh, "o3", day(2026, 3, 8), [(1, "30.00", "0")])   # Sunday: still the week of 2 March
    add_order(wh, "o4", day(2026, 3, 9), [(1, "40.00", "0")])   # Monday 9 March
    add_order(wh, "o5", day(2026, 4, 1), [(1, "50.00", "0")])   # Wednesday 1 April: week of 30 March
    add_refund(wh, "r2", "o2", day(2026, 3, 10), {1: (1, "20.00")})  # week of 9 March
    refresh_store(wh, "s")
    return wh


@pytest.mark.parametrize("grain, expected", [
    pytest.param("week", [
        (date(2026, 2, 23), 1, D("10"), D("0"), D("10")),
        (date(2026, 3, 2), 2, D("50"), D("0"), D("50")),     # 20 + 30
        (date(2026, 3, 9), 1, D("40"), D("20"), D("20")),    # 40 − the 20 returned on the 10th
        (date(2026, 3, 16), 0, D("0"), D("0"), D("0")),
        (date(2026, 3, 23), 0, D("0"), D("0"), D("0")),
        (date(2026, 3, 30), 1, D("50"), D("0"), D("50")),
    ], id="weeks-start-on-monday"),
    pytest.param("month", [
        (date(2026, 3, 1), 4, D("100"), D("20"), D("80")),   # 10 + 20 + 30 + 40 − 20
        (date(2026, 4, 1), 1, D("50"), D("0"), D("50")),
    ], id="months"),
])
def test_weekly_and_monthly_buckets(bucket_store, grain, expected):
    # 1 March (Sunday) to 5 April (Sunday).
    frame = sales_over_time(bucket_store, "s", date(2026, 3, 1), date(2026, 4, 5), grain)
    assert frame.columns == list(SALES_OVER_TIME_COLUMNS)
    assert frame.select("period", "orders", "gross_sales", "returns", "net_sales").rows() == expected


def test_buckets_add_up_to_the_summary(bucket_store):
    start, end = date(2026, 3, 1), date(2026, 4, 5)
    whole = sales_summary(bucket_store, "s", start, end)
    for grain, rows in (("day", 36), ("week", 6), ("month", 2)):
        frame = sales_over_time(bucket_store, "s", start, end, grain)
        assert frame.height == rows
        for name in (*MONEY, "orders", "units_sold", "units_returned"):
            assert sum(frame[name].to_list()) == whole[name], (grain, name)


def test_bucket_labels():
    assert bucket_starts(date(2026, 3, 4), date(2026, 3, 4), "week") == [date(2026, 3, 2)]
    assert bucket_starts(date(2026, 1, 31), date(2026, 3, 1), "month") == [
        date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert bucket_starts(date(2026, 12, 28), date(2027, 1, 4), "week") == [date(2026, 12, 28), date(2027, 1, 4)]


# -- empty periods and bad input --------------------------------------------------------------

@pytest.mark.parametrize("with_store", [pytest.param(True, id="store-without-orders"),
                                        pytest.param(False, id="unknown-store")])
def test_an_empty_period_gives_zeros(wh, with_store):
    if with_store:
        add_store(wh)
        add_order(wh, "o1", day(2026, 1, 5))
        refresh_store(wh, "s")
    assert sales_summary(wh, "s", date(2026, 3, 1), date(2026, 3, 31)) == ZERO_SUMMARY
    frame = sales_over_time(wh, "s", date(2026, 3, 1), date(2026, 3, 31), "week")
    assert frame["period"].to_list() == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9),
                                         date(2026, 3, 16), date(2026, 3, 23), date(2026, 3, 30)]
    for name in SALES_OVER_TIME_COLUMNS[1:]:
        assert frame[name].to_list() == [0] * 6, name


@pytest.mark.parametrize("call", [
    pytest.param(lambda wh: sales_summary(wh, "s", date(2026, 3, 2), date(2026, 3, 1)), id="end-before-start"),
    pytest.param(lambda wh: sales_over_time(wh, "s", date(2026, 3, 1), date(2026, 3, 2), "hour"), id="bad-grain"),
    pytest.param(lambda wh: sales_summary(wh, "s", "2026-03-01", date(2026, 3, 2)), id="text-date"),
])
def test_bad_input_is_one_clear_error(wh, call):
    with pytest.raises(ValueError):
        call(wh)


# -- filters ----------------------------------------------------------------------------

@pytest.fixture
def channel_store(wh):
    add_store(wh)
    add_order(wh, "web", day(2026, 3, 2), [(1, "100.00", "0")], customer="c1", channel="online_store",
              country="US")
    add_order(wh, "shop", day(2026, 3, 3), [(2, "20.00", "0")], customer="c1", channel="pos", country="US")
    add_order(wh, "mkt", day(2026, 3, 4), [(1, "10.00", "0")], customer="c2", channel="marketplace",
              country="CA")
    add_refund(wh, "r1", "shop", day(2026, 3, 5), {1: (1, "20.00")})
    # An order of a source that names no channel (and no country), outside March.
    add_order(wh, "odd", day(2026, 4, 2), [(1, "7.00", "0")], customer="c3", channel=None, country=None)
    refresh_store(wh, "s")
    return wh


@pytest.mark.parametrize("filters, expected", [
    pytest.param({}, dict(orders=3, gross_sales=D("150"), returns=D("20"), net_sales=D("130"),
                          customers=2, new_customers=2, returning_customers=1), id="no-filter"),
    # The POS order is c1's second: returning, not new; its refund follows it into the channel.
    pytest.param({"channels": ["pos"]}, dict(orders=1, gross_sales=D("40"), returns=D("20"), net_sales=D("20"),
                                            customers=1, new_customers=0, returning_customers=1), id="pos"),
    pytest.param({"channels": ["online_store", "marketplace"]},
                 dict(orders=2, gross_sales=D("110"), returns=D("0"), net_sales=D("110"),
                      customers=2, new_customers=2, returning_customers=0), id="two-channels"),
    pytest.param({"channels": []}, dict(orders=3, gross_sales=D("150"), returns=D("20"), net_sales=D("130"),
                                        customers=2, new_customers=2, returning_customers=1),
                 id="empty-list-is-no-filter"),
    pytest.param({"countries": ["CA"]}, dict(orders=1, gross_sales=D("10"), returns=D("0"), net_sales=D("10"),
                                             customers=1, new_customers=1, returning_customers=0), id="country"),
    pytest.param({"channels": ["pos", "marketplace"], "countries": ["US"]},
                 dict(orders=1, gross_sales=D("40"), returns=D("20"), net_sales=D("20"),
                      customers=1, new_customers=0, returning_customers=1), id="channel-and-country"),
    # A hostile value is a value, never SQL.
    pytest.param({"channels": ["pos') OR (1=1"]}, dict(orders=0, gross_sales=D("0"), returns=D("0"),
                                                       net_sales=D("0"), customers=0, new_customers=0,
                                                       returning_customers=0), id="quoted-value-is-data"),
])
def test_channel_and_country_filters(channel_store, filters, expected):
    figures = sales_summary(channel_store, "s", date(2026, 3, 1), date(2026, 3, 31), **filters)
    assert pick(figures, *expected) == expected


def test_an_order_without_a_channel_is_in_other(channel_store):
    april = date(2026, 4, 1), date(2026, 4, 30)
    assert sales_summary(channel_store, "s", *april, channels=["other"])["gross_sales"] == D("7")
    assert sales_summary(channel_store, "s", *april, channels=["online_store"])["gross_sales"] == 0
    assert sales_summary(channel_store, "s", *april, countries=["US"])["gross_sales"] == 0
    assert sales_summary(channel_store, "s", *april)["gross_sales"] == D("7")


def test_filters_apply_to_every_bucket(channel_store):
    frame = sales_over_time(channel_store, "s", date(2026, 3, 2), date(2026, 3, 5), channels=["pos"])
    assert frame.select("period", "orders", "gross_sales", "returns").rows() == [
        (date(2026, 3, 2), 0, D("0"), D("0")),
        (date(2026, 3, 3), 1, D("40"), D("0")),
        (date(2026, 3, 4), 0, D("0"), D("0")),
        (date(2026, 3, 5), 0, D("0"), D("20")),
    ]


def test_stores_do_not_mix(wh):
    add_store(wh, "s")
    add_store(wh, "t", timezone="Europe/Berlin", currency="EUR")
    add_order(wh, "o1", day(2026, 3, 2), [(1, "10.00", "0")], store_id="s")
    add_order(wh, "o1", day(2026, 3, 2), [(1, "99.00", "0")], store_id="t", currency="EUR")
    refresh_store(wh, "s")
    refresh_store(wh, "t")
    assert sales_summary(wh, "s", date(2026, 3, 2), date(2026, 3, 2))["gross_sales"] == D("10")
    assert sales_summary(wh, "t", date(2026, 3, 2), date(2026, 3, 2))["gross_sales"] == D("99")


# -- comparisons --------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, expected", [
    pytest.param(date(2026, 11, 1), date(2026, 11, 30), (date(2026, 10, 2), date(2026, 10, 31)), id="30-days"),
    pytest.param(date(2026, 3, 5), date(2026, 3, 5), (date(2026, 3, 4), date(2026, 3, 4)), id="one-day"),
    pytest.param(date(2026, 1, 1), date(2026, 1, 7), (date(2025, 12, 25), date(2025, 12, 31)),
                 id="across-new-year"),
    # 1–31 March 2024 is 31 days: the 31 days before end on 29 February (a leap day).
    pytest.param(date(2024, 3, 1), date(2024, 3, 31), (date(2024, 1, 30), date(2024, 2, 29)), id="leap-year"),
])
def test_previous_period(start, end, expected):
    assert previous_period(start, end) == expected
    prev_start, prev_end = expected
    assert (prev_end - prev_start) == (end - start)


@pytest.mark.parametrize("start, end, expected", [
    # Monday 2 – Sunday 8 November 2026 against Monday 3 – Sunday 9 November 2025.
    pytest.param(date(2026, 11, 2), date(2026, 11, 8), (date(2025, 11, 3), date(2025, 11, 9)), id="a-week"),
    # Across a leap day: 364 days before Friday 1 March 2024 is Friday 3 March 2023.
    pytest.param(date(2024, 3, 1), date(2024, 3, 31), (date(2023, 3, 3), date(2023, 4, 2)), id="leap-year"),
])
def test_same_period_last_year_keeps_weekdays(start, end, expected):
    got = same_period_last_year(start, end)
    assert got == expected
    assert got[0].weekday() == start.weekday() and got[1].weekday() == end.weekday()


@pytest.mark.parametrize("current, previous, expected", [
    pytest.param({"net_sales": D("150.00")}, {"net_sales": D("100.00")},
                 {"net_sales": {"current": D("150"), "previous": D("100"), "change": D("50"),
                                "relative_change": D("0.5")}}, id="growth"),
    pytest.param({"orders": 3}, {"orders": 0},
                 {"orders": {"current": 3, "previous": 0, "change": 3, "relative_change": None}}, id="zero-base"),
    # From −50 to 25: up 75, which is 150 % of the base's size.
    pytest.param({"net_sales": D("25")}, {"net_sales": D("-50")},
                 {"net_sales": {"current": D("25"), "previous": D("-50"), "change": D("75"),
                                "relative_change": D("1.5")}}, id="negative-base"),
    # 2 / 3 − 1 = −0.3333.
    pytest.param({"orders": 2}, {"orders": 3},
                 {"orders": {"current": 2, "previous": 3, "change": -1, "relative_change": D("-0.3333")}},
                 id="decline-rounded"),
    pytest.param({"orders": 2, "label": "x"}, {"label": "y"}, {}, id="only-numbers-in-both"),
])
def test_with_change(current, previous, expected):
    assert with_change(current, previous) == expected


def test_comparing_two_periods(bucket_store):
    # 9–15 March (40 sold, 20 returned) against 2–8 March (20 + 30 sold).
    start, end = date(2026, 3, 9), date(2026, 3, 15)
    now = sales_summary(bucket_store, "s", start, end)
    before = sales_summary(bucket_store, "s", *previous_period(start, end))
    changes = with_change(now, before)
    # net 20 against 50: −30, −60 %; returns 20 against 0: no relative change.
    assert changes["net_sales"] == {"current": D("20"), "previous": D("50"), "change": D("-30"),
                                    "relative_change": D("-0.6")}
    assert changes["returns"]["relative_change"] is None


# -- definitions ------------------------------------------------------------------------------

def test_every_figure_has_a_definition(wh):
    figures = sales_summary(wh, "s", date(2026, 3, 1), date(2026, 3, 1))
    assert set(figures) == set(METRIC_DEFINITIONS)
    assert set(SALES_OVER_TIME_COLUMNS) - {"period"} <= set(METRIC_DEFINITIONS)
    for name, text in METRIC_DEFINITIONS.items():
        assert text.endswith(".") and text.count(". ") == 0, name

"""The benchmark's yardsticks give the metric layer's figures exactly.

``bench/yardsticks.py`` computes the Sales page's figures with one hand-written
DuckDB query over the rollups and with plain pandas over the raw tables. Here
all three (those two and the layer) are held to figures worked out by hand on
a small store, then to each other over more ranges and grains. DuckDB only:
the yardsticks are DuckDB's.

The store (America/New_York; ``day`` = 15:00 UTC, mid-morning in New York):

| order | day (New York)   | customer | lines (qty × price, discount)     | shipping | tax  | notes            |
| ----- | ---------------- | -------- | --------------------------------- | -------- | ---- | ---------------- |
| a1    | Wed 25 Feb       | c1       | 1 × 30.00                         |          |      | refunded 4 Mar   |
| a2    | Mon 2 Mar        | c1       | 2 × 20.00 (4.00), gift card 50.00 | 6.00     | 3.00 | card back 5 Mar  |
| a3    | Tue 3 Mar        | c2       | 1 × 100.00                        | 10.00    | 8.00 | cancelled paid ¹ |
| a4    | Wed 4 Mar        | c3       | 1 × 999.00                        |          |      | voided: out      |
| a5    | Wed 4 Mar        | c3       | 1 × 999.00                        |          |      | cancelled pending: out |
| a6    | Fri 6 Mar 23:30  | c3       | 3 × 10.00 (1.50), duties 2.00     |          |      | 04:30 UTC 7 Mar  |
| a7    | Thu 5 Mar        | (guest)  | 1 × 12.3456                       |          |      |                  |
| a8    | Mon 2 Mar        | c3       | 1 × 500.00                        |          |      | test order: out  |
| a9    | Sun 8 Mar        | c2       | 1 × 5.00                          |          |      |                  |

¹ Refunded in full on 9 March: goods 100.00, shipping 10.00, tax 8.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from bench.yardsticks import differences, duckdb_sales, layer_sales, load_tables, pandas_sales
from data.duckdb_backend import path_from_url
from data.rollups import refresh_store
from data.warehouse import connect
from tests.builders import add_order, add_refund, add_store, utc

D = Decimal
date = dt.date


def day(y: int, m: int, d: int) -> dt.datetime:
    return utc(y, m, d, 15)


@pytest.fixture
def store(duckdb_url):
    """The store of the table above: (warehouse, DuckDB connection to the same file)."""
    wh = connect(duckdb_url)
    add_store(wh)
    add_order(wh, "a1", day(2026, 2, 25), [(1, "30.00", "0")], customer="c1")
    add_refund(wh, "ra1", "a1", day(2026, 3, 4), {1: (1, "30.00")})
    add_order(wh, "a2", day(2026, 3, 2), [(2, "20.00", "4.00"), (1, "50.00", "0", True)],
              shipping="6.00", tax="3.00", customer="c1")
    add_refund(wh, "ra2", "a2", day(2026, 3, 5), {2: (1, "50.00")})
    add_order(wh, "a3", day(2026, 3, 3), [(1, "100.00", "0")], shipping="10.00", tax="8.00", customer="c2",
              cancelled=utc(2026, 3, 3, 18))
    add_refund(wh, "ra3", "a3", day(2026, 3, 9), {1: (1, "100.00")}, shipping="10.00", tax="8.00")
    add_order(wh, "a4", day(2026, 3, 4), [(1, "999.00", "0")], customer="c3", status="voided")
    add_order(wh, "a5", day(2026, 3, 4), [(1, "999.00", "0")], customer="c3", status="pending",
              cancelled=utc(2026, 3, 4, 16))
    add_order(wh, "a6", utc(2026, 3, 7, 4, 30), [(3, "10.00", "1.50")], duties="2.00", customer="c3")
    add_order(wh, "a7", day(2026, 3, 5), [(1, "12.3456", "0")], customer=None)
    add_order(wh, "a8", day(2026, 3, 2), [(1, "500.00", "0")], customer="c3", test=True)
    add_order(wh, "a9", day(2026, 3, 8), [(1, "5.00", "0")], customer="c2")
    refresh_store(wh, "s")
    con = duckdb.connect(path_from_url(duckdb_url))
    yield wh, con
    con.close()
    wh.close()


def all_three(store, start, end, grain="day") -> dict[str, dict]:
    wh, con = store
    return {
        "layer": layer_sales(wh, "s", start, end, grain),
        "duckdb": duckdb_sales(con, "s", start, end, grain),
        "pandas": pandas_sales(load_tables(con, "s"), start, end, grain),
    }


def row(result: dict, period: dt.date) -> dict:
    (found,) = [r for r in result["series"] if r["period"] == period]
    return found


# 1–6 March: a2, a3, a6, a7 (gross 40 + 100 + 30 + 12.3456); a1's refund of 4 March
# (30.00); a2's gift card back on 5 March is no return; a3's refund is on 9 March.
FIRST_WEEK = {
    "orders": 4, "gross_sales": D("182.3456"), "discounts": D("5.50"), "returns": D("30.00"),
    "net_sales": D("146.8456"), "shipping": D("16.00"), "taxes": D("11.00"), "duties": D("2.00"),
    "total_sales": D("175.8456"), "aov": D("44.2114"),  # 176.8456 / 4
    "units_sold": 7, "units_returned": 1,
    # c1 ordered before (a1): returning; c2 and c3 first order ever (a4, a5 do not count).
    "customers": 3, "new_customers": 2, "returning_customers": 1, "repeat_customers": 0,
    "returning_customer_rate": D("0.3333"), "repeat_purchase_rate": D("0"),
    "refund_rate": D("0.1645"),  # 30 / 182.3456 = 0.16452…
}

# 1–10 March adds a9 (c2's second order) and a3's refund of 9 March with its shipping and tax.
TEN_DAYS = {
    "orders": 5, "gross_sales": D("187.3456"), "discounts": D("5.50"), "returns": D("130.00"),
    "net_sales": D("51.8456"), "shipping": D("6.00"), "taxes": D("3.00"), "duties": D("2.00"),
    "total_sales": D("62.8456"), "aov": D("36.3691"),  # 181.8456 / 5 = 36.36912
    "units_sold": 8, "units_returned": 2,
    "customers": 3, "new_customers": 2, "returning_customers": 2, "repeat_customers": 1,
    "returning_customer_rate": D("0.6667"), "repeat_purchase_rate": D("0.3333"),
    "refund_rate": D("0.6939"),  # 130 / 187.3456 = 0.69390…
}


@pytest.mark.parametrize("start, end, expected", [
    (date(2026, 3, 1), date(2026, 3, 6), FIRST_WEEK),
    (date(2026, 3, 1), date(2026, 3, 10), TEN_DAYS),
])
def test_each_way_gives_the_figures_worked_out_by_hand(store, start, end, expected):
    for way, result in all_three(store, start, end).items():
        assert result["summary"] == expected, way
        assert {k: type(v) for k, v in result["summary"].items()} == {
            k: int if isinstance(v, int) else Decimal for k, v in expected.items()}, way


def test_each_way_puts_a_refund_on_its_own_later_day(store):
    for way, result in all_three(store, date(2026, 3, 1), date(2026, 3, 10)).items():
        assert [r["period"] for r in result["series"]] == [date(2026, 3, d) for d in range(1, 11)], way
        refund_day = row(result, date(2026, 3, 9))
        assert {k: refund_day[k] for k in ("orders", "returns", "net_sales", "shipping", "taxes", "total_sales",
                                           "units_returned", "customers")} == {
            "orders": 0, "returns": D("100.00"), "net_sales": D("-100.00"), "shipping": D("-10.00"),
            "taxes": D("-8.00"), "total_sales": D("-118.00"), "units_returned": 1, "customers": 0}, way
        # a6 at 23:30 on 6 March in New York (04:30 UTC on the 7th) is a sale of the 6th.
        assert {k: row(result, date(2026, 3, 6))[k] for k in ("orders", "gross_sales", "duties", "units_sold")} == {
            "orders": 1, "gross_sales": D("30.00"), "duties": D("2.00"), "units_sold": 3}, way
        assert row(result, date(2026, 3, 7))["orders"] == 0, way
        # The gift card sent back on 5 March: no return, no unit.
        assert (row(result, date(2026, 3, 5))["returns"], row(result, date(2026, 3, 5))["units_returned"]) == (
            D("0"), 0), way


@pytest.mark.parametrize("start, end, grain", [
    (date(2026, 3, 9), date(2026, 3, 9), "day"),         # only a refund
    (date(2026, 2, 1), date(2026, 3, 31), "day"),
    (date(2026, 2, 4), date(2026, 3, 31), "week"),       # partial first and last weeks
    (date(2026, 1, 15), date(2026, 4, 10), "month"),
    (date(2025, 6, 1), date(2025, 6, 30), "day"),        # nothing at all
])
def test_the_three_ways_agree(store, start, end, grain):
    results = all_three(store, start, end, grain)
    assert differences(results["layer"], results["duckdb"]) == []
    assert differences(results["layer"], results["pandas"]) == []


def test_differences_names_a_wrong_figure_and_a_wrong_type(store):
    results = all_three(store, date(2026, 3, 1), date(2026, 3, 10))
    wrong = {"summary": {**results["pandas"]["summary"], "returns": D("130.0001")},
             "series": [{**r, "orders": D(r["orders"])} for r in results["pandas"]["series"]]}
    found = differences(results["layer"], wrong, limit=100)
    assert "summary returns: Decimal('130.0000') != Decimal('130.0001')" in found
    assert len(found) == 11  # the summary's returns and each of 10 days' order counts

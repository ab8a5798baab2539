"""The order list (filters, search, sorts, pages) and one order's detail, worked out by hand.

The store is the one of tests/orders_store.py (its docstring has the table).
The range 2–5 March holds o1, o2, o3, o5, o7: o4 is the evening before in
New York (04:59 UTC on 2 March), o6 is a test order.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import polars as pl
import pytest

from analytics.orders import OrderQuery, order_detail, order_page, orders_for_export
from data.warehouse import connect
from tests.orders_store import TZ, build_orders_store

D = Decimal


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def store(request, tmp_path_factory):
    """The store above, built once per backend for the module (the tests only read it)."""
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('orders') / 'warehouse.duckdb'}"
    else:
        url = f"{request.getfixturevalue('pg_database_url')}?schema=orders_{os.getpid()}"
    wh = connect(url)
    try:
        build_orders_store(wh)
        yield wh
    finally:
        wh.close()


def query(**changes) -> OrderQuery:
    values = dict(store_id="s", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 5), timezone=TZ)
    values.update(changes)
    return OrderQuery(**values)


def ids(frame: pl.DataFrame) -> list[str]:
    return frame["order_id"].to_list()


def test_the_first_page_newest_first(store):
    page = order_page(store, query())
    assert page.total == 5
    assert page.page_count == 1
    assert ids(page.rows) == ["o7", "o5", "o3", "o2", "o1"]
    first = page.rows.row(ids(page.rows).index("o2"), named=True)
    assert first == {
        "order_id": "o2", "order_number": "#999", "placed_at": dt.datetime(2026, 3, 2, 23, 30),
        "customer_id": "c2", "customer_name": None, "customer_email": None, "items": 1, "total": D("45.0000"),
        "currency": "USD",
        "financial_status": "paid", "fulfillment_status": "unfulfilled", "channel": "pos",
    }
    assert page.rows["items"].to_list() == [4, 1, 3, 1, 3]
    assert page.rows["channel"].to_list() == ["social", "other", "online_store", "pos", "online_store"]


@pytest.mark.parametrize(
    ("page_number", "expected_page", "rows", "first_row", "last_row"),
    [
        (1, 1, ["o7", "o5"], 1, 2),
        (2, 2, ["o3", "o2"], 3, 4),
        (3, 3, ["o1"], 5, 5),
        (9, 3, ["o1"], 5, 5),
        (0, 1, ["o7", "o5"], 1, 2),
    ],
    ids=["page-1", "page-2", "last-page", "past-the-end", "page-zero"],
)
def test_pages_of_two(store, page_number, expected_page, rows, first_row, last_row):
    page = order_page(store, query(page=page_number, page_size=2))
    assert (page.total, page.page_count, page.page) == (5, 3, expected_page)
    assert ids(page.rows) == rows
    assert (page.first_row, page.last_row) == (first_row, last_row)


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        ("placed", False, ["o1", "o2", "o3", "o5", "o7"]),
        ("number", False, ["o2", "o1", "o3", "o5", "o7"]),
        ("number", True, ["o7", "o5", "o3", "o1", "o2"]),
        ("total", True, ["o5", "o2", "o1", "o3", "o7"]),
        ("customer", False, ["o1", "o3", "o2", "o7", "o5"]),
        ("financial_status", False, ["o1", "o2", "o7", "o3", "o5"]),
        ("fulfillment_status", True, ["o5", "o2", "o7", "o3", "o1"]),
    ],
    ids=["placed-oldest", "number-#999-first", "number-desc", "total-desc", "customer-nulls-last",
         "payment-status", "fulfillment-desc"],
)
def test_sorts(store, sort, descending, expected):
    assert ids(order_page(store, query(sort=sort, descending=descending)).rows) == expected


def test_a_sort_across_pages_never_repeats_an_order(store):
    seen = []
    for number in (1, 2, 3):
        seen += ids(order_page(store, query(sort="customer", descending=False, page=number, page_size=2)).rows)
    assert seen == ["o1", "o3", "o2", "o7", "o5"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"channels": ("pos",)}, ["o2"]),
        ({"channels": ("other", "social")}, ["o7", "o5"]),
        ({"financial_statuses": ("refunded", "partially_refunded")}, ["o7", "o3"]),
        ({"fulfillment_statuses": ("unfulfilled",)}, ["o5", "o2"]),
        ({"fulfillment_statuses": ("fulfilled",), "channels": ("online_store",)}, ["o3", "o1"]),
        ({"start": dt.date(2026, 3, 1), "end": dt.date(2026, 3, 1)}, ["o4"]),
        ({"start": dt.date(2026, 3, 3), "end": dt.date(2026, 3, 3)}, ["o3"]),
        ({"search": "1001"}, ["o1"]),
        ({"search": "#100"}, ["o7", "o5", "o3", "o1"]),
        ({"search": "c2"}, ["o2"]),
        ({"search": "o5"}, ["o5"]),
        ({"search": " Buyer@Example.com "}, ["o7"]),
        ({"search": "%"}, []),
        ({"search": "_"}, []),
        ({"search": "'; DROP TABLE orders; --"}, []),
    ],
    ids=["channel", "no-channel-is-other", "payment-status", "no-fulfillment-is-unfulfilled", "two-filters",
         "the-evening-before", "just-after-midnight", "number", "number-prefix", "customer", "order-id",
         "email-by-hash", "percent-is-literal", "underscore-is-literal", "quote-is-data"],
)
def test_filters_and_search(store, changes, expected):
    page = order_page(store, query(**changes))
    assert ids(page.rows) == expected
    assert page.total == len(expected)


def test_an_empty_result_keeps_its_columns(store):
    page = order_page(store, query(search="nothing like this"))
    assert (page.total, page.page_count, page.page, page.first_row, page.last_row) == (0, 1, 1, 0, 0)
    assert page.rows.columns == ["order_id", "order_number", "placed_at", "customer_id", "customer_name",
                                 "customer_email", "items", "total", "currency", "financial_status",
                                 "fulfillment_status", "channel"]


def test_the_export_holds_every_page(store):
    frame = orders_for_export(store, query(sort="total", page_size=2))
    assert ids(frame) == ["o5", "o2", "o1", "o3", "o7"]
    assert frame["total"].to_list() == [D("100"), D("45"), D("25"), D("7.5"), D("4")]


def test_unknown_sorts_are_refused():
    with pytest.raises(ValueError, match="sort must be one of"):
        query(sort="total_price; DROP TABLE orders")


def test_one_order_with_its_lines_refunds_and_payments(store):
    detail = order_detail(store, "s", "o3", TZ)
    assert detail.order["order_number"] == "#1002"
    assert detail.order["placed_at"] == dt.datetime(2026, 3, 3, 0, 30)
    assert detail.order["total_price"] == D("7.50")
    assert detail.order["financial_status"] == "refunded"
    assert detail.lines.select("line_id", "quantity", "unit_price", "line_total", "returned").rows() == [
        ("o3-1", 3, D("2.5"), D("7.5"), 3),
    ]
    assert detail.refunds.select("refund_id", "refunded_at", "items_returned", "goods_returned",
                                 "total_refunded").rows() == [
        ("r1", dt.datetime(2026, 3, 4, 10, 0), 3, D("7.5"), D("7.5")),
    ]
    assert detail.payments.select("transaction_id", "at", "kind", "amount", "fee", "net").rows() == [
        ("t1", dt.datetime(2026, 3, 3, 0, 31), "sale", D("7.5"), D("0.52"), D("6.98")),
        ("t2", dt.datetime(2026, 3, 4, 10, 1), "refund", D("7.5"), D("0"), D("-7.5")),
    ]


def test_an_order_without_refunds_or_payments(store):
    detail = order_detail(store, "s", "o1", TZ)
    assert detail.lines["line_total"].to_list() == [D("20"), D("5")]
    assert detail.lines["returned"].to_list() == [0, 0]
    assert detail.refunds.height == 0 and "refunded_at" in detail.refunds.columns
    assert detail.payments.height == 0 and "at" in detail.payments.columns
    assert order_detail(store, "s", "no-such-order", TZ) is None

"""Rollups: per-order and per-refund facts in the store's local day, kept exact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from data.rollups import refresh_orders, refresh_store

UTC = dt.timezone.utc
D = Decimal


def _store(wh, tz="America/New_York"):
    wh.insert("stores", pl.DataFrame({
        "store_id": ["s"], "platform": ["csv"], "name": ["S"], "currency": ["USD"], "timezone": [tz],
        "created_at": [dt.datetime(2025, 1, 1, tzinfo=UTC)]}))


def _order(wh, order_id, created, customer="c1", lines=((2, "10.00", "1.00"),), status="paid",
           shipping="5.00", tax="2.00", test=False, cancelled=None, gift=False):
    gross = sum(D(p) * q for q, p, _ in lines)
    disc = sum(D(d) for _, _, d in lines)
    wh.upsert("orders", pl.DataFrame({
        "store_id": ["s"], "order_id": [order_id], "customer_id": [customer], "created_at": [created],
        "cancelled_at": [cancelled], "currency": ["USD"], "financial_status": [status], "channel": ["online_store"],
        "country": ["US"], "subtotal": [gross - disc], "total_discounts": [disc], "total_shipping": [D(shipping)],
        "total_tax": [D(tax)], "total_duties": [D(0)], "total_price": [gross - disc + D(shipping) + D(tax)],
        "is_test": [test]},
        schema_overrides={"cancelled_at": pl.Datetime("us", "UTC"), "customer_id": pl.String}))
    wh.upsert("order_lines", pl.DataFrame({
        "store_id": ["s"] * len(lines), "line_id": [f"{order_id}:{i}" for i in range(len(lines))],
        "order_id": [order_id] * len(lines), "variant_id": [f"v{i}" for i in range(len(lines))],
        "sku": [f"SKU{i}" for i in range(len(lines))], "quantity": [q for q, _, _ in lines],
        "unit_price": [D(p) for _, p, _ in lines], "discount": [D(d) for _, _, d in lines],
        "is_gift_card": [gift] * len(lines)}))


def _refund(wh, refund_id, order_id, created, line=0, qty=1, subtotal="9.00", shipping="0", tax="0"):
    wh.upsert("refunds", pl.DataFrame({
        "store_id": ["s"], "refund_id": [refund_id], "order_id": [order_id], "created_at": [created],
        "shipping_refunded": [D(shipping)], "tax_refunded": [D(tax)],
        "total_refunded": [D(subtotal) + D(shipping) + D(tax)]}))
    wh.upsert("refund_lines", pl.DataFrame({
        "store_id": ["s"], "refund_id": [refund_id], "line_id": [f"{order_id}:{line}"], "quantity": [qty],
        "subtotal": [D(subtotal)], "tax": [D(0)], "restock": [True]}))


def _facts(wh):
    return wh.rows(
        "SELECT order_id, local_date, local_hour, customer_order_index, gross_sales, discounts, units_sold "
        "FROM order_facts ORDER BY order_id")


def test_order_facts_use_the_local_day_and_leave_out_uncounted_orders(wh):
    _store(wh)
    # 04:30 UTC on 2 March is 23:30 on 1 March in New York (EST, UTC-5).
    _order(wh, "o1", dt.datetime(2026, 3, 2, 4, 30, tzinfo=UTC), lines=((2, "10.00", "1.00"), (1, "5.50", "0")))
    _order(wh, "o2", dt.datetime(2026, 3, 3, 15, 0, tzinfo=UTC), test=True)
    _order(wh, "o3", dt.datetime(2026, 3, 3, 16, 0, tzinfo=UTC), status="voided",
           cancelled=dt.datetime(2026, 3, 3, 17, 0, tzinfo=UTC))
    _order(wh, "o4", dt.datetime(2026, 3, 4, 16, 0, tzinfo=UTC), status="refunded",
           cancelled=dt.datetime(2026, 3, 4, 17, 0, tzinfo=UTC))
    _refund(wh, "r4", "o4", dt.datetime(2026, 3, 6, 3, 0, tzinfo=UTC), qty=2, subtotal="19.00", shipping="5", tax="2")
    refresh_store(wh, "s")
    # o1: gross 2*10 + 5.50 = 25.50, discounts 1.00, units 3; o4 is the customer's second counted order.
    assert _facts(wh) == [
        ("o1", dt.date(2026, 3, 1), 23, 1, D("25.5"), D("1"), 3),
        ("o4", dt.date(2026, 3, 4), 11, 2, D("20"), D("1"), 2),
    ]
    # The refund at 03:00 UTC on 6 March falls on 5 March in New York.
    assert wh.rows("SELECT refund_id, local_date, returns, units_returned, shipping_refunded, tax_refunded "
                   "FROM refund_facts") == [("r4", dt.date(2026, 3, 5), D("19"), 2, D("5"), D("2"))]
    daily = wh.rows("SELECT local_date, variant_id, units_sold, gross_sales, units_returned, returns "
                    "FROM variant_daily_sales ORDER BY local_date, variant_id")
    assert daily == [
        (dt.date(2026, 3, 1), "v0", 2, D("20"), 0, D("0")),
        (dt.date(2026, 3, 1), "v1", 1, D("5.5"), 0, D("0")),
        (dt.date(2026, 3, 4), "v0", 2, D("20"), 0, D("0")),
        (dt.date(2026, 3, 5), "v0", 0, D("0"), 2, D("19")),
    ]


def test_gift_cards_are_not_sales(wh):
    _store(wh)
    _order(wh, "g1", dt.datetime(2026, 3, 2, 15, tzinfo=UTC), gift=True)
    refresh_store(wh, "s")
    assert _facts(wh) == [("g1", dt.date(2026, 3, 2), 10, 1, D("0"), D("0"), 0)]


def test_refresh_orders_matches_a_full_rebuild(wh):
    _store(wh, tz="Europe/Berlin")
    _order(wh, "a", dt.datetime(2026, 5, 1, 10, tzinfo=UTC))
    _order(wh, "b", dt.datetime(2026, 5, 3, 10, tzinfo=UTC), customer="c2")
    refresh_store(wh, "s")
    # A late-arriving earlier order of c1 and a refund on b, applied incrementally.
    _order(wh, "z", dt.datetime(2026, 4, 20, 10, tzinfo=UTC))
    _refund(wh, "rb", "b", dt.datetime(2026, 5, 10, 10, tzinfo=UTC))
    refresh_orders(wh, "s", ["z", "b"])
    incremental = (_facts(wh), wh.rows("SELECT * FROM refund_facts ORDER BY refund_id"),
                   wh.rows("SELECT * FROM variant_daily_sales ORDER BY local_date, variant_id, channel"))
    refresh_store(wh, "s")
    full = (_facts(wh), wh.rows("SELECT * FROM refund_facts ORDER BY refund_id"),
            wh.rows("SELECT * FROM variant_daily_sales ORDER BY local_date, variant_id, channel"))
    assert incremental == full
    assert [(r[0], r[3]) for r in full[0]] == [("a", 2), ("b", 1), ("z", 1)]


def _variant_days(wh):
    return wh.rows("SELECT local_date, variant_id, product_id, units_sold, gross_sales, discounts, units_returned, "
                   "returns FROM variant_daily_sales ORDER BY local_date, variant_id, channel")


def test_refresh_of_orders_that_never_counted_adds_their_sales_to_stored_days(wh):
    _store(wh)
    may1, may3 = dt.datetime(2026, 5, 1, 15, tzinfo=UTC), dt.datetime(2026, 5, 3, 15, tzinfo=UTC)
    _order(wh, "a", may1)  # 2 x 10.00 of v0, 1.00 off
    _order(wh, "u", may1, status="voided")  # stored, not counted
    refresh_store(wh, "s")
    assert _variant_days(wh) == [(dt.date(2026, 5, 1), "v0", None, 2, D("20"), D("1"), 0, D("0"))]
    # New orders (one a test order), u now paid, and a refund on a day without sales.
    _order(wh, "n1", may1, customer="c2", lines=((3, "10.00", "1.00"),))
    _order(wh, "n2", may1, customer="c1", lines=((1, "4.00", "0"), (1, "6.00", "0.50")))
    _order(wh, "t", may1, test=True)
    _order(wh, "u", may1, status="paid")
    _refund(wh, "r1", "n1", may3, qty=1, subtotal="9.00")
    refresh_orders(wh, "s", ["n1", "n2", "t", "u"])
    incremental = _variant_days(wh)
    # v0 on 1 May: a (2 units, 20.00, 1.00) + n1 (3, 30.00, 1.00) + n2 (1, 4.00, 0) + u (2, 20.00, 1.00).
    assert incremental == [
        (dt.date(2026, 5, 1), "v0", None, 8, D("74"), D("3"), 0, D("0")),
        (dt.date(2026, 5, 1), "v1", None, 1, D("6"), D("0.5"), 0, D("0")),
        (dt.date(2026, 5, 3), "v0", None, 0, D("0"), D("0"), 1, D("9")),
    ]
    assert [(r[0], r[3]) for r in _facts(wh)] == [("a", 1), ("n1", 1), ("n2", 2), ("u", 3)]
    refresh_store(wh, "s")
    assert _variant_days(wh) == incremental


def test_refresh_orders_follows_an_order_moved_to_another_customer_and_a_deleted_order(wh):
    _store(wh)
    _order(wh, "o1", dt.datetime(2026, 5, 1, 15, tzinfo=UTC), customer="c1")
    _order(wh, "o2", dt.datetime(2026, 5, 2, 15, tzinfo=UTC), customer="c1")
    _order(wh, "o3", dt.datetime(2026, 5, 3, 15, tzinfo=UTC), customer="c2")
    _refund(wh, "r3", "o3", dt.datetime(2026, 5, 4, 15, tzinfo=UTC))
    refresh_store(wh, "s")
    wh.execute("UPDATE orders SET customer_id = 'c9' WHERE order_id = 'o1'")
    for table in ("refund_lines", "refunds", "order_lines", "orders"):
        wh.execute(f"DELETE FROM {table} WHERE order_id = 'o3'" if table != "refund_lines"
                   else "DELETE FROM refund_lines WHERE refund_id = 'r3'")
    refresh_orders(wh, "s", ["o1", "o3"])
    # o2 is now c1's first order; o3 and its refund are gone from the rollups.
    assert [(r[0], r[3]) for r in _facts(wh)] == [("o1", 1), ("o2", 1)]
    assert wh.rows("SELECT refund_id FROM refund_facts") == []
    assert wh.scalar("SELECT count(*) FROM variant_daily_sales WHERE local_date >= DATE '2026-05-03'") == 0


def test_a_store_rebuild_leaves_the_planner_statistics_fresh(wh):
    _store(wh)
    _order(wh, "o1", dt.datetime(2026, 3, 2, 15, tzinfo=UTC))
    refresh_store(wh, "s")
    if wh.dialect == "postgres":
        # ANALYZE ran: PostgreSQL knows how many rows the rollup and the raw tables hold (-1: never counted).
        assert wh.rows("SELECT relname, reltuples FROM pg_class WHERE oid IN ('orders'::regclass, 'order_facts'::regclass) "
                       "ORDER BY relname") == [("order_facts", 1.0), ("orders", 1.0)]
    else:
        assert wh.scalar("SELECT COUNT(*) FROM order_facts") == 1


def _lines(wh, order_id, lines):
    """``lines``: (product id or None, title or None, quantity, unit price, discount, gift card)."""
    wh.execute("DELETE FROM order_lines WHERE order_id = :o", {"o": order_id})
    wh.insert("order_lines", pl.DataFrame({
        "store_id": ["s"] * len(lines), "line_id": [f"{order_id}:{i}" for i in range(len(lines))],
        "order_id": [order_id] * len(lines), "product_id": [line[0] for line in lines],
        "variant_id": [f"v{i}" for i in range(len(lines))], "title": [line[1] for line in lines],
        "quantity": [line[2] for line in lines], "unit_price": [D(line[3]) for line in lines],
        "discount": [D(line[4]) for line in lines], "is_gift_card": [line[5] for line in lines]},
        schema_overrides={"product_id": pl.String, "title": pl.String, "quantity": pl.Int32}))


def _first_products(wh):
    return wh.rows("SELECT order_id, first_product_id, first_product_line_title FROM order_facts ORDER BY order_id")


def _customer_days(wh):
    return wh.rows("SELECT order_id, customer_first_date, previous_order_date FROM order_facts ORDER BY order_id")


def test_order_facts_keep_each_customer_first_and_previous_day_and_first_product(wh):
    from analytics.customers.orders import FIRST_PRODUCTS, first_orders
    from data.rollups import fill_customer_columns

    _store(wh)
    wh.insert("products", pl.DataFrame({"store_id": ["s"], "product_id": ["p1"], "title": ["Blue mug"]}))
    may = [dt.datetime(2026, 5, d, 15, tzinfo=UTC) for d in (1, 2, 3)]
    _order(wh, "o1", may[1])
    # Net 2 x 10.00 - 1.00 = 19.00 for p2 and 19.00 for p1: a tie, the smaller product id wins; the gift
    # card (50.00) and the line without a product (30.00) never count.
    _lines(wh, "o1", [("p2", "Mug", 2, "10.00", "1.00", False), ("p1", None, 1, "19.00", "0", False),
                      ("p9", "Card", 1, "50.00", "0", True), (None, "Custom", 1, "30.00", "0", False)])
    _order(wh, "o2", may[2])  # c1's second order: no first product
    _lines(wh, "o2", [("p3", "Plate", 1, "90.00", "0", False)])
    _order(wh, "g", may[1], customer="c2")  # only a gift card: no first product
    _lines(wh, "g", [("p9", "Card", 1, "50.00", "0", True)])
    _order(wh, "x", may[1], customer=None)  # no customer: no first order
    _lines(wh, "x", [("p3", "Plate", 1, "90.00", "0", False)])
    refresh_store(wh, "s")
    assert _first_products(wh) == [("g", None, None), ("o1", "p1", "p1"), ("o2", None, None), ("x", None, None)]
    may2 = dt.date(2026, 5, 2)
    assert _customer_days(wh) == [("g", may2, None), ("o1", may2, None), ("o2", may2, may2), ("x", None, None)]
    as_of = dt.date(2026, 5, 31)
    stored = wh.query(f"WITH {FIRST_PRODUCTS} SELECT customer_id, first_product_id, first_product "
                      "FROM first_products ORDER BY customer_id", {"store_id": "s", "as_of": as_of})
    # The catalogue's title first, as the old reading of the lines gives it.
    assert stored.rows() == [("c1", "p1", "Blue mug")]
    assert stored.equals(first_orders(wh, "s", as_of))
    # A late-arriving earlier order becomes c1's first: its main product moves there.
    _order(wh, "z", may[0])
    _lines(wh, "z", [("p2", "Mug", 3, "10.00", "0", False)])
    refresh_orders(wh, "s", ["z"])
    incremental = _first_products(wh)
    assert incremental == [("g", None, None), ("o1", None, None), ("o2", None, None), ("x", None, None),
                           ("z", "p2", "Mug")]
    may1 = dt.date(2026, 5, 1)
    days = [("g", may2, None), ("o1", may1, may1), ("o2", may1, may2), ("x", None, None), ("z", may1, None)]
    assert _customer_days(wh) == days
    refresh_store(wh, "s")
    assert _first_products(wh) == incremental and _customer_days(wh) == days
    assert first_orders(wh, "s", as_of).rows() == [("c1", "p2", "Mug")]
    # The migration's fill of a store written before the columns existed gives the same.
    wh.execute("UPDATE order_facts SET first_product_id = NULL, first_product_line_title = NULL, "
               "customer_first_date = NULL, previous_order_date = NULL")
    fill_customer_columns(wh)
    assert _first_products(wh) == incremental and _customer_days(wh) == days

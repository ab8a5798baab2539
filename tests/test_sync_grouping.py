"""Pages written in groups: one transaction for several pages leaves the warehouse
as writing them one after the other would, and a group never waits long."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from connectors.sync.runner import Batch, group_batches, merge_batches, saved_cursor, write_batches
from tests.builders import MONEY, TIMESTAMP, add_order, add_store, utc

T1, T2 = utc(2026, 11, 2, 15), utc(2026, 11, 2, 16)


def _order(order_id: str, updated: dt.datetime, lines: list[tuple[int, int, str]]) -> dict[str, pl.DataFrame]:
    """Frames for one order: ``lines`` holds (line number, quantity, unit price)."""
    total = sum(Decimal(p) * q for _, q, p in lines)
    orders = pl.DataFrame({
        "store_id": ["s"], "order_id": [order_id], "order_number": [order_id], "customer_id": ["c1"],
        "created_at": [T1], "updated_at": [updated], "currency": ["USD"], "financial_status": ["paid"],
        "channel": ["online_store"], "subtotal": [total], "total_discounts": [Decimal(0)],
        "total_shipping": [Decimal(0)], "total_tax": [Decimal(0)], "total_duties": [Decimal(0)],
        "total_price": [total], "is_test": [False],
    }, schema_overrides={"created_at": TIMESTAMP, "updated_at": TIMESTAMP, "subtotal": MONEY,
                         "total_discounts": MONEY, "total_shipping": MONEY, "total_tax": MONEY,
                         "total_duties": MONEY, "total_price": MONEY})
    order_lines = pl.DataFrame({
        "store_id": ["s"] * len(lines), "line_id": [f"{order_id}-{n}" for n, _, _ in lines],
        "order_id": [order_id] * len(lines), "variant_id": [f"v{n}" for n, _, _ in lines],
        "quantity": [q for _, q, _ in lines], "unit_price": [Decimal(p) for _, _, p in lines],
        "discount": [Decimal(0)] * len(lines), "tax": [Decimal(0)] * len(lines),
        "is_gift_card": [False] * len(lines),
    }, schema_overrides={"quantity": pl.Int32, "unit_price": MONEY, "discount": MONEY, "tax": MONEY})
    return {"orders": orders, "order_lines": order_lines}


def _page(order_id: str, updated: dt.datetime, lines, cursor: str) -> Batch:
    # As the connectors do: an order's lines are replaced by its current set.
    keys = pl.DataFrame({"store_id": ["s"], "order_id": [order_id]})
    return Batch(tables=_order(order_id, updated, lines), deletes={"order_lines": keys}, cursor=cursor)


def test_a_group_of_pages_ends_as_the_pages_written_in_turn(wh):
    add_store(wh)
    # Stored by an earlier sync: o1 with lines 1 and 9.
    add_order(wh, "o1", T1, [(1, "10.00", "0")])
    wh.upsert("order_lines", _order("o1", T1, [(9, 1, "99.00")])["order_lines"])
    pages = [
        _page("o1", T1, [(1, 1, "10.00"), (2, 2, "5.00")], "c1"),
        _page("o1", T2, [(1, 3, "10.00")], "c2"),  # edited between pages: line 2 removed, line 1 now 3 units
        _page("o2", T1, [(1, 1, "7.00")], "c3"),
    ]
    write_batches(wh, "s", "orders", pages, "c3")

    # Line 9 went with the first page's delete, line 2 with the second's.
    assert wh.rows("SELECT line_id, quantity FROM order_lines ORDER BY line_id") == [("o1-1", 3), ("o2-1", 1)]
    # o1: 3 x 10.00 = 30.00 gross, 3 units; o2: 1 x 7.00.
    assert wh.rows("SELECT order_id, gross_sales, units_sold FROM order_facts ORDER BY order_id") == [
        ("o1", Decimal("30.0000"), 3), ("o2", Decimal("7.0000"), 1)]
    assert wh.scalar("SELECT updated_at FROM orders WHERE order_id = 'o1'") == T2
    assert saved_cursor(wh, "s", "orders") == "c3"


def test_a_failing_group_writes_nothing_and_keeps_the_cursor(wh):
    add_store(wh)
    good = _page("o1", T1, [(1, 1, "10.00")], "c1")
    broken = Batch(tables={"no_such_table": pl.DataFrame({"x": [1]})}, cursor="c2")
    with pytest.raises(Exception, match="unknown table"):
        write_batches(wh, "s", "orders", [good, broken], "c2")
    assert wh.scalar("SELECT count(*) FROM orders") == 0
    assert saved_cursor(wh, "s", "orders") is None


def test_on_a_newer_only_table_the_newest_version_wins_whatever_its_page():
    def customer(country, updated):
        return pl.DataFrame({"store_id": ["s"], "customer_id": ["k"], "country": [country], "updated_at": [updated]})

    newer, older = Batch(tables={"customers": customer("US", T2)}), Batch(tables={"customers": customer("FR", T1)})
    for batch in (newer, older):
        batch.newer_only = {"customers": "updated_at"}
    tables, _, _ = merge_batches([newer, older])
    assert tables["customers"]["country"].to_list() == ["US"]
    # Without the rule the later page wins, as an upsert in turn would leave it.
    plain, _, _ = merge_batches([Batch(tables={"customers": customer("US", T2)}),
                                 Batch(tables={"customers": customer("FR", T1)})])
    assert plain.get("customers")["country"].to_list() == ["US", "FR"]  # the upsert keeps the last: FR


def _rows(n: int) -> Batch:
    return Batch(tables={"customers": pl.DataFrame({"store_id": ["s"] * n, "customer_id": [str(i) for i in range(n)]})})


def test_groups_close_on_rows_or_on_the_first_pages_age():
    # Rows: 3 + 3 = 6 < 7, + 3 = 9 >= 7 closes the group; the last two pages end the stream.
    sizes = [len(g) for g in group_batches([_rows(3)] * 5, rows=7, seconds=60, clock=lambda: 0.0)]
    assert sizes == [3, 2]
    # Time: pages read at 0, 1, 2.5 (2.5 - 0 >= 2 closes), then 3, 4 (4 - 3 < 2, end of stream).
    ticks = iter([0, 0, 1, 2.5, 3, 3, 4])
    sizes = [len(g) for g in group_batches([_rows(1)] * 5, rows=100, seconds=2, clock=lambda: next(ticks))]
    assert sizes == [3, 2]


def test_pages_read_before_a_failure_are_still_handed_over():
    def stream():
        yield _rows(1)
        yield _rows(2)
        raise ConnectionError("HTTP 503")

    groups = group_batches(stream(), rows=100, seconds=60, clock=lambda: 0.0)
    assert [b.row_count() for b in next(groups)] == [1, 2]
    with pytest.raises(ConnectionError):
        next(groups)

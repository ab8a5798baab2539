"""Small stores for tests, written as raw warehouse rows.

Money goes in as strings (exact), timestamps as aware datetimes (UTC in the
warehouse). Order lines are numbered from 1 (``<order_id>-1``, ...) and
refunds name the lines they return by that number.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

import polars as pl

UTC = dt.timezone.utc
MONEY = pl.Decimal(18, 4)
TIMESTAMP = pl.Datetime("us", "UTC")


def utc(*parts: int) -> dt.datetime:
    """``utc(2026, 3, 2, 4, 30)``: an aware UTC datetime."""
    return dt.datetime(*parts, tzinfo=UTC)


def local(timezone: str, *parts: int) -> dt.datetime:
    """A wall-clock time in ``timezone``, as the aware UTC datetime stored in the warehouse."""
    return dt.datetime(*parts, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def add_store(wh, store_id: str = "s", *, timezone: str = "America/New_York", currency: str = "USD") -> None:
    wh.insert("stores", pl.DataFrame({
        "store_id": [store_id], "platform": ["csv"], "name": [f"Store {store_id}"], "currency": [currency],
        "timezone": [timezone], "created_at": [utc(2020, 1, 1)],
    }))


def add_order(
    wh,
    order_id: str,
    created: dt.datetime,
    lines: Sequence[tuple] = ((1, "10.00", "0"),),
    *,
    store_id: str = "s",
    customer: str | None = "c1",
    shipping: str = "0",
    tax: str = "0",
    duties: str = "0",
    status: str = "paid",
    cancelled: dt.datetime | None = None,
    test: bool = False,
    channel: str | None = "online_store",
    country: str | None = "US",
    currency: str = "USD",
    presentment_currency: str | None = None,
    presentment_total: str | None = None,
) -> None:
    """One order and its lines.

    ``lines`` holds ``(quantity, unit_price, discount)`` or
    ``(quantity, unit_price, discount, is_gift_card)``, where ``discount`` is
    the line's own discount plus its share of order-level discounts, as the
    connectors write it. Order totals are worked out from the lines.
    """
    rows = [(int(line[0]), Decimal(line[1]), Decimal(line[2]), bool(line[3]) if len(line) > 3 else False)
            for line in lines]
    gross = sum((q * p for q, p, _, _ in rows), Decimal(0))
    discounts = sum((d for _, _, d, _ in rows), Decimal(0))
    total = gross - discounts + Decimal(shipping) + Decimal(tax) + Decimal(duties)
    wh.upsert("orders", pl.DataFrame({
        "store_id": [store_id], "order_id": [order_id], "order_number": [order_id], "customer_id": [customer],
        "created_at": [created], "processed_at": [created], "updated_at": [cancelled or created],
        "cancelled_at": [cancelled], "currency": [currency], "presentment_currency": [presentment_currency or currency],
        "financial_status": [status], "channel": [channel], "country": [country],
        "subtotal": [gross - discounts], "total_discounts": [discounts], "total_shipping": [Decimal(shipping)],
        "total_tax": [Decimal(tax)], "total_duties": [Decimal(duties)], "total_price": [total],
        "presentment_total_price": [Decimal(presentment_total) if presentment_total else total],
        "is_test": [test],
    }, schema_overrides={
        "customer_id": pl.String, "channel": pl.String, "country": pl.String,
        "created_at": TIMESTAMP, "processed_at": TIMESTAMP, "updated_at": TIMESTAMP, "cancelled_at": TIMESTAMP,
        "subtotal": MONEY, "total_discounts": MONEY, "total_shipping": MONEY, "total_tax": MONEY,
        "total_duties": MONEY, "total_price": MONEY, "presentment_total_price": MONEY,
    }))
    n = len(rows)
    wh.upsert("order_lines", pl.DataFrame({
        "store_id": [store_id] * n, "line_id": [f"{order_id}-{i + 1}" for i in range(n)],
        "order_id": [order_id] * n, "product_id": [f"p{i + 1}" for i in range(n)],
        "variant_id": [f"v{i + 1}" for i in range(n)], "sku": [f"SKU{i + 1}" for i in range(n)],
        "quantity": [q for q, _, _, _ in rows], "unit_price": [p for _, p, _, _ in rows],
        "discount": [d for _, _, d, _ in rows], "tax": [Decimal(0)] * n,
        "is_gift_card": [g for _, _, _, g in rows],
    }, schema_overrides={"quantity": pl.Int32, "unit_price": MONEY, "discount": MONEY, "tax": MONEY}))


def add_refund(
    wh,
    refund_id: str,
    order_id: str,
    created: dt.datetime,
    lines: Mapping[int, tuple[int, str]] | None = None,
    *,
    store_id: str = "s",
    shipping: str = "0",
    tax: str = "0",
) -> None:
    """One refund: ``lines`` maps a line number of the order to ``(quantity, subtotal)``."""
    lines = lines or {}
    goods = sum((Decimal(s) for _, s in lines.values()), Decimal(0))
    wh.upsert("refunds", pl.DataFrame({
        "store_id": [store_id], "refund_id": [refund_id], "order_id": [order_id], "created_at": [created],
        "shipping_refunded": [Decimal(shipping)], "tax_refunded": [Decimal(tax)],
        "total_refunded": [goods + Decimal(shipping) + Decimal(tax)],
    }, schema_overrides={"created_at": TIMESTAMP, "shipping_refunded": MONEY, "tax_refunded": MONEY,
                         "total_refunded": MONEY}))
    if lines:
        n = len(lines)
        wh.upsert("refund_lines", pl.DataFrame({
            "store_id": [store_id] * n, "refund_id": [refund_id] * n,
            "line_id": [f"{order_id}-{no}" for no in lines],
            "quantity": [q for q, _ in lines.values()], "subtotal": [Decimal(s) for _, s in lines.values()],
            "tax": [Decimal(0)] * n, "restock": [True] * n,
        }, schema_overrides={"quantity": pl.Int32, "subtotal": MONEY, "tax": MONEY}))

"""PayPal transaction details (``transaction_info``, as Transaction Search sends them) → ``transactions`` rows.

- Kinds by event code: ``T0006`` (checkout) and ``T0007`` (website payment)
  are ``sale``; ``T1107`` is ``refund`` (its ``paypal_reference_id`` names the
  sale, kept as ``parent_id``); ``T1106`` is ``chargeback`` (a payment
  reversal). Every other code (``T0400`` withdrawals to a bank, holds,
  currency conversions, transfers) is not a payment of an order and is skipped.
- Money: PayPal signs its figures from the balance's side: a sale's gross is
  positive and its fee negative (``-0.64``), a refund's gross negative and the
  fee it gives back positive. ``amount`` is the gross without its sign,
  ``fee`` is PayPal's charge (``-fee_amount``: a sale's 0.64, a refund's −0.30
  returned), ``net`` is what moved the balance (gross + fee_amount), so Σ fee
  is what PayPal kept and Σ net what reached the balance, as for Stripe.
- ``status``: ``S`` success, ``P`` pending, ``D`` failure (denied), ``V``
  reversed (refunded to the sender).
- ``order_id``: the ``invoice_id`` the shop sent with the payment (WooCommerce
  and Shopify send their order number or id), else the ``custom_field``; a
  refund or chargeback without either takes its sale's.
- Dates come as ``2026-07-01T09:15:22-0400`` (the ISO form only when a header
  the SDK cannot send asks for it); both forms are read, stored in UTC.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable, Mapping

import polars as pl

UTC = dt.timezone.utc
MONEY = pl.Decimal(18, 4)
TIMESTAMP = pl.Datetime("us", "UTC")

KINDS = {"T0006": "sale", "T0007": "sale", "T1107": "refund", "T1106": "chargeback"}
STATUS = {"S": "success", "P": "pending", "D": "failure", "V": "reversed"}

SCHEMA: dict[str, pl.DataType] = {
    "store_id": pl.String, "transaction_id": pl.String, "order_id": pl.String, "provider": pl.String,
    "kind": pl.String, "status": pl.String, "amount": MONEY, "fee": MONEY, "net": MONEY,
    "currency": pl.String, "created_at": TIMESTAMP, "parent_id": pl.String, "updated_at": TIMESTAMP,
    "_synced_at": TIMESTAMP,
}
# An older state of a transaction never overwrites a newer one.
NEWER_ONLY = {"transactions": "updated_at"}


def parse_time(value: str | None) -> dt.datetime | None:
    """``2026-07-01T09:15:22-0400``, ``…+0000``, ``…Z`` or ``…-04:00`` → an aware UTC datetime."""
    if not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    elif len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    parsed = dt.datetime.fromisoformat(text)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def money(field: Mapping[str, Any] | None) -> tuple[Decimal, str | None]:
    """A money object's signed value (exact) and currency; 0 when absent."""
    if not field or field.get("value") in (None, ""):
        return Decimal(0), (field or {}).get("currency_code")
    return Decimal(str(field["value"])), field.get("currency_code")


def order_of(info: Mapping[str, Any]) -> str | None:
    for key in ("invoice_id", "custom_field"):
        value = (info.get(key) or "").strip()
        if value:
            return value
    return None


def transaction_row(detail: Mapping[str, Any], store_id: str,
                    orders_of_sales: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The row of one transaction detail, or None for an event that is not a sale, refund or chargeback.

    ``orders_of_sales`` maps sale ids to their orders: filled by sales, read by
    refunds and chargebacks that name no order of their own.
    """
    info = detail.get("transaction_info") or {}
    kind = KINDS.get(info.get("transaction_event_code") or "")
    if kind is None or not info.get("transaction_id"):
        return None
    gross, currency = money(info.get("transaction_amount"))
    fee_amount, _ = money(info.get("fee_amount"))
    parent = info.get("paypal_reference_id") if kind != "sale" else None
    order_id = order_of(info)
    if orders_of_sales is not None:
        if kind == "sale" and order_id:
            orders_of_sales[info["transaction_id"]] = order_id
        elif order_id is None and parent:
            order_id = orders_of_sales.get(parent)
    created = parse_time(info.get("transaction_initiation_date"))
    return {
        "store_id": store_id, "transaction_id": info["transaction_id"], "order_id": order_id,
        "provider": "paypal", "kind": kind,
        "status": STATUS.get(info.get("transaction_status") or "", "pending"),
        "amount": abs(gross), "fee": -fee_amount, "net": gross + fee_amount,
        "currency": (currency or "").upper() or None, "created_at": created, "parent_id": parent,
        "updated_at": parse_time(info.get("transaction_updated_date")) or created,
    }


def transactions_frame(rows: Iterable[dict[str, Any]], synced_at: dt.datetime) -> pl.DataFrame:
    data = [{**row, "_synced_at": synced_at} for row in rows]
    return pl.DataFrame(data, schema=SCHEMA, orient="row")

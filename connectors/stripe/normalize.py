"""Stripe objects (plain dicts, as the API sends them) → warehouse rows.

The rules (also in the package docstring):

- One ``transactions`` row per charge (kind ``authorization`` while uncaptured,
  ``sale`` when captured at once, ``capture`` when captured after a separate
  authorization), per refund (``refund``) and per dispute (``chargeback``, id
  = the dispute id).
- ``amount`` is positive, in the currency of the account's balance when the
  balance transaction is known (``abs(balance_transaction.amount)``), else in
  the currency the buyer paid. ``fee`` and ``net`` are the balance
  transactions' own signed figures (a refund's net is negative, a returned
  fee is a negative fee), so Σ fee is what Stripe charged and Σ net is what
  reached the balance. The buyer's amount and currency are kept as
  ``presentment_amount`` / ``presentment_currency`` with the balance's
  ``exchange_rate``.
- ``status``: ``success``, ``pending``, ``failure`` or ``voided`` (an
  authorization released uncaptured); chargebacks: ``pending`` while the
  dispute is open, ``success`` when lost (the money is gone), ``reversed``
  when won or closed without a chargeback.
- ``order_id``: the first of the metadata keys ``order_id``,
  ``woocommerce_order_id``, ``shopify_order_id`` on the charge (refunds and
  disputes use their charge's; a refund's own metadata first). Stripe rows
  never create orders.
- ``updated_at``: the time of the state the row holds: the Stripe event's
  ``created`` for rows from events and webhooks, the time of the read for rows
  from list calls (Stripe objects carry no last-modified time).

A column a payload does not carry (an unexpanded balance transaction, a refund's
charge given as an id) is left out of the row, so an upsert keeps what is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from decimal import Decimal
from typing import Any, Iterable, Mapping

import polars as pl

from data.contacts import SCHEMA as CONTACTS_SCHEMA
from data.contacts import contact_row

from connectors.stripe.money import currency_code, from_minor_units

UTC = dt.timezone.utc
MONEY = pl.Decimal(18, 4)
TIMESTAMP = pl.Datetime("us", "UTC")

ORDER_METADATA_KEYS = ("order_id", "woocommerce_order_id", "shopify_order_id")

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "transactions": {
        "store_id": pl.String, "transaction_id": pl.String, "order_id": pl.String, "provider": pl.String,
        "kind": pl.String, "status": pl.String, "amount": MONEY, "fee": MONEY, "net": MONEY,
        "currency": pl.String, "created_at": TIMESTAMP, "parent_id": pl.String,
        "payment_reference": pl.String, "presentment_amount": MONEY, "presentment_currency": pl.String,
        "exchange_rate": pl.Decimal(18, 8), "updated_at": TIMESTAMP, "_synced_at": TIMESTAMP,
    },
    "disputes": {
        "store_id": pl.String, "dispute_id": pl.String, "transaction_id": pl.String, "amount": MONEY,
        "currency": pl.String, "reason": pl.String, "status": pl.String, "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP, "_synced_at": TIMESTAMP,
    },
    "payouts": {
        "store_id": pl.String, "payout_id": pl.String, "amount": MONEY, "currency": pl.String,
        "status": pl.String, "created_at": TIMESTAMP, "arrival_date": pl.Date, "updated_at": TIMESTAMP,
        "_synced_at": TIMESTAMP,
    },
    "customers": {
        "store_id": pl.String, "customer_id": pl.String, "email_hash": pl.String, "created_at": TIMESTAMP,
        "country": pl.String, "updated_at": TIMESTAMP, "_synced_at": TIMESTAMP,
    },
    "customer_contacts": CONTACTS_SCHEMA,
}

# The column each table's rows are ordered by: an older state never overwrites a newer one.
NEWER_ONLY = {table: "updated_at" for table in SCHEMAS}

# Columns that come from balance transactions; left out when those are not known.
BALANCE_COLUMNS = ("amount", "currency", "fee", "net", "exchange_rate")

CHARGE_STATUS = {"succeeded": "success", "pending": "pending", "failed": "failure"}
REFUND_STATUS = {"succeeded": "success", "pending": "pending", "requires_action": "pending",
                 "failed": "failure", "canceled": "failure"}
DISPUTE_LOST, DISPUTE_REVERSED = {"lost"}, {"won", "warning_closed", "prevented"}

Row = dict[str, Any]
Rows = dict[str, list[Row]]


def timestamp(seconds: int | float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(int(seconds), UTC)


def email_hash(email: str | None) -> str | None:
    """sha256 hex of the trimmed, lower-cased address (the raw address is never stored)."""
    email = (email or "").strip().lower()
    return hashlib.sha256(email.encode()).hexdigest() if email else None


def object_id(value: Any) -> str | None:
    """The id of a field that is either an id or an expanded object."""
    if isinstance(value, Mapping):
        return value.get("id")
    return value or None


def order_id_of(*objects: Any) -> str | None:
    """The store order a payment belongs to, from the first object whose metadata names one."""
    for obj in objects:
        metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
        for key in ORDER_METADATA_KEYS:
            value = (metadata or {}).get(key)
            if value not in (None, ""):
                return str(value).strip()
    return None


def balance_figures(*balance_transactions: Any) -> Row | None:
    """Amount, fee, net (summed) and exchange rate of expanded balance transactions.

    The first one is the transaction's own (its amount and currency); later ones
    (a failure's reversal, a dispute's reinstatement) add their fee and net.
    None given (nothing moved through the balance yet: an authorization, a
    pending refund, an inquiry) → fee and net 0. Returns None when one of them
    is only an id (not expanded): the figures are unknown.
    """
    present = [b for b in balance_transactions if b]
    if any(not isinstance(b, Mapping) for b in present):
        return None
    if not present:
        return {"fee": Decimal(0), "net": Decimal(0), "exchange_rate": None}
    first = present[0]
    currency = first["currency"]
    rate = first.get("exchange_rate")
    return {
        "amount": abs(from_minor_units(first["amount"], currency)),
        "currency": currency_code(currency),
        "fee": sum((from_minor_units(b["fee"], b["currency"]) for b in present), Decimal(0)),
        "net": sum((from_minor_units(b["net"], b["currency"]) for b in present), Decimal(0)),
        "exchange_rate": None if rate is None else Decimal(str(rate)),
    }


def _money(row: Row, own_amount: int, own_currency: str, balances: Row | None) -> Row:
    """Fill amount/currency/fee/net from the balance, or the buyer's amount when no balance moved yet."""
    row["presentment_amount"] = from_minor_units(own_amount, own_currency)
    row["presentment_currency"] = currency_code(own_currency)
    row["amount"] = row["presentment_amount"]
    row["currency"] = row["presentment_currency"]
    if balances is not None:  # else unknown: fee, net and rate stay out of the row (stored ones are kept)
        row.update(balances)
    return row


def charge_kind(charge: Mapping[str, Any]) -> str:
    if not charge.get("captured"):
        return "sale" if charge.get("status") == "failed" else "authorization"
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    separately = card.get("capture_before") is not None or (
        charge.get("amount_captured") not in (None, 0) and charge["amount_captured"] < charge["amount"]
    )
    return "capture" if separately else "sale"


def charge_status(charge: Mapping[str, Any]) -> str:
    if not charge.get("captured") and charge.get("refunded") and charge.get("status") == "succeeded":
        return "voided"  # an authorization released without capture
    return CHARGE_STATUS.get(charge.get("status"), charge.get("status") or "pending")


def charge_rows(charge: Mapping[str, Any], store_id: str, updated_at: dt.datetime) -> Rows:
    kind = charge_kind(charge)
    amount = charge.get("amount_captured") if kind in ("sale", "capture") and charge.get("captured") else None
    balances = balance_figures(charge.get("balance_transaction"), charge.get("failure_balance_transaction"))
    row = {
        "store_id": store_id, "transaction_id": charge["id"], "order_id": order_id_of(charge),
        "provider": "stripe", "kind": kind, "status": charge_status(charge),
        "created_at": timestamp(charge["created"]), "parent_id": None,
        "payment_reference": object_id(charge.get("payment_intent")), "updated_at": updated_at,
    }
    _money(row, amount if amount else charge["amount"], charge["currency"], balances)
    rows: Rows = {"transactions": [row]}
    for refund in ((charge.get("refunds") or {}).get("data") or []):
        _merge(rows, refund_rows({**refund, "charge": charge}, store_id, updated_at))
    return rows


def refund_rows(refund: Mapping[str, Any], store_id: str, updated_at: dt.datetime) -> Rows:
    charge = refund.get("charge")
    balances = balance_figures(refund.get("balance_transaction"), refund.get("failure_balance_transaction"))
    row = {
        "store_id": store_id, "transaction_id": refund["id"], "provider": "stripe", "kind": "refund",
        "status": REFUND_STATUS.get(refund.get("status"), refund.get("status") or "pending"),
        "created_at": timestamp(refund["created"]), "parent_id": object_id(charge),
        "payment_reference": object_id(refund.get("payment_intent")), "updated_at": updated_at,
    }
    order_id = order_id_of(refund, charge)
    if order_id is not None or isinstance(charge, Mapping):
        row["order_id"] = order_id
    _money(row, refund["amount"], refund["currency"], balances)
    return {"transactions": [row]}


def dispute_rows(dispute: Mapping[str, Any], store_id: str, updated_at: dt.datetime) -> Rows:
    charge = dispute.get("charge")
    moved = dispute.get("balance_transactions") or []
    withdrawal = next((b for b in moved if isinstance(b, Mapping) and b.get("amount", 0) < 0), None)
    ordered = [withdrawal, *[b for b in moved if b is not withdrawal]] if withdrawal else list(moved)
    balances = balance_figures(*ordered)
    status = dispute.get("status") or ""
    chargeback = {
        "store_id": store_id, "transaction_id": dispute["id"], "provider": "stripe", "kind": "chargeback",
        "status": "success" if status in DISPUTE_LOST else "reversed" if status in DISPUTE_REVERSED else "pending",
        "created_at": timestamp(dispute["created"]), "parent_id": object_id(charge),
        "payment_reference": object_id(dispute.get("payment_intent")), "updated_at": updated_at,
    }
    order_id = order_id_of(dispute, charge)
    if order_id is not None or isinstance(charge, Mapping):
        chargeback["order_id"] = order_id
    _money(chargeback, dispute["amount"], dispute["currency"], balances)
    row = {
        "store_id": store_id, "dispute_id": dispute["id"], "transaction_id": object_id(charge),
        "amount": chargeback["amount"], "currency": chargeback["currency"], "reason": dispute.get("reason"),
        "status": status or None, "created_at": timestamp(dispute["created"]), "updated_at": updated_at,
    }
    return {"transactions": [chargeback], "disputes": [row]}


def payout_rows(payout: Mapping[str, Any], store_id: str, updated_at: dt.datetime) -> Rows:
    arrival = timestamp(payout.get("arrival_date"))
    return {"payouts": [{
        "store_id": store_id, "payout_id": payout["id"],
        "amount": from_minor_units(payout["amount"], payout["currency"]),
        "currency": currency_code(payout["currency"]), "status": payout.get("status"),
        "created_at": timestamp(payout["created"]), "arrival_date": arrival.date() if arrival else None,
        "updated_at": updated_at,
    }]}


def deleted_customer(event: Mapping[str, Any], seen: set[tuple[str, str]] | None = None) -> str | None:
    """The customer id of a ``customer.deleted`` event (None for any other event, or one already seen).

    A deleted customer's row is removed: it holds their email hash and
    country, and Stripe never brings a deleted customer back. Their charges,
    refunds and orders keep the ``customer_id``, so past purchases still count
    as one buyer's.
    """
    if event.get("type") != "customer.deleted":
        return None
    customer_id = ((event.get("data") or {}).get("object") or {}).get("id")
    if not customer_id:
        return None
    if seen is not None:
        if ("customer", customer_id) in seen:
            return None
        seen.add(("customer", customer_id))
    return str(customer_id)


def customer_keys(store_id: str, customer_ids: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"store_id": [store_id] * len(customer_ids), "customer_id": customer_ids},
                        schema={"store_id": pl.String, "customer_id": pl.String})


def customer_rows(customer: Mapping[str, Any], store_id: str, updated_at: dt.datetime) -> Rows:
    if customer.get("deleted"):
        return {}
    address = customer.get("address") or ((customer.get("shipping") or {}).get("address")) or {}
    rows: Rows = {"customers": [{
        "store_id": store_id, "customer_id": customer["id"], "email_hash": email_hash(customer.get("email")),
        "created_at": timestamp(customer.get("created")), "country": address.get("country"),
        "updated_at": updated_at,
    }]}
    shipping = customer.get("shipping") or {}
    contact = contact_row(store_id, customer["id"], name=customer.get("name") or shipping.get("name"),
                          email=customer.get("email"), phone=customer.get("phone") or shipping.get("phone"),
                          updated_at=updated_at)
    if contact is not None:
        rows["customer_contacts"] = [{k: v for k, v in contact.items() if k != "_synced_at"}]
    return rows


ROWS_OF = {
    "charge": charge_rows,
    "refund": refund_rows,
    "dispute": dispute_rows,
    "payout": payout_rows,
    "customer": customer_rows,
}


def rows_of(obj: Mapping[str, Any], store_id: str, updated_at: dt.datetime) -> Rows:
    """Rows for any object Stripe sends (charges, refunds, disputes, payouts, customers); {} for others."""
    build = ROWS_OF.get(obj.get("object", ""))
    return build(obj, store_id, updated_at) if build else {}


def _merge(into: Rows, more: Rows) -> Rows:
    for table, rows in more.items():
        into.setdefault(table, []).extend(rows)
    return into


def merge_rows(parts: Iterable[Rows]) -> Rows:
    out: Rows = {}
    for part in parts:
        _merge(out, part)
    return out


def frames(rows: Rows, synced_at: dt.datetime) -> list[dict[str, pl.DataFrame]]:
    """Frames for ``rows``, one group per set of columns present (absent columns keep stored values).

    Within a table, the last row for a key wins (callers add rows oldest first).
    """
    groups: dict[tuple[str, ...], dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    shapes: list[tuple[str, ...]] = []
    for table, table_rows in rows.items():
        for row in table_rows:
            shape = tuple(sorted(row))
            if shape not in shapes:
                shapes.append(shape)
            groups[shape][table].append(row)
    out = []
    for shape in shapes:
        tables = {}
        for table, table_rows in groups[shape].items():
            schema = {c: t for c, t in SCHEMAS[table].items() if c in shape or c == "_synced_at"}
            data = [{**r, "_synced_at": synced_at} for r in table_rows]
            tables[table] = pl.DataFrame(data, schema=schema, orient="row")
        out.append(tables)
    return out

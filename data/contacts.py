"""Customer contacts: the one table holding a person's name, email and phone.

Connectors and imports add rows with :func:`contact_row` (the same cleaning
for every source); the order and customer lists join them by customer id. While the
``STORE_CUSTOMER_CONTACTS`` setting is off the warehouse writes nothing to
the table (see :func:`data.warehouse.withheld`). :func:`erase_customer`
removes one person's contact details. Nothing here is ever part of what an AI
provider receives (analytics/insights/facts.py holds no customer data).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Iterable, Mapping

import polars as pl

from data.settings import setting
from data.warehouse import Warehouse, WarehouseError

TABLE = "customer_contacts"
SCHEMA: dict[str, pl.DataType] = {
    "store_id": pl.String, "customer_id": pl.String, "name": pl.String, "email": pl.String, "phone": pl.String,
    "updated_at": pl.Datetime("us", "UTC"), "_synced_at": pl.Datetime("us", "UTC"),
}
OFF = ("0", "off", "false", "no")


def contacts_stored() -> bool:
    """Whether contact details are kept (``STORE_CUSTOMER_CONTACTS``, default on)."""
    return (setting("STORE_CUSTOMER_CONTACTS") or "on").strip().lower() not in OFF


def clean(value: Any) -> str | None:
    """Text trimmed, inner runs of spaces made one; ``None`` for nothing."""
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def person_name(*parts: Any) -> str | None:
    """A name from its parts (first and last name, or a full name), blanks skipped."""
    return clean(" ".join(p for p in (clean(x) for x in parts) if p))


def email_hash(email: Any) -> str | None:
    """SHA-256 of the trimmed, lower-cased address (what the analytics tables keep)."""
    text = clean(email)
    return hashlib.sha256(text.lower().encode("utf-8")).hexdigest() if text else None


def contact_row(store_id: str, customer_id: Any, *, name: Any = None, email: Any = None, phone: Any = None,
                updated_at: dt.datetime | None = None, synced_at: dt.datetime | None = None) -> dict | None:
    """One ``customer_contacts`` row, or ``None`` when there is no customer or nothing to keep."""
    name, email, phone = clean(name), clean(email), clean(phone)
    if customer_id is None or not (name or email or phone):
        return None
    return {"store_id": store_id, "customer_id": str(customer_id), "name": name,
            "email": email.lower() if email else None, "phone": phone, "updated_at": updated_at,
            "_synced_at": synced_at}


def contacts_frame(rows: Iterable[Mapping[str, Any] | None]) -> pl.DataFrame:
    """The rows (``None`` skipped) as a typed frame; the last row of a customer wins."""
    kept = [r for r in rows if r]
    frame = pl.DataFrame({c: [r.get(c) for r in kept] for c in SCHEMA}, schema=SCHEMA)
    return frame.unique(["store_id", "customer_id"], keep="last", maintain_order=True)


def erase_customer(wh: Warehouse, store_id: str, *, customer_id: str | None = None,
                   email: str | None = None) -> list[str]:
    """Remove a person's contact row and the email hash of their customer row; return their customer ids.

    Found by ``customer_id``, or by ``email`` (in the contact rows or by its hash). Orders, refunds and
    scores keep the customer id (an opaque number), so past sales still add up. One transaction.
    """
    if (customer_id is None) == (email is None):
        raise WarehouseError("give either a customer id or an email address")
    params: dict[str, Any] = {"s": store_id}
    if customer_id is not None:
        params["c"] = str(customer_id)
        where = "customer_id = :c"
    else:
        params["e"], params["h"] = (clean(email) or "").lower(), email_hash(email)
        where = (f"customer_id IN (SELECT customer_id FROM {TABLE} WHERE store_id = :s AND email = :e) "
                 "OR customer_id IN (SELECT customer_id FROM customers WHERE store_id = :s AND email_hash = :h)")
    ids = sorted({r[0] for r in wh.rows(
        f"SELECT customer_id FROM {TABLE} WHERE store_id = :s AND ({where}) UNION "
        f"SELECT customer_id FROM customers WHERE store_id = :s AND ({where})", params)})
    with wh.transaction():
        for one in ids:
            wh.execute(f"DELETE FROM {TABLE} WHERE store_id = :s AND customer_id = :c", {"s": store_id, "c": one})
            wh.execute("UPDATE customers SET email_hash = NULL WHERE store_id = :s AND customer_id = :c",
                       {"s": store_id, "c": one})
    return ids


def erase_all(wh: Warehouse, store_id: str) -> int:
    """Empty the store's contact rows (after turning ``STORE_CUSTOMER_CONTACTS`` off); return how many."""
    count = int(wh.scalar(f"SELECT COUNT(*) FROM {TABLE} WHERE store_id = :s", {"s": store_id}) or 0)
    wh.execute(f"DELETE FROM {TABLE} WHERE store_id = :s", {"s": store_id})
    return count

"""Stripe webhooks: verify a delivery, name it, apply its object.

Signature: ``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]``; each
``v1`` is HMAC-SHA256 (hex) of ``"<t>.<raw body>"`` with the endpoint's signing
secret, and any one of them may match (Stripe signs with old and new secrets
while a secret rolls). A timestamp more than 5 minutes old or more than 5
minutes ahead is refused (replays; Stripe's library checks only the past).

Order: Stripe retries for days and does not keep order. Each row keeps in
``updated_at`` the ``created`` time of the event whose object it holds (or the
time a list call read it), and a delivery whose event is older than the stored
row leaves that row as it is. Deliveries are deduplicated on ``event.id`` by
the receiver; applying one twice writes the same values again.

Balance transactions (fee, net) are ids in event payloads: with ``source`` they
are fetched through the API, without it the stored fee and net are kept (a new
row gets them at the next sync). A ``charge.refunded`` event also reads the
charge's refunds when the payload does not list them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any, Mapping

import polars as pl

from connectors.stripe import normalize
from connectors.webhook_errors import WebhookRejected
from data.writes import Changes, write

if TYPE_CHECKING:
    from connectors.stripe.source import StripeSource
    from data.warehouse import Warehouse

SECRET_SETTING = "STRIPE_WEBHOOK_SECRET"
SIGNATURE_HEADER = "stripe-signature"
TOLERANCE_SECONDS = 300
WRITE_ORDER = ("transactions", "disputes", "payouts", "customers", "customer_contacts")


def _signature_parts(header: str) -> tuple[int | None, list[str]]:
    stamp, signatures = None, []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and stamp is None:
            try:
                stamp = int(value)
            except ValueError:
                return None, []
        elif name == "v1" and value:
            signatures.append(value.strip())
    return stamp, signatures


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: float | None = None) -> None:
    """Raise WebhookRejected unless a v1 signature over the raw body matches and the time is within 5 minutes."""
    if not secret:
        raise WebhookRejected("STRIPE_WEBHOOK_SECRET is not set, so no Stripe delivery can be checked.")
    header = headers.get("stripe-signature")
    if not header:
        raise WebhookRejected("the delivery has no Stripe-Signature header.")
    stamp, signatures = _signature_parts(header)
    if stamp is None or not signatures:
        raise WebhookRejected("the Stripe-Signature header has no timestamp or no v1 signature.")
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected.encode(), s.encode()) for s in signatures):
        raise WebhookRejected("the Stripe signature does not match the body.")
    now = time.time() if now is None else now
    if stamp < now - TOLERANCE_SECONDS:
        raise WebhookRejected("the Stripe signature is more than 5 minutes old.")
    if stamp > now + TOLERANCE_SECONDS:
        raise WebhookRejected("the Stripe signature is dated more than 5 minutes ahead.")


def _event(body: bytes) -> dict:
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookRejected("the Stripe delivery is not JSON.") from None
    if not isinstance(event, dict) or not event.get("id"):
        raise WebhookRejected("the Stripe delivery is not an event.")
    return event


def event_id(headers: Mapping[str, str], body: bytes) -> str:
    return str(_event(body)["id"])


def topic(headers: Mapping[str, str], body: bytes) -> str:
    return str(_event(body).get("type") or "")


def store_id(headers: Mapping[str, str], body: bytes) -> str | None:
    """``stripe:<account>`` for Connect events (they name the account); None otherwise."""
    account = _event(body).get("account")
    return f"stripe:{account}" if account else None


def _store_of(wh: "Warehouse", payload: Mapping[str, Any]) -> str:
    if payload.get("account"):
        return f"stripe:{payload['account']}"
    stores = [r[0] for r in wh.rows("SELECT store_id FROM stores WHERE platform = 'stripe' ORDER BY store_id")]
    if len(stores) != 1:
        raise LookupError("a Stripe event could not be matched to one Stripe store: sync the account first.")
    return stores[0]


def _stored(wh: "Warehouse", store: str, ids: list[str]) -> dict[str, dict]:
    if not ids:
        return {}
    names = {f"i{n}": value for n, value in enumerate(ids)}
    found = wh.query(
        "SELECT transaction_id, order_id FROM transactions WHERE store_id = :s AND transaction_id IN ("
        + ", ".join(f":{name}" for name in names) + ")",
        {"s": store, **names},
    )
    return {row["transaction_id"]: row for row in found.iter_rows(named=True)}


def _transaction_parts(wh: "Warehouse", store: str, frame: pl.DataFrame) -> list[pl.DataFrame]:
    """Transactions to upsert, filling what the payload lacked from what is stored.

    A row without ``order_id`` takes its own stored one, else its charge's
    (``parent_id``). A row without fee (balance transaction unknown) keeps the
    stored amount and currency when it is stored already: those rows come in a
    frame of their own, without those columns.
    """
    ids = frame["transaction_id"].to_list()
    parents = frame["parent_id"].drop_nulls().to_list() if "parent_id" in frame.columns else []
    stored = _stored(wh, store, sorted(set(ids + parents)))
    if "order_id" not in frame.columns:
        def order_of(row: dict) -> str | None:
            own = stored.get(row["transaction_id"], {}).get("order_id")
            return own or stored.get(row.get("parent_id") or "", {}).get("order_id")

        frame = frame.with_columns(
            pl.Series("order_id", [order_of(r) for r in frame.iter_rows(named=True)], dtype=pl.String)
        )
    if "fee" not in frame.columns:
        known = pl.col("transaction_id").is_in(list(stored))
        return [frame.filter(known).drop("amount", "currency", strict=False), frame.filter(~known)]
    return [frame]


def apply(wh: "Warehouse", topic: str, payload: dict, *, source: "StripeSource | None" = None) -> list[str]:
    """Hand the event's charge, refund, dispute, payout or customer to the write path (one transaction,
    serialized per store; a row stored from a newer event is left as it is).

    Stripe rows never create or change orders, so no order rollup moves and the
    list of touched orders is empty.
    """
    store = source.store_id if source is not None else _store_of(wh, payload)
    gone = normalize.deleted_customer(payload)
    if gone:
        keys = normalize.customer_keys(store, [gone])
        write(wh, store, Changes(deletes={"customer_contacts": keys, "customers": keys}))
        return []
    if source is not None:
        rows = source.event_rows(payload, with_refunds=True)
    else:
        obj = (payload.get("data") or {}).get("object") or {}
        rows = normalize.rows_of(obj, store, normalize.timestamp(payload["created"]))
    synced_at = dt.datetime.now(dt.timezone.utc)

    def changes(current: "Warehouse") -> list[Changes]:
        parts = []
        for tables in normalize.frames(rows, synced_at):
            for table in WRITE_ORDER:
                if table not in tables or tables[table].height == 0:
                    continue
                frames = (_transaction_parts(current, store, tables[table]) if table == "transactions"
                          else [tables[table]])
                parts += [Changes(rows={table: frame}, newer_only={table: normalize.NEWER_ONLY[table]})
                          for frame in frames if frame.height]
        return parts

    write(wh, store, changes)
    return []

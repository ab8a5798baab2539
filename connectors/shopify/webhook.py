"""Shopify webhook deliveries (served by ``connectors.webhooks`` at ``/webhooks/shopify``).

- ``verify``: ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the raw
  body with the app's secret (``SHOPIFY_WEBHOOK_SECRET``), compared in
  constant time;
- ``event_id``: ``X-Shopify-Webhook-Id`` (the same for every retry of one
  delivery), so duplicates are dropped;
- ``apply`` hands the record(s) to the write path (:func:`data.writes.write`:
  one transaction, serialized per store, rollups of the orders touched). Order topics read the order's current state
  through the GraphQL API when a source is given (a webhook may be stale or
  arrive out of order) and fall back to the REST-shaped payload. Whatever
  the path, a payload whose ``updated_at`` is older than the stored row's
  never overwrites it.

Topics: orders/create, orders/updated, orders/cancelled (and orders/paid,
orders/fulfilled, orders/partially_fulfilled, orders/edited), refunds/create,
products/create, products/update, customers/create, customers/update,
inventory_levels/update. Others are acknowledged and ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Any, Mapping

import polars as pl

from connectors.shopify import normalize as n
from connectors.shopify import rest
from connectors.sync.runner import SyncError
from connectors.webhook_errors import WebhookRejected
from data.writes import Changes
from data.writes import write as write_changes

log = logging.getLogger(__name__)

SECRET_SETTING = "SHOPIFY_WEBHOOK_SECRET"
SIGNATURE_HEADER = "x-shopify-hmac-sha256"

ORDER_TOPICS = {"orders/create", "orders/updated", "orders/cancelled", "orders/paid", "orders/fulfilled",
                "orders/partially_fulfilled", "orders/edited"}
REFUND_TOPICS = {"refunds/create"}
PRODUCT_TOPICS = {"products/create", "products/update"}
CUSTOMER_TOPICS = {"customers/create", "customers/update"}
INVENTORY_TOPICS = {"inventory_levels/update", "inventory_levels/connect"}
TOPICS = ORDER_TOPICS | REFUND_TOPICS | PRODUCT_TOPICS | CUSTOMER_TOPICS | INVENTORY_TOPICS

# The tables an older delivery must not overwrite (version column ``updated_at``), and their keys besides store_id.
GUARDED = {
    "orders": ("order_id",),
    "customers": ("customer_id",),
    "customer_contacts": ("customer_id",),
    "products": ("product_id",),
    "variants": ("variant_id",),
    "inventory_levels": ("variant_id", "location_id"),
}


def signature(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify sends with ``body``."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: float | None = None) -> None:
    """Raise :class:`WebhookRejected` unless the body is signed with ``secret``."""
    given = (headers.get("x-shopify-hmac-sha256") or "").strip()
    if not secret:
        raise WebhookRejected("no webhook secret is configured")
    if not given:
        raise WebhookRejected("the delivery carries no X-Shopify-Hmac-Sha256 signature")
    if not hmac.compare_digest(signature(body, secret).encode("ascii"), given.encode("utf-8", "replace")):
        raise WebhookRejected("the X-Shopify-Hmac-Sha256 signature does not match the body")


def event_id(headers: Mapping[str, str], body: bytes) -> str:
    """Shopify's delivery id (kept across retries); a digest of topic and body when it is missing."""
    delivered = (headers.get("x-shopify-webhook-id") or headers.get("x-shopify-event-id") or "").strip()
    if delivered:
        return delivered
    return "sha256:" + hashlib.sha256(topic(headers, body).encode() + b"\n" + body).hexdigest()


def topic(headers: Mapping[str, str], body: bytes) -> str:
    return (headers.get("x-shopify-topic") or "").strip().lower()


def store_id(headers: Mapping[str, str], body: bytes) -> str | None:
    domain = (headers.get("x-shopify-shop-domain") or "").strip().lower()
    return f"shopify:{domain.split('.', 1)[0]}" if domain else None


def apply(wh, topic: str, payload: dict, *, source=None, store_id: str | None = None) -> list[str]:
    """Write what the delivery says; return the ids of the orders touched.

    ``source`` (a :class:`~connectors.shopify.source.ShopifySource`) reads the
    current order or product through the API and maps an inventory item to its
    variant; without it the payload alone is used (inventory deliveries, which
    name only the inventory item, are then skipped).
    """
    topic = (topic or "").lower()
    if topic not in TOPICS or not isinstance(payload, Mapping):
        log.info("Shopify webhook topic %r ignored", topic)
        return []
    store = _store_of(wh, source, store_id)
    stores = None
    if source is not None and not wh.scalar("SELECT count(*) FROM stores WHERE store_id = :s", {"s": store}):
        stores = _fetch(source, "store_row")  # the rollups need the shop's timezone
    rows = n.Rows(store)
    if topic in ORDER_TOPICS:
        fetched = _fetch(source, "fetch_order", n.numeric_id(payload.get("id")))
        if fetched is not None:
            rows = fetched
        else:
            rest.add_order(rows, payload)
    elif topic in REFUND_TOPICS:
        fetched = _fetch(source, "fetch_order", n.numeric_id(payload.get("order_id")))
        if fetched is not None:
            rows = fetched
        else:
            currency = wh.scalar("SELECT currency FROM orders WHERE store_id = :s AND order_id = :o",
                                 {"s": store, "o": n.numeric_id(payload.get("order_id"))}) or wh.scalar(
                "SELECT currency FROM stores WHERE store_id = :s", {"s": store})
            rest.add_refund(rows, payload, shop_currency=currency)
    elif topic in PRODUCT_TOPICS:
        fetched = _fetch(source, "fetch_product", n.numeric_id(payload.get("id")))
        if fetched is not None:
            rows = fetched
        else:
            rest.add_product(rows, payload)
    elif topic in CUSTOMER_TOPICS:
        rest.add_customer(rows, payload)
    elif topic in INVENTORY_TOPICS:
        item = n.numeric_id(payload.get("inventory_item_id"))
        variant = _fetch(source, "variant_of_inventory_item", item)
        if variant is None:
            log.info("Shopify inventory delivery for item %s skipped: its variant is unknown without the API", item)
            return []
        rows.add("inventory_levels", {
            "variant_id": variant, "location_id": n.numeric_id(payload.get("location_id")),
            "available": int(payload.get("available") or 0), "updated_at": n.timestamp(payload.get("updated_at")),
        })
    return write(wh, store, rows, stores)


def _store_of(wh, source, store_id: str | None) -> str:
    if store_id:
        return store_id
    if source is not None:
        return source.store_id
    stores = [r[0] for r in wh.rows("SELECT store_id FROM stores WHERE platform = 'shopify' ORDER BY store_id")]
    if len(stores) == 1:
        return stores[0]
    raise SyncError("A Shopify webhook arrived but the store it belongs to is unknown: configure SHOPIFY_STORE "
                    "and run a sync first.")


def _fetch(source, method: str, *args: Any):
    """``source.method(*args)``, or None without a source or when the API cannot be reached."""
    if source is None or not all(a is not None for a in args):
        return None
    try:
        return getattr(source, method)(*args)
    except SyncError as exc:
        log.warning("Shopify webhook: reading the current state failed (%s); using the payload", exc)
        return None


def write(wh, store: str, rows: n.Rows, stores: pl.DataFrame | None = None) -> list[str]:
    """Hand ``rows`` to the write path: what is stored in a newer version (and an older order's lines,
    refunds and transactions) is left as it is; returns the orders whose rollups were redone."""
    frames = rows.frames()
    if stores is not None:
        frames["stores"] = stores
    guarded = {table: "updated_at" for table in GUARDED if "updated_at" in frames.get(table, pl.DataFrame()).columns}
    written = write_changes(wh, store, Changes(rows=frames, newer_only=guarded))
    if written.stale:
        log.info("Shopify webhook: rows older than the stored versions left as they are: %s", written.stale)
    return written.orders

"""WooCommerce webhooks: checked, identified and applied to the warehouse.

- Signature: ``X-WC-Webhook-Signature`` is the base64 HMAC-SHA256 of the raw
  body with the webhook's secret (``WOOCOMMERCE_WEBHOOK_SECRET``).
- The ping WooCommerce sends once a webhook is created (``deliver_ping``) is a
  form body ``webhook_id=N`` without any ``X-WC-Webhook-*`` header, not even a
  signature; it must get a 200 or the webhook is left pending. The receiver
  answers an unsigned ping 200 and stores nothing (it cannot tell who sent
  it, and it carries nothing to apply). A ping that does carry a signature is
  checked like any delivery (401 when it does not match), then stored
  (topic ``ping``); applying it does nothing.
- Dedupe key: the resource, its id and its ``date_modified_gmt``
  (``X-WC-Webhook-Delivery-ID`` has one-second resolution and repeats);
  a deletion is keyed by the resource and id.
- Topics applied: ``order.created/updated/restored/deleted`` (refunds arrive
  inside ``order.updated``: read through the API with ``source`` when the
  order lists any), ``product.created/updated/restored/deleted`` (a variable
  product's variations are read with ``source``), ``customer.created/updated/deleted``.
  An update older than (or as old as) the stored record is ignored; every
  write goes through :func:`data.writes.write` (one transaction, serialized
  per store, the order's rollups refreshed there).
- The store is the source's (else the site in the record's ``_links``); with a
  source, a store not synced yet gets its ``stores`` row first, which the
  rollups need (its timezone).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
from typing import Any, Mapping
from urllib.parse import urlsplit

from connectors.webhook_errors import WebhookRejected
from connectors.webhooks import json_object
from connectors.woocommerce import normalize as N  # noqa: N812 - the short name every WooCommerce module uses
from connectors.woocommerce.client import store_id_for
from data.writes import Changes, write

log = logging.getLogger(__name__)

SECRET_SETTING = "WOOCOMMERCE_WEBHOOK_SECRET"
SIGNATURE_HEADER = "x-wc-webhook-signature"
_PING = re.compile(rb"^webhook_id=(\d+)$")
UTC = dt.timezone.utc

def _ping_id(body: bytes) -> str | None:
    match = _PING.match(body.strip())
    return match.group(1).decode() if match else None


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """Whether the request is the ping sent once when a webhook is created (a form body ``webhook_id=N``)."""
    return "x-wc-webhook-topic" not in headers and _ping_id(body) is not None


def verify(headers: Mapping[str, str], body: bytes, secret: str, now: float | None = None) -> None:
    """Raise WebhookRejected unless the body is signed with ``secret``."""
    signature = headers.get(SIGNATURE_HEADER)
    if not signature or not secret:
        raise WebhookRejected("missing X-WC-Webhook-Signature")
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise WebhookRejected("X-WC-Webhook-Signature does not match the body")


def topic(headers: Mapping[str, str], body: bytes) -> str:
    if headers.get("x-wc-webhook-topic"):
        return headers["x-wc-webhook-topic"].strip()
    if _ping_id(body) is not None:
        return "ping"
    return "unknown"


def event_id(headers: Mapping[str, str], body: bytes) -> str:
    """``<resource>:<id>:<date_modified_gmt>`` (``:deleted`` for deletions; ``ping:<webhook id>``)."""
    name = topic(headers, body)
    if name == "ping":
        return f"ping:{_ping_id(body)}"
    resource = (headers.get("x-wc-webhook-resource") or name.split(".", 1)[0]).strip()
    payload = json_object(body)
    record_id = payload.get("id")
    if record_id is None:  # not a record: fall back to the delivery
        return f"{resource}:delivery:{headers.get('x-wc-webhook-delivery-id', '')}:" \
               f"{hashlib.sha256(body).hexdigest()[:16]}"
    if name.endswith(".deleted"):
        return f"{resource}:{record_id}:deleted"
    modified = payload.get("date_modified_gmt") or payload.get("date_modified") or ""
    return f"{resource}:{record_id}:{modified}"


def store_id(headers: Mapping[str, str], body: bytes) -> str | None:
    source = headers.get("x-wc-webhook-source")
    if source:
        try:
            return store_id_for(source)
        except Exception:  # noqa: BLE001 - an odd header only loses the store id
            return None
    return _store_from_links(json_object(body))


def _store_from_links(payload: Mapping[str, Any]) -> str | None:
    try:
        href = payload["_links"]["self"][0]["href"]
    except (KeyError, IndexError, TypeError):
        return None
    parts = urlsplit(href)
    path = parts.path.split("/wp-json/", 1)[0]
    try:
        return store_id_for(f"{parts.scheme}://{parts.netloc}{path}")
    except Exception:  # noqa: BLE001
        return None


def _resolve_store(wh, payload: Mapping[str, Any], source) -> str | None:
    if source is not None:
        return source.store_id
    found = _store_from_links(payload)
    if found:
        return found
    from data.settings import setting

    url = setting("WOOCOMMERCE_URL")
    return store_id_for(url) if url else None


def _store_rows(wh, store: str, source) -> dict:
    """The ``stores`` row a store not synced yet needs (its timezone, for the rollups), when a source can say."""
    if source is not None and not wh.scalar("SELECT count(*) FROM stores WHERE store_id = :s", {"s": store}):
        return {"stores": source.store_row()}
    return {}


def _stored_time(wh, table: str, key: str, store: str, record_id: str) -> dt.datetime | None:
    value = wh.scalar(f"SELECT updated_at FROM {table} WHERE store_id = :s AND {key} = :i",
                      {"s": store, "i": record_id})
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _is_stale(stored: dt.datetime | None, incoming: dt.datetime | None) -> bool:
    return stored is not None and incoming is not None and incoming <= stored


def apply(wh, topic: str, payload: dict, *, source=None) -> list[str]:
    """Write the record a delivery carries; return the touched order ids."""
    if topic in ("ping", "unknown") or not payload or "id" not in payload:
        return []
    resource, _, event = topic.partition(".")
    store = _resolve_store(wh, payload, source)
    if store is None:
        log.warning("WooCommerce %s delivery for an unknown store ignored", topic)
        return []
    if resource == "order":
        return _apply_order(wh, store, event, payload, source)
    if resource == "product":
        _apply_product(wh, store, event, payload, source)
    elif resource == "customer":
        _apply_customer(wh, store, event, payload, source)
    return []


def _apply_order(wh, store: str, event: str, payload: dict, source) -> list[str]:
    order_id = str(payload["id"])
    order_keys = N.key_frame(store, "order_id", [order_id])
    if event == "deleted":
        # The order takes its lines, refunds and refund lines with it (and its rollups follow).
        return write(wh, store, Changes(deletes={"orders": order_keys})).orders
    incoming = N.record_time(payload, "date_modified")
    if _is_stale(_stored_time(wh, "orders", "order_id", store, order_id), incoming):
        return []  # the write path checks again under the store's lock; this spares the API calls
    # Refunds: the order lists them; their lines come from orders/<id>/refunds.
    if not payload.get("refunds"):
        refunds: list[dict] | None = []
    elif source is not None:
        refunds = source.order_refunds(payload)
    else:
        refunds = None  # keep the refunds stored; a sync reads them
    now = dt.datetime.now(UTC)
    tables = N.order_tables(store, payload, refunds, now)

    def changes(current) -> Changes:
        rows = {**_store_rows(current, store, source), "orders": N.frame("orders", tables["orders"])}
        if tables["customers"]:
            rows["customers"] = N.frame("guest_customers", tables["customers"])
        if tables["customer_contacts"]:
            rows["customer_contacts"] = N.frame("customer_contacts", tables["customer_contacts"])
        for table in ("order_lines", "refunds", "refund_lines"):
            if tables[table]:
                rows[table] = N.frame(table, tables[table])
        # The order's lines (and refunds, when known) are replaced by its current ones;
        # deleting its refunds takes their lines.
        deletes = {"order_lines": order_keys}
        if refunds is not None:
            deletes["refunds"] = order_keys
        return Changes(rows=rows, deletes=deletes, newer_only={"orders": "updated_at"})

    return write(wh, store, changes).orders


def _apply_product(wh, store: str, event: str, payload: dict, source) -> None:
    product_id = str(payload["id"])
    if event == "deleted":
        def deletion(current) -> Changes:
            variant_ids = [r[0] for r in current.rows(
                "SELECT variant_id FROM variants WHERE store_id = :s AND (product_id = :p OR variant_id = :p)",
                {"s": store, "p": product_id})]
            deletes = {"products": N.key_frame(store, "product_id", [product_id])}
            if variant_ids:
                variants = N.key_frame(store, "variant_id", variant_ids)
                deletes.update(inventory_levels=variants, variants=variants)
            return Changes(deletes=deletes)

        write(wh, store, deletion)
        return
    incoming = N.record_time(payload, "date_modified")
    is_variation = payload.get("type") == "variation"
    table, key = ("variants", "variant_id") if is_variation else ("products", "product_id")
    if _is_stale(_stored_time(wh, table, key, store, product_id), incoming):
        return
    now = dt.datetime.now(UTC)
    tables = N.product_tables(store, payload, now)
    if payload.get("type") == "variable" and source is not None:
        for name, rows in N.variation_tables(store, product_id, source.product_variations(product_id), now).items():
            tables[name].extend(rows)

    def changes(current) -> Changes | None:
        # The record the delivery is about decides for the rows it brings: older than stored, none is written.
        if _is_stale(_stored_time(current, table, key, store, product_id), incoming):
            return None
        rows = {**_store_rows(current, store, source),
                **{name: N.frame(name, tables[name]) for name in ("products", "variants", "inventory_levels")
                   if tables[name]}}
        if tables["inventory_levels"]:
            # The country set by a sync stays.
            rows["locations"] = N.frame("locations", [N.location_row(store, None, now)]).drop("country")
        return Changes(rows=rows)

    write(wh, store, changes)


def _apply_customer(wh, store: str, event: str, payload: dict, source) -> None:
    customer_id = str(payload["id"])
    keys = N.key_frame(store, "customer_id", [customer_id])
    if event == "deleted":
        write(wh, store, Changes(deletes={"customer_contacts": keys, "customers": keys}))
        return
    row = N.customer_row(store, payload, dt.datetime.now(UTC))
    contact = N.customer_contact(store, payload, row["_synced_at"])

    def changes(current) -> Changes | None:
        if _is_stale(_stored_time(current, "customers", "customer_id", store, customer_id), row["updated_at"]):
            return None
        rows = {**_store_rows(current, store, source), "customers": N.frame("customers", [row])}
        if contact:
            rows["customer_contacts"] = N.frame("customer_contacts", [contact])
        return Changes(rows=rows)

    write(wh, store, changes)

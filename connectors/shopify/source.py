"""The Shopify source: streams read through the GraphQL Admin API.

Streams (each a generator of runner batches, one batch per page, so every page
is committed with its cursor):

- ``locations``: every location, read whole each time (there are few);
- ``customers``, ``products``: ``updated_at:>='<resume_from>'``, sorted by
  UPDATED_AT; the cursor is the largest ``updatedAt`` read so far;
- ``variants`` (with the unit cost of their inventory item) and
  ``inventory_levels`` (``quantities(names: ["available"])`` per location):
  filtered on ``updated_at`` but not sortable by it, so their cursor moves
  only when the stream has read everything;
- ``orders``: with lines, shipping lines, transactions and refunds (refund
  lines and refunded shipping come from a second query by refund id). A first
  sync (or ``--full``) of a store with more orders than
  ``SHOPIFY_BULK_THRESHOLD`` runs one bulk operation instead of pages: poll
  it, download its JSONL file, reassemble children by ``__parentId``, then
  write 250 orders at a time in ``updatedAt`` order, so an interrupted
  backfill resumes with ordinary pages from where it stopped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import time
from collections import defaultdict
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import polars as pl

from connectors.shopify import normalize as n
from connectors.shopify import queries as q
from connectors.shopify.client import GraphQLClient, ShopAddress, ShopifyGraphQL, download_lines, estimate_cost
from connectors.sync.retry import RetryPolicy
from connectors.sync.runner import Batch, Stream, SyncContext, SyncError

log = logging.getLogger(__name__)

UTC = dt.timezone.utc
DEFAULT_API_VERSION = "2026-10"
OLDEST_API_VERSION = "2026-01"  # QueryRoot.bulkOperations; ordersCount(limit:) since 2025-07
DEFAULT_BULK_THRESHOLD = 10000
BULK_BATCH = 250
API_VERSION_FORMAT = re.compile(r"^(\d{4}-\d{2}|unstable)$")
_BATCH_FIELDS = {f.name for f in dataclasses.fields(Batch)}
# Tables whose stored row is kept when it is newer than what a page brings (a
# webhook may have written a later version while the sync was reading).
NEWER_ONLY = {"orders": "updated_at", "customers": "updated_at", "products": "updated_at",
              "variants": "updated_at", "inventory_levels": "updated_at"}


def _batch(rows: n.Rows, cursor: str | None, records: int, note: str | None = None) -> Batch:
    """A runner batch; the optional runner features (stale-row guard, notes) are used where the runner has them."""
    extra: dict[str, Any] = {}
    if "newer_only" in _BATCH_FIELDS:
        extra["newer_only"] = {t: c for t, c in NEWER_ONLY.items() if t in rows.tables}
    if note and "note" in _BATCH_FIELDS:
        extra["note"] = note
    return Batch(tables=rows.frames(), cursor=cursor, rows_read=records, **extra)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _later(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if n.timestamp(a) >= n.timestamp(b) else b


def _cursor_of(stamp: Any) -> str | None:
    value = n.timestamp(stamp)
    return value.isoformat() if value else None


class ShopifySource:
    """One Shopify store, read through ``shopify.GraphQL``."""

    platform = "shopify"

    def __init__(
        self,
        store: str,
        token: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        bulk_threshold: int = DEFAULT_BULK_THRESHOLD,
        store_id: str | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        bulk_poll_interval: float = 1.0,
        bulk_poll_max_interval: float = 10.0,
        bulk_timeout: float = 6 * 3600.0,
    ) -> None:
        self.address = ShopAddress.parse(store)
        self.store_id = store_id or f"shopify:{self.address.name}"
        self.api_version = api_version
        self.bulk_threshold = bulk_threshold
        self.sleep = sleep
        self.bulk_poll_interval = bulk_poll_interval
        self.bulk_poll_max_interval = bulk_poll_max_interval
        self.bulk_timeout = bulk_timeout
        self.policy = policy or RetryPolicy(sleep=sleep)
        self.client = GraphQLClient(ShopifyGraphQL(self.address, token, api_version, timeout=timeout),
                                    policy=self.policy, sleep=sleep)
        self.orders_read_with: str | None = None  # "bulk" or "pages", for the last orders stream run

    def __repr__(self) -> str:  # never shows the token
        return f"<ShopifySource {self.store_id}>"

    # -- the runner's interface ------------------------------------------------
    def store_row(self) -> pl.DataFrame:
        shop = self.client.execute(q.SHOP, what="shop")["shop"]
        rows = n.Rows(self.store_id)
        n.store_row(rows, shop)
        return rows.frames()["stores"]

    def streams(self) -> Sequence[Stream]:
        return [
            Stream("locations", self.read_locations, cursor_is_time=False),
            Stream("customers", self.read_customers),
            Stream("products", self.read_products),
            Stream("variants", self.read_variants),
            Stream("orders", self.read_orders),
            Stream("inventory_levels", self.read_inventory_levels),
        ]

    # -- paging ----------------------------------------------------------------
    def _pages(self, query: str, path: Sequence[str], variables: Mapping[str, Any], what: str) -> Iterator[dict]:
        """Each page (the connection) of ``query`` until ``hasNextPage`` is false."""
        variables = dict(variables)
        first = self.client.page_size(query, variables)
        after = None
        page = 0
        while True:
            page += 1
            data = self.client.execute(query, {**variables, "first": first, "after": after},
                                       what=f"{what} page {page}")
            connection = data
            for key in path:
                connection = (connection or {}).get(key)
            if connection is None:
                return
            yield connection
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")

    @staticmethod
    def _since(context: SyncContext) -> str | None:
        return f"updated_at:>='{_iso(context.resume_from)}'" if context.resume_from else None

    # -- streams ---------------------------------------------------------------
    def read_locations(self, context: SyncContext) -> Iterator[Batch]:
        for connection in self._pages(q.LOCATIONS, ["locations"], {}, "locations"):
            rows = n.Rows(self.store_id)
            for location in n.nodes(connection):
                n.add_location(rows, location)
            yield _batch(rows, None, rows.count())

    def read_customers(self, context: SyncContext) -> Iterator[Batch]:
        cursor = None
        for connection in self._pages(q.CUSTOMERS, ["customers"], {"query": self._since(context)}, "customers"):
            rows = n.Rows(self.store_id)
            for customer in n.nodes(connection):
                n.add_customer(rows, customer)
                cursor = _later(cursor, _cursor_of(customer.get("updatedAt")))
            yield _batch(rows, cursor, rows.count())

    def read_products(self, context: SyncContext) -> Iterator[Batch]:
        cursor = None
        for connection in self._pages(q.PRODUCTS, ["products"], {"query": self._since(context)}, "products"):
            rows = n.Rows(self.store_id)
            for product in n.nodes(connection):
                n.add_product(rows, product)
                cursor = _later(cursor, _cursor_of(product.get("updatedAt")))
            yield _batch(rows, cursor, rows.count())

    def read_variants(self, context: SyncContext) -> Iterator[Batch]:
        newest = None
        for connection in self._pages(q.VARIANTS, ["productVariants"], {"query": self._since(context)},
                                      "variants"):
            rows = n.Rows(self.store_id)
            for variant in n.nodes(connection):
                n.add_variant(rows, variant)
                newest = _later(newest, _cursor_of(variant.get("updatedAt")))
            yield _batch(rows, None, rows.count())
        if newest:  # not sorted by updatedAt: only now is everything before ``newest`` read
            yield Batch(cursor=newest, rows_read=0)

    def read_inventory_levels(self, context: SyncContext) -> Iterator[Batch]:
        newest = None
        since = self._since(context)
        for locations in self._pages(q.LOCATIONS, ["locations"], {}, "locations"):
            for location in n.nodes(locations):
                location_id = n.numeric_id(location["id"])
                for connection in self._pages(q.INVENTORY_LEVELS, ["location", "inventoryLevels"],
                                              {"location": location["id"], "query": since},
                                              f"inventory of location {location_id}"):
                    rows = n.Rows(self.store_id)
                    levels = n.nodes(connection)
                    for level in levels:
                        if n.add_inventory_level(rows, level, location_id):
                            newest = _later(newest, _cursor_of(level.get("updatedAt")))
                    yield _batch(rows, None, len(levels))
        if newest:
            yield Batch(cursor=newest, rows_read=0)

    def read_orders(self, context: SyncContext) -> Iterator[Batch]:
        if context.cursor is None:
            try:
                count, precision = self.orders_count()
            except SyncError as exc:  # an API version without ordersCount: pages, which always work
                log.warning("%s: the order count is unknown (%s); reading orders by pages", self.store_id, exc)
                count, precision = 0, "EXACT"
            if count > self.bulk_threshold or (precision == "AT_LEAST" and count >= self.bulk_threshold):
                self.orders_read_with = "bulk"
                log.info("%s: %s%s orders, reading them with a bulk operation", self.store_id,
                         "at least " if precision == "AT_LEAST" else "", count)
                yield from self.read_orders_bulk(
                    note=f"The store has {'at least ' if precision == 'AT_LEAST' else ''}{count:,} orders: they were "
                         "read with one Shopify bulk operation.")
                return
        self.orders_read_with = "pages"
        cursor = None
        for connection in self._pages(q.ORDERS, ["orders"], {"query": self._since(context)}, "orders"):
            orders = [self._complete_order(o) for o in n.nodes(connection)]
            rows = self.order_rows(orders)
            for order in orders:
                cursor = _later(cursor, _cursor_of(order.get("updatedAt")))
            yield _batch(rows, cursor, len(orders))

    # -- orders ----------------------------------------------------------------
    def orders_count(self) -> tuple[int, str]:
        data = self.client.execute(q.ORDERS_COUNT, {"limit": self.bulk_threshold + 1}, what="order count")
        found = data.get("ordersCount") or {}
        return int(found.get("count") or 0), str(found.get("precision") or "EXACT")

    def _follow(self, query: str, node_id: str, field: str, after: str | None, what: str) -> list[dict]:
        """The rest of a nested connection of one node, page after page."""
        items: list[dict] = []
        first = self.client.page_size(query, {"id": node_id})
        while after is not None:
            data = self.client.execute(query, {"id": node_id, "first": first, "after": after}, what=what)
            connection = ((data.get("node") or {}).get(field)) or {}
            items.extend(n.nodes(connection))
            info = connection.get("pageInfo") or {}
            after = info.get("endCursor") if info.get("hasNextPage") else None
        return items

    def _complete_order(self, order: dict) -> dict:
        """Read what did not fit in the page: more lines, shipping lines, refunds or transactions."""
        order_gid = order["id"]
        for field, query in (("lineItems", q.ORDER_LINE_ITEMS_PAGE), ("shippingLines", q.ORDER_SHIPPING_LINES_PAGE)):
            connection = order.get(field) or {}
            info = connection.get("pageInfo") or {}
            if info.get("hasNextPage"):
                more = self._follow(query, order_gid, field, info.get("endCursor"),
                                    f"{field} of order {n.numeric_id(order_gid)}")
                order[field] = {"nodes": n.nodes(connection) + more}
        if len(order.get("refunds") or ()) >= q.ORDER_REFUNDS or \
                len(order.get("transactions") or ()) >= q.ORDER_TRANSACTIONS:
            data = self.client.execute(q.ORDER_REFUNDS_AND_TRANSACTIONS, {"id": order_gid},
                                       what=f"refunds of order {n.numeric_id(order_gid)}")
            node = data.get("node") or {}
            order["refunds"] = node.get("refunds") or []
            order["transactions"] = node.get("transactions") or []
        return order

    def refund_details(self, refund_ids: Sequence[str]) -> list[dict]:
        """Refunds with their lines and refunded shipping, by id, as few queries as the cost allows."""
        if not refund_ids:
            return []
        per_refund = max(1, estimate_cost(q.REFUND_DETAILS, {"ids": ["x"]}))
        chunk = max(1, min(250, self.client.max_query_cost // per_refund))
        found = []
        for start in range(0, len(refund_ids), chunk):
            ids = list(refund_ids[start:start + chunk])
            data = self.client.execute(q.REFUND_DETAILS, {"ids": ids}, what=f"{len(ids)} refunds")
            for refund in data.get("nodes") or ():
                if not refund:
                    continue
                for field, query in (("refundLineItems", q.REFUND_LINE_ITEMS_PAGE),
                                     ("refundShippingLines", q.REFUND_SHIPPING_LINES_PAGE)):
                    connection = refund.get(field) or {}
                    info = connection.get("pageInfo") or {}
                    if info.get("hasNextPage"):
                        more = self._follow(query, refund["id"], field, info.get("endCursor"),
                                            f"{field} of refund {n.numeric_id(refund['id'])}")
                        refund[field] = {"nodes": n.nodes(connection) + more}
                found.append(refund)
        return found

    def order_rows(self, orders: Iterable[dict]) -> n.Rows:
        """Rows of complete orders, their refunds read by id."""
        rows = n.Rows(self.store_id)
        refund_order: dict[str, str] = {}
        for order in orders:
            order_id = n.add_order(rows, order)
            for refund in order.get("refunds") or ():
                refund_order[refund["id"]] = order_id
        for refund in self.refund_details(sorted(refund_order)):
            n.add_refund(rows, refund, refund_order.get(refund["id"]))
        return rows

    def fetch_order(self, order_id: str) -> n.Rows | None:
        """The current state of one order (for webhooks), or None when Shopify no longer has it."""
        data = self.client.execute(q.ORDER, {"id": n.gid("Order", order_id)}, what=f"order {order_id}")
        order = data.get("order")
        if not order:
            return None
        return self.order_rows([self._complete_order(order)])

    def fetch_product(self, product_id: str) -> n.Rows | None:
        data = self.client.execute(q.PRODUCT, {"id": n.gid("Product", product_id)}, what=f"product {product_id}")
        product = data.get("product")
        if not product:
            return None
        rows = n.Rows(self.store_id)
        n.add_product(rows, product)
        variants = product.get("variants") or {}
        items = n.nodes(variants)
        info = variants.get("pageInfo") or {}
        after = info.get("endCursor") if info.get("hasNextPage") else None
        first = self.client.page_size(q.PRODUCT_VARIANTS_PAGE, {"id": product["id"]})
        while after is not None:
            page = self.client.execute(q.PRODUCT_VARIANTS_PAGE, {"id": product["id"], "first": first, "after": after},
                                       what=f"variants of product {product_id}")
            connection = (page.get("product") or {}).get("variants") or {}
            items.extend(n.nodes(connection))
            more = connection.get("pageInfo") or {}
            after = more.get("endCursor") if more.get("hasNextPage") else None
        for variant in items:
            n.add_variant(rows, {**variant, "product": variant.get("product") or {"id": product["id"]}})
        return rows

    def variant_of_inventory_item(self, item_id: str) -> str | None:
        data = self.client.execute(q.INVENTORY_ITEM_VARIANT, {"id": n.gid("InventoryItem", item_id)},
                                   what=f"inventory item {item_id}")
        return n.numeric_id(n.variant_of_item(data.get("inventoryItem")))

    # -- bulk ------------------------------------------------------------------
    def read_orders_bulk(self, note: str | None = None) -> Iterator[Batch]:
        url = self.run_bulk(q.BULK_ORDERS, "orders")
        orders = reassemble(download_lines(url, what="bulk orders file", policy=self.policy)) if url else {}
        ordered = sorted(orders.values(), key=lambda o: (n.timestamp(o.get("updatedAt")), o["id"]))
        cursor = None
        for start in range(0, len(ordered), BULK_BATCH):
            chunk = ordered[start:start + BULK_BATCH]
            rows = self.order_rows(chunk)
            for order in chunk:
                cursor = _later(cursor, _cursor_of(order.get("updatedAt")))
            yield _batch(rows, cursor, len(chunk), note if start == 0 else None)

    def run_bulk(self, query: str, what: str) -> str | None:
        """Start (or pick up) a bulk query, wait for it, and return its file's URL (None when empty)."""
        recent = self.client.execute(q.RECENT_BULK_OPERATIONS, what="recent bulk operations")
        running = [op for op in n.nodes((recent.get("bulkOperations") or {}))
                   if op.get("status") in ("CREATED", "RUNNING")]
        ours = next((op for op in running if _same_query(op.get("query"), query)), None)
        if ours is not None:
            operation_id = ours["id"]  # left running by an interrupted sync
        elif running:
            raise SyncError("Another bulk operation is running on the Shopify store; "
                            "run the sync again once it has finished.")
        else:
            started = self.client.execute(q.BULK_RUN, {"query": query}, what=f"bulk {what} start")
            result = started.get("bulkOperationRunQuery") or {}
            errors = result.get("userErrors") or []
            if errors:
                raise SyncError(f"Shopify refused the bulk {what} query: {errors[0].get('message')}")
            operation_id = result["bulkOperation"]["id"]
        interval = self.bulk_poll_interval
        deadline = time.monotonic() + self.bulk_timeout
        while True:
            data = self.client.execute(q.BULK_OPERATION, {"id": operation_id}, what=f"bulk {what} status")
            operation = data.get("node") or {}
            status = operation.get("status")
            if status == "COMPLETED":
                return operation.get("url")
            if status in ("FAILED", "CANCELED", "CANCELING", "EXPIRED"):
                code = operation.get("errorCode")
                raise SyncError(f"Shopify's bulk export of {what} {str(status).lower()}"
                                f"{f' ({code})' if code else ''}; run the sync again.")
            if time.monotonic() > deadline:
                raise SyncError(f"Shopify's bulk export of {what} did not finish in time; run the sync again "
                                "to pick it up.")
            self.sleep(interval)
            interval = min(self.bulk_poll_max_interval, interval * 1.5)


def _same_query(a: str | None, b: str) -> bool:
    return a is not None and " ".join(a.split()) == " ".join(b.split())


# Children of an order in a bulk file, by the type in their id.
_CHILD_FIELDS = {"LineItem": "lineItems", "ShippingLine": "shippingLines"}


def reassemble(lines: Iterable[bytes | str]) -> dict[str, dict]:
    """Orders from a bulk JSONL file: each child line joins its parent's connection by ``__parentId``."""
    orders: dict[str, dict] = {}
    waiting: dict[str, list[dict]] = defaultdict(list)

    def attach(parent: dict, child: dict) -> None:
        field = _CHILD_FIELDS.get(n.gid_type(str(child.get("id") or "")))
        if field is None:
            log.warning("bulk file: a child of unknown type under %s was skipped", parent.get("id"))
            return
        parent.setdefault(field, {"nodes": []})["nodes"].append(child)

    for raw in lines:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        if not raw.strip():
            continue
        record = json.loads(raw)
        parent_id = record.pop("__parentId", None)
        if parent_id is None:
            record.setdefault("lineItems", {"nodes": []})
            record.setdefault("shippingLines", {"nodes": []})
            orders[record["id"]] = record
            for child in waiting.pop(record["id"], ()):
                attach(record, child)
        elif parent_id in orders:
            attach(orders[parent_id], record)
        else:
            waiting[parent_id].append(record)
    if waiting:
        log.warning("bulk file: %s lines had no parent order", sum(len(v) for v in waiting.values()))
    return orders

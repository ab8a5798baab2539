"""The WooCommerce source: the store row and four streams for the sync runner."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from connectors.sync.retry import RetryPolicy
from connectors.sync.runner import Batch, Stream, SyncContext
from connectors.woocommerce import normalize as N  # noqa: N812 - the short name every WooCommerce module uses
from connectors.woocommerce.client import WooClient, store_id_for

log = logging.getLogger(__name__)

UTC = dt.timezone.utc
ONE_SECOND = dt.timedelta(seconds=1)

# Fixed UTC offsets a WordPress site may be set to ("UTC+5:30") that are not
# whole hours: a zone that keeps that offset all year.
_FRACTIONAL_OFFSETS = {
    3.5: "Asia/Tehran", 4.5: "Asia/Kabul", 5.5: "Asia/Kolkata", 5.75: "Asia/Kathmandu", 6.5: "Asia/Yangon",
    8.75: "Australia/Eucla", 9.5: "Australia/Darwin", -9.5: "Pacific/Marquesas",
}


def site_timezone(index: Mapping[str, Any]) -> str:
    """The site's timezone from the WordPress index: ``timezone_string``, else its fixed ``gmt_offset``."""
    name = str(index.get("timezone_string") or "").strip()
    if name:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("WordPress timezone %r is unknown here; using its UTC offset", name)
    try:
        offset = float(index.get("gmt_offset") or 0)
    except (TypeError, ValueError):
        offset = 0.0
    if offset == 0:
        return "UTC"
    if offset.is_integer():
        return f"Etc/GMT{-int(offset):+d}"  # the Etc zones' signs are inverted: Etc/GMT-3 is UTC+3
    if offset in _FRACTIONAL_OFFSETS:
        return _FRACTIONAL_OFFSETS[offset]
    log.warning("WordPress UTC offset %s has no matching timezone; days are counted in UTC", offset)
    return "UTC"


def _window_end(started_at: dt.datetime) -> dt.datetime:
    """``modified_before`` for a sync: its start, down to the second (WooCommerce keeps whole seconds),
    so every record changed once the sync has begun falls outside and is read by the next one."""
    return started_at.replace(microsecond=0)


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


class WooCommerceSource:
    """One WooCommerce site, read through its REST API v3."""

    platform = "woocommerce"

    def __init__(
        self,
        url: str,
        key: str,
        secret: str,
        *,
        store_id: str | None = None,
        per_page: int = 100,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_restarts: int = 3,
    ) -> None:
        self.client = WooClient(url, key, secret, timeout=timeout, retry=retry)
        self.store_id = store_id or store_id_for(url)
        self.per_page = max(1, min(per_page, 100))
        self.max_restarts = max_restarts
        self._info: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"<WooCommerceSource {self.store_id}>"

    # -- the store -----------------------------------------------------------
    def store_info(self) -> dict[str, Any]:
        """Name, currency, timezone, country and first order date (read once)."""
        if self._info is None:
            index = self.client.site_index()
            settings = self.client.get_json("settings/general")
            options = settings if isinstance(settings, list) else []
            values = {s.get("id"): s.get("value") for s in options if isinstance(s, Mapping)}
            first = self.client.get_json(
                "orders", {"orderby": "date", "order": "asc", "per_page": 1, "_fields": "id,date_created_gmt"})
            created = N.record_time(first[0], "date_created") if isinstance(first, list) and first else None
            self._info = {
                "name": str(index.get("name") or "").strip() or self.store_id.split(":", 1)[1],
                "currency": str(values.get("woocommerce_currency") or "USD").upper(),
                "timezone": site_timezone(index),
                "country": (str(values.get("woocommerce_default_country") or "").split(":")[0] or None),
                "created_at": created or dt.datetime.now(UTC).replace(microsecond=0),
            }
        return self._info

    def store_row(self) -> pl.DataFrame:
        info = self.store_info()
        return pl.DataFrame(
            {
                "store_id": [self.store_id], "platform": [self.platform], "name": [info["name"]],
                "currency": [info["currency"]], "timezone": [info["timezone"]], "created_at": [info["created_at"]],
                "_synced_at": [dt.datetime.now(UTC)],
            },
            schema={"store_id": pl.String, "platform": pl.String, "name": pl.String, "currency": pl.String,
                    "timezone": pl.String, "created_at": N.TIMESTAMP, "_synced_at": N.TIMESTAMP},
        )

    def streams(self) -> Sequence[Stream]:
        return [
            Stream("products", self.read_products),
            Stream("variations", self.read_variations),
            Stream("customers", self.read_customers),
            Stream("orders", self.read_orders),
            Stream("trashed_orders", self.read_trashed_orders, cursor_is_time=False),
        ]

    # -- walking records by last change ----------------------------------------
    def _walk_modified(self, endpoint: str, context: SyncContext) -> Iterator[tuple[list[dict], dt.datetime | None]]:
        """Pages of records changed since the resume point, oldest change first, with the latest change seen.

        ``modified_before`` pins the window at the sync's start, so a record
        changed while the pages are walked leaves it and the total drops;
        the pages after it have then moved up by one and the next page would
        skip a record. When that happens the walk starts again just before the
        latest change already read (a few times at most), which reads the
        skipped record; what was read is kept.
        """
        after = context.resume_from
        until = _window_end(context.started_at)
        latest: dt.datetime | None = None
        restarts = 0
        while True:
            params: dict[str, Any] = {"orderby": "modified", "order": "asc", "dates_are_gmt": True,
                                      "modified_before": until}
            if after is not None:
                params["modified_after"] = after
            first_total: int | None = None
            restart = False
            for records, _page, total in self.client.pages(endpoint, params, per_page=self.per_page):
                if first_total is None:
                    first_total = total
                elif total is not None and total != first_total and restarts < self.max_restarts:
                    log.info("%s changed while read (%s -> %s records); reading again from the last change seen",
                             endpoint, first_total, total)
                    restarts += 1
                    restart = True
                    base = latest or after
                    after = base - ONE_SECOND if base is not None else None
                    break
                for record in records:
                    latest = _later(latest, N.record_time(record, "date_modified"))
                yield records, latest
            if not restart:
                return

    # -- streams -------------------------------------------------------------
    def read_products(self, context: SyncContext) -> Iterator[Batch]:
        """Products changed since the cursor: products rows, and variants and stock of simple products."""
        for records, latest in self._walk_modified("products", context):
            now = dt.datetime.now(UTC)
            tables: dict[str, list[dict]] = {"products": [], "variants": [], "inventory_levels": []}
            for product in records:
                for table, rows in N.product_tables(self.store_id, product, now).items():
                    tables[table].extend(rows)
            yield Batch(tables=self._frames(tables, now), cursor=_iso(latest), rows_read=len(records))

    def read_variations(self, context: SyncContext) -> Iterator[Batch]:
        """Variations changed since the cursor, read product by product (``products/<id>/variations``).

        A variation's change (its price, or its stock after a sale) does not
        touch its product's modified date, so every variable product is asked;
        the cursor moves only once all are read.
        """
        since = context.resume_from
        until = _window_end(context.started_at)
        latest: dt.datetime | None = None
        parents_params = {"type": "variable", "orderby": "id", "order": "asc", "_fields": "id"}
        for parents, _page, _total in self.client.pages("products", parents_params, per_page=self.per_page):
            now = dt.datetime.now(UTC)
            tables: dict[str, list[dict]] = {"variants": [], "inventory_levels": []}
            read = 0
            for parent in parents:
                product_id = str(parent["id"])
                params: dict[str, Any] = {"orderby": "id", "order": "asc", "dates_are_gmt": True,
                                          "modified_before": until}
                if since is not None:
                    params["modified_after"] = since
                for variations, _p, _t in self.client.pages(f"products/{product_id}/variations", params,
                                                            per_page=self.per_page):
                    read += len(variations)
                    for variation in variations:
                        latest = _later(latest, N.record_time(variation, "date_modified"))
                    for table, rows in N.variation_tables(self.store_id, product_id, variations, now).items():
                        tables[table].extend(rows)
            yield Batch(tables=self._frames(tables, now), cursor=None, rows_read=read)
        if latest is not None:
            yield Batch(cursor=_iso(latest), rows_read=0)

    def read_customers(self, context: SyncContext) -> Iterator[Batch]:
        """Registered customers. The customers endpoint has no ``modified_after``: every page is read
        and only customers changed since the cursor are written."""
        since = context.resume_from
        latest: dt.datetime | None = None
        params = {"orderby": "id", "order": "asc"}
        for records, _page, _total in self.client.pages("customers", params, per_page=self.per_page):
            now = dt.datetime.now(UTC)
            rows, contacts = [], []
            for customer in records:
                row = N.customer_row(self.store_id, customer, now)
                latest = _later(latest, row["updated_at"])
                if since is None or row["updated_at"] is None or row["updated_at"] >= since:
                    rows.append(row)
                    contacts.append(N.customer_contact(self.store_id, customer, now))
            yield Batch(tables={"customers": N.frame("customers", rows),
                                "customer_contacts": N.frame("customer_contacts", [c for c in contacts if c])},
                        cursor=None, rows_read=len(records))
        if latest is not None:
            yield Batch(cursor=_iso(latest), rows_read=0)

    def read_orders(self, context: SyncContext) -> Iterator[Batch]:
        """Orders changed since the cursor with their lines and refunds, one committed batch a page."""
        for records, latest in self._walk_modified("orders", context):
            now = dt.datetime.now(UTC)
            tables: dict[str, list[dict]] = {"orders": [], "order_lines": [], "refunds": [], "refund_lines": [],
                                             "customers": [], "customer_contacts": []}
            for order in records:
                refunds = self.order_refunds(order)
                for table, rows in N.order_tables(self.store_id, order, refunds, now).items():
                    tables[table].extend(rows)
            order_keys = N.key_frame(self.store_id, "order_id", [str(o["id"]) for o in records])
            refund_keys = N.key_frame(self.store_id, "refund_id", [r["refund_id"] for r in tables["refunds"]])
            frames = self._frames({k: v for k, v in tables.items() if k != "customers"}, now)
            frames["customers"] = N.frame("guest_customers", tables["customers"])
            yield Batch(
                tables=frames,
                # An order's lines and refunds are replaced by their current set (edited orders, deleted refunds).
                deletes={"order_lines": order_keys, "refunds": order_keys, "refund_lines": refund_keys},
                cursor=_iso(latest),
                rows_read=len(records),
            )

    def read_trashed_orders(self, context: SyncContext) -> Iterator[Batch]:
        """Orders in the bin (``status=trash``), removed from the warehouse with their lines and refunds.

        The orders list leaves the bin out, and a trashed order keeps no date
        to filter on reliably, so every sync lists the bin's ids (WordPress
        empties it after 30 days); an order taken back out of the bin is
        modified, so the orders stream reads it again. An order deleted for
        good (without the bin) is gone from the API: its ``order.deleted``
        webhook removes it.
        """
        params = {"status": "trash", "orderby": "id", "order": "asc", "_fields": "id"}
        for records, _page, _total in self.client.pages("orders", params, per_page=self.per_page):
            ids = [str(r["id"]) for r in records if r.get("id") is not None]
            yield Batch(deletes={"orders": N.key_frame(self.store_id, "order_id", ids)} if ids else {},
                        rows_read=len(records))

    # -- helpers -------------------------------------------------------------
    def order_refunds(self, order: Mapping[str, Any]) -> list[dict]:
        """The order's refunds in full (``orders/<id>/refunds``); no request when it lists none."""
        if not order.get("refunds"):
            return []
        refunds: list[dict] = []
        for records, _page, _total in self.client.pages(f"orders/{order['id']}/refunds", {}, per_page=100):
            refunds.extend(records)
        return refunds

    def product_variations(self, product_id: str) -> list[dict]:
        variations: list[dict] = []
        for records, _page, _total in self.client.pages(f"products/{product_id}/variations",
                                                        {"orderby": "id", "order": "asc"}, per_page=100):
            variations.extend(records)
        return variations

    def _frames(self, tables: Mapping[str, list[dict]], now: dt.datetime) -> dict[str, pl.DataFrame]:
        frames = {table: N.frame(table, rows) for table, rows in tables.items()}
        if "inventory_levels" in frames and frames["inventory_levels"].height:
            country = self._info.get("country") if self._info else None
            frames["locations"] = N.frame("locations", [N.location_row(self.store_id, country, now)])
        return frames


def make_source(
    settings: Callable[[str], str | None], store_id: str | None = None, **options: Any
) -> WooCommerceSource:
    """A source from settings (``WOOCOMMERCE_URL``, ``WOOCOMMERCE_KEY``, ``WOOCOMMERCE_SECRET``)."""
    from connectors.sync.runner import SyncError

    names = ("WOOCOMMERCE_URL", "WOOCOMMERCE_KEY", "WOOCOMMERCE_SECRET")
    values = {name: (settings(name) or "").strip() for name in names}
    missing = [name for name in names if not values[name]]
    if missing:
        raise SyncError(
            f"WooCommerce is not configured: set {', '.join(missing)} "
            "(environment variables or .streamlit/secrets.toml)."
        )
    return WooCommerceSource(values["WOOCOMMERCE_URL"], values["WOOCOMMERCE_KEY"], values["WOOCOMMERCE_SECRET"],
                             store_id=store_id, **options)

"""What a page needs to know about a store before any figure: which stores
there are, which sales channels a store sells through, how fresh its data is
and which source has gone stale.

``data_version`` is the cheap fingerprint the page caches are keyed on: it
changes whenever an order or refund is added, removed or re-priced (the live
demo feed, a webhook, a sync), so a cached figure never outlives the data it
was computed from.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

import polars as pl

from data.warehouse import Warehouse

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    currency: str
    timezone: str


class DataVersion(NamedTuple):
    """Fingerprints of a store's sales rows (the order and refund rollups).

    ``everything`` changes whenever a counted order or refund is added,
    removed or changed in money. ``history`` covers only the rows of the days
    before ``today`` (store-local): new orders and refunds, which fall on
    today, leave it alone, so figures for ranges that end before today stay
    valid while the live feed runs; an edit to an older order changes it.
    Both end with :attr:`contacts`, so a name synced or erased shows at once.
    """

    today: dt.date
    everything: tuple
    history: tuple
    newest_order_at: dt.datetime | None
    newest_refund_at: dt.datetime | None

    @property
    def contacts(self) -> tuple:
        """Fingerprint of the store's ``customer_contacts`` rows (their count and newest write)."""
        return self.everything[-2:]

    @property
    def orders(self) -> int:
        """Counted orders of the store."""
        return int(self.everything[0])

    @property
    def newest_record_at(self) -> dt.datetime | None:
        """The creation time (UTC) of the newest order or refund, ``None`` for an empty store."""
        times = [t for t in (self.newest_order_at, self.newest_refund_at) if t is not None]
        return max(times) if times else None


def list_stores(wh: Warehouse) -> list[Store]:
    """Every store in the warehouse, ordered by id."""
    rows = wh.rows("SELECT store_id, name, currency, timezone FROM stores ORDER BY store_id")
    return [Store(str(r[0]), str(r[1] or r[0]), str(r[2]), str(r[3])) for r in rows]


def store_channels(wh: Warehouse, store_id: str, since: dt.date | None = None,
                   through: dt.date | None = None) -> list[str]:
    """The sales channels a store has sold through (an order without one is in ``other``), sorted; only
    on the store-local days from ``since`` and through ``through`` when given."""
    sql = "SELECT DISTINCT COALESCE(channel, 'other') FROM order_facts WHERE store_id = :store_id"
    params: dict = {"store_id": store_id}
    if since is not None:
        sql += " AND local_date >= :since"
        params["since"] = since
    if through is not None:
        sql += " AND local_date <= :through"
        params["through"] = through
    return sorted(str(r[0]) for r in wh.rows(sql, params) if r[0] is not None)


_ORDER_PRINT = "SELECT COUNT(*), SUM(gross_sales), SUM(discounts), SUM(shipping), SUM(taxes) FROM order_facts"
_REFUND_PRINT = "SELECT COUNT(*), SUM(returns), SUM(shipping_refunded), SUM(tax_refunded) FROM refund_facts"
# Names and emails are shown beside cached figures: an erased or renamed customer must not linger.
_CONTACTS_PRINT = "SELECT COUNT(*), MAX(_synced_at) FROM customer_contacts WHERE store_id = :store_id"
# Daily traffic (GA4 revises its recent days): its days in the same two parts.
_TRAFFIC_PRINT = ("SELECT COUNT(*), SUM(sessions), SUM(engaged_sessions), SUM(add_to_carts), SUM(checkouts), "
                  "SUM(purchases) FROM daily_traffic")


def data_version(wh: Warehouse, store_id: str, now: dt.datetime | None = None) -> DataVersion:
    """The store's :class:`DataVersion` at ``now`` (default: the current time).

    Column sums and counts of the two rollups, for every row and for the rows
    before today (every row less today's), and the count and newest write of
    the contact rows: a few milliseconds at a million orders on DuckDB, a
    fraction of a second on PostgreSQL.
    """
    params: dict = {"store_id": store_id}
    zone = wh.scalar("SELECT timezone FROM stores WHERE store_id = :store_id", params)
    today = (now or dt.datetime.now(UTC)).astimezone(ZoneInfo(zone or "UTC")).date()
    newest = wh.rows(
        "SELECT (SELECT MAX(created_at) FROM order_facts WHERE store_id = :store_id), "
        "(SELECT MAX(created_at) FROM refund_facts WHERE store_id = :store_id)",
        params,
    )[0]
    everything, history = [], []
    for sql, day in ((_ORDER_PRINT, "local_date"), (_REFUND_PRINT, "local_date"), (_TRAFFIC_PRINT, "date")):
        total = wh.rows(f"{sql} WHERE store_id = :store_id", params)[0]
        # The days before today: every row less today's (and any later), which the date index finds
        # at once, instead of a second pass over every row.
        recent = wh.rows(f"{sql} WHERE store_id = :store_id AND {day} >= :today", {**params, "today": today})[0]
        everything.extend(_fingerprint(total))
        history.extend(_fingerprint(tuple((Decimal(a or 0) - Decimal(b or 0)).normalize()
                                           for a, b in zip(total, recent))))
    contacts = _fingerprint(wh.rows(_CONTACTS_PRINT, params)[0])
    everything.extend(contacts)
    history.extend(contacts)
    return DataVersion(today, tuple(everything), tuple(history), _utc(newest[0]), _utc(newest[1]))


def _fingerprint(row: tuple) -> tuple:
    return tuple(str(value) for value in row)


def stale_sources(
    wh: Warehouse, store_id: str, now: dt.datetime, max_age: dt.timedelta = dt.timedelta(hours=24)
) -> pl.DataFrame:
    """The synced streams of a store whose last run failed or whose last success is older than ``max_age``.

    Columns: ``stream``, ``last_success_at`` (UTC, null when it never
    succeeded), ``last_status`` and ``last_error`` of the newest run. A store
    that is never synced (the demo, a CSV import) has no rows.
    """
    frame = wh.query(
        """
        SELECT stream, started_at, finished_at, status, error
        FROM sync_runs WHERE store_id = :store_id AND stream IS NOT NULL
        """,
        {"store_id": store_id},
    )
    schema = {"stream": pl.String, "last_success_at": pl.Datetime("us", "UTC"), "last_status": pl.String,
              "last_error": pl.String}
    if frame.height == 0:
        return pl.DataFrame(schema=schema)
    rows = []
    for stream, runs in frame.sort("started_at").group_by("stream", maintain_order=True):
        newest = runs.row(-1, named=True)
        succeeded = runs.filter(pl.col("status") == "succeeded")
        last_success = _utc(succeeded["finished_at"].max()) if succeeded.height else None
        if newest["status"] == "failed" or last_success is None or now - last_success > max_age:
            rows.append({"stream": stream[0], "last_success_at": last_success, "last_status": newest["status"],
                         "last_error": newest["error"]})
    return pl.DataFrame(rows, schema=schema)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

"""The one way a store's rows get into the warehouse.

Every writer (the sync runner, the webhook receivers, the demo build and
feed, the CSV import, purchase order receipts) hands :func:`write` a store
and its :class:`Changes`. In one transaction, alone among the writes of that
store (a lock per store: in this process on DuckDB, across processes on
PostgreSQL), it:

1. calls the changes when they are a function of the warehouse (so what a
   writer reads to decide them is current, and read again on a retry);
2. applies the newer-only guard: a row whose stored version is newer on the
   given column is left as it is, and so are the lines, refunds and
   transactions an older order brings (and their deletes);
3. deletes (an order takes its lines, refunds and refund lines with it; a
   refund its lines; a key frame with only some key columns deletes every
   row matching them);
4. upserts the rows, parents before children (:data:`WRITE_ORDER`), or
   appends them in bulk when the store was just replaced;
5. runs the writer's extra statements (relative changes such as stock received);
6. refreshes the rollups: those of the orders and web sessions touched, or the
   whole store's after a bulk write;
7. saves the stream's cursor, and the sync run's last-seen time.

A transaction that meets a write conflict (another writer outside the lock,
a PostgreSQL serialization failure or deadlock) is tried again from step 1,
up to :data:`ATTEMPTS` times; then :class:`WriteConflict` is raised and
nothing of it is written.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union

import polars as pl

from data.identity import link_guests
from data.keys import STORE_TABLES, TABLE_KEYS
from data.rollups import refresh_orders, refresh_sessions, refresh_store
from data.warehouse import Warehouse, WarehouseError, check_table

log = logging.getLogger(__name__)

UTC = dt.timezone.utc

# Parents before children, so a write never points at a row not yet written.
WRITE_ORDER = (
    "stores", "locations", "customers", "customer_contacts", "products", "variants", "orders", "order_lines", "refunds",
    "refund_lines", "transactions", "payouts", "disputes", "inventory_levels", "inventory_snapshots",
    "web_events", "daily_traffic", "ad_spend",
)

# Tables whose rows belong to an order: an order left alone as older than the stored one keeps them too.
ORDER_CHILDREN = ("order_lines", "refunds", "transactions")
# Tables whose rows name the orders whose rollups they move.
ORDER_TABLES = ("orders", "order_lines", "refunds")

ATTEMPTS = 5
BACKOFF_SECONDS = 0.05


class WriteConflict(WarehouseError):
    """Other writers kept conflicting with this write: nothing of it was written; try it again later."""


@dataclass
class Cursor:
    """Where a sync stream stands once the write commits; ``run_id`` names its run in ``sync_runs``."""

    stream: str
    value: str | None
    run_id: str | None = None


@dataclass
class Changes:
    """What one write does to a store.

    ``rows`` maps a table to a frame (columns a subset of the table's, keys
    included); ``deletes`` maps a table to key frames; ``newer_only`` maps a
    table to its version column (a row older on it than the stored one is left
    alone); ``statements`` are extra ``(sql, params)`` run after the rows;
    ``orders`` names orders whose rollups move besides those the rows and
    deletes name (a statement that changes an order, say); ``new`` names the
    tables whose rows are appended rather than upserted (see :meth:`add`).
    """

    rows: dict[str, pl.DataFrame] = field(default_factory=dict)
    deletes: dict[str, pl.DataFrame] = field(default_factory=dict)
    newer_only: dict[str, str] = field(default_factory=dict)
    statements: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    orders: set[str] = field(default_factory=set)
    new: set[str] = field(default_factory=set)  # tables whose rows are appended, not upserted
    then: "Changes | None" = None  # rows added with other columns than a table's first frame

    def add(self, table: str, frame: pl.DataFrame, *, new: bool = False) -> "Changes":
        """Rows for ``table``, after those added before (a later row wins on its key).

        ``new``: the rows are new records, appended with the bulk insert (a key
        already stored is an error, not an overwrite).

        Rows with other columns than those already held for the table (or
        added as new when those were not, or the other way) are written after
        them, apart (a column a frame lacks keeps its stored
        value or its default, never a null it did not say)."""
        if frame.height:
            held = self.rows.get(table)
            if held is None:
                self.rows[table] = frame
            elif held.columns == frame.columns and new == (table in self.new):
                self.rows[table] = pl.concat([held, frame], how="vertical_relaxed")
            else:
                if self.then is None:
                    self.then = Changes(newer_only=self.newer_only)
                self.then.add(table, frame, new=new)
                return self
            if new:
                self.new.add(table)
        return self

    def delete(self, table: str, keys: pl.DataFrame) -> "Changes":
        if keys.height:
            held = self.deletes.get(table)
            self.deletes[table] = keys if held is None else pl.concat([held, keys], how="diagonal_relaxed")
        return self

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> "Changes":
        self.statements.append((sql, dict(params or {})))
        return self

    def touch(self, order_ids: Sequence[str]) -> "Changes":
        self.orders.update(str(o) for o in order_ids if o is not None)
        return self


@dataclass
class Written:
    """What a write did: rows written, orders whose rollups were redone, rows left alone as older."""

    rows: int = 0
    orders: list[str] = field(default_factory=list)
    stale: dict[str, int] = field(default_factory=dict)
    attempts: int = 1


Parts = Union[Changes, Sequence[Changes], None]
ChangesOrFunction = Union[Changes, Sequence[Changes], Callable[[Warehouse], Parts]]


def write(
    wh: Warehouse,
    store_id: str,
    changes: ChangesOrFunction,
    *,
    cursor: Cursor | None = None,
    bulk: bool = False,
    replace: bool = False,
    on_table: Callable[[str], None] | None = None,
    attempts: int = ATTEMPTS,
) -> Written:
    """Apply ``changes`` to ``store_id`` in one transaction (see the module's steps); return what it did.

    ``changes`` may be a sequence of :class:`Changes` (applied one after the
    other: frames of one table with different columns stay apart, so absent
    columns keep their stored values), or a function of the warehouse
    returning either, called inside the transaction (and again on a retry);
    None from it writes nothing but the cursor. ``bulk`` rebuilds the store's rollups from its raw rows instead of
    redoing those of each order (faster for a large file); ``replace`` first
    deletes every row of the store and appends the rows with the bulk insert
    (a store built from scratch; implies ``bulk``). ``on_table(name)`` is
    called before each table is written.
    """
    if wh.in_transaction():
        # Part of a caller's transaction: that caller owns the retries.
        with wh.serialized(store_id):
            return _apply(wh, store_id, changes, cursor, bulk or replace, replace, on_table)
    for attempt in range(1, attempts + 1):
        try:
            with wh.serialized(store_id):
                written = _apply(wh, store_id, changes, cursor, bulk or replace, replace, on_table)
            written.attempts = attempt
            return written
        except Exception as exc:
            if not wh.is_conflict(exc):
                raise
            if attempt == attempts:
                raise WriteConflict(
                    f"The write to store {store_id} met a conflicting write {attempts} times in a row, so "
                    "nothing of it was written; try it again."
                ) from exc
            log.info("write to %s conflicted (%s); trying again (%d of %d)", store_id,
                     exc.__class__.__name__, attempt + 1, attempts)
            time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1) * (1 + random.random()))
    raise AssertionError("unreachable")


def _apply(wh: Warehouse, store_id: str, changes: ChangesOrFunction, cursor: Cursor | None, bulk: bool,
           replace: bool, on_table: Callable[[str], None] | None) -> Written:
    found = changes(wh) if callable(changes) else changes
    parts = []
    for part in [found] if isinstance(found, Changes) else list(found or ()):
        while part is not None:
            parts.append(part)
            part = part.then
    written = Written()
    if replace:
        delete_store_rows(wh, store_id)
    touched: set[str] = set()
    sessions: set[str] = set()
    for part in parts:
        rows = {t: f for t, f in part.rows.items() if f is not None and f.height}
        deletes = {t: f for t, f in part.deletes.items() if f is not None and f.height}
        if part.newer_only and not replace:
            rows, deletes, stale = _guarded(wh, rows, deletes, part.newer_only)
            for table, count in stale.items():
                written.stale[table] = written.stale.get(table, 0) + count
        if not replace:
            # One customer per person: guest orders of a registered customer's email are theirs (data/identity.py).
            rows, relinked = link_guests(wh, store_id, rows)
            touched |= set(relinked)
        touched |= set(part.orders) | _order_ids(rows) | _order_ids(deletes)
        if deletes:
            _delete(wh, deletes)
        ordered = sorted(rows, key=lambda t: WRITE_ORDER.index(t) if t in WRITE_ORDER else len(WRITE_ORDER))
        for table in ordered:
            if table not in TABLE_KEYS:
                raise WarehouseError(f"rows were given for the unknown table {table}")
            if on_table is not None:
                on_table(table)
            append = replace or table in part.new
            written.rows += wh.insert(table, rows[table]) if append else wh.upsert(table, rows[table])
        for sql, params in part.statements:
            wh.execute(sql, params)
        events = rows.get("web_events")
        if events is not None and "session_id" in events.columns:
            sessions.update(str(v) for v in events["session_id"].drop_nulls().unique().to_list())
    if bulk:
        if on_table is not None:
            on_table("rollups")
        refresh_store(wh, store_id)
    else:
        if touched:
            refresh_orders(wh, store_id, sorted(touched))
        if sessions:
            refresh_sessions(wh, store_id, sorted(sessions))
    written.orders = sorted(touched)
    if cursor is not None:
        _save_cursor(wh, store_id, cursor)
    return written


def _save_cursor(wh: Warehouse, store_id: str, cursor: Cursor) -> None:
    now = dt.datetime.now(UTC)
    if cursor.value is not None:
        wh.upsert("sync_state", pl.DataFrame({"store_id": [store_id], "stream": [cursor.stream],
                                              "cursor": [cursor.value], "updated_at": [now]}))
    if cursor.run_id is not None:
        wh.execute("UPDATE sync_runs SET last_seen_at = :t WHERE run_id = :r", {"t": now, "r": cursor.run_id})


def delete_store_rows(wh: Warehouse, store_id: str) -> None:
    """Every row of the store: its tables, its purchase orders and its ``stores`` row."""
    params = {"s": store_id}
    for table in STORE_TABLES:
        wh.execute(f"DELETE FROM {check_table(table)} WHERE store_id = :s", params)
    wh.execute("DELETE FROM purchase_orders WHERE store_id = :s", params)
    wh.execute("DELETE FROM stores WHERE store_id = :s", params)


# -- deletes --------------------------------------------------------------------------------------

def _delete(wh: Warehouse, deletes: Mapping[str, pl.DataFrame]) -> None:
    if "orders" in deletes:
        _delete_order_children(wh, deletes["orders"])
    if "refunds" in deletes:
        _delete_refund_lines(wh, deletes["refunds"])
    for table, keys in deletes.items():
        # A frame without the table's whole key deletes every row matching its columns
        # (for example all lines of an order, before its current ones are written).
        whole = set(TABLE_KEYS.get(table, ())) <= set(keys.columns)
        wh.delete_keys(table, keys, None if whole else keys.columns)


def _refunds_of(wh: Warehouse, keys: pl.DataFrame) -> pl.DataFrame:
    """``store_id, refund_id`` of the stored refunds of the orders in ``keys``."""
    found = []
    for (store_id,), group in keys.select("store_id", "order_id").unique().group_by(["store_id"]):
        ids = group["order_id"].to_list()
        for start in range(0, len(ids), 500):
            chunk = {f"o{i}": v for i, v in enumerate(ids[start:start + 500])}
            found.append(wh.query(
                f"SELECT store_id, refund_id FROM refunds WHERE store_id = :s "
                f"AND order_id IN ({', '.join(':' + name for name in chunk)})",
                {"s": store_id, **chunk},
            ))
    found = [f for f in found if f.height]
    return pl.concat(found) if found else pl.DataFrame(schema={"store_id": pl.String, "refund_id": pl.String})


def _delete_order_children(wh: Warehouse, keys: pl.DataFrame) -> None:
    """Deleting an order deletes its lines, its refunds and their lines (its rollups follow)."""
    keys = keys.select("store_id", "order_id").unique()
    refunds = _refunds_of(wh, keys)
    if refunds.height:
        wh.delete_keys("refund_lines", refunds, ["store_id", "refund_id"])
    for table in ("refunds", "order_lines"):
        wh.delete_keys(table, keys, ["store_id", "order_id"])


def _delete_refund_lines(wh: Warehouse, keys: pl.DataFrame) -> None:
    """Deleting refunds deletes their lines; refunds named by their order take those orders' refunds' lines."""
    if "refund_id" in keys.columns:
        wh.delete_keys("refund_lines", keys.select("store_id", "refund_id"), ["store_id", "refund_id"])
    elif "order_id" in keys.columns:
        refunds = _refunds_of(wh, keys)
        if refunds.height:
            wh.delete_keys("refund_lines", refunds, ["store_id", "refund_id"])


def _order_ids(tables: Mapping[str, pl.DataFrame]) -> set[str]:
    ids: set[str] = set()
    for table in ORDER_TABLES:
        frame = tables.get(table)
        if frame is not None and frame.height and "order_id" in frame.columns:
            ids.update(str(v) for v in frame["order_id"].drop_nulls().to_list())
    return ids


# -- the newer-only guard -------------------------------------------------------------------------

def _guarded(
    wh: Warehouse, rows: dict[str, pl.DataFrame], deletes: dict[str, pl.DataFrame], newer_only: Mapping[str, str]
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame], dict[str, int]]:
    """The rows and deletes without what is older than the stored versions (and an older order's children)."""
    stale: dict[str, int] = {}
    rows = dict(rows)
    for table, column in newer_only.items():
        frame = rows.get(table)
        if frame is None or table not in TABLE_KEYS:
            continue
        kept = drop_stale_rows(wh, table, frame, column)
        if kept.height < frame.height:
            stale[table] = frame.height - kept.height
            if table == "orders":
                left = frame.select("store_id", "order_id").join(
                    kept.select("store_id", "order_id"), on=["store_id", "order_id"], how="anti").unique()
                rows, deletes = _without_orders(wh, rows, deletes, left)
        rows[table] = kept
    if stale:
        log.info("rows older than the stored versions left alone: %s", stale)
    return rows, deletes, stale


def _without_orders(wh: Warehouse, rows: dict[str, pl.DataFrame], deletes: dict[str, pl.DataFrame],
                    orders: pl.DataFrame) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """``rows`` and ``deletes`` without what belongs to ``orders`` (lines, refunds, their lines, transactions)."""
    refund_ids = set(_refunds_of(wh, orders)["refund_id"].to_list())
    refunds = rows.get("refunds")
    if refunds is not None and "order_id" in refunds.columns:
        refund_ids |= set(refunds.join(orders, on=["store_id", "order_id"], how="semi")["refund_id"].to_list())

    def drop(frame: pl.DataFrame, table: str) -> pl.DataFrame:
        if table in ORDER_CHILDREN and "order_id" in frame.columns:
            return frame.join(orders, on=["store_id", "order_id"], how="anti")
        if table == "refund_lines" and "refund_id" in frame.columns and refund_ids:
            return frame.filter(~pl.col("refund_id").is_in(sorted(refund_ids)))
        return frame

    return ({t: drop(f, t) for t, f in rows.items()}, {t: drop(f, t) for t, f in deletes.items()})


def drop_stale_rows(wh: Warehouse, table: str, frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """``frame`` without the rows whose stored version is newer on ``column``.

    Rows with no value in ``column``, and rows not stored yet, are kept. Called
    inside the writing transaction, under the store's lock, so no other writer
    slips in between.
    """
    if frame.height == 0 or column not in frame.columns:
        return frame
    *scope, last = TABLE_KEYS[table]
    stored = []
    for group in frame.select(scope).unique().iter_rows(named=True) if scope else [{}]:
        ids = frame.filter(*[pl.col(k) == v for k, v in group.items()] or [pl.lit(True)])[last].unique().to_list()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            params = {**{f"s{i}": v for i, v in enumerate(group.values())},
                      **{f"k{i}": v for i, v in enumerate(chunk)}}
            where = [f"{k} = :s{i}" for i, k in enumerate(group)]
            where.append(f"{last} IN ({', '.join(f':k{i}' for i in range(len(chunk)))})")
            stored.append(wh.query(
                f"SELECT {', '.join([*scope, last])}, {column} AS _stored FROM {table} WHERE {' AND '.join(where)}",
                params,
            ))
    stored = [found for found in stored if found.height]
    if not stored:
        return frame
    known = pl.concat(stored).with_columns(pl.col("_stored").cast(frame.schema[column]))
    joined = frame.join(known, on=[*scope, last], how="left")
    keep = pl.col("_stored").is_null() | pl.col(column).is_null() | (pl.col(column) >= pl.col("_stored"))
    return joined.filter(keep).drop("_stored")

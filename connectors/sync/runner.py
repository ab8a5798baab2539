"""One sync runner for every source.

A source (Shopify, WooCommerce, Stripe) is a :class:`Source`: it names its
store and lists its :class:`Stream` objects. A stream is a generator of
:class:`Batch` objects, each holding normalized rows for warehouse tables and
the cursor reached once those rows are in. The runner:

- reads the stream's saved cursor from ``sync_state`` and hands the stream the
  point to resume from, moved back by the stream's lookback (records can share
  a timestamp and clocks drift); ``full=True`` starts from nothing;
- groups consecutive batches until they hold ``commit_rows`` rows or the
  first of them is ``commit_seconds`` old (a slow store still shows its rows
  within seconds; a fast one is written in few, large transactions), then
  hands the group's rows **and** the cursor of its last batch to the one
  write path (:func:`data.writes.write`: deletes, newer-only guard, upserts,
  rollups and cursor in one transaction), so a crash leaves both or neither;
- never saves a cursor past the time the sync started;
- records every run in ``sync_runs`` (rows read and written, status, error,
  last seen: see :mod:`connectors.sync.runs`), marks ``interrupted`` the runs
  of the store left ``running`` by a process that died, and on failure keeps
  everything committed so far: the next run resumes.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping, Protocol, Sequence

import numpy as np
import polars as pl

from connectors.sync.runs import alive, mark_interrupted, record_run
from data.keys import TABLE_KEYS
from data.warehouse import Warehouse
from data.writes import WRITE_ORDER, Changes, Cursor, drop_stale_rows, write

__all__ = ["WRITE_ORDER", "drop_stale_rows"]  # kept here for the sources that import them from the runner

log = logging.getLogger(__name__)

UTC = dt.timezone.utc

# A group of batches commits once it holds this many rows, or once its first
# batch has waited this long (whichever comes first), or at the stream's end.
COMMIT_ROWS = 20_000
COMMIT_SECONDS = 2.0


class SyncError(RuntimeError):
    """A sync that could not finish; the message is one sentence for the user."""


@dataclass
class Batch:
    """Rows for some warehouse tables plus the cursor they bring the stream to.

    ``tables`` maps a table name to a Polars frame whose columns are a subset of
    the table's (keys included). ``cursor`` is an opaque string (an ISO time,
    an id, a page token); ``None`` keeps the previous one. ``deletes`` lists
    key frames of rows to remove (for example a refund deleted at the source);
    a frame holding only some columns (``store_id``, ``order_id``) removes every
    row that matches them; deleting ``orders`` also deletes those orders' lines,
    refunds and refund lines. Deletes run before the batch's rows are written.
    ``newer_only`` maps a table to a timestamp column: a row whose stored
    version is newer on that column is left as it is (an older update never
    overwrites a newer one). ``note`` is a sentence for the user, kept with the
    run in ``sync_runs.note`` (for example why everything was read again).
    """

    tables: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    cursor: str | None = None
    deletes: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    rows_read: int | None = None
    newer_only: Mapping[str, str] = field(default_factory=dict)
    note: str | None = None

    def row_count(self) -> int:
        return sum(frame.height for frame in self.tables.values())


@dataclass
class SyncContext:
    """What a stream is told when it starts."""

    store_id: str
    started_at: dt.datetime  # the sync's start (UTC); cursors never pass it
    cursor: str | None  # the saved cursor, None on a first or --full sync
    resume_from: dt.datetime | None  # the saved cursor as a time, minus the lookback
    full: bool


@dataclass
class Stream:
    """One resource read incrementally: ``read(context)`` yields batches."""

    name: str
    read: Callable[[SyncContext], Iterable[Batch]]
    lookback: dt.timedelta = dt.timedelta(minutes=10)
    cursor_is_time: bool = True


class Source(Protocol):
    platform: str
    store_id: str

    def store_row(self) -> pl.DataFrame:
        """The ``stores`` row (currency and timezone as the platform reports them)."""

    def streams(self) -> Sequence[Stream]:
        ...


@dataclass
class StreamResult:
    store_id: str
    stream: str
    run_id: str
    status: str
    rows_read: int
    rows_written: int
    cursor: str | None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


ProgressFn = Callable[[str, int], None]


def parse_cursor_time(cursor: str | None) -> dt.datetime | None:
    if not cursor:
        return None
    try:
        value = dt.datetime.fromisoformat(cursor.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cap_cursor(cursor: str | None, started_at: dt.datetime, is_time: bool) -> str | None:
    """A time cursor never passes the sync's start (later rows are read next time)."""
    if cursor is None or not is_time:
        return cursor
    value = parse_cursor_time(cursor)
    if value is None or value <= started_at:
        return cursor
    return started_at.isoformat()


def saved_cursor(wh: Warehouse, store_id: str, stream: str) -> str | None:
    return wh.scalar(
        "SELECT cursor FROM sync_state WHERE store_id = :s AND stream = :n", {"s": store_id, "n": stream}
    )


def write_batch(wh: Warehouse, store_id: str, stream: str, batch: Batch, cursor: str | None,
                run_id: str | None = None) -> int:
    """Write one batch's rows and its cursor together; return rows written."""
    return write_batches(wh, store_id, stream, [batch], cursor, run_id)


def write_batches(wh: Warehouse, store_id: str, stream: str, batches: Sequence[Batch], cursor: str | None,
                  run_id: str | None = None) -> int:
    """Write several batches as if one after the other, with ``cursor``, in one transaction.

    The batches are merged first (see :func:`merge_batches`), so a table gets
    one delete and one upsert however many pages the group holds; the write
    itself (deletes, guard, upserts, rollups, cursor and the run's last-seen
    time) is :func:`data.writes.write`'s.
    """
    tables, deletes, newer_only = merge_batches(batches)
    unknown = sorted(t for t, f in tables.items() if f.height and t not in TABLE_KEYS)
    if unknown:
        raise SyncError(f"stream {stream} produced rows for unknown table {unknown[0]}")
    changes = Changes(rows=dict(tables), deletes=dict(deletes), newer_only=dict(newer_only))
    return write(wh, store_id, changes, cursor=Cursor(stream, cursor, run_id)).rows


def merge_batches(
    batches: Sequence[Batch],
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame], dict[str, str]]:
    """One set of (rows, deletes, newer-only columns) that leaves the warehouse as the
    batches written one after the other would.

    Written in order, batch *i*'s deletes remove rows that earlier batches
    wrote; so those rows are dropped from the merged rows here, and every
    delete still runs against the warehouse before the merged upsert. Rows
    sharing a key keep the last batch's version (the upsert keeps the last
    row), except on a newer-only table, where the newest on its column wins
    (ties go to the later batch), as writing them in turn would leave it.
    """
    if len(batches) == 1:
        only = batches[0]
        return dict(only.tables), dict(only.deletes), dict(only.newer_only)
    rows: dict[str, list[tuple[int, pl.DataFrame]]] = {}
    deletes: dict[str, list[tuple[int, pl.DataFrame]]] = {}
    newer_only: dict[str, str] = {}
    for position, batch in enumerate(batches):
        for table, keys in batch.deletes.items():
            if keys.height:
                deletes.setdefault(table, []).append((position, keys))
        for table, frame in batch.tables.items():
            if frame.height:
                rows.setdefault(table, []).append((position, frame))
        newer_only.update(batch.newer_only)
    merged = {}
    for table, frames in rows.items():
        frame = _stacked(frames)
        by_columns: dict[tuple[str, ...], list[tuple[int, pl.DataFrame]]] = {}
        for position, keys in deletes.get(table, ()):
            by_columns.setdefault(tuple(keys.columns), []).append((position, keys))
        for columns, frames_of_keys in by_columns.items():
            # The last batch that deleted each key; rows written before it are gone.
            last = _stacked(frames_of_keys).group_by(list(columns)).agg(pl.col("_by").max().alias("_deleted"))
            frame = (frame.join(last, on=list(columns), how="left", nulls_equal=True)
                     .filter(pl.col("_deleted").is_null() | (pl.col("_by") >= pl.col("_deleted")))
                     .drop("_deleted"))
        column = newer_only.get(table)
        if column is not None and column in frame.columns and table in TABLE_KEYS:
            # Nulls first, so a dated row wins over an undated one, then the latest date.
            frame = (frame.sort([column, "_by"], nulls_last=False, maintain_order=True)
                     .unique(list(TABLE_KEYS[table]), keep="last", maintain_order=True))
        merged[table] = frame.drop("_by")
    merged_deletes = {
        table: pl.concat([keys for _, keys in frames], how="diagonal_relaxed").unique()
        for table, frames in deletes.items()
    }
    return merged, merged_deletes, newer_only


def _stacked(frames: Sequence[tuple[int, pl.DataFrame]]) -> pl.DataFrame:
    """The frames one under the other, each row with its batch's position in ``_by``."""
    positions = np.repeat(np.array([p for p, _ in frames], dtype=np.int32), [f.height for _, f in frames])
    return pl.concat([f for _, f in frames], how="diagonal_relaxed").with_columns(pl.Series("_by", positions))


def group_batches(
    batches: Iterable[Batch], *, rows: int = COMMIT_ROWS, seconds: float = COMMIT_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[list[Batch]]:
    """Consecutive batches in groups of about ``rows`` rows, none waiting longer than ``seconds``.

    A batch that brings an error (the stream raised) ends the groups: the
    group read so far is yielded first, then the error propagates.
    """
    group: list[Batch] = []
    count = 0
    first_at = 0.0
    iterator = iter(batches)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            break
        except Exception:
            if group:
                yield group
            raise
        if not group:
            first_at = clock()
        group.append(batch)
        count += batch.row_count()
        if count >= rows or clock() - first_at >= seconds:
            yield group
            group, count = [], 0
    if group:
        yield group


def _counted(stream: Stream, context: SyncContext, result: StreamResult,
             progress: ProgressFn | None) -> Iterator[Batch]:
    """The stream's batches, counting rows read, keeping notes and reporting progress as each arrives."""
    for batch in stream.read(context):
        result.rows_read += batch.rows_read if batch.rows_read is not None else batch.row_count()
        if batch.note:
            result.notes.append(batch.note)
            log.info("sync of %s/%s: %s", context.store_id, stream.name, batch.note)
        if progress:
            progress(stream.name, result.rows_read)
        yield batch


def run_stream(
    wh: Warehouse,
    store_id: str,
    stream: Stream,
    *,
    full: bool = False,
    started_at: dt.datetime | None = None,
    progress: ProgressFn | None = None,
    commit_rows: int = COMMIT_ROWS,
    commit_seconds: float = COMMIT_SECONDS,
) -> StreamResult:
    """Run one stream to its end (or its first failure) and record the run."""
    started_at = started_at or dt.datetime.now(UTC)
    cursor = None if full else saved_cursor(wh, store_id, stream.name)
    resume = parse_cursor_time(cursor) if stream.cursor_is_time else None
    if resume is not None:
        resume -= stream.lookback
    context = SyncContext(store_id, started_at, cursor, resume, full)
    result = StreamResult(store_id, stream.name, uuid.uuid4().hex, "running", 0, 0, cursor)
    mark_interrupted(wh, store_id)
    with alive(wh, result.run_id):
        return _run(wh, stream, context, result, progress, commit_rows, commit_seconds)


def _run(wh: Warehouse, stream: Stream, context: SyncContext, result: StreamResult, progress: ProgressFn | None,
         commit_rows: int, commit_seconds: float) -> StreamResult:
    store_id, started_at = context.store_id, context.started_at
    record_run(wh, result, started_at, finished=False)
    try:
        for group in group_batches(_counted(stream, context, result, progress),
                                   rows=commit_rows, seconds=commit_seconds):
            cursors = [cap_cursor(b.cursor, started_at, stream.cursor_is_time) for b in group]
            new_cursor = next((c for c in reversed(cursors) if c is not None), None)
            result.rows_written += write_batches(wh, store_id, stream.name, group, new_cursor, result.run_id)
            if new_cursor is not None:
                result.cursor = new_cursor
        result.status = "succeeded"
    except Exception as exc:  # recorded, then re-raised as one sentence
        result.status = "failed"
        result.error = str(exc) or exc.__class__.__name__
        record_run(wh, result, started_at, finished=True)
        log.warning("sync of %s/%s failed: %s", store_id, stream.name, result.error)
        if isinstance(exc, SyncError):
            raise
        raise SyncError(f"{store_id} {stream.name}: {result.error}") from exc
    record_run(wh, result, started_at, finished=True)
    log.info("sync of %s/%s: %d records read, %d rows written", store_id, stream.name, result.rows_read,
             result.rows_written)
    return result


def run_sync(
    wh: Warehouse,
    source: Source,
    *,
    streams: Sequence[str] | None = None,
    full: bool = False,
    progress: ProgressFn | None = None,
) -> list[StreamResult]:
    """Sync every stream of ``source`` (or those named), then today's stock snapshot.

    Stops at the first failing stream with :class:`SyncError`; what earlier
    batches and streams wrote stays committed.
    """
    started_at = dt.datetime.now(UTC)
    write_store_row(wh, source.store_row())
    results = []
    for stream in source.streams():
        if streams and stream.name not in streams:
            continue
        results.append(run_stream(wh, source.store_id, stream, full=full, started_at=started_at, progress=progress))
    take_inventory_snapshot(wh, source.store_id)
    return results


def write_store_row(wh: Warehouse, row: pl.DataFrame) -> None:
    """Upsert a source's ``stores`` row; a row holding only ``store_id`` joins that store, which must exist;
    no row (GA4, Meta: sources attached to a store) writes nothing.

    A payment source pointed at a shop's store (PayPal with ``--store``) adds
    its rows there and leaves the shop's name, currency and timezone as they are.
    """
    if not row.height:  # a source attached to a store (GA4, Meta) leaves its row to the store's platform
        return
    if set(row.columns) > {"store_id"}:
        wh.upsert("stores", row)
        return
    store_id = row["store_id"][0]
    platform = wh.scalar("SELECT platform FROM stores WHERE store_id = :s", {"s": store_id})
    if platform is None:
        raise SyncError(f"there is no store {store_id!r} to add these payments to: sync or import its orders "
                        "first, or leave the store out to keep them in a store of their own.")
    if platform == "demo":
        # The demo's payments and their fees are made up; real ones beside them would count fees twice.
        raise SyncError(f"{store_id!r} is a demo store, whose payments and fees are made up: add real payments "
                        "to a real store, or leave the store out to keep them in a store of their own.")


def take_inventory_snapshot(wh: Warehouse, store_id: str, day: dt.date | None = None) -> int:
    """Copy the current ``inventory_levels`` into today's (store-local) snapshot."""
    if day is None:
        from zoneinfo import ZoneInfo

        tz = wh.scalar("SELECT timezone FROM stores WHERE store_id = :s", {"s": store_id}) or "UTC"
        day = dt.datetime.now(ZoneInfo(tz)).date()
    levels = wh.query(
        "SELECT store_id, variant_id, location_id, available FROM inventory_levels WHERE store_id = :s",
        {"s": store_id},
    )
    if levels.height == 0:
        return 0
    snapshot = levels.with_columns(pl.lit(day).alias("snapshot_date"))
    wh.upsert("inventory_snapshots", snapshot)
    return snapshot.height

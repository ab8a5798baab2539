"""The ``sync_runs`` rows: each run recorded as it starts and ends, and runs whose process died.

A run is ``running`` from its start, then ``succeeded`` or ``failed``. Its
``last_seen_at`` moves at its start and with every write of its rows and
cursor (see :func:`data.writes.write`). While it runs, its process holds the
run's mark (:meth:`~data.warehouse.Warehouse.hold`: a lock of the session on
PostgreSQL, which ends with the process; a mark in the process on DuckDB,
where one process writes). A ``running`` row whose mark nobody holds belongs
to a process that died (SIGKILL, a crash, a power cut): :func:`mark_interrupted`
turns it ``interrupted``, saying when it was last seen. What it committed
stays, and the next sync resumes from its cursor.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import polars as pl

from data.warehouse import Warehouse

if TYPE_CHECKING:
    from connectors.sync.runner import StreamResult

log = logging.getLogger(__name__)

UTC = dt.timezone.utc
INTERRUPTED = "interrupted"


def run_key(run_id: str) -> str:
    return f"sync-run:{run_id}"


@contextmanager
def alive(wh: Warehouse, run_id: str) -> Iterator[None]:
    """Hold the run's mark while the block runs (take it before the run's row says ``running``)."""
    with wh.hold(run_key(run_id)):
        yield


def record_run(wh: Warehouse, result: "StreamResult", started_at: dt.datetime, finished: bool) -> None:
    now = dt.datetime.now(UTC)
    wh.upsert(
        "sync_runs",
        pl.DataFrame(
            {
                "run_id": [result.run_id],
                "store_id": [result.store_id],
                "stream": [result.stream],
                "started_at": [started_at],
                "finished_at": [now if finished else None],
                "status": [result.status],
                "rows_read": [result.rows_read],
                "rows_written": [result.rows_written],
                "error": [result.error],
                "note": [" ".join(result.notes) or None],
                "last_seen_at": [now],
            },
            schema_overrides={"finished_at": pl.Datetime("us", "UTC"), "error": pl.String, "note": pl.String},
        ),
    )


def interrupted_sentence(last_seen: dt.datetime | None) -> str:
    when = f"last seen {last_seen.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if last_seen else "never seen after it began"
    return (f"The sync stopped without finishing: its process ended ({when}). What it wrote before stays, "
            "and the next sync resumes from there.")


def mark_interrupted(wh: Warehouse, store_id: str | None = None) -> int:
    """Mark ``interrupted`` the ``running`` runs (of ``store_id``, or of every store) whose process died.

    Returns how many were marked. A run still alive in this or (PostgreSQL)
    another process is left as it is.
    """
    sql = "SELECT run_id, started_at, last_seen_at FROM sync_runs WHERE status = 'running'"
    params: dict = {}
    if store_id is not None:
        sql += " AND store_id = :s"
        params["s"] = store_id
    marked = 0
    for run_id, started_at, last_seen in wh.rows(sql, params):
        if wh.is_held(run_key(run_id)):
            continue
        seen = last_seen or started_at
        if isinstance(seen, dt.datetime) and seen.tzinfo is None:
            seen = seen.replace(tzinfo=UTC)
        wh.execute(
            "UPDATE sync_runs SET status = :status, error = :error, last_seen_at = :seen "
            "WHERE run_id = :r AND status = 'running'",
            {"status": INTERRUPTED, "error": interrupted_sentence(seen), "seen": seen, "r": run_id},
        )
        marked += 1
        log.warning("sync run %s was left running by a process that ended; marked interrupted", run_id)
    return marked

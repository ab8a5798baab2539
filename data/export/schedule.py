"""The Parquet export on a schedule, in a thread of the running app.

With the embedded DuckDB file no other process may open the warehouse while
the app runs, so this is how a BI tool reads a DuckDB-backed store: the app
writes ``PARQUET_EXPORT_DIR`` every ``PARQUET_EXPORT_INTERVAL_MINUTES``
(0: off) through its own shared warehouse, and the tool reads the files. The
first export comes soon after the start; a failing one is logged and tried
again at the next interval. Both settings are read again every minute.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from data.settings import setting
from data.warehouse import Warehouse

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MINUTES = 60.0
CHECK_SECONDS = 60.0
FIRST_DELAY_SECONDS = 30.0


def export_plan() -> tuple[str | None, float]:
    """(``PARQUET_EXPORT_DIR`` or None, the interval in minutes; 0 or less: off)."""
    folder = (setting("PARQUET_EXPORT_DIR") or "").strip() or None
    raw = (setting("PARQUET_EXPORT_INTERVAL_MINUTES") or "").strip()
    try:
        minutes = float(raw) if raw else DEFAULT_INTERVAL_MINUTES
    except ValueError:
        log.warning("PARQUET_EXPORT_INTERVAL_MINUTES %r is not a number; exporting every %.0f minutes",
                    raw, DEFAULT_INTERVAL_MINUTES)
        minutes = DEFAULT_INTERVAL_MINUTES
    return folder, minutes


def export_once(wh: Warehouse, folder: str) -> bool:
    """One export to ``folder``; never raises (failures are logged)."""
    from data.export.parquet import export_parquet

    try:
        result = export_parquet(wh, folder)
    except Exception:  # the loop goes on at the next interval
        log.exception("Parquet export to %s failed", folder)
        return False
    log.info("Parquet export: %d rows in %d partitions to %s in %.1f s",
             result.rows_written, result.partitions_written, folder, result.seconds)
    return True


def run_export_loop(wh: Warehouse, stop: threading.Event, plan: Callable[[], tuple[str | None, float]] = export_plan,
                    *, check_seconds: float = CHECK_SECONDS, first_delay: float = FIRST_DELAY_SECONDS,
                    clock: Callable[[], float] = time.monotonic) -> None:
    """Export each interval until ``stop`` is set; the first export ``first_delay`` seconds after the start."""
    next_due = clock() + first_delay
    while not stop.is_set():
        folder, minutes = plan()
        now = clock()
        if folder is None or minutes <= 0:
            stop.wait(check_seconds)
            next_due = clock() + first_delay  # off: once turned on, the first export comes soon
        elif now >= next_due:
            export_once(wh, folder)
            next_due = clock() + minutes * 60
        else:
            stop.wait(min(check_seconds, next_due - now))

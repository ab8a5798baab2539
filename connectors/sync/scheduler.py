"""Automatic syncs while the app runs.

:func:`run_scheduler` syncs every configured platform (Shopify, WooCommerce,
Stripe) every ``SYNC_INTERVAL_MINUTES`` minutes (0: off), in a thread of the
app's own process, so with the embedded DuckDB file it writes through the
app's shared warehouse. A platform without settings is skipped; a failing sync
is logged and tried again at the next interval (its cursor keeps what was
written). The interval is read again every minute, so a change applies without
a restart. At its start, runs left ``running`` by a process that died are
marked ``interrupted`` (see :mod:`connectors.sync.runs`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from connectors.sync.cli import PLATFORMS
from connectors.sync.runner import SyncError
from connectors.sync.runs import mark_interrupted
from connectors.sync.status import configured_platforms, sync_platform
from data.settings import setting
from data.warehouse import Warehouse

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MINUTES = 15
CHECK_SECONDS = 60.0


def interval_minutes() -> float:
    """``SYNC_INTERVAL_MINUTES`` as a number (0 or less: off; not a number: the default)."""
    raw = (setting("SYNC_INTERVAL_MINUTES") or "").strip()
    if not raw:
        return DEFAULT_INTERVAL_MINUTES
    try:
        return float(raw)
    except ValueError:
        log.warning("SYNC_INTERVAL_MINUTES %r is not a number; syncing every %d minutes",
                    raw, DEFAULT_INTERVAL_MINUTES)
        return DEFAULT_INTERVAL_MINUTES


def sync_configured(wh: Warehouse, platforms: list[str] | None = None) -> dict[str, str]:
    """One sync of every configured platform: platform -> ``"succeeded"`` or the failure sentence.

    Never raises: failures are logged.
    """
    outcome: dict[str, str] = {}
    try:
        names = configured_platforms() if platforms is None else platforms
    except Exception:  # the scheduler never stops over one pass
        log.exception("automatic sync: the configured platforms could not be read")
        return outcome
    for platform in names:
        try:
            results = sync_platform(wh, platform)
        except SyncError as exc:
            log.warning("automatic %s sync failed: %s", platform, exc)
            outcome[platform] = str(exc)
            continue
        except Exception as exc:  # logged in full, the loop goes on
            log.exception("automatic %s sync failed", platform)
            outcome[platform] = f"unexpected error ({exc.__class__.__name__})"
            continue
        read = sum(r.rows_read for r in results)
        log.info("automatic %s sync: %d records read in %d streams", platform, read, len(results))
        outcome[platform] = "succeeded"
    return outcome


def close_dead_runs(wh: Warehouse) -> int:
    """Mark ``interrupted`` the runs left ``running`` by a process that died (the app's or a worker's
    start); never raises."""
    try:
        marked = mark_interrupted(wh)
    except Exception:  # the app starts even if the warehouse cannot say
        log.exception("the sync runs left running could not be checked")
        return 0
    if marked:
        log.warning("%d sync run(s) left running by a process that ended are now marked interrupted", marked)
    return marked


def run_scheduler(
    wh: Warehouse,
    stop: threading.Event,
    interval_minutes_fn: Callable[[], float] = interval_minutes,
    *,
    check_seconds: float = CHECK_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Sync every configured platform each ``interval_minutes_fn()`` minutes until ``stop`` is set.

    The first pass comes one interval after the start. The interval is asked
    again at least every ``check_seconds``; 0 or less turns the syncs off until
    it changes. Never raises.
    """
    log.info("sync scheduler started (platforms: %s)", ", ".join(PLATFORMS))
    close_dead_runs(wh)
    last = clock()
    while not stop.is_set():
        try:
            minutes = float(interval_minutes_fn())
        except Exception:
            log.exception("sync scheduler: the interval could not be read")
            minutes = DEFAULT_INTERVAL_MINUTES
        if minutes <= 0:
            last = clock()  # off: once turned on again, a full interval passes first
            stop.wait(check_seconds)
            continue
        due = last + minutes * 60
        now = clock()
        if now < due:
            stop.wait(min(check_seconds, due - now))
            continue
        sync_configured(wh)
        last = clock()
    log.info("sync scheduler stopped")

"""The exchange rates kept current while the app runs.

At the start the shipped ECB history is loaded (what the warehouse lacks of
it), then, with ``FX_REFRESH`` on, the published file is fetched, and again
every ``FX_REFRESH_HOURS``. A refresh that fails (no network, say) is logged
and tried again at the next interval; the rates already stored stay in use.
"""

from __future__ import annotations

import logging
import threading

from connectors.fx.ecb import load_rates
from data.settings import setting
from data.warehouse import Warehouse

log = logging.getLogger(__name__)

DEFAULT_HOURS = 6.0


def refresh_hours() -> float:
    raw = (setting("FX_REFRESH_HOURS") or "").strip()
    try:
        hours = float(raw)
    except ValueError:
        return DEFAULT_HOURS
    return hours if hours > 0 else DEFAULT_HOURS


def refresh_once(wh: Warehouse) -> str:
    """One load (and refresh when FX_REFRESH is on): ``"succeeded"`` or the failure sentence. Never raises."""
    try:
        result = load_rates(wh)
    except Exception as exc:  # noqa: BLE001 - the app goes on with the rates it has
        log.warning("exchange rates not refreshed: %s", exc)
        return str(exc)
    log.info("exchange rates: %d written, up to %s", result.rows_written, result.cursor)
    return "succeeded"


def run_fx_loop(wh: Warehouse, stop: threading.Event) -> None:
    """:func:`refresh_once` now and every ``FX_REFRESH_HOURS`` until ``stop`` is set."""
    while not stop.is_set():
        refresh_once(wh)
        stop.wait(refresh_hours() * 3600)

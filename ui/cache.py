"""Cached analytics calls for the pages.

``cached_query(fn, wh, store_id, *args, **kwargs)`` returns
``fn(wh, store_id, *args, **kwargs)``, computed once per (function, warehouse,
store, arguments, data version) and kept for ``TTL_SECONDS`` at most. The data
version (``analytics.store_state.data_version``: counts and money sums of the
store's order and refund rollups) changes with every new, changed or refunded
order, so the live feed, a webhook or a sync shows up at the next render, and
a filter change that was seen before answers at once. Figures of ranges that
ended before today are keyed on the days before today only, so they stay
cached while today's orders arrive.

The data version itself is a few cheap queries, reused for ``VERSION_TTL``
seconds so that one page render asks for it once, not once per figure (a
render of a large store on PostgreSQL takes more than a second).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any, Callable, TypeVar

import streamlit as st

from analytics.store_state import DataVersion, data_version
from data.warehouse import Warehouse

T = TypeVar("T")

TTL_SECONDS = 600
MAX_ENTRIES = 2000
VERSION_TTL = 5.0

_versions: dict[tuple[str, str], tuple[float, DataVersion]] = {}
_versions_lock = threading.Lock()


def current_version(wh: Warehouse, store_id: str) -> DataVersion:
    """The store's data version, at most ``VERSION_TTL`` seconds old."""
    key = (wh.url, store_id)
    now = time.monotonic()
    with _versions_lock:
        hit = _versions.get(key)
    if hit is not None and now - hit[0] < VERSION_TTL:
        return hit[1]
    version = data_version(wh, store_id)
    with _versions_lock:
        _versions[key] = (now, version)
    return version


def cached_query(fn: Callable[..., T], wh: Warehouse, store_id: str, *args: Any, **kwargs: Any) -> T:
    """``fn(wh, store_id, *args, **kwargs)``, cached on (fn, warehouse, store, arguments, data version).

    Arguments must be hashable by ``st.cache_data`` (dates, strings,
    numbers, tuples of those); pass channel lists as tuples. A call whose
    date arguments all fall before the store's today (a range that ended
    yesterday) is keyed on the version of the days before today only, so new
    orders arriving today leave it cached. The result is returned as a copy
    (frames and dicts are safe to change).
    """
    version = current_version(wh, store_id)
    dates = [value.date() if isinstance(value, dt.datetime) else value
             for value in (*args, *kwargs.values()) if isinstance(value, dt.date)]
    fingerprint = version.history if dates and max(dates) < version.today else version.everything
    name = f"{fn.__module__}.{fn.__qualname__}"
    return _cached(fn, wh, name, wh.url, store_id, fingerprint, args, tuple(sorted(kwargs.items())))


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def _cached(_fn: Callable[..., Any], _wh: Warehouse, name: str, url: str, store_id: str, version: tuple,
            args: tuple, kwargs: tuple) -> Any:
    return _fn(_wh, store_id, *args, **dict(kwargs))


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def _cached_global(_fn: Callable[..., Any], _wh: Warehouse, name: str, url: str, stamp: int) -> Any:
    return _fn(_wh)


def cached_warehouse_query(fn: Callable[[Warehouse], T], wh: Warehouse, *, seconds: int = 30) -> T:
    """``fn(wh)`` for facts about the whole warehouse (the list of stores), kept ``seconds`` at most."""
    stamp = int(time.time() // max(1, seconds))
    return _cached_global(fn, wh, f"{fn.__module__}.{fn.__qualname__}", wh.url, stamp)


def clear() -> None:
    """Forget every cached result and data version (tests, and after a rebuild)."""
    _cached.clear()
    _cached_global.clear()
    with _versions_lock:
        _versions.clear()

"""Cached analytics calls for the pages.

``cached_query(fn, wh, store_id, *args, **kwargs)`` returns
``fn(wh, store_id, *args, **kwargs)``, computed once per (function, warehouse,
store, arguments, data version) and kept for ``TTL_SECONDS`` at most. The data
version (``analytics.store_state.data_version``: counts and money sums of the
store's order and refund rollups) changes with every new, changed or refunded
order, so the live feed, a webhook or a sync shows up at the next render, and
a filter change that was seen before answers at once. Figures of ranges that
ended before today are keyed on the days before today only, so they stay
cached while today's orders arrive. ``cached_by(stamp, fn, ...)`` keys a
figure on ``stamp`` instead, for what only a refresh writes (the customer
scores, keyed on the runs that wrote them).

The data version itself is a few cheap queries, reused for ``VERSION_TTL``
seconds so that one page render asks for it mostly once, not once per figure.
Two seconds keep a new order within the live panel's promise (its next
5-second rerun, under 10 s after arrival) while sparing most of a long render
on PostgreSQL its repeated checks.

A figure computed for a new data version drops its entry of the version
before (the same function and arguments): on a live store every order moves
the version, and the figures of superseded versions would otherwise stay in
memory for their whole TTL.

With ``REDIS_URL`` set, Streamlit's cache of each process stands in front of
Redis (``ui/shared_cache.py``): a figure missing from it is read from Redis,
where any app process may have stored it, and only computed when Redis has
it neither. Both layers are keyed on the data version, and on the generation
that :func:`clear` bumps, so every replica shows the same figures. Without
``REDIS_URL``, only Streamlit's cache is used.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

import streamlit as st

from analytics.store_state import DataVersion, data_version
from data.settings import setting
from data.warehouse import Warehouse, redact_url
from ui import shared_cache
from ui.shared_cache import SharedCache

T = TypeVar("T")

TTL_SECONDS = 600
MAX_ENTRIES = 2000
VERSION_TTL = 2.0
MAX_TRACKED = 10_000

_versions: dict[tuple[str, str], tuple[float, DataVersion]] = {}
_versions_lock = threading.Lock()
_ROOT = Path(__file__).resolve().parent.parent
_shared: SharedCache | None = None
_shared_lock = threading.Lock()
# A call (function, warehouse, store, arguments) → the (version, generation) of its newest entry.
_newest: dict[tuple, tuple] = {}
_newest_lock = threading.Lock()


def shared() -> SharedCache | None:
    """The Redis layer for the current ``REDIS_URL`` (``None`` when it is not set)."""
    global _shared
    url = (setting("REDIS_URL") or "").strip()
    with _shared_lock:
        current = _shared
        if current is None or current.url != url or current.prefix != shared_cache.KEY_PREFIX:
            current = _shared = SharedCache(url, shared_cache.KEY_PREFIX) if url else None
        return current


def shared_status() -> str:
    """Where page figures are cached, in one sentence (the Settings page)."""
    layer = shared()
    if layer is None:
        return "Page figures are cached in each app process (REDIS_URL is not set)."
    return layer.status()


def _generation() -> int | None:
    layer = shared()
    return None if layer is None else layer.generation()


def _name(fn: Callable[..., Any]) -> str:
    """``module.qualname``; for a page script (module ``__main__``) its path in the project instead."""
    module = fn.__module__
    code = getattr(fn, "__code__", None)
    if module == "__main__" and code is not None:
        path = Path(code.co_filename).resolve()
        module = path.relative_to(_ROOT).as_posix() if path.is_relative_to(_ROOT) else path.name
    return f"{module}.{fn.__qualname__}"


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
    return cached_by(fingerprint, fn, wh, store_id, *args, **kwargs)


def cached_by(stamp: tuple, fn: Callable[..., T], wh: Warehouse, store_id: str, *args: Any, **kwargs: Any) -> T:
    """``fn(wh, store_id, *args, **kwargs)``, cached on ``stamp`` instead of the store's data version.

    For figures read from what only a refresh writes (the customer scores): ``stamp`` names the runs that
    wrote them, so the orders arriving meanwhile leave the figures cached until the next run."""
    name, kwargs_key, generation = _name(fn), tuple(sorted(kwargs.items())), _generation()
    _drop_superseded(fn, wh, (name, wh.url, store_id, args, kwargs_key), (stamp, generation))
    return _cached(fn, wh, name, wh.url, store_id, stamp, args, kwargs_key, generation)


def _drop_superseded(fn: Callable[..., Any], wh: Warehouse, call: tuple, stamp: tuple) -> None:
    """Forget ``call``'s entry of an older (version, generation) than ``stamp``."""
    try:
        with _newest_lock:
            previous = _newest.get(call)
            if previous is None and len(_newest) >= MAX_TRACKED:
                _newest.clear()
            _newest[call] = stamp
    except TypeError:  # arguments Python cannot hash: Streamlit's cache hashes them its own way
        return
    if previous is not None and previous != stamp:
        name, url, store_id, args, kwargs = call
        _cached.clear(fn, wh, name, url, store_id, previous[0], args, kwargs, previous[1])


def _through_redis(compute: Callable[[], Any], ttl_seconds: int, generation: int | None, *parts: Any) -> Any:
    """``compute()``, or the value another process stored in Redis for the same ``parts``."""
    layer = shared() if generation is not None else None
    if layer is None:
        return compute()
    return layer.get_or_compute(parts, compute, ttl_seconds, generation)


@st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False)
def _cached(_fn: Callable[..., Any], _wh: Warehouse, name: str, url: str, store_id: str, version: tuple,
            args: tuple, kwargs: tuple, generation: int | None) -> Any:
    return _through_redis(lambda: _fn(_wh, store_id, *args, **dict(kwargs)), TTL_SECONDS, generation,
                          name, redact_url(url), store_id, version, args, kwargs)


@st.cache_data(ttl=TTL_SECONDS, max_entries=64, show_spinner=False)
def _cached_global(_fn: Callable[..., Any], _wh: Warehouse, name: str, url: str, stamp: int, seconds: int,
                   generation: int | None) -> Any:
    return _through_redis(lambda: _fn(_wh), min(TTL_SECONDS, seconds), generation,
                          name, redact_url(url), stamp, seconds)


def cached_warehouse_query(fn: Callable[[Warehouse], T], wh: Warehouse, *, seconds: int = 30) -> T:
    """``fn(wh)`` for facts about the whole warehouse (the list of stores), kept ``seconds`` at most."""
    seconds = max(1, seconds)
    stamp = int(time.time() // seconds)
    return _cached_global(fn, wh, _name(fn), wh.url, stamp, seconds, _generation())


def clear() -> None:
    """Forget every cached result and data version (tests, and after a rebuild), here and in Redis.

    In Redis only this app's keys go (those under the key prefix, found with
    SCAN), and the generation is bumped so that the other processes' own
    caches stop answering within a second.
    """
    _cached.clear()
    _cached_global.clear()
    with _versions_lock:
        _versions.clear()
    with _newest_lock:
        _newest.clear()
    layer = shared()
    if layer is not None:
        layer.clear()

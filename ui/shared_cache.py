"""Page figures shared by every app process through Redis (the ``REDIS_URL`` setting).

Several app replicas behind one load balancer each keep Streamlit's cache of
their own; with ``REDIS_URL`` set, a figure computed by one of them is stored
in Redis and the others read it instead of querying the warehouse again.

- **Keys**: ``KEY_PREFIX:q:<sha256>`` of the function's name, the warehouse
  URL without its password, the store, the data version fingerprint, the
  arguments and the generation (below), in a canonical text form that every
  process writes alike. An argument of a type that form does not know (an
  object whose only identity is its address) leaves that call unshared: it is
  cached in the process only, never under a wrong key.
- **Values**: pickled (Polars frames, Decimal, dates and dataclasses come
  back exactly as they went in). Unpickling runs code chosen by whoever wrote
  the bytes, which is acceptable only because nothing but the app's own
  processes writes under the prefix: keep the Redis server private to them
  (a password, a private network). A value that does not load is a miss.
- **Generation**: ``KEY_PREFIX:generation``, a counter that :meth:`clear`
  increments. Every key includes it, so a clear on one replica reaches the
  in-process caches of all of them within ``GENERATION_TTL`` seconds, and a
  figure being written by another replica during the clear is never read.
- **Failures**: Redis down or unreachable is a miss (the caller computes the
  figure itself), with one warning in the log per outage and per process, and
  no further attempt for ``RETRY_SECONDS``. A ``REDIS_URL`` that is not
  understood is one sentence in the log and on the Settings page; figures are
  then cached in the process only. The URL's password is never logged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import logging
import pickle
import re
import threading
import time
from decimal import Decimal
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from data.warehouse import redact_url

log = logging.getLogger("ui.cache")

KEY_PREFIX = "storefront-analytics:cache:v1"
CONNECT_TIMEOUT = 0.5
SOCKET_TIMEOUT = 2.0
RETRY_SECONDS = 30.0
GENERATION_TTL = 1.0
SCAN_COUNT = 500

MISS = object()


class Unshareable(TypeError):
    """An argument whose canonical form is unknown: the call is cached in this process only."""


def canonical(value: Any) -> Any:
    """A JSON-able form of ``value`` that is the same in every process (no ``hash()``, no addresses)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return ["enum", f"{type(value).__module__}.{type(value).__qualname__}", canonical(value.value)]
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, Decimal):
        return ["decimal", str(value)]
    if isinstance(value, dt.datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, dt.date):
        return ["date", value.isoformat()]
    if isinstance(value, dt.time):
        return ["time", value.isoformat()]
    if isinstance(value, dt.timedelta):
        return ["timedelta", value.days, value.seconds, value.microseconds]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ["dataclass", f"{type(value).__module__}.{type(value).__qualname__}",
                [[f.name, canonical(getattr(value, f.name))] for f in dataclasses.fields(value)]]
    if isinstance(value, (tuple, list)):
        kind = "list" if isinstance(value, list) else type(value).__qualname__
        return [kind, [canonical(item) for item in value]]
    if isinstance(value, (set, frozenset)):
        return ["set", sorted(_text(canonical(item)) for item in value)]
    if isinstance(value, dict):
        return ["dict", sorted([_text(canonical(k)), canonical(v)] for k, v in value.items())]
    raise Unshareable(f"{type(value).__qualname__} has no canonical form")


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def describe_url(url: str) -> str:
    """The Redis URL without its password (safe to log and to show)."""
    return re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", redact_url(url.strip()))


def _passwords(url: str) -> list[str]:
    """The passwords written in ``url`` (in its user part or as ``?password=``), to scrub from messages."""
    try:
        parts = urlsplit(url)
        found = [parts.password or ""] + parse_qs(parts.query).get("password", [])
    except ValueError:
        found = []
    found.append(url.split("://", 1)[-1].rpartition("@")[0].partition(":")[2])
    return sorted({p for p in found if p}, key=len, reverse=True)


class SharedCache:
    """Get and put pickled results in Redis under ``prefix``; every failure is a miss, never an error."""

    def __init__(self, url: str, prefix: str = KEY_PREFIX, *, retry_seconds: float = RETRY_SECONDS):
        self.url = url.strip()
        self.shown_url = describe_url(self.url)
        self.prefix = prefix
        self.retry_seconds = retry_seconds
        self.problem: str | None = None  # a bad URL: why, in one sentence
        self._client = None
        self._down_until = 0.0
        self._down_reason: str | None = None
        self._lock = threading.Lock()
        self._generation: tuple[float, int] | None = None
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            # Fail fast: a cache that waits is worse than computing the figure.
            self._client = redis.Redis.from_url(
                self.url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=SOCKET_TIMEOUT,
                retry=Retry(NoBackoff(), 0), health_check_interval=30)
        except (ValueError, TypeError) as exc:
            self.problem = (f"REDIS_URL {self.shown_url!r} is not understood ({self._scrub(exc)}): use "
                            "redis://[:password@]host:6379/0 (or rediss:// for TLS); page figures are "
                            "cached in each app process only.")
            log.warning(self.problem)

    # -- state ------------------------------------------------------------
    @property
    def available(self) -> bool:
        """Configured, and not in the pause after a failure."""
        return self._client is not None and time.monotonic() >= self._down_until

    def status(self) -> str:
        """One sentence for the Settings page."""
        if self.problem:
            return self.problem
        if time.monotonic() < self._down_until:
            return (f"Redis at {self.shown_url} is not answering ({self._down_reason}): each app process "
                    f"computes and caches page figures itself, and tries Redis again within "
                    f"{self.retry_seconds:g} seconds.")
        return f"Page figures are shared by every app process through Redis at {self.shown_url}."

    def _scrub(self, exc: BaseException) -> str:
        text = f"{exc.__class__.__name__}: {exc}"
        for password in _passwords(self.url):
            text = text.replace(password, "***")
        return text

    def _call(self, action: Callable[[Any], Any], default: Any) -> Any:
        """``action(client)``; on a Redis or network error: a warning (once per outage), a pause, ``default``."""
        if not self.available:
            return default
        import redis

        try:
            result = action(self._client)
        except (redis.RedisError, OSError) as exc:
            with self._lock:
                first = self._down_reason is None
                self._down_reason = self._scrub(exc)
                self._down_until = time.monotonic() + self.retry_seconds
            if first:
                log.warning("Redis at %s is not answering (%s): page figures are computed in this process "
                            "until it does; next try in %g s.", self.shown_url, self._down_reason,
                            self.retry_seconds)
            return default
        if self._down_reason is not None:
            with self._lock:
                self._down_reason = None
            log.info("Redis at %s answers again: page figures are shared again.", self.shown_url)
        return result

    # -- keys -------------------------------------------------------------
    def generation(self) -> int | None:
        """The clear counter (at most ``GENERATION_TTL`` seconds old); ``None`` while Redis is unusable."""
        if not self.available:
            return None
        now = time.monotonic()
        cached = self._generation
        if cached is not None and now - cached[0] < GENERATION_TTL:
            return cached[1]
        raw = self._call(lambda r: r.get(f"{self.prefix}:generation"), MISS)
        if raw is MISS:
            return None
        value = int(raw or 0)
        self._generation = (now, value)
        return value

    def key(self, generation: int, parts: tuple) -> str:
        """The Redis key of one result (raises :class:`Unshareable` for arguments without a canonical form)."""
        digest = hashlib.sha256(_text([generation, canonical(parts)]).encode()).hexdigest()
        return f"{self.prefix}:q:{digest}"

    # -- values -----------------------------------------------------------
    def get(self, key: str) -> Any:
        """The stored value, or :data:`MISS`."""
        raw = self._call(lambda r: r.get(key), None)
        if raw is None:
            return MISS
        try:
            return pickle.loads(raw)
        except Exception as exc:  # noqa: BLE001 - another version's value, or a truncated one: a miss
            log.debug("Cached value %s does not load (%s); computing it again.", key, exc.__class__.__name__)
            return MISS

    def put(self, key: str, value: Any, ttl_seconds: int) -> None:
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - a value that cannot travel stays in this process
            log.debug("A %s cannot be stored in Redis (%s).", type(value).__qualname__, exc)
            return
        self._call(lambda r: r.set(key, data, ex=max(1, int(ttl_seconds))), None)

    def get_or_compute(self, parts: tuple, compute: Callable[[], Any], ttl_seconds: int,
                       generation: int | None) -> Any:
        """The value stored for ``parts`` in this ``generation``, else ``compute()`` (stored for the others)."""
        if generation is None or not self.available:
            return compute()
        try:
            key = self.key(generation, parts)
        except Unshareable as exc:
            log.debug("Not shared through Redis: %s.", exc)
            return compute()
        value = self.get(key)
        if value is MISS:
            value = compute()
            self.put(key, value, ttl_seconds)
        return value

    def clear(self) -> int:
        """Drop every key under the prefix (SCAN, never KEYS) after bumping the generation; keys removed."""
        def drop(r) -> int:
            r.incr(f"{self.prefix}:generation")
            removed = 0
            batch: list = []
            for name in r.scan_iter(match=f"{_glob_escape(self.prefix)}:q:*", count=SCAN_COUNT):
                batch.append(name)
                if len(batch) >= SCAN_COUNT:
                    removed += r.unlink(*batch)
                    batch = []
            if batch:
                removed += r.unlink(*batch)
            return removed

        self._generation = None
        return self._call(drop, 0)


def _glob_escape(text: str) -> str:
    """``text`` with Redis glob characters escaped, for a SCAN MATCH pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)

"""Retries shared by the store connectors.

The rules every source follows (SOURCES.md):

- a throttled call (HTTP 429, or a platform's own "throttled" answer) waits as
  long as the source says (``Retry-After``), capped at ``max_wait`` seconds,
  and is tried again; throttling has its own, larger, bound so a store that
  never stops throttling still ends the run;
- a server error (5xx), a timeout or a dropped connection is retried with
  bounded exponential backoff and full jitter, ``tries`` times in all;
- past those bounds the run fails with one clear :class:`SyncError` sentence
  that never carries a credential.

A connector wraps each API call in :func:`call_with_retries` and raises
:class:`Retry` from inside the call when the answer asks for another try::

    def fetch():
        response = api.get("orders", params=params)
        if response.status_code == 429:
            raise Retry("throttled", retry_after=parse_retry_after(response.headers.get("Retry-After")),
                        throttled=True)
        if response.status_code >= 500:
            raise Retry(f"HTTP {response.status_code}")
        return response

    response = call_with_retries(fetch, what="WooCommerce orders page 3")

``requests``', ``httpx``' and ``httpx2``' timeouts and connection errors, and the
built-in ``TimeoutError``/``ConnectionError``, count as server errors without
any wrapping.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import importlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from connectors.sync.runner import SyncError

log = logging.getLogger(__name__)

T = TypeVar("T")


class Retry(Exception):
    """Raised inside a call to ask for another try.

    ``retry_after`` is the wait the source asked for (seconds), ``throttled``
    marks a rate limit (429) rather than a server error.
    """

    def __init__(self, reason: str, *, retry_after: float | None = None, throttled: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.throttled = throttled


@dataclass
class RetryPolicy:
    """How long and how often to try again.

    ``tries`` bounds server errors and timeouts (the first call included);
    ``throttled_tries`` bounds rate-limited answers; waits never exceed
    ``max_wait`` seconds. ``sleep`` is injectable for tests.
    """

    tries: int = 5
    throttled_tries: int = 10
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_wait: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the ``attempt``-th failure (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return random.uniform(0, ceiling)

    def throttle_wait(self, retry_after: float | None, attempt: int) -> float:
        if retry_after is None:
            return min(self.max_wait, self.backoff(attempt) + self.base_delay)
        return max(0.0, min(self.max_wait, retry_after))


DEFAULT_POLICY = RetryPolicy()


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _transient_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [TimeoutError, ConnectionError]
    try:
        import requests

        types += [requests.Timeout, requests.ConnectionError]
    except ImportError:  # pragma: no cover - requests is always there with the SDKs
        pass
    for name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(name)
            types += [module.TimeoutException, module.NetworkError, module.RemoteProtocolError]
        except (ImportError, AttributeError):
            pass
    return tuple(types)


def call_with_retries(
    call: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy | None = None,
    transient: tuple[type[BaseException], ...] = (),
) -> T:
    """``call()`` until it succeeds, obeying :class:`Retry` and retrying timeouts and dropped connections.

    ``what`` names the request in the final error ("Shopify orders page 3");
    ``transient`` adds exception types that count as server errors. Raises
    :class:`SyncError` once the tries are spent; any other exception passes
    through untouched.
    """
    policy = policy or DEFAULT_POLICY
    transient_types = _transient_types() + tuple(transient)
    failures = throttles = 0
    while True:
        try:
            return call()
        except Retry as exc:
            if exc.throttled:
                throttles += 1
                if throttles >= policy.throttled_tries:
                    raise SyncError(
                        f"{what} was still rate-limited after {throttles} tries; try again later."
                    ) from None
                wait = policy.throttle_wait(exc.retry_after, throttles)
            else:
                failures += 1
                if failures >= policy.tries:
                    raise SyncError(f"{what} failed after {_tries(failures)}: {exc.reason}.") from None
                wait = max(policy.backoff(failures), min(exc.retry_after or 0.0, policy.max_wait))
            log.info("%s: %s; trying again in %.2f s", what, exc.reason, wait)
        except transient_types as exc:
            failures += 1
            reason = _describe(exc)
            if failures >= policy.tries:
                raise SyncError(f"{what} failed after {_tries(failures)}: {reason}.") from None
            wait = policy.backoff(failures)
            log.info("%s: %s; trying again in %.2f s", what, reason, wait)
        policy.sleep(wait)


def _tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


def _describe(exc: BaseException) -> str:
    """A short reason without URLs (query strings may carry credentials)."""
    name = exc.__class__.__name__
    if "timeout" in name.lower() or isinstance(exc, TimeoutError):
        return "the request timed out"
    return f"the connection failed ({name})"

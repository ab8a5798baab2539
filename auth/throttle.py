"""Slowing repeated failed logins, per username and per address, without locking anyone out for good.

After ``free`` failures in a row, a key (a username, or an address) must wait
before its next attempt: ``base`` seconds, doubling with each further failure,
never more than ``cap``. A key that has been quiet for ``forget_after``
seconds starts afresh, and a successful login clears its username. The
username's cap is short (a minute): someone guessing at the owner's name slows
every guess but can keep the owner out for at most that long; the address's cap
is long (a quarter of an hour), as one address trying many names is an attack.

The counts live in the app's process (every session shares them); a restart
forgets them, which only helps the person who owns the server.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

from auth.users import User, UserStore, normalize


@dataclass
class _Record:
    failures: int
    last: float


class Throttle:
    def __init__(self, base: float = 1.0, cap: float = 60.0, free: int = 3, forget_after: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.base, self.cap, self.free, self.forget_after = base, cap, free, forget_after
        self.clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failures in a row."""
        if failures < self.free:
            return 0.0
        return min(self.cap, self.base * 2 ** (failures - self.free))

    def _current(self, key: str, now: float) -> _Record | None:
        record = self._records.get(key)
        if record is not None and now - record.last >= self.forget_after:
            del self._records[key]
            return None
        return record

    def wait(self, key: str) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        with self._lock:
            now = self.clock()
            record = self._current(key, now)
            if record is None:
                return 0.0
            return max(0.0, record.last + self.delay(record.failures) - now)

    def failed(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            record = self._current(key, now)
            if record is None:
                self._records[key] = _Record(1, now)
            else:
                record.failures += 1
                record.last = now

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)


@dataclass(frozen=True)
class Attempt:
    user: User | None
    wait_seconds: int = 0  # > 0: refused without checking, try again after this long


class LoginGuard:
    """Checks a username and password, slowed per username and per address."""

    def __init__(self, per_user: Throttle | None = None, per_address: Throttle | None = None):
        self.per_user = per_user or Throttle(base=1.0, cap=60.0)
        self.per_address = per_address or Throttle(base=2.0, cap=900.0, free=5)

    def attempt(self, store: UserStore, username: str, password: str, address: str | None) -> Attempt:
        user_key, address_key = f"user:{normalize(username)}", f"address:{address or 'unknown'}"
        wait = max(self.per_user.wait(user_key), self.per_address.wait(address_key))
        if wait > 0:
            return Attempt(None, math.ceil(wait))
        user = store.verify(username, password)
        if user is None:
            self.per_user.failed(user_key)
            self.per_address.failed(address_key)
            return Attempt(None)
        self.per_user.succeeded(user_key)
        return Attempt(user)


GUARD = LoginGuard()  # the app's: one per process, shared by every browser session

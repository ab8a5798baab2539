"""Retry policies for connector tests: short waits, each one recorded."""

from __future__ import annotations

import time

from connectors.sync.retry import RetryPolicy


class Sleeps(list):
    """Records each wait of the retry policy (and waits it, a few milliseconds at most)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 0.02))


def quick_policy(sleeps: Sleeps | None = None, *, throttled_tries: int = 4, max_wait: float = 0.05) -> RetryPolicy:
    return RetryPolicy(tries=3, throttled_tries=throttled_tries, base_delay=0.01, max_delay=0.02,
                       max_wait=max_wait, sleep=sleeps if sleeps is not None else Sleeps())

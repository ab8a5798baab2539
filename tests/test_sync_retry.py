"""The shared retry rules: Retry-After obeyed, bounded backoff, one clear sentence at the end."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from connectors.sync.retry import Retry, RetryPolicy, call_with_retries, parse_retry_after
from connectors.sync.runner import SyncError

UTC = dt.timezone.utc


def scripted(*outcomes):
    """A call that raises or returns each outcome in turn."""
    queue = list(outcomes)

    def call():
        outcome = queue.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return call


@pytest.mark.parametrize("value, expected", [
    ("3", 3.0), (" 0 ", 0.0), ("-5", 0.0), (None, None), ("", None), ("soon", None),
    ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0), ("Wed, 25 Nov 2026 11:00:00 GMT", 0.0),
], ids=["seconds", "zero", "negative", "absent", "empty", "garbage", "http-date", "http-date-past"])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=dt.datetime(2026, 11, 25, 12, tzinfo=UTC)) == expected


def test_throttled_calls_wait_as_told_capped():
    waits = []
    policy = RetryPolicy(max_wait=10, sleep=waits.append)
    call = scripted(Retry("429", retry_after=2, throttled=True), Retry("429", retry_after=600, throttled=True), "ok")
    assert call_with_retries(call, what="orders page 1", policy=policy) == "ok"
    assert waits == [2, 10]


def test_server_errors_and_timeouts_back_off_then_fail_with_one_sentence():
    waits = []
    policy = RetryPolicy(tries=3, base_delay=0.5, max_delay=1, sleep=waits.append)
    call = scripted(Retry("HTTP 502"), requests.ReadTimeout("https://shop/?consumer_secret=s3cret"), Retry("HTTP 503"))
    with pytest.raises(SyncError) as failure:
        call_with_retries(call, what="Shop orders page 2", policy=policy)
    assert str(failure.value) == "Shop orders page 2 failed after 3 tries: HTTP 503."
    assert len(waits) == 2 and all(0 <= w <= 1 for w in waits)


def test_a_timeout_message_carries_no_url():
    policy = RetryPolicy(tries=1, sleep=lambda s: None)
    with pytest.raises(SyncError) as failure:
        call_with_retries(scripted(requests.ReadTimeout("https://shop/?consumer_secret=s3cret")),
                          what="Shop customers", policy=policy)
    assert str(failure.value) == "Shop customers failed after 1 try: the request timed out."


def test_throttling_has_its_own_bound_and_other_errors_pass_through():
    policy = RetryPolicy(throttled_tries=2, sleep=lambda s: None)
    with pytest.raises(SyncError, match="still rate-limited after 2 tries"):
        call_with_retries(scripted(*[Retry("429", throttled=True)] * 2), what="Shop", policy=policy)
    with pytest.raises(KeyError):
        call_with_retries(scripted(KeyError("x")), what="Shop", policy=policy)

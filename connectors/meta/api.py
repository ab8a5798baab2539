"""Ad-account insights from the Meta Marketing API through the official ``facebook-business`` SDK.

The API object is built with ``FacebookAdsApi(session)``, never
``FacebookAdsApi.init()``: ``init`` turns the SDK's crash reporter on, which
posts tracebacks through the class-level ``FacebookSession.GRAPH``. Our
session carries its own ``GRAPH`` (``META_API_BASE``, for an emulator) and the
token; the class default is left alone.

Every call goes through :func:`connectors.sync.retry.call_with_retries`:

- throttling (error 4, 17, 32, 613, 80000–80014) waits as the usage headers
  say: ``x-business-use-case-usage``'s ``estimated_time_to_regain_access``
  (minutes), else ``x-ad-account-usage``'s ``reset_time_duration`` (seconds),
  capped by the policy; an answer whose usage passes 90 % slows the next call
  the same way;
- transient errors and 5xx back off with jitter, bounded;
- a refused token (190) or a missing permission is one :class:`SyncError`
  sentence, never the token.

Long ranges run as asynchronous report runs: started with a POST, polled until
``async_status`` is ``Job Completed`` (a run can show 100 % while still
``Job Running``), then paged like the synchronous ones, by ``after`` cursors.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterator, Mapping

from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.api import Cursor, FacebookAdsApi, FacebookSession
from facebook_business.exceptions import FacebookError, FacebookRequestError

from connectors.sync.retry import Retry, RetryPolicy, call_with_retries
from connectors.sync.runner import SyncError

THROTTLE_CODES = {4, 17, 32, 613, *range(80000, 80015)}
PERMISSION_CODES = {10, 200, 294, 272}
BUSY_PERCENT = 90
POLL_SECONDS = 2.0
POLL_LIMIT = 300  # polls of one report run (10 minutes at 2 s)


def usage_wait(headers: Mapping[str, str] | None) -> tuple[float | None, float]:
    """(seconds the usage headers ask to wait, the highest usage percentage they report)."""
    wait, busiest = None, 0.0
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    try:
        business = json.loads(lowered.get("x-business-use-case-usage") or "{}")
    except ValueError:
        business = {}
    for entries in business.values() if isinstance(business, dict) else ():
        for entry in entries or ():
            minutes = entry.get("estimated_time_to_regain_access") or 0
            if minutes:
                wait = max(wait or 0.0, float(minutes) * 60)
            busiest = max(busiest, *(float(entry.get(k) or 0) for k in ("call_count", "total_cputime", "total_time")))
    for name in ("x-ad-account-usage", "x-fb-ads-insights-throttle"):
        try:
            usage = json.loads(lowered.get(name) or "{}")
        except ValueError:
            continue
        if not isinstance(usage, dict):
            continue
        busiest = max(busiest, float(usage.get("acc_id_util_pct") or 0), float(usage.get("app_id_util_pct") or 0))
        if usage.get("reset_time_duration"):
            wait = max(wait or 0.0, float(usage["reset_time_duration"]))
    return wait, busiest


class MetaApi:
    """The reads of one ad account, each retried by the shared rules."""

    def __init__(self, access_token: str, account_id: str, *, api_base: str | None = None,
                 timeout: float = 60.0, policy: RetryPolicy | None = None,
                 poll_seconds: float = POLL_SECONDS) -> None:
        session = FacebookSession(access_token=access_token, timeout=timeout)
        if api_base:
            session.GRAPH = api_base.rstrip("/")  # this session's address; the class default stays untouched
        self.api = FacebookAdsApi(session)  # not init(): that would turn the crash reporter on
        self.account_id = "act_" + account_id.strip().removeprefix("act_")
        self.account = AdAccount(self.account_id, api=self.api)
        self.policy = policy
        self.poll_seconds = poll_seconds
        self.sleep: Callable[[float], None] = policy.sleep if policy else time.sleep
        self._slow_down: float = 0.0

    # -- one call ----------------------------------------------------------------
    def call(self, what: str, request: Callable[[], Any], headers: Callable[[Any], Mapping] | None = None) -> Any:
        def attempt() -> Any:
            if self._slow_down:
                self.sleep(self._slow_down)
                self._slow_down = 0.0
            try:
                result = request()
            except FacebookRequestError as exc:
                raise _classified(exc, what) from None
            except FacebookError as exc:
                raise SyncError(f"Meta sent an answer the SDK could not read for {what} "
                                f"({exc.__class__.__name__}).") from None
            if headers is not None:
                wait, busiest = usage_wait(headers(result))
                if busiest >= BUSY_PERCENT:
                    limit = self.policy.max_wait if self.policy else 60.0
                    self._slow_down = min(limit, wait or 1.0)
            return result

        return call_with_retries(attempt, what=f"Meta {what}", policy=self.policy)

    # -- reads ---------------------------------------------------------------------
    def account_info(self) -> dict:
        fields = ["name", "currency", "timezone_name", "account_id"]
        return dict(self.call("ad account", lambda: self.account.api_get(fields=fields)).export_all_data())

    def insights(self, fields: list[str], params: Mapping[str, Any], *, asynchronous: bool) -> Iterator[list[dict]]:
        """The insight rows, a page at a time; ``asynchronous`` runs them as a report run first."""
        if asynchronous:
            run = self.call("report run", lambda: self.account.get_insights_async(fields=fields, params=dict(params)))
            run = self.wait_for(run)
            first = lambda: run.get_insights(fields=fields, params={"limit": params.get("limit", 500)})  # noqa: E731
        else:
            first = lambda: self.account.get_insights(fields=fields, params=dict(params))  # noqa: E731
        cursor: Cursor = self.call("insights page 1", first, headers=lambda c: c.headers())
        page = 1
        while True:
            yield [dict(cursor[i].export_all_data()) for i in range(len(cursor))]
            page += 1
            if not self.call(f"insights page {page}", cursor.load_next_page, headers=lambda _: cursor.headers()):
                return

    def wait_for(self, run: AdReportRun) -> AdReportRun:
        """Poll the report run until ``Job Completed`` (100 % alone is not enough)."""
        fields = [AdReportRun.Field.async_status, AdReportRun.Field.async_percent_completion]
        for _ in range(POLL_LIMIT):
            state = self.call("report run status", lambda: run.api_get(fields=fields))
            status = state.get(AdReportRun.Field.async_status)
            if status == "Job Completed":
                return run
            if status in ("Job Failed", "Job Skipped"):
                raise SyncError(f"Meta's report run {run.get_id()} ended as {status!r}; run the sync again.")
            self.sleep(self.poll_seconds)
        raise SyncError(f"Meta's report run {run.get_id()} had not finished after {POLL_LIMIT} checks; "
                        "run the sync again later.")


def _classified(exc: FacebookRequestError, what: str) -> Exception:
    code = exc.api_error_code()
    status = exc.http_status() or 0
    if code in THROTTLE_CODES:
        wait, _ = usage_wait(exc.http_headers())
        return Retry(f"rate limited (error {code})", retry_after=wait, throttled=True)
    if code == 190 or status == 401:
        return SyncError("Meta refused the access token (error 190): check META_ACCESS_TOKEN; system user "
                         "tokens do not expire, others do after about 60 days.")
    if code in PERMISSION_CODES or status == 403:
        return SyncError(f"The token may not read {what} (error {code}): give it the ads read permission on the ad account "
                         "META_AD_ACCOUNT_ID.")
    if exc.api_transient_error() or code in (1, 2) or status >= 500:
        return Retry(f"HTTP {status}, error {code}")
    return SyncError(f"Meta refused to send {what} (HTTP {status}, error {code}).")

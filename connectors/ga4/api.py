"""Reports from the Google Analytics Data API (v1beta) through the official client.

The client is ``BetaAnalyticsDataClient`` over its REST transport with the
service account's key file (its self-signed JWTs need no token exchange).
``GA4_API_BASE`` sets ``client_options.api_endpoint`` (``http://`` is kept for a
local emulator; without a scheme the address is reached over https).

The client retries nothing we want retried: a 429 ``RESOURCE_EXHAUSTED`` (the
property's hourly or daily tokens are spent) raises ``TooManyRequests``. Every
call goes through :func:`connectors.sync.retry.call_with_retries` with the
client's own retry off, so quota answers wait (bounded) and the sync resumes
where it stopped; 5xx and timeouts back off; a refused key or property is one
:class:`SyncError` sentence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.types import DateRange, Dimension, Metric, OrderBy, RunReportRequest
from google.api_core import exceptions as google_errors
from google.api_core.client_options import ClientOptions
from google.oauth2 import service_account

from connectors.sync.retry import Retry, RetryPolicy, call_with_retries
from connectors.sync.runner import SyncError

SCOPES = ("https://www.googleapis.com/auth/analytics.readonly",)
PAGE_SIZE = 10_000  # the API's default page; it allows 250,000


@dataclass
class ReportPage:
    """One page of a report: rows as (dimension values, metric values), all strings as the API sends them."""

    rows: list[tuple[list[str], list[str]]]
    row_count: int
    currency: str | None
    timezone: str | None


def load_credentials(path: str) -> service_account.Credentials:
    """The service account of a key file; SyncError naming the setting when it cannot be read."""
    try:
        return service_account.Credentials.from_service_account_file(path, scopes=SCOPES)
    except FileNotFoundError:
        raise SyncError(f"GA4_CREDENTIALS_FILE names {path}, which does not exist.") from None
    except (ValueError, KeyError, OSError) as exc:
        raise SyncError(f"GA4_CREDENTIALS_FILE ({path}) is not a service-account key file "
                        f"({exc.__class__.__name__}): download a JSON key of the service account.") from None


class GA4Api:
    """``runReport`` pages of one property, each retried by the shared rules."""

    def __init__(self, property_id: str, credentials: service_account.Credentials, *,
                 api_base: str | None = None, timeout: float = 60.0, policy: RetryPolicy | None = None) -> None:
        self.property = f"properties/{property_id}"
        options = ClientOptions(api_endpoint=api_base.rstrip("/")) if api_base else None
        self.client = BetaAnalyticsDataClient(credentials=credentials, transport="rest", client_options=options)
        self.timeout = timeout
        self.policy = policy

    def page(self, start: dt.date | str, end: dt.date | str, dimensions: Sequence[str], metrics: Sequence[str],
             *, offset: int = 0, limit: int = PAGE_SIZE) -> ReportPage:
        """The rows ``offset`` to ``offset + limit`` of the report over ``[start, end]``, ordered by every
        dimension (so pages never overlap or skip)."""
        request = RunReportRequest(
            property=self.property,
            date_ranges=[DateRange(start_date=_day(start), end_date=_day(end))],
            dimensions=[Dimension(name=name) for name in dimensions],
            metrics=[Metric(name=name) for name in metrics],
            order_bys=[OrderBy(dimension=OrderBy.DimensionOrderBy(dimension_name=name)) for name in dimensions],
            offset=offset, limit=limit,
        )
        what = f"Google Analytics report {_day(start)} to {_day(end)} (rows from {offset:,})"

        def attempt():
            try:
                return self.client.run_report(request=request, retry=None, timeout=self.timeout)
            except google_errors.TooManyRequests:
                raise Retry("quota exhausted (429 RESOURCE_EXHAUSTED)", throttled=True) from None
            except (google_errors.ServerError, google_errors.DeadlineExceeded) as exc:
                raise Retry(f"HTTP {exc.code or 'error'}") from None
            except (google_errors.Unauthorized, google_errors.Unauthenticated):
                raise SyncError("Google Analytics refused the service account's key (HTTP 401): check "
                                "GA4_CREDENTIALS_FILE.") from None
            except (google_errors.Forbidden, google_errors.PermissionDenied):
                raise SyncError("The service account may not read this Google Analytics property (HTTP 403): "
                                "add its email as a Viewer of the property, and check GA4_PROPERTY_ID.") from None
            except google_errors.GoogleAPICallError as exc:
                # The message names the request's address; the status and its reason say enough.
                reason = f", {exc.reason}" if getattr(exc, "reason", None) else ""
                raise SyncError(f"Google Analytics refused the report (HTTP {exc.code}{reason}).") from None

        response = call_with_retries(attempt, what=what, policy=self.policy)
        rows = [([v.value for v in row.dimension_values], [v.value for v in row.metric_values])
                for row in response.rows]
        metadata = response.metadata
        return ReportPage(rows, int(response.row_count), metadata.currency_code or None,
                          metadata.time_zone or None)

    def pages(self, start: dt.date | str, end: dt.date | str, dimensions: Sequence[str],
              metrics: Sequence[str], *, limit: int = PAGE_SIZE):
        """Every page of the report, by ``offset``, until ``rowCount`` rows have come."""
        offset = 0
        while True:
            page = self.page(start, end, dimensions, metrics, offset=offset, limit=limit)
            yield page
            offset += len(page.rows)
            if not page.rows or offset >= page.row_count:
                return


def _day(value: dt.date | str) -> str:
    return value.isoformat() if isinstance(value, dt.date) else value

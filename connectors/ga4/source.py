"""The Google Analytics 4 source: a store's daily traffic, in one stream ``traffic``.

One report, ``runReport`` by ``date`` × ``sessionSource`` × ``sessionMedium`` ×
``sessionCampaignName`` × ``deviceCategory`` with ``sessions``,
``engagedSessions``, ``addToCarts``, ``checkouts``, ``ecommercePurchases`` and
``purchaseRevenue``, read in windows of days oldest first, each window paged
by ``offset`` (ordered by every dimension, so pages neither overlap nor skip)
until ``rowCount`` rows have come.

GA4 keeps revising the last days (late hits, sessions joined up, a row moving
from ``(not set)`` to its real source), so rows are never upserted on top of
older ones: a window's batch deletes every stored row of its days and writes
what the report says now, in one transaction with the cursor. The cursor is
the last day read (the property's today, read while still going on); each
sync reads again from ``GA4_REVISION_DAYS`` days before it (default 3) to
today. The first sync reads ``GA4_HISTORY_DAYS`` days back. An interrupted
sync (quota spent for the hour, say) keeps the windows it finished and
resumes at the next one.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Callable, Iterator, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from connectors.ga4.api import GA4Api, ReportPage
from connectors.sync.runner import Batch, Stream, SyncContext, SyncError

UTC = dt.timezone.utc
DIMENSIONS = ("date", "sessionSource", "sessionMedium", "sessionCampaignName", "deviceCategory")
METRICS = ("sessions", "engagedSessions", "addToCarts", "checkouts", "ecommercePurchases", "purchaseRevenue")
COUNTS = ("sessions", "engaged_sessions", "add_to_carts", "checkouts", "purchases")
KEY = ("store_id", "date", "source", "medium", "campaign", "device")
NOT_SET = "(not set)"
WINDOW_DAYS = 31
PLACES = Decimal("0.0001")
SCHEMA = {
    "store_id": pl.String, "date": pl.Date, "source": pl.String, "medium": pl.String, "campaign": pl.String,
    "device": pl.String, **{name: pl.Int64 for name in COUNTS}, "purchase_revenue": pl.Decimal(18, 4),
    "currency": pl.String, "updated_at": pl.Datetime("us", "UTC"),
}


def report_day(text: str) -> dt.date:
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _count(text: str) -> int:
    try:
        return int(Decimal(text or "0"))
    except InvalidOperation:
        raise SyncError(f"Google Analytics sent {text!r} where a count was expected.") from None


def _money(text: str) -> Decimal:
    try:
        return Decimal(text or "0").quantize(PLACES, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        raise SyncError(f"Google Analytics sent {text!r} where purchase revenue was expected.") from None


def traffic_frame(store_id: str, pages: Sequence[ReportPage], read_at: dt.datetime) -> pl.DataFrame:
    """``daily_traffic`` rows of report pages; rows whose dimensions become the same (an empty value is
    ``(not set)`` as GA4 shows it) are added up."""
    totals: dict[tuple, list] = {}
    currency = next((p.currency for p in pages if p.currency), None) or "USD"
    for page in pages:
        for dims, values in page.rows:
            day, *names = dims
            key = (report_day(day), *[(name or "").strip() or NOT_SET for name in names])
            figures = [*[_count(v) for v in values[:5]], _money(values[5])]
            held = totals.get(key)
            totals[key] = figures if held is None else [a + b for a, b in zip(held, figures)]
    rows = [{"store_id": store_id, "date": key[0], "source": key[1], "medium": key[2], "campaign": key[3],
             "device": key[4], **dict(zip((*COUNTS, "purchase_revenue"), figures)), "currency": currency,
             "updated_at": read_at} for key, figures in totals.items()]
    return pl.DataFrame(rows, schema=SCHEMA)


def days_of(store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The partial key (store, day) of every day in ``[start, end]``: deleting it clears those days."""
    count = max(0, (end - start).days + 1)
    return pl.DataFrame({"store_id": [store_id] * count,
                         "date": [start + dt.timedelta(days=i) for i in range(count)]},
                        schema={"store_id": pl.String, "date": pl.Date})


def today_in(timezone: str | None, now: dt.datetime) -> dt.date:
    """The day ``now`` falls on in ``timezone`` (UTC when unknown)."""
    try:
        zone = ZoneInfo(timezone) if timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return now.astimezone(zone).date()


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


class GA4Source:
    """A GA4 property's traffic, written to the store it measures (``store_id``)."""

    platform = "ga4"

    def __init__(self, api: GA4Api, *, store_id: str, revision_days: int = 3, history_days: int = 730,
                 window_days: int = WINDOW_DAYS, page_size: int | None = None,
                 clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.api = api
        self.store_id = store_id
        self.revision_days = max(0, revision_days)
        self.history_days = max(1, history_days)
        self.window_days = max(1, window_days)
        self.page_size = page_size
        self.clock = clock

    def store_row(self) -> pl.DataFrame:
        """No row: the store is written by its own platform (or the demo); GA4 only adds its traffic."""
        return pl.DataFrame(schema={"store_id": pl.String})

    def probe(self) -> dict:
        """One small report (yesterday and today), for the connection test: the property's currency and
        time zone."""
        page = self.api.page("yesterday", "today", ["date"], ["sessions"], limit=1)
        return {"name": f"Google Analytics {self.api.property}", "currency": page.currency,
                "timezone": page.timezone}

    def streams(self) -> Sequence[Stream]:
        return [Stream("traffic", self.read, cursor_is_time=False)]

    def start_day(self, context: SyncContext) -> dt.date:
        today = self.clock().astimezone(UTC).date()
        if context.cursor:
            try:
                last = dt.date.fromisoformat(context.cursor[:10])
            except ValueError:
                last = None
            if last is not None:
                return min(last, today) - dt.timedelta(days=self.revision_days)
        return today - dt.timedelta(days=self.history_days - 1)

    def read(self, context: SyncContext) -> Iterator[Batch]:
        start = self.start_day(context)
        limit = {"limit": self.page_size} if self.page_size else {}
        utc_today = self.clock().astimezone(UTC).date()
        while True:
            last_window = start + dt.timedelta(days=self.window_days - 1) >= utc_today - dt.timedelta(days=1)
            # The last window ends at the property's own today, whatever its time zone.
            end: dt.date | str = "today" if last_window else start + dt.timedelta(days=self.window_days - 1)
            pages = list(self.api.pages(start, end, DIMENSIONS, METRICS, **limit))
            if end == "today":
                end = today_in(next((p.timezone for p in pages if p.timezone), None), self.clock())
            frame = traffic_frame(self.store_id, pages, self.clock())
            yield Batch(tables={"daily_traffic": frame}, deletes={"daily_traffic": days_of(self.store_id, start, end)},
                        cursor=end.isoformat(), rows_read=sum(len(p.rows) for p in pages))
            if last_window:
                return
            start = end + dt.timedelta(days=1)

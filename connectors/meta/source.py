"""The Meta Ads source: an ad account's daily spend and results per campaign, in one stream ``insights``.

Insights at ``level=campaign`` with ``time_increment=1`` (one row per campaign
and day, in the ad account's time zone): ``spend``, ``impressions``,
``clicks``, and the purchases and purchase value Meta attributes to the
campaign. Meta reports one purchase under several action types that count the
same purchase (``omni_purchase``, ``purchase``,
``offsite_conversion.fb_pixel_purchase`` …): a row takes the first of
:data:`PURCHASE_TYPES` it has, never their sum.

Attribution arrives late (up to 28 days after the click), so every sync reads
the last 28 days again and the days since the last sync, and replaces those
days of the account's rows in ``ad_spend`` (a campaign renamed or gone does
not leave its old row behind). The first sync reads ``META_HISTORY_DAYS``.
Ranges longer than :data:`ASYNC_DAYS` run as asynchronous report runs, in
windows; each window commits with its cursor (the last day read), so an
interrupted sync resumes at the window it did not finish.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Callable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from connectors.meta.api import MetaApi
from connectors.sync.runner import Batch, Stream, SyncContext, SyncError

UTC = dt.timezone.utc
PLATFORM = "meta"
CHANNEL = "online_store"  # the orders channel Meta campaigns bring buyers to (CAC per channel)
PURCHASE_TYPES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")
FIELDS = ["campaign_id", "campaign_name", "spend", "impressions", "clicks", "actions", "action_values",
          "account_currency", "date_start", "date_stop"]
ATTRIBUTION_DAYS = 28
ASYNC_DAYS = 31
WINDOW_DAYS = 90
PLACES = Decimal("0.0001")
SCHEMA = {
    "store_id": pl.String, "spend_date": pl.Date, "platform": pl.String, "campaign": pl.String,
    "campaign_id": pl.String, "channel": pl.String, "spend": pl.Decimal(18, 4), "currency": pl.String,
    "impressions": pl.Int64, "clicks": pl.Int64, "purchases": pl.Int64, "purchase_value": pl.Decimal(18, 4),
    "updated_at": pl.Datetime("us", "UTC"),
}


def _money(text: object, what: str) -> Decimal:
    try:
        return Decimal(str(text if text not in (None, "") else "0")).quantize(PLACES, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        raise SyncError(f"Meta sent {text!r} where {what} was expected.") from None


def _whole(text: object, what: str) -> int:
    return int(_money(text, what))


def purchase_of(entries: Sequence[Mapping] | None) -> str | None:
    """The value of the first purchase action type in :data:`PURCHASE_TYPES` that ``entries`` has."""
    found = {e.get("action_type"): e.get("value") for e in entries or ()}
    return next((found[t] for t in PURCHASE_TYPES if t in found), None)


def spend_frame(store_id: str, rows: Sequence[Mapping], currency: str, read_at: dt.datetime) -> pl.DataFrame:
    """``ad_spend`` rows of insight rows (strings for numbers, as Meta sends them)."""
    out = []
    for row in rows:
        out.append({
            "store_id": store_id, "spend_date": dt.date.fromisoformat(row["date_start"]), "platform": PLATFORM,
            "campaign": row.get("campaign_name") or row.get("campaign_id") or "(no campaign)",
            "campaign_id": row.get("campaign_id"), "channel": CHANNEL,
            "spend": _money(row.get("spend"), "spend"), "currency": row.get("account_currency") or currency,
            "impressions": _whole(row.get("impressions"), "impressions"), "clicks": _whole(row.get("clicks"), "clicks"),
            "purchases": _whole(purchase_of(row.get("actions")), "purchases"),
            "purchase_value": _money(purchase_of(row.get("action_values")), "purchase value"),
            "updated_at": read_at,
        })
    frame = pl.DataFrame(out, schema=SCHEMA)
    # Two campaigns of one name on one day are one row of the table (its key is the name): added up.
    sums = ["spend", "impressions", "clicks", "purchases", "purchase_value"]
    return (frame.group_by(["store_id", "spend_date", "platform", "campaign"], maintain_order=True)
            .agg(pl.col("campaign_id").first(), pl.col("channel").first(), *[pl.col(c).sum() for c in sums],
                 pl.col("currency").first(), pl.col("updated_at").first())
            .select(list(SCHEMA)).cast(SCHEMA))


def days_of(store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The partial key (store, day, platform) of every day in ``[start, end]``: deleting it clears those days."""
    count = max(0, (end - start).days + 1)
    return pl.DataFrame({"store_id": [store_id] * count,
                         "spend_date": [start + dt.timedelta(days=i) for i in range(count)],
                         "platform": [PLATFORM] * count},
                        schema={"store_id": pl.String, "spend_date": pl.Date, "platform": pl.String})


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


class MetaSource:
    """A Meta ad account's spend, written to the store it advertises (``store_id``)."""

    platform = PLATFORM

    def __init__(self, api: MetaApi, *, store_id: str, history_days: int = 730, window_days: int = WINDOW_DAYS,
                 page_size: int = 500, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.api = api
        self.store_id = store_id
        self.history_days = max(1, history_days)
        self.window_days = max(1, window_days)
        self.page_size = page_size
        self.clock = clock
        self._account: dict | None = None

    def account(self) -> dict:
        if self._account is None:
            self._account = self.api.account_info()
        return self._account

    def store_row(self) -> pl.DataFrame:
        """No row: the store is written by its own platform (or the demo); Meta only adds its ad spend."""
        return pl.DataFrame(schema={"store_id": pl.String})

    def probe(self) -> dict:
        account = self.account()
        return {"name": f"Meta ad account {account.get('name') or self.api.account_id}",
                "currency": account.get("currency"), "timezone": account.get("timezone_name")}

    def streams(self) -> Sequence[Stream]:
        return [Stream("insights", self.read, cursor_is_time=False)]

    def today(self) -> dt.date:
        try:
            zone = ZoneInfo(self.account().get("timezone_name") or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
        return self.clock().astimezone(zone).date()

    def start_day(self, context: SyncContext, today: dt.date) -> dt.date:
        attribution = today - dt.timedelta(days=ATTRIBUTION_DAYS - 1)
        if context.cursor:
            try:
                return min(dt.date.fromisoformat(context.cursor[:10]), attribution)
            except ValueError:
                pass
        return today - dt.timedelta(days=self.history_days - 1)

    def read(self, context: SyncContext) -> Iterator[Batch]:
        today = self.today()
        currency = self.account().get("currency") or "USD"
        start = self.start_day(context, today)
        asynchronous = (today - start).days + 1 > ASYNC_DAYS
        while start <= today:
            end = min(today, start + dt.timedelta(days=self.window_days - 1))
            params = {"level": "campaign", "time_increment": 1, "limit": self.page_size,
                      "time_range": {"since": start.isoformat(), "until": end.isoformat()}}
            rows = [row for page in self.api.insights(FIELDS, params, asynchronous=asynchronous) for row in page]
            yield Batch(tables={"ad_spend": spend_frame(self.store_id, rows, currency, self.clock())},
                        deletes={"ad_spend": days_of(self.store_id, start, end)},
                        cursor=end.isoformat(), rows_read=len(rows))
            start = end + dt.timedelta(days=1)

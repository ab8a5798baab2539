"""The Stripe source: the account's store row and six streams.

Streams, in the order they run:

``events``
    Updates to objects already read (a refund that succeeded, a captured
    authorization, a dispute that moved on, a paid payout, a deleted
    customer), from the Events API, oldest window first. The first sync skips it: the lists below give
    every object's current state. Stripe keeps 30 days of events: when the
    cursor is older, the events still kept are read and the run says that the
    other streams list everything again (they find their own cursors too old).
``charges``, ``refunds``, ``disputes``, ``payouts``, ``customers``
    New objects from the list calls, filtered on ``created`` (Stripe lists
    cannot filter on updates). Each call expands what the rows need (the
    balance transaction with its fee, net and exchange rate; the charge of a
    refund or dispute, for its order). A stream whose cursor is older than the
    30 days of events lists everything again, and says so.

Lists come newest first, so they are read in windows of ``created`` oldest
first (``created[gte]``/``created[lt]``, ``limit=100``, ``has_more`` and
``starting_after`` within a window). Every page's rows commit as they arrive;
the cursor (an ISO time: every object created before it has been read) moves
to a window's end once its last page is in. An interrupted sync resumes at the
first window it did not finish, reading again (and upserting, so without
duplicates) what that window had already given.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import partial
from typing import Any, Iterator, Mapping, Sequence

import polars as pl

from connectors.stripe import normalize
from connectors.stripe.api import StripeApi
from connectors.stripe.money import currency_code
from connectors.sync.runner import Batch, Stream, SyncContext

UTC = dt.timezone.utc
EVENT_RETENTION = dt.timedelta(days=30)
# Events this close to the retention limit may vanish while we read them.
RETENTION_MARGIN = dt.timedelta(hours=1)
STRIPE_EPOCH = dt.datetime(2011, 1, 1, tzinfo=UTC)

# Updates worth following (Stripe accepts at most 20 types in one list call).
EVENT_TYPES = (
    "charge.succeeded", "charge.failed", "charge.captured", "charge.expired", "charge.refunded",
    "charge.updated", "charge.refund.updated", "refund.updated", "refund.failed",
    "charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
    "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated",
    "payout.updated", "payout.paid", "payout.failed", "payout.canceled", "customer.updated",
    "customer.deleted",
)


@dataclass(frozen=True)
class ListedResource:
    """One list call and what it expands."""

    stream: str
    expand: tuple[str, ...] = ()


LISTS = (
    ListedResource("charges", ("data.balance_transaction", "data.failure_balance_transaction")),
    ListedResource("refunds", ("data.balance_transaction", "data.failure_balance_transaction", "data.charge")),
    ListedResource("disputes", ("data.charge",)),
    ListedResource("payouts"),
    ListedResource("customers"),
)


def read_time() -> dt.datetime:
    """Now, to the second: the ``updated_at`` of rows read from lists.

    Stripe times have whole seconds; an event in the same second as a read
    counts as the newer state.
    """
    return dt.datetime.now(UTC).replace(microsecond=0)


def windows(start: dt.datetime, end: dt.datetime, size: dt.timedelta) -> Iterator[tuple[int, int]]:
    """``[start, end)`` cut into ``size`` windows of whole seconds, oldest first.

    The last one ends at ``end`` rounded up, so whatever Stripe dated in the
    second the sync started is read now (the runner caps the cursor anyway).
    """
    low, step = int(start.timestamp()), max(1, int(size.total_seconds()))
    high = math.ceil(end.timestamp())
    while low < high:
        yield low, min(low + step, high)
        low += step


class StripeSource:
    """A Stripe account as a store: ``stripe:<account id>``."""

    platform = "stripe"

    def __init__(
        self,
        api: StripeApi,
        *,
        store_id: str | None = None,
        window: dt.timedelta = dt.timedelta(days=30),
        event_window: dt.timedelta = dt.timedelta(days=1),
        lookback: dt.timedelta = dt.timedelta(minutes=10),
    ) -> None:
        self.api = api
        self.account = api.account()
        self.store_id = store_id or f"stripe:{self.account['id']}"
        self.window = window
        self.event_window = event_window
        self.lookback = lookback

    # -- the store ---------------------------------------------------------
    def store_row(self) -> pl.DataFrame:
        """Currency and timezone of the account (Stripe has no order currency of its own)."""
        account = self.account
        settings = account.get("settings") or {}
        name = ((account.get("business_profile") or {}).get("name")
                or (settings.get("dashboard") or {}).get("display_name") or account["id"])
        return pl.DataFrame(
            {
                "store_id": [self.store_id], "platform": ["stripe"], "name": [name],
                "currency": [currency_code(account.get("default_currency")) or "USD"],
                "timezone": [(settings.get("dashboard") or {}).get("timezone") or "UTC"],
                "created_at": [self._account_created()],
                "_synced_at": [dt.datetime.now(UTC)],
            },
            schema_overrides={"created_at": normalize.TIMESTAMP, "_synced_at": normalize.TIMESTAMP},
        )

    def _account_created(self) -> dt.datetime:
        return normalize.timestamp(self.account.get("created")) or STRIPE_EPOCH

    def streams(self) -> Sequence[Stream]:
        return [
            Stream("events", self.read_events, lookback=self.lookback),
            *[Stream(spec.stream, partial(self.read_list, spec), lookback=self.lookback) for spec in LISTS],
        ]

    # -- rows --------------------------------------------------------------
    def _batches(self, rows: normalize.Rows, cursor: str | None, note: str | None = None,
                 rows_read: int | None = None) -> Iterator[Batch]:
        """One batch per column shape; only the last carries the cursor (and the note)."""
        groups = normalize.frames(rows, dt.datetime.now(UTC))
        if not groups:
            yield Batch(cursor=cursor, note=note, rows_read=rows_read or 0)
            return
        for i, tables in enumerate(groups):
            last = i == len(groups) - 1
            yield Batch(tables=tables, cursor=cursor if last else None, newer_only=normalize.NEWER_ONLY,
                        note=note if last else None, rows_read=rows_read if last else 0)

    def _too_old(self, context: SyncContext) -> bool:
        return (context.cursor is not None and context.resume_from is not None
                and context.resume_from < context.started_at - EVENT_RETENTION + RETENTION_MARGIN)

    # -- new objects -------------------------------------------------------
    def read_list(self, spec: ListedResource, context: SyncContext) -> Iterator[Batch]:
        note = None
        start = context.resume_from
        if self._too_old(context):
            note = (f"the last {spec.stream} sync reached {context.cursor[:10]}, beyond the 30 days of events "
                    f"Stripe keeps, so all {spec.stream} were listed again to catch the updates since")
            start = None
        start = start or self._account_created()
        params: dict[str, Any] = {"expand": list(spec.expand)} if spec.expand else {}
        for low, high in windows(start, context.started_at, self.window):
            cursor = dt.datetime.fromtimestamp(high, UTC).isoformat()
            for page, last in self.api.pages(spec.stream, {**params, "created": {"gte": low, "lt": high}}):
                read_at = read_time()
                rows = normalize.merge_rows(normalize.rows_of(obj, self.store_id, read_at) for obj in page)
                yield from self._batches(rows, cursor if last else None, note if last else None,
                                         rows_read=len(page))
            note = None

    # -- updates -----------------------------------------------------------
    def read_events(self, context: SyncContext) -> Iterator[Batch]:
        if context.cursor is None:
            # A first (or full) sync lists every object as it is now: no event is needed before today.
            yield Batch(cursor=context.started_at.isoformat())
            return
        start, note = context.resume_from, None
        if self._too_old(context):
            start = context.started_at - EVENT_RETENTION + RETENTION_MARGIN
            note = (f"the last events sync reached {context.cursor[:10]}, and Stripe keeps events for 30 days: "
                    "updates before that are lost, so charges, refunds, disputes, payouts and customers are "
                    "listed again in full")
        for low, high in windows(start, context.started_at, self.event_window):
            seen: set[tuple[str, str]] = set()
            query = {"created": {"gte": low, "lt": high}, "types": list(EVENT_TYPES)}
            cursor = dt.datetime.fromtimestamp(high, UTC).isoformat()
            for page, last in self.api.pages("events", query):
                # Newest first: a deletion hides the same customer's older updates (``seen``).
                gone = [customer_id for event in page if (customer_id := normalize.deleted_customer(event, seen))]
                if gone:
                    keys = normalize.customer_keys(self.store_id, gone)
                    yield Batch(deletes={"customers": keys, "customer_contacts": keys})
                rows = normalize.merge_rows(self.event_rows(event, seen) for event in page)
                yield from self._batches(rows, cursor if last else None, note if last else None,
                                         rows_read=len(page))
            note = None

    def event_rows(self, event: Mapping[str, Any], seen: set[tuple[str, str]] | None = None,
                   *, with_refunds: bool = False) -> normalize.Rows:
        """Rows of an event's object as it was at the event, its balance transactions fetched.

        ``seen`` holds objects already taken from a newer event (lists come newest first).
        ``with_refunds`` also reads a refunded charge's refunds (webhooks; the sync lists them).
        """
        obj = dict((event.get("data") or {}).get("object") or {})
        key = (obj.get("object", ""), obj.get("id", ""))
        if seen is not None:
            if key in seen:
                return {}
            seen.add(key)
        self.expand_balances(obj)
        updated_at = normalize.timestamp(event["created"])
        rows = normalize.rows_of(obj, self.store_id, updated_at)
        if with_refunds and obj.get("object") == "charge" and event.get("type") == "charge.refunded":
            listed = (obj.get("refunds") or {}).get("data")
            if not listed:
                read_at = read_time()
                refunds = [{**r, "charge": obj} for r in self.api.refunds_of_charge(obj["id"])]
                rows = normalize.merge_rows([rows, *[normalize.refund_rows(r, self.store_id, read_at)
                                                     for r in refunds]])
        return rows

    def expand_balances(self, obj: dict) -> dict:
        """Replace balance transaction ids by the objects (they never change once made)."""
        for field in ("balance_transaction", "failure_balance_transaction"):
            if isinstance(obj.get(field), str):
                obj[field] = self.api.balance_transaction(obj[field])
        refunds = (obj.get("refunds") or {}).get("data")
        if refunds:
            obj["refunds"] = {**obj["refunds"], "data": [self.expand_balances(dict(r)) for r in refunds]}
        return obj

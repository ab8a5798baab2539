"""The PayPal source: one stream, ``transactions``, read from Transaction Search.

- **Windows.** PayPal answers at most 31 days a request, so the range since the
  cursor (or, on a first sync, the three years PayPal keeps) is read in
  31-day windows, oldest first, each in pages of 500 (``page``,
  ``total_pages``). A window holding more than 10,000 records (HTTP 400
  ``RESULTSET_TOO_LARGE``) is cut in two, again until each half fits.
- **The lag.** A transaction appears up to three hours after it happened;
  every answer says up to when its data is complete
  (``last_refreshed_datetime``). Nothing after that time is kept, the cursor
  never passes it, and no window starts past it: the next sync reads on from
  there.
- **Cursor.** An ISO time: every transaction initiated before it has been
  read. It moves to a window's end once the window's last page is in; each
  page commits as it arrives, so an interrupted sync resumes at the first
  window it did not finish, upserting (without duplicates) what it reads again.
  The stream looks a day back from its cursor, so a pending payment that
  completed within a day is read again in its new state.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator, Sequence

import polars as pl

from connectors.paypal import normalize
from connectors.paypal.api import PayPalApi, ResultTooLarge
from connectors.sync.runner import Batch, Stream, SyncContext, SyncError

UTC = dt.timezone.utc
WINDOW = dt.timedelta(days=31)  # PayPal's longest range a request
HISTORY = dt.timedelta(days=3 * 365)  # how far back Transaction Search lists
SMALLEST_WINDOW = dt.timedelta(seconds=1)


class PayPalSource:
    """A PayPal account's payments: the store ``paypal:<account id>``, or an existing store named by ``store_id``.

    Named, the rows join that store (a WooCommerce or Shopify shop paid through
    PayPal), so its margin counts PayPal's own fees; its ``stores`` row is left
    as it is, and it must exist.
    """

    platform = "paypal"

    def __init__(self, api: PayPalApi, *, store_id: str | None = None, window: dt.timedelta = WINDOW,
                 lookback: dt.timedelta = dt.timedelta(days=1), history: dt.timedelta = HISTORY) -> None:
        self.api = api
        self.balances = api.balances()
        self.account_id = self.balances.get("account_id") or "account"
        self.joins_store = store_id is not None
        self.store_id = store_id or f"paypal:{self.account_id}"
        self.window = min(window, WINDOW)
        self.lookback = lookback
        self.history = history
        self._orders_of_sales: dict[str, str] = {}

    # -- the store ---------------------------------------------------------
    def primary_currency(self) -> str:
        balances = self.balances.get("balances") or []
        primary = next((b for b in balances if b.get("primary")), balances[0] if balances else {})
        return (primary.get("currency") or "USD").upper()

    def store_row(self) -> pl.DataFrame:
        """The account as a store (its primary balance currency, UTC days); only the key when joining one."""
        if self.joins_store:
            return pl.DataFrame({"store_id": [self.store_id]})
        now = dt.datetime.now(UTC)
        return pl.DataFrame(
            {"store_id": [self.store_id], "platform": ["paypal"], "name": [f"PayPal {self.account_id}"],
             "currency": [self.primary_currency()], "timezone": ["UTC"], "created_at": [now],
             "_synced_at": [now]},
            schema_overrides={"created_at": normalize.TIMESTAMP, "_synced_at": normalize.TIMESTAMP},
        )

    def streams(self) -> Sequence[Stream]:
        return [Stream("transactions", self.read_transactions, lookback=self.lookback)]

    # -- reading -----------------------------------------------------------
    def read_transactions(self, context: SyncContext) -> Iterator[Batch]:
        start = (context.resume_from or context.started_at - self.history).replace(microsecond=0)
        horizon = context.started_at.replace(microsecond=0)
        pending = []
        low = start
        while low < horizon:
            pending.append((low, min(low + self.window, horizon)))
            low += self.window
        pending.reverse()  # a stack: the oldest window on top
        while pending:
            low, high = pending.pop()
            if low >= horizon:
                break
            high = min(high, horizon)
            try:
                refreshed = yield from self._window(low, high)
            except _Split:
                if high - low <= SMALLEST_WINDOW:
                    raise SyncError(f"PayPal answers that the second at {low:%Y-%m-%d %H:%M:%S} UTC holds too "
                                    "many transactions to list.") from None
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                pending.extend([(middle, high), (low, middle)])
                continue
            if refreshed is not None and refreshed < horizon:
                horizon = refreshed  # data past it is not complete yet: read on from there next time

    def _window(self, low: dt.datetime, high: dt.datetime) -> Any:
        """Yield the batches of ``[low, high)``; return the answer's ``last_refreshed_datetime``."""
        page, refreshed, cursor = 1, None, high
        while True:
            try:
                answer = self.api.transactions_page(low, high, page)
            except ResultTooLarge:
                if page == 1:
                    raise _Split() from None
                raise SyncError("PayPal answered that a window it had started to page through is too large.")
            if page == 1:
                refreshed = normalize.parse_time(answer.get("last_refreshed_datetime"))
                if refreshed is not None and refreshed < high:
                    cursor = max(refreshed, low)
            details = answer.get("transaction_details") or []
            total_pages = int(answer.get("total_pages") or 0)
            last = page >= total_pages if total_pages else len(details) < 500
            yield from self._batches(details, cursor if last else None, refreshed)
            if last:
                return refreshed
            page += 1

    def _batches(self, details: list[dict], cursor: dt.datetime | None,
                 refreshed: dt.datetime | None) -> Iterator[Batch]:
        rows = [row for detail in details
                if (row := normalize.transaction_row(detail, self.store_id, self._orders_of_sales)) is not None
                and (refreshed is None or row["created_at"] is None or row["created_at"] <= refreshed)]
        synced_at = dt.datetime.now(UTC)
        linked = [row for row in rows if row["order_id"] is not None]
        # A refund whose sale was read in an earlier sync leaves the stored order link as it is.
        unlinked = [{k: v for k, v in row.items() if k != "order_id"} for row in rows if row["order_id"] is None]
        frames = []
        if linked:
            frames.append(normalize.transactions_frame(linked, synced_at))
        if unlinked:
            frames.append(normalize.transactions_frame(unlinked, synced_at).drop("order_id"))
        text = cursor.isoformat() if cursor is not None else None
        if not frames:
            yield Batch(cursor=text, rows_read=len(details))
            return
        for i, frame in enumerate(frames):
            last = i == len(frames) - 1
            yield Batch(tables={"transactions": frame}, cursor=text if last else None,
                        newer_only=normalize.NEWER_ONLY, rows_read=len(details) if last else 0)


class _Split(Exception):
    """A window PayPal finds too large: read its halves instead."""

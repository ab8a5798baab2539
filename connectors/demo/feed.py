"""The live demo feed: new orders, refunds, stock changes and visits every few seconds.

Each :meth:`DemoFeed.tick` writes, in one transaction of the write path
(:func:`data.writes.write`, serialized with the store's other writers): the orders created
since the last tick (at the pace of an ordinary day of the store's history,
hour by hour, unless the busy pace is chosen: 0-3 a tick) (new or returning customers, lines from what is in stock at the
fulfilling location, payments, and a web session ending in a purchase for
online-store orders), some browsing sessions that do not buy, now and then a
refund on an order of the last weeks (restocked most of the time), the
purchase orders that fall due received into the main warehouse, an
occasional new purchase order for sold-out items, the new
``inventory_levels`` and today's ``inventory_snapshots`` rows (days the app
was off are carried forward). The write path refreshes the rollups of the
orders and sessions it touched. Ids continue from the largest ones in the
warehouse.

:func:`run_feed` loops over ticks until asked to stop, logging (never
raising) a failed tick.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from connectors.demo.catalogue import MAIN
from connectors.demo.clock import US_PER_SECOND, bfcm_window, day_number, in_windows, summer_sale_window
from connectors.demo.customers import (
    CHANNELS,
    COUNTRIES,
    COUNTRY_SHARE,
    COUNTRY_TAX,
    CURRENCY_OF,
    HOME_CHANNEL_INTL,
    HOME_CHANNEL_US,
    MARKETPLACE,
    ONLINE,
    OTHER,
    POS,
    SOCIAL,
    STORE_TAX,
    US,
    US_TAX_RATES,
    US_TAX_SHARE,
    contacts_frame,
    customers_frame,
    made_up_people,
)
from connectors.demo.feed_state import FeedState, Stock, load_state, to_cents
from connectors.demo.frames import orders_frame, presentment_decimal, transactions_frame
from connectors.demo.money import decimal_from_minor, timestamps
from connectors.demo.orders import (
    AUTHORIZED,
    FULL_RETURN,
    PAID,
    PARTIAL_RETURN,
    PENDING,
    fulfilment_location,
    pick_sources,
)
from connectors.demo.payments import PRESENTMENT, PROVIDERS, order_transactions, presentment_minor
from connectors.demo.pricing import assign_codes, price_orders
from connectors.demo.refunds import REFUND_NOTES, refund_money
from connectors.demo.traffic import traffic_changes
from connectors.demo.web import CONVERSION, Buyers, web_events
from data.writes import Changes, write

log = logging.getLogger(__name__)

# The busy pace (``pace="busy"``): 0, 1, 2 or 3 orders a tick, about 20,000 a day at a tick every 5 s.
ORDERS_PER_TICK = np.array([0.30, 0.35, 0.23, 0.12])
# The ordinary pace (the default) follows an ordinary day of the store's history, hour by hour.
PACES = ("history", "busy")
FIRST_TICK_SECONDS = 5.0
LONGEST_GAP_SECONDS = 3600.0
RETURNING_SHARE = 0.35
REFUND_CHANCE = 0.12
REORDER_CHANCE = 0.1
SNAPSHOT_CATCH_UP_DAYS = 400


class DemoFeed:
    """Keeps a demo store moving. One instance per store; not meant to run twice at once."""

    def __init__(self, wh, store_id: str = "demo", seed: int | None = None, pace: str = "history") -> None:
        if pace not in PACES:
            raise ValueError(f"unknown demo feed pace {pace!r}: use {' or '.join(PACES)}")
        self.wh = wh
        self.store_id = store_id
        self.rng = np.random.default_rng(seed)
        self.pace = pace
        self._state: FeedState | None = None
        self._out = Changes()  # what the tick under way writes

    def expected_orders(self, state: FeedState, now: dt.datetime) -> float:
        """The orders a tick at ``now`` adds on average: at the history's pace, the store's ordinary orders
        per hour at this local hour times the time since the last tick (at most an hour)."""
        if self.pace == "busy":
            return float(ORDERS_PER_TICK @ np.arange(len(ORDERS_PER_TICK)))
        seconds = FIRST_TICK_SECONDS if state.last_tick is None else (now - state.last_tick).total_seconds()
        hour = now.astimezone(ZoneInfo(state.timezone)).hour
        return float(state.orders_per_hour[hour]) * min(max(seconds, 0.0), LONGEST_GAP_SECONDS) / 3600.0

    def _refund_chance(self, state: FeedState, now: dt.datetime) -> float:
        """A refund now and then: as often per order at the history's pace as at the busy one."""
        busy = float(ORDERS_PER_TICK @ np.arange(len(ORDERS_PER_TICK)))
        return min(1.0, REFUND_CHANCE * self.expected_orders(state, now) / busy)

    def _order_count(self, state: FeedState, now: dt.datetime) -> int:
        if self.pace == "busy":
            return int(self.rng.choice(len(ORDERS_PER_TICK), p=ORDERS_PER_TICK))
        return int(self.rng.poisson(self.expected_orders(state, now)))

    def tick(self, now: dt.datetime | None = None) -> dict:
        """Add what happened in the store since the last tick; return what was written."""
        now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
        result: dict = {}
        tries = [0]

        def changes(wh) -> Changes | None:
            tries[0] += 1
            result.clear()
            if not wh.scalar("SELECT count(*) FROM stores WHERE store_id = :s", {"s": self.store_id}):
                result.update(store_id=self.store_id, skipped="the store does not exist")
                return None
            if self._state is None or tries[0] > 1:  # a retry starts again from what is stored
                self._state = load_state(wh, self.store_id, now)
            self._out = Changes()
            result.update(self._tick(self._state, now))
            return self._out.touch(result["orders"] + result["refunded_orders"])

        try:
            write(self.wh, self.store_id, changes)
            if "skipped" not in result:
                # Today's traffic counted again from the sessions just written (and yesterday's, which a
                # session just after midnight may still reach).
                since = now.astimezone(ZoneInfo(self._state.timezone)).date() - dt.timedelta(days=1)
                write(self.wh, self.store_id, lambda current: traffic_changes(current, self.store_id, now, since))
            return result
        except BaseException:
            self._state = None  # the counters may be stale: read them again next time
            raise

    # -- one tick ---------------------------------------------------------------------------------------------
    def _tick(self, state: FeedState, now: dt.datetime) -> dict:
        stock = Stock(self.wh, self.store_id, state)
        today = now.astimezone(ZoneInfo(state.timezone)).date()
        self._catch_up_snapshots(stock, today)
        received = self._receive_due_purchase_orders(state, stock, now)
        ordered = self._reorder(state, stock, now) if self.rng.random() < REORDER_CHANCE else None
        new = self._new_orders(state, stock, now)
        refunded = self._refund(state, stock, now) if self.rng.random() < self._refund_chance(state, now) else None
        state.last_tick = now
        changed = stock.changed()
        if len(changed):
            self._out.add("inventory_levels", stock.frame(self.store_id, changed, now))
        self._out.add("inventory_snapshots", stock.snapshot(self.store_id, today))
        return {
            "store_id": self.store_id, "at": now.isoformat(), "orders": new["order_ids"],
            "units_sold": new["units"], "sessions": new["sessions"], "events": new["events"],
            "refunded_orders": [refunded] if refunded else [], "purchase_orders_received": received,
            "purchase_order_placed": ordered,
        }

    def _catch_up_snapshots(self, stock: Stock, today: dt.date) -> None:
        last = self.wh.scalar("SELECT max(snapshot_date) FROM inventory_snapshots WHERE store_id = :s",
                              {"s": self.store_id})
        if last is None or last >= today - dt.timedelta(days=1):
            return
        first = max(last + dt.timedelta(days=1), today - dt.timedelta(days=SNAPSHOT_CATCH_UP_DAYS))
        days = [first + dt.timedelta(days=i) for i in range((today - first).days)]
        self._out.add("inventory_snapshots", new=True, frame=pl.concat([stock.snapshot(self.store_id, d, stock.before)
                                                         for d in days]))

    # -- stock ------------------------------------------------------------------------------------------------
    def _receive_due_purchase_orders(self, state: FeedState, stock: Stock, now: dt.datetime) -> list[str]:
        due = self.wh.rows(
            "SELECT po_id FROM purchase_orders WHERE store_id = :s AND status = 'sent' AND expected_at <= :now "
            "ORDER BY expected_at, po_id LIMIT 2", {"s": self.store_id, "now": now})
        v_index = {v: i for i, v in enumerate(state.variant_ids)}
        for (po_id,) in due:
            for variant, qty in self.wh.rows(
                    "SELECT variant_id, quantity FROM purchase_order_lines WHERE po_id = :p AND store_id = :s",
                    {"p": po_id, "s": self.store_id}):
                v = v_index.get(variant)
                if v is not None and stock.available[v, MAIN] >= 0:
                    stock.available[v, MAIN] += int(qty)
            self._out.execute("UPDATE purchase_orders SET status = 'received', received_at = :now WHERE po_id = :p",
                            {"p": po_id, "now": now})
            self._out.execute("UPDATE purchase_order_lines SET received_quantity = quantity WHERE po_id = :p",
                            {"p": po_id})
        return [po for (po,) in due]

    def _reorder(self, state: FeedState, stock: Stock, now: dt.datetime) -> str | None:
        """A purchase order for the main warehouse's sold-out items of one supplier."""
        on_order = {v for (v,) in self.wh.rows(
            "SELECT DISTINCT l.variant_id FROM purchase_order_lines l JOIN purchase_orders p ON p.po_id = l.po_id "
            "WHERE p.store_id = :s AND p.status IN ('draft', 'sent')", {"s": self.store_id})}
        out = {state.variant_ids[v] for v in np.flatnonzero(stock.available[:, MAIN] == 0)} - on_order
        if not out:
            return None
        items = self.wh.query(
            "SELECT i.supplier_id, i.variant_id, i.unit_cost, i.moq, i.pack_size, "
            "COALESCE(i.lead_time_days, s.lead_time_days, 14) AS lead_time_days "
            "FROM supplier_items i JOIN suppliers s ON s.supplier_id = i.supplier_id "
            "WHERE i.store_id = :s ORDER BY i.supplier_id, i.variant_id", {"s": self.store_id})
        items = items.filter(pl.col("variant_id").is_in(sorted(out)))
        if items.height == 0:
            return None
        supplier = items.group_by("supplier_id").len().sort(["len", "supplier_id"], descending=[True, False])[0, 0]
        lines = items.filter(pl.col("supplier_id") == supplier)
        po_id = f"{self.store_id}-po-{state.next_po}"
        state.next_po += 1
        lead = int(lines["lead_time_days"].max())
        self._out.add("purchase_orders", new=True, frame=pl.DataFrame({
            "po_id": [po_id], "supplier_id": [supplier], "store_id": [self.store_id], "status": ["sent"],
            "created_at": [now], "expected_at": [now + dt.timedelta(days=lead)], "currency": ["USD"],
        }, schema_overrides={"created_at": pl.Datetime("us", "UTC"), "expected_at": pl.Datetime("us", "UTC")}))
        qty = np.maximum(lines["moq"].fill_null(1).to_numpy(), lines["pack_size"].fill_null(1).to_numpy())
        self._out.add("purchase_order_lines", new=True, frame=pl.DataFrame({
            "po_id": [po_id] * lines.height, "store_id": [self.store_id] * lines.height,
            "variant_id": lines["variant_id"], "quantity": qty.astype(np.int32),
            "unit_cost": lines["unit_cost"].cast(pl.Decimal(18, 4)),
            "received_quantity": np.zeros(lines.height, dtype=np.int32),
        }))
        return po_id

    # -- orders -----------------------------------------------------------------------------------------------
    def _new_orders(self, state: FeedState, stock: Stock, now: dt.datetime) -> dict:
        rng = self.rng
        now_us = int(now.timestamp()) * US_PER_SECOND
        local_hour = now.astimezone(ZoneInfo(state.timezone)).hour
        rows = []
        for _ in range(self._order_count(state, now)):
            returning = bool(state.customers) and rng.random() < RETURNING_SHARE
            if returning:
                customer, country = state.customers[int(rng.integers(len(state.customers)))]
            else:
                country = int(rng.choice(len(COUNTRIES), p=COUNTRY_SHARE))
                customer = None
            channel = int(rng.choice(5, p=HOME_CHANNEL_US if country == US else HOME_CHANNEL_INTL))
            if channel == POS and not 10 <= local_hour < 20:
                channel = ONLINE
            location = int(fulfilment_location(np.array([channel]), np.array([country]))[0])
            available = stock.available[:, location]
            weight = state.weight * (available > 0) * ~state.is_gift
            if weight.sum() <= 0:
                continue
            k = min(1 + min(int(rng.poisson(0.55)), 4), int((weight > 0).sum()))
            variants = rng.choice(len(weight), size=k, replace=False, p=weight / weight.sum())
            qty = np.minimum(np.where(rng.random(k) < 0.1, 2, 1), available[variants])
            stock.available[variants, location] -= qty
            gifts = np.flatnonzero(state.is_gift)
            if channel in (ONLINE, SOCIAL) and len(gifts) and rng.random() < 0.015:
                variants = np.append(variants, rng.choice(gifts))
                qty = np.append(qty, 1)
            if customer is None:
                customer = f"c{state.next_customer}"
                state.next_customer += 1
                state.customers.append((customer, country))
            rows.append((customer, returning, country, channel, location, variants, qty))
        if not rows:
            return self._browsing_only(state, now_us)
        return self._write_orders(state, rows, now, now_us)

    def _write_orders(self, state: FeedState, rows: list, now: dt.datetime, now_us: int) -> dict:
        rng = self.rng
        n = len(rows)
        numbers = np.arange(state.next_order, state.next_order + n, dtype=np.int64)
        state.next_order += n
        country = np.array([r[2] for r in rows])
        channel = np.array([r[3] for r in rows])
        returning = np.array([r[1] for r in rows])
        line_order = np.concatenate([np.full(len(r[5]), i) for i, r in enumerate(rows)]).astype(np.int64)
        variant = np.concatenate([r[5] for r in rows]).astype(np.int64)
        qty = np.concatenate([r[6] for r in rows]).astype(np.int64)
        tax_rate = np.where(country == US, rng.choice(US_TAX_RATES, size=n, p=US_TAX_SHARE), COUNTRY_TAX[country])
        tax_rate = np.where(channel == POS, STORE_TAX, tax_rate)
        today = np.array([day_number(now.astimezone(ZoneInfo(state.timezone)).date())] * n)
        code = assign_codes(rng, channel, returning.astype(np.int64), in_windows(today, bfcm_window),
                            in_windows(today, summer_sale_window), np.zeros(n, dtype=bool))
        money = price_orders(rng, n, line_order, state.price_cents[variant], qty, state.is_gift[variant], code,
                             channel, country, tax_rate)
        status = np.where(((channel == ONLINE) | (channel == SOCIAL)) & (rng.random(n) < 0.2), AUTHORIZED, PAID)
        status = np.where((channel == OTHER) & (rng.random(n) < 0.5), PENDING, status)
        financial = np.select([status == PENDING, status == AUTHORIZED], [3, 4], 0)
        fulfillment = np.where(channel == POS, 2, 0)
        time_us = np.full(n, now_us, dtype=np.int64)
        provider = np.where((channel != POS) & (rng.random(n) < 0.22), 1, 0).astype(np.int64)
        currency = np.array([PRESENTMENT.index(CURRENCY_OF[COUNTRIES[c]]) for c in country])
        currency = np.where((channel == POS) | (channel == MARKETPLACE), 0, currency)
        currency = np.array([c if PRESENTMENT[c] in state.fx or c == 0 else 0 for c in currency])
        minor = money.total_price.copy()
        for i, c in enumerate(currency):
            if c:
                minor[i] = presentment_minor(money.total_price[i:i + 1], np.array([state.fx[PRESENTMENT[c]]]),
                                             PRESENTMENT[c])[0]
        customers = pl.Series("customer_id", [r[0] for r in rows], dtype=pl.String)
        orders = orders_frame(self.store_id, numbers, customers, time_us, time_us, np.full(n, -1), [
            PRESENTMENT[c] for c in currency], financial, fulfillment, channel, pick_sources(rng, channel), country,
            money, presentment_decimal(minor, currency, list(PRESENTMENT)), code, np.zeros(n, dtype=bool))
        tx = order_transactions(status, time_us, np.full(n, -1), money.total_price, provider, channel)
        empty = np.zeros(0, dtype=np.int64)
        transactions = transactions_frame(self.store_id, numbers, tx, empty, empty, empty, provider)
        seq = np.arange(len(line_order)) - np.searchsorted(line_order, line_order) + 1
        order_ids = orders["order_id"]
        lines = pl.DataFrame({
            "store_id": [self.store_id] * len(line_order),
            "line_id": [f"{order_ids[int(o)]}-{s}" for o, s in zip(line_order, seq)],
            "order_id": order_ids.gather(line_order),
            "product_id": [state.product_ids[state.product_of_variant[v]] for v in variant],
            "variant_id": [state.variant_ids[v] for v in variant],
            "sku": [state.skus[v] for v in variant],
            "title": [state.titles[v] for v in variant],
            "quantity": qty.astype(np.int32),
        }).with_columns(
            decimal_from_minor(state.price_cents[variant], 2, "unit_price"),
            decimal_from_minor(money.line_discount, 2, "discount"),
            decimal_from_minor(money.line_tax, 2, "tax"),
            pl.Series("is_gift_card", state.is_gift[variant]),
        )
        self._write_customers(rows, now_us)
        self._out.add("orders", orders, new=True).add("order_lines", lines, new=True)
        self._out.add("transactions", transactions, new=True)
        online = np.flatnonzero(channel == ONLINE)
        starts = np.searchsorted(line_order, online)
        buyers = Buyers(order_ids=order_ids.gather(online), customer_ids=customers.gather(online),
                        time_us=time_us[online], returning=returning[online], line_start=starts,
                        line_count=np.searchsorted(line_order, online, side="right") - starts,
                        line_products=state.product_of_variant[variant])
        sessions, events = self._sessions(state, buyers, now_us)
        units = int(qty[~state.is_gift[variant]].sum())
        return {"order_ids": order_ids.to_list(), "units": units, "sessions": sessions, "events": events}

    def _write_customers(self, rows: list, now_us: int) -> None:
        new = [(r[0], r[2]) for r in rows if not r[1]]
        for customer in sorted({r[0] for r in rows if r[1]}):
            self._out.execute("UPDATE customers SET updated_at = :now WHERE store_id = :s AND customer_id = :c",
                            {"now": dt.datetime.fromtimestamp(now_us / US_PER_SECOND, dt.timezone.utc),
                             "s": self.store_id, "c": customer})
        if not new:
            return
        numbers = np.array([int(c[1:]) for c, _ in new])
        created = now_us - self.rng.integers(30, 1200, len(new)) * US_PER_SECOND
        hashes, names, emails = made_up_people(self.rng, numbers)
        frame = customers_frame(self.store_id, numbers, hashes, created,
                                np.array([c for _, c in new]), self.rng.random(len(new)) < 0.45,
                                [None] * len(new), np.full(len(new), now_us))
        self._out.add("customers", frame, new=True)
        self._out.add("customer_contacts", contacts_frame(self.store_id, numbers, names, emails, created), new=True)

    def _browsing_only(self, state: FeedState, now_us: int) -> dict:
        empty = Buyers(order_ids=pl.Series([], dtype=pl.String), customer_ids=pl.Series([], dtype=pl.String),
                       time_us=np.zeros(0, dtype=np.int64), returning=np.zeros(0, dtype=bool),
                       line_start=np.zeros(0, dtype=np.int64), line_count=np.zeros(0, dtype=np.int64),
                       line_products=np.zeros(0, dtype=np.int64))
        sessions, events = self._sessions(state, empty, now_us)
        return {"order_ids": [], "units": 0, "sessions": sessions, "events": events}

    def _sessions(self, state: FeedState, buyers: Buyers, now_us: int) -> tuple[int, int]:
        """The buyers' sessions and, around them, browsing that does not buy (~2.5 % conversion)."""
        now = dt.datetime.fromtimestamp(now_us / US_PER_SECOND, dt.timezone.utc)
        expected_online = self.expected_orders(state, now) * HOME_CHANNEL_US[ONLINE]
        n_browse = int(self.rng.poisson(expected_online * (1.0 / CONVERSION - 1.0)))
        browse = np.sort(now_us - self.rng.integers(0, 60, n_browse) * US_PER_SECOND)
        frame = web_events(self.rng, browse, buyers, state.product_weight, pl.Series(state.product_ids),
                           self.store_id, now_us + US_PER_SECOND, state.next_session, state.next_event)
        sessions = len(buyers.time_us) + n_browse
        state.next_session += sessions
        state.next_event += frame.height
        self._out.add("web_events", frame, new=True)  # the write path refreshes their sessions
        return sessions, frame.height

    # -- refunds ----------------------------------------------------------------------------------------------
    def _refund(self, state: FeedState, stock: Stock, now: dt.datetime) -> str | None:
        """Refund (part of) a paid order from the last 60 days, delivered at least 3 days ago."""
        rng = self.rng
        candidates = self.wh.rows(
            "SELECT o.order_id, o.channel, o.country, o.total_shipping, o.total_tax, o.total_duties, o.total_price "
            "FROM orders o WHERE o.store_id = :s AND o.financial_status = 'paid' AND NOT o.is_test "
            "AND o.created_at >= :since AND o.created_at <= :until "
            "AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.store_id = o.store_id AND r.order_id = o.order_id) "
            "AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.store_id = o.store_id AND l.order_id = o.order_id "
            "AND l.is_gift_card) ORDER BY o.created_at DESC, o.order_id LIMIT 100",
            {"s": self.store_id, "since": now - dt.timedelta(days=60), "until": now - dt.timedelta(days=3)})
        if not candidates:
            return None
        order_id, channel, country, shipping, total_tax, duties, total = candidates[int(rng.integers(len(candidates)))]
        lines = self.wh.rows(
            "SELECT line_id, variant_id, quantity, unit_price, discount, tax FROM order_lines "
            "WHERE store_id = :s AND order_id = :o ORDER BY line_id", {"s": self.store_id, "o": order_id})
        if not lines:
            return None
        qty = np.array([r[2] for r in lines], dtype=np.int64)
        net = np.array([to_cents(r[3]) * r[2] - to_cents(r[4]) for r in lines], dtype=np.int64)
        line_tax = np.array([to_cents(r[5]) for r in lines], dtype=np.int64)
        full = rng.random() < 0.45
        back = qty.copy() if full else np.zeros(len(lines), dtype=np.int64)
        if not full:
            chosen = int(rng.integers(len(lines)))
            back[chosen] = int(rng.integers(1, qty[chosen] + 1))
        restock = rng.random() < 0.85
        shipping_c, duties_c = to_cents(shipping), to_cents(duties)
        shipping_tax = to_cents(total_tax) - int(line_tax.sum())
        rm = refund_money(rng, 1, np.zeros(len(lines), dtype=np.int64), qty, back, net, line_tax,
                          np.array([FULL_RETURN if full else PARTIAL_RETURN]), np.array([restock]),
                          np.array([full and rng.random() < 0.25]), np.array([shipping_c]),
                          np.array([max(shipping_tax, 0)]), np.array([duties_c]))
        refund_id = f"{order_id}-r1"
        total_refunded = int(rm.total_refunded[0])
        self._out.add("refunds", new=True, frame=pl.DataFrame({
            "store_id": [self.store_id], "refund_id": [refund_id], "order_id": [order_id], "created_at": [now],
            "note": [REFUND_NOTES[int(rm.note[0])]],
        }, schema_overrides={"created_at": pl.Datetime("us", "UTC")}).with_columns(
            decimal_from_minor(rm.shipping_refunded, 2, "shipping_refunded"),
            decimal_from_minor(rm.tax_refunded, 2, "tax_refunded"),
            decimal_from_minor(rm.total_refunded, 2, "total_refunded"),
        ))
        self._out.add("refund_lines", new=True, frame=pl.DataFrame({
            "store_id": [self.store_id] * len(rm.line), "refund_id": [refund_id] * len(rm.line),
            "line_id": [lines[i][0] for i in rm.line], "quantity": rm.line_qty.astype(np.int32),
            "restock": [bool(restock)] * len(rm.line),
        }).with_columns(decimal_from_minor(rm.line_subtotal, 2, "subtotal"),
                        decimal_from_minor(rm.line_tax, 2, "tax")))
        provider = self.wh.scalar(
            "SELECT provider FROM transactions WHERE store_id = :s AND order_id = :o AND kind = 'sale' "
            "ORDER BY created_at LIMIT 1", {"s": self.store_id, "o": order_id}) or PROVIDERS[0]
        self._out.add("transactions", new=True, frame=pl.DataFrame({
            "store_id": [self.store_id], "transaction_id": [f"{refund_id}-t1"], "order_id": [order_id],
            "provider": [provider], "kind": ["refund"], "status": ["success"], "currency": ["USD"],
        }).with_columns(
            decimal_from_minor(np.array([total_refunded]), 2, "amount"),
            decimal_from_minor(np.array([0]), 2, "fee"),
            decimal_from_minor(np.array([-total_refunded]), 2, "net"),
            timestamps(np.array([int(now.timestamp()) * US_PER_SECOND]), "created_at"),
        ))
        status = "refunded" if total_refunded == to_cents(total) else "partially_refunded"
        self._out.execute("UPDATE orders SET financial_status = :f, updated_at = :now "
                        "WHERE store_id = :s AND order_id = :o",
                        {"f": status, "now": now, "s": self.store_id, "o": order_id})
        if restock:
            location = int(fulfilment_location(np.array([CHANNELS.index(channel) if channel in CHANNELS else 0]),
                                               np.array([COUNTRIES.index(country) if country in COUNTRIES
                                                         else 0]))[0])
            v_index = {v: i for i, v in enumerate(state.variant_ids)}
            for i, q in zip(rm.line, rm.line_qty):
                v = v_index.get(lines[i][1])
                if v is not None and stock.available[v, location] >= 0:
                    stock.available[v, location] += int(q)
        return order_id


def run_feed(wh, stop: threading.Event, interval: float = 5.0, store_id: str = "demo", pace: str = "history") -> None:
    """Tick every ``interval`` seconds until ``stop`` is set; idle if the store is not there.

    A failed tick is logged and the loop goes on (waiting longer after
    repeated failures, up to five minutes), so the app never goes down with it.
    """
    try:
        exists = wh.scalar("SELECT count(*) FROM stores WHERE store_id = :s", {"s": store_id})
    except Exception:  # the feed must never take the app down
        log.exception("live demo feed: cannot read the warehouse; not starting")
        return
    if not exists:
        log.info("live demo feed: no store %r in the warehouse; nothing to do", store_id)
        return
    feed = DemoFeed(wh, store_id, pace=pace)
    failures = 0
    while not stop.is_set():
        try:
            result = feed.tick()
            failures = 0
            log.debug("live demo feed: %s", result)
        except Exception:  # logged, and the next tick tries again
            failures += 1
            log.exception("live demo feed: tick failed (%d in a row)", failures)
        stop.wait(interval if failures == 0 else min(interval * 2 ** min(failures, 8), 300.0))

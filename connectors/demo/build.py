"""``build_demo``: a complete, consistent demo store written in one transaction.

The steps, each in its own module: the seasonal calendar (clock), the
catalogue, customers buying as a BG/NBD process (customers), candidate orders
and lines (orders), the stock simulation that drops what could not be sold
and yields snapshots and purchase orders (inventory), money (pricing,
refunds, payments), web sessions and ad spend (web). Everything is drawn
from one seed, step by step from independent streams, so the same arguments
always give the same store.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Callable
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from data.writes import Changes, write

from connectors.demo import frames as fr
from connectors.demo.money import in_currency
from connectors.demo.catalogue import build_catalogue
from connectors.demo.clock import (
    TIMEZONE,
    US_PER_DAY,
    StoreClock,
    bfcm_window,
    in_windows,
    summer_sale_window,
)
from connectors.demo.customers import (
    COUNTRIES,
    CURRENCY_OF,
    MARKETPLACE,
    ONLINE,
    OTHER,
    POS,
    STORE_TAX,
    calibrated_purchases,
    customer_created_us,
    contacts_frame,
    customers_frame,
    made_up_people,
)
from connectors.demo.inventory import inventory_frames, simulate_stock
from connectors.demo.orders import (
    AUTHORIZED,
    CANCELLED,
    PENDING,
    VOIDED,
    add_lines,
    candidate_orders,
)
from connectors.demo.payments import PRESENTMENT, fx_frame, fx_walk, order_transactions, presentment_minor
from connectors.demo.pricing import assign_codes, price_orders
from connectors.demo.refunds import refund_money
from connectors.demo.store import replacing_store
from connectors.demo.web import (
    Buyers,
    ad_spend,
    browsing_starts,
    order_attribution,
    web_events,
    web_window_days,
)

# Purchases drawn beyond the order count asked for: stockouts take some, the rest is dropped at random.
SPARE_ORDERS = 0.04
WEB_DAYS = 90
Progress = Callable[[str, float], None]


def build_demo(wh, *, orders: int = 30000, days: int = 730, seed: int = 7, store_id: str = "demo",
               end: dt.date | None = None, progress: Progress | None = None, currency: str = "USD",
               timezone: str = TIMEZONE) -> dict:
    """Write a complete demo store into ``wh``, replacing that store's previous rows (no other store's).

    ``currency`` and ``timezone`` make another store than the first: its money
    in that currency (:func:`connectors.demo.money.in_currency`; every order
    presented in it) and its days, hours and seasons in that timezone.
    About ``orders`` orders over ``days`` days up to ``end`` (default: today in
    the store's timezone, America/New_York by default; with today the history stops now,
    with an explicit ``end`` it runs to that day's midnight, so the same seed
    and arguments give the same store). Web events cover only the last 90
    days, fewer on stores so busy that 90 days would pass about 2 million
    sessions. ``progress(step, fraction)`` is called as the build advances.
    Returns the row count of each table written and the time of each step.
    """
    if int(orders) < 1:
        raise ValueError("orders must be at least 1")
    if int(days) < 1:
        raise ValueError("days must be at least 1")
    started = time.perf_counter()
    timings: dict[str, float] = {}
    mark = [started]

    def step(done: str, fraction: float, upcoming: str) -> None:
        """Record the time of step ``done``; report ``fraction`` done and the step now under way."""
        now = time.perf_counter()
        timings[done] = round(now - mark[0], 3)
        mark[0] = now
        if progress is not None:
            progress(upcoming, fraction)

    if progress is not None:
        progress("calendar", 0.0)
    currency = currency.upper()
    zone = ZoneInfo(timezone)
    cutoff = None
    if end is None:
        now = dt.datetime.now(dt.timezone.utc)
        end, cutoff = now.astimezone(zone).date(), now
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(12)]
    clock = StoreClock.build(end, int(days), cutoff, streams[0], timezone=timezone)
    store_created_us = int(clock.day_start_us[0]) - 14 * US_PER_DAY
    step("calendar", 0.02, "catalogue")

    catalogue = build_catalogue(streams[1], clock.n_days)
    products, variants = fr.catalogue_frames(streams[1], store_id, catalogue, clock)
    step("catalogue", 0.04, "customers")

    n_test = min(3 + orders // 5000, orders // 20)
    target = max(1, int(round((orders - n_test) * (1.0 + SPARE_ORDERS))))
    customers, who, when = calibrated_purchases(streams[2], target, clock.op_total)
    step("customers", 0.12, "orders")

    cand = candidate_orders(streams[3], clock, customers, who, when, n_test)
    add_lines(streams[4], cand, catalogue, clock)
    step("orders", 0.2, "inventory")

    cand = _fit_to_stock(streams[10], cand, catalogue, clock, orders)
    stock = simulate_stock(streams[5], cand, catalogue, clock)
    keep_orders = np.bincount(cand.line_order[stock.keep_lines], minlength=cand.n_orders) > 0
    o = cand.subset(keep_orders, stock.keep_lines)
    step("inventory", 0.3, "money")

    sales = _sales(streams[6], o, customers, catalogue, clock, store_id, store_created_us)
    step("money", 0.4, "web sessions")

    recent = min(WEB_DAYS, clock.n_days)
    recent_start = int(clock.day_start_us[clock.n_days - recent])
    recent_online = float(np.sum((o.channel == ONLINE) & (o.time_us >= recent_start))) / recent
    web_days = web_window_days(clock, recent_online, WEB_DAYS)
    window_start = int(clock.day_start_us[clock.n_days - web_days])
    in_window = np.flatnonzero((o.channel == ONLINE) & (o.time_us >= window_start))
    line_start = np.searchsorted(o.line_order, in_window, side="left")
    line_count = np.searchsorted(o.line_order, in_window, side="right") - line_start
    buyers = Buyers(
        order_ids=sales["orders"]["order_id"].gather(in_window),
        customer_ids=sales["orders"]["customer_id"].gather(in_window),
        time_us=o.time_us[in_window], returning=sales["order_index"][in_window] > 0,
        line_start=line_start, line_count=line_count, line_products=catalogue.variant_product[o.line_variant],
    )
    product_weight = np.bincount(catalogue.variant_product, weights=catalogue.weight, minlength=catalogue.n_products)
    browsing = browsing_starts(streams[7], clock, window_start, len(in_window))
    events = web_events(streams[7], browsing, buyers, product_weight, products["product_id"], store_id,
                        clock.cutoff_us)
    first_orders = set(buyers.order_ids.filter(pl.Series(sales["order_index"][in_window] == 0)).to_list())
    attribution = order_attribution(streams[7], clock, events, first_orders)
    online_per_day = np.bincount(o.day[o.channel == ONLINE], minlength=clock.n_days).astype(float)
    spend = ad_spend(streams[8], clock, online_per_day, store_id)
    step("web", 0.5, "deleting previous rows")

    # Orders go in before their lines (TimescaleDB keys lines by their order's time).
    tables = {
        "stores": fr.store_frame(store_id, store_created_us, currency=currency, timezone=timezone),
        "products": products,
        "variants": variants,
        "customers": sales.pop("customers"),
        "customer_contacts": sales.pop("customer_contacts"),
        **inventory_frames(store_id, stock, catalogue, clock, variants["variant_id"]),
        "order_lines": sales.pop("order_lines"),
        "refunds": sales.pop("refunds"),
        "refund_lines": sales.pop("refund_lines"),
        "transactions": sales.pop("transactions"),
        "web_events": events,
        "ad_spend": spend,
    }
    del events, buyers, browsing
    rates = fx_walk(streams[9], clock.n_days)
    counts = {table: frame.height for table, frame in tables.items() if frame is not None}
    n_tables = len(tables) + 2  # with the orders and the exchange rates

    def changes(current) -> Changes:
        start, fx = replacing_store(current, store_id, fx_frame(clock.days, rates))
        counts["fx_rates"] = fx.height
        visits = {"on": "order_id", "how": "left", "maintain_order": "left"}
        if currency == "USD":
            orders = sales["orders"].with_columns(_presentment(sales, o, fx, clock)).join(attribution, **visits)
            rows = {**tables, "orders": orders}
        else:  # every order presented in the shop's own currency
            orders = sales["orders"].with_columns(pl.col("total_price").alias("presentment_total_price")).join(
                attribution, **visits)
            rows = {name: None if frame is None else in_currency(frame, currency)
                    for name, frame in {**tables, "orders": orders}.items()}
        counts["orders"] = orders.height
        step("delete previous rows", 0.52, "writing")
        start.rows.update(rows)
        return start

    written = [0]

    def on_table(table: str) -> None:
        if table == "rollups":
            step("write", 0.85, "rollups")
        elif progress is not None:
            progress(f"writing {table}", 0.52 + 0.33 * min(written[0] / n_tables, 1.0))
            written[0] += 1

    # One transaction through the write path: the store's old rows go, the new ones are appended in bulk,
    # and its rollups are rebuilt from them.
    write(wh, store_id, changes, replace=True, on_table=on_table)
    step("rollups", 0.95, "commit")
    # The demo's own sessions counted as an analytics property counts them, once the rollups are in.
    from connectors.demo.traffic import traffic_changes

    cutoff = dt.datetime.fromtimestamp(clock.cutoff_us / 1e6, dt.timezone.utc)
    counts["daily_traffic"] = write(wh, store_id, lambda current: traffic_changes(current, store_id, cutoff)).rows
    step("commit", 0.98, "daily sales")
    first_day = end - dt.timedelta(days=int(days) - 1)
    if not wh.in_transaction() and first_day < dt.date.today() - dt.timedelta(days=4):
        # On TimescaleDB, materialize the history just loaded, up to two days ago (a no-op elsewhere).
        from data.timescale import refresh_daily_sales

        refresh_daily_sales(wh, start=first_day)
    step("daily sales", 1.0, "done")
    total = round(time.perf_counter() - started, 3)
    return {"store_id": store_id, "end": end.isoformat(), "web_days": web_days, "counts": counts,
            "timings": timings, "seconds": total}


def _fit_to_stock(rng: np.random.Generator, cand, catalogue, clock: StoreClock, orders: int):
    """Drop a random excess of candidate orders so that about ``orders`` survive the stockouts.

    A first stock simulation measures the share of orders lost to empty
    shelves at this scale; the excess is taken from repeat purchases first.
    """
    pilot = simulate_stock(np.random.default_rng(rng.integers(2**63)), cand, catalogue, clock)
    kept = int((np.bincount(cand.line_order[pilot.keep_lines], minlength=cand.n_orders) > 0).sum())
    survival = max(kept / max(cand.n_orders, 1), 0.5)
    wanted = int(round(orders / survival))
    excess = cand.n_orders - wanted
    if excess <= 0:
        return cand
    repeat = np.zeros(cand.n_orders, dtype=bool)
    real = np.flatnonzero(cand.customer >= 0)
    first_seen = np.unique(cand.customer[real], return_index=True)[1]
    repeat[real] = True
    repeat[real[first_seen]] = False
    pool = np.flatnonzero(repeat)
    if len(pool) < excess:
        pool = np.flatnonzero(~cand.is_test)
    drop = rng.choice(pool, size=min(excess, len(pool)), replace=False)
    keep = np.ones(cand.n_orders, dtype=bool)
    keep[drop] = False
    return cand.subset(keep, np.ones(len(cand.line_order), dtype=bool))


def _sales(rng: np.random.Generator, o, customers, catalogue, clock: StoreClock, store_id: str,
           store_created_us: int) -> dict:
    """Orders, lines, refunds, transactions and customers of the surviving orders."""
    n = o.n_orders
    numbers = 1001 + np.arange(n, dtype=np.int64)
    # Customer numbers follow acquisition; each order's rank among its customer's orders.
    cust = o.customer
    by_customer = np.lexsort((o.time_us, cust))
    rank = np.empty(n, dtype=np.int64)
    cs = cust[by_customer]
    group_start = np.r_[True, cs[1:] != cs[:-1]] if n else np.zeros(0, dtype=bool)
    starts = np.flatnonzero(group_start)
    rank[by_customer] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    order_index = np.where(cust >= 0, rank, -1)

    day_numbers = clock.days[o.day]
    tax_rate = np.where(cust >= 0, customers.tax_rate[np.maximum(cust, 0)], STORE_TAX)
    tax_rate = np.where(o.channel == POS, STORE_TAX, tax_rate)
    code = assign_codes(rng, o.channel, order_index, in_windows(day_numbers, bfcm_window),
                        in_windows(day_numbers, summer_sale_window), o.is_test)
    is_gift = catalogue.is_gift_card[o.line_variant]
    money = price_orders(rng, n, o.line_order, catalogue.price_cents[o.line_variant], o.line_qty, is_gift, code,
                         o.channel, o.country, tax_rate)
    line_seq = np.arange(len(o.line_order)) - np.searchsorted(o.line_order, o.line_order, side="left") + 1
    rm = refund_money(rng, n, o.line_order, o.line_qty, o.line_return_qty, money.line_gross - money.line_discount,
                      money.line_tax, o.refund_kind, o.restock, o.refund_shipping, money.shipping,
                      money.shipping_tax, money.duties)

    # Financial and fulfilment status.
    financial = np.select([o.status == VOIDED, o.status == PENDING, o.status == AUTHORIZED], [1, 3, 4], 0)
    refunded_total = np.zeros(n, dtype=np.int64)
    refunded_total[rm.order] = rm.total_refunded
    has_refund = refunded_total > 0
    financial = np.where(has_refund, np.where(refunded_total == money.total_price, 2, 5), financial)
    fulfil_at = o.time_us + (rng.uniform(0.5, 3.0, n) * US_PER_DAY).astype(np.int64)
    fulfil_at = np.where((o.channel == POS) | o.is_test, o.time_us, fulfil_at)
    multi = np.bincount(o.line_order, minlength=n) > 1
    done = fulfil_at < clock.cutoff_us
    fulfillment = np.where(done, 2, np.where(multi & (rng.random(n) < 0.3), 1, 0))
    open_status = (o.status == VOIDED) | (o.status == PENDING) | (o.status == AUTHORIZED)
    fulfillment = np.where(open_status, 0, fulfillment)
    fulfillment = np.where(o.status == CANCELLED, 3, fulfillment)
    refund_us = o.refund_us
    updated = np.maximum.reduce([o.time_us, o.cancel_us, np.where(has_refund, refund_us, -1),
                                 np.where(done & ~open_status & (o.status != CANCELLED), fulfil_at, -1)])
    updated = (updated // 1_000_000) * 1_000_000

    provider = np.where(o.is_test, 2, np.where(o.channel == POS, 0, customers.paypal[np.maximum(cust, 0)]))
    provider = np.where(o.channel == MARKETPLACE, 0, provider).astype(np.int64)
    tx = order_transactions(o.status, o.time_us, o.cancel_us, money.total_price, provider, o.channel)

    # Presentment: the buyer's currency online; US dollars in store, on marketplaces and for tests.
    local_currency = np.array([PRESENTMENT.index(CURRENCY_OF[c]) for c in COUNTRIES])[o.country]
    presentment = np.where((o.channel == POS) | (o.channel == MARKETPLACE) | o.is_test, 0, local_currency)

    customer_numbers = np.where(cust >= 0, cust + 1, 0)
    orders = fr.orders_frame(store_id, numbers, fr.customer_ids(customer_numbers), o.time_us, updated, o.cancel_us,
                             [PRESENTMENT[c] for c in presentment.tolist()], financial, fulfillment, o.channel,
                             o.source, o.country, money,
                             pl.Series("presentment_total_price", [None] * n, dtype=pl.Decimal(18, 4)),
                             code, o.is_test)
    lines = fr.lines_frame(store_id, numbers, line_seq, o.line_order, o.line_variant, o.line_qty, catalogue,
                           fr.line_titles(catalogue), money)
    refunds, refund_lines = fr.refund_frames(store_id, numbers, refund_us, line_seq, o.line_order, rm)
    transactions = fr.transactions_frame(store_id, numbers, tx, rm.order, refund_us, rm.total_refunded, provider)

    # Customers: accounts opened just before (or for some, days before) their first order.
    first_order = np.full(customers.n, -1, dtype=np.int64)
    last_order = np.full(customers.n, -1, dtype=np.int64)
    real = cust >= 0
    np.maximum.at(last_order, cust[real], o.time_us[real])
    order_count = np.bincount(cust[real], minlength=customers.n)
    first_order[:] = clock.to_utc(customers.acquired_op)
    firsts = np.full(customers.n, np.iinfo(np.int64).max)
    np.minimum.at(firsts, cust[real], o.time_us[real])
    first_order = np.where(order_count > 0, firsts, first_order)
    created = customer_created_us(rng, customers, first_order, store_created_us)
    numbers_c = np.arange(1, customers.n + 1)
    tags = [("vip" if c >= 6 else None) for c in order_count.tolist()]
    early = customers.signup_days_before > 0
    tags = [(f"{t}, newsletter" if t else "newsletter") if e and m else t
            for t, e, m in zip(tags, early.tolist(), customers.accepts_marketing.tolist())]
    tags = [((f"{t}, wholesale" if t else "wholesale") if h == OTHER else t)
            for t, h in zip(tags, customers.home_channel.tolist())]
    hashes, names, emails = made_up_people(rng, numbers_c)
    cframe = customers_frame(store_id, numbers_c, hashes, created, customers.country,
                             customers.accepts_marketing, tags, np.maximum(last_order, created))
    return {"orders": orders, "order_lines": lines, "refunds": refunds, "refund_lines": refund_lines,
            "transactions": transactions, "customers": cframe, "order_index": order_index,
            "customer_contacts": contacts_frame(store_id, numbers_c, names, emails, created),
            "presentment": presentment, "total_cents": money.total_price}


def _presentment(sales: dict, o, fx: pl.DataFrame, clock: StoreClock) -> pl.Series:
    """Presentment totals converted with the rates in the warehouse on each order's local day."""
    presentment = sales["presentment"]
    total = sales["total_cents"]
    minor = total.copy()
    day_numbers = clock.days[o.day]
    fx_days = fx["rate_date"].cast(pl.Int32).to_numpy().astype(np.int64)
    rate_e8 = (fx["rate"].cast(pl.Decimal(38, 8)) * 10**8).cast(pl.Int64).to_numpy()
    for code, currency in enumerate(PRESENTMENT):
        sel = np.flatnonzero(presentment == code)
        if code == 0 or len(sel) == 0:
            continue
        mine = (fx["quote_currency"] == currency).to_numpy()
        days_c, rates_c = fx_days[mine], rate_e8[mine]
        order = np.argsort(days_c)
        days_c, rates_c = days_c[order], rates_c[order]
        pos = np.clip(np.searchsorted(days_c, day_numbers[sel], side="right") - 1, 0, len(days_c) - 1)
        minor[sel] = presentment_minor(total[sel], rates_c[pos], currency)
    return fr.presentment_decimal(minor, presentment, list(PRESENTMENT))

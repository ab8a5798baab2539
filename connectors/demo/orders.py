"""Candidate orders and lines: who buys what, where, through which channel.

Purchases from the customer process become orders with a channel (the
customer's usual one most of the time), a raw ``source_name``, a shipping
country, the location that fulfils them, lines drawn from the catalogue by
popularity, and their fate: paid, voided before payment, paid then cancelled
and refunded, returned in full or in part some days later, or still pending
or authorized when recent. These are candidates: the inventory simulation
then drops the lines that could not be sold because the item was out of stock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from connectors.demo.catalogue import EU, MAIN, STORE, Catalogue, VariantSampler
from connectors.demo.clock import (
    STORE_HOUR_PROFILE,
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    StoreClock,
    bfcm_window,
    in_windows,
    local_hours_from_profile,
)
from connectors.demo.customers import (
    EU_COUNTRIES,
    HOME_CHANNEL_INTL,
    HOME_CHANNEL_US,
    MARKETPLACE,
    ONLINE,
    OTHER,
    POS,
    SOCIAL,
    US,
    Customers,
)

# Raw source names per channel, with their shares.
SOURCE_NAMES = ("web", "pos", "amazon", "ebay", "instagram", "facebook", "tiktok", "draft_order", "wholesale")
CHANNEL_SOURCES = {
    ONLINE: ((0,), (1.0,)),
    POS: ((1,), (1.0,)),
    MARKETPLACE: ((2, 3), (0.82, 0.18)),
    SOCIAL: ((4, 5, 6), (0.6, 0.25, 0.15)),
    OTHER: ((7, 8), (0.75, 0.25)),
}

PAID, VOIDED, CANCELLED, PENDING, AUTHORIZED = range(5)
NO_REFUND, FULL_RETURN, PARTIAL_RETURN, CANCEL_REFUND = range(4)


@dataclass
class Candidates:
    """Orders (sorted by time) and their lines, as parallel arrays."""

    customer: np.ndarray  # -1: none (test orders)
    time_us: np.ndarray
    day: np.ndarray  # local day index
    channel: np.ndarray
    source: np.ndarray
    country: np.ndarray
    location: np.ndarray
    status: np.ndarray
    is_test: np.ndarray
    cancel_us: np.ndarray  # -1: not cancelled
    refund_kind: np.ndarray
    refund_us: np.ndarray  # -1: no refund
    restock: np.ndarray
    refund_shipping: np.ndarray
    line_order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    line_variant: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    line_qty: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    line_return_qty: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_orders(self) -> int:
        return len(self.time_us)

    def subset(self, keep_orders: np.ndarray, keep_lines: np.ndarray) -> "Candidates":
        """Keep the given orders and lines (lines of dropped orders go too); renumber."""
        keep_lines = keep_lines & keep_orders[self.line_order]
        new_index = np.cumsum(keep_orders) - 1
        values = {name: getattr(self, name)[keep_orders] for name in ORDER_FIELDS}
        values.update({name: getattr(self, name)[keep_lines] for name in LINE_FIELDS})
        values["line_order"] = new_index[values["line_order"]]
        return Candidates(**values)


ORDER_FIELDS = ("customer", "time_us", "day", "channel", "source", "country", "location", "status", "is_test",
                "cancel_us", "refund_kind", "refund_us", "restock", "refund_shipping")
LINE_FIELDS = ("line_order", "line_variant", "line_qty", "line_return_qty")


def pick_channels(rng: np.random.Generator, home: np.ndarray, us: np.ndarray) -> np.ndarray:
    """The customer's usual channel four times out of five, else any channel open to them."""
    n = len(home)
    other = np.where(us, rng.choice(5, size=n, p=HOME_CHANNEL_US), rng.choice(5, size=n, p=HOME_CHANNEL_INTL))
    return np.where(rng.random(n) < 0.8, home, other)


def pick_sources(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    source = np.zeros(len(channel), dtype=np.int64)
    for ch, (codes, shares) in CHANNEL_SOURCES.items():
        sel = np.flatnonzero(channel == ch)
        source[sel] = rng.choice(codes, size=len(sel), p=shares)
    return source


def fulfilment_location(channel: np.ndarray, country: np.ndarray) -> np.ndarray:
    location = np.full(len(channel), MAIN, dtype=np.int64)
    location[np.isin(country, EU_COUNTRIES) & (channel != MARKETPLACE)] = EU
    location[channel == POS] = STORE
    return location


def candidate_orders(rng: np.random.Generator, clock: StoreClock, customers: Customers,
                     purchase_customer: np.ndarray, purchase_op: np.ndarray, n_test: int) -> Candidates:
    """Orders for every purchase plus ``n_test`` test orders placed by the merchant."""
    time_us = clock.to_utc(purchase_op)
    customer = purchase_customer.astype(np.int64)
    country = customers.country[customer]
    channel = pick_channels(rng, customers.home_channel[customer], country == US)
    # Shop counters open 10:00-20:00: move point-of-sale orders into opening hours, same day.
    pos = np.flatnonzero(channel == POS)
    if len(pos):
        day = np.clip(clock.day_index(time_us[pos]), 0, clock.n_days - 1)
        time_us[pos] = clock.local_time_us(day, local_hours_from_profile(rng, len(pos), STORE_HOUR_PROFILE))
        time_us[pos] = (time_us[pos] // US_PER_SECOND) * US_PER_SECOND
    valid = (time_us >= clock.day_start_us[0]) & (time_us < clock.cutoff_us)
    # Test orders: the merchant tries the checkout while setting up, then now and then.
    test_op = np.concatenate([
        rng.uniform(0.0, min(3.0, clock.op_total), min(n_test, 3)),
        rng.uniform(0.0, clock.op_total, max(0, n_test - 3)),
    ])
    time_us = np.concatenate([time_us[valid], clock.to_utc(test_op)])
    customer = np.concatenate([customer[valid], np.full(len(test_op), -1)])
    country = np.concatenate([country[valid], np.full(len(test_op), US)])
    channel = np.concatenate([channel[valid], np.full(len(test_op), ONLINE)])
    is_test = np.concatenate([np.zeros(int(valid.sum()), dtype=bool), np.ones(len(test_op), dtype=bool)])
    order = np.argsort(time_us, kind="stable")
    time_us, customer, country, channel, is_test = (a[order] for a in (time_us, customer, country, channel, is_test))
    n = len(time_us)
    day = np.clip(clock.day_index(time_us), 0, clock.n_days - 1)
    source = pick_sources(rng, channel)
    location = fulfilment_location(channel, country)
    age_h = clock.hours_to_cutoff(time_us)

    status = np.full(n, PAID, dtype=np.int64)
    cancel_us = np.full(n, -1, dtype=np.int64)
    refund_kind = np.full(n, NO_REFUND, dtype=np.int64)
    refund_us = np.full(n, -1, dtype=np.int64)
    u = rng.random(n)
    shipped = (channel != POS) & ~is_test
    # Voided before any payment was captured (fraud checks, customer changed their mind).
    void_at = time_us + (rng.uniform(0.2, 12.0, n) * US_PER_HOUR).astype(np.int64)
    voided = shipped & (channel != MARKETPLACE) & (u < 0.012) & (void_at < clock.cutoff_us)
    status[voided], cancel_us[voided] = VOIDED, void_at[voided]
    # Paid, then cancelled before shipping and refunded in full.
    cancel_at = time_us + (rng.uniform(1.0, 36.0, n) * US_PER_HOUR).astype(np.int64)
    cancelled = shipped & (u >= 0.012) & (u < 0.02) & (cancel_at < clock.cutoff_us)
    status[cancelled], cancel_us[cancelled] = CANCELLED, cancel_at[cancelled]
    refund_kind[cancelled], refund_us[cancelled] = CANCEL_REFUND, cancel_at[cancelled]
    # Recent orders not yet captured: card authorizations, draft-order invoices, payments in progress.
    fresh = (status == PAID) & shipped
    authorized = fresh & (age_h < 60) & (channel != OTHER) & (rng.random(n) < 0.35)
    pending = fresh & ~authorized & (((channel == OTHER) & (age_h < 30 * 24) & (rng.random(n) < 0.5))
                                     | ((age_h < 24) & (rng.random(n) < 0.06)))
    status[authorized] = AUTHORIZED
    status[pending] = PENDING

    # Returns: a few days to weeks after the order, in full or in part.
    return_share = np.select([channel == POS, channel == MARKETPLACE], [0.05, 0.06], 0.09)
    return_at = time_us + ((5.0 + rng.gamma(2.0, 6.0, n)) * US_PER_DAY).astype(np.int64)
    return_at[channel == POS] = (time_us + (rng.uniform(1.0, 14.0, n) * US_PER_DAY).astype(np.int64))[channel == POS]
    returned = (status == PAID) & ~is_test & (rng.random(n) < return_share) & (return_at < clock.cutoff_us)
    refund_kind[returned] = np.where(rng.random(int(returned.sum())) < 0.45, FULL_RETURN, PARTIAL_RETURN)
    refund_us[returned] = (return_at[returned] // US_PER_SECOND) * US_PER_SECOND
    restock = (refund_kind == CANCEL_REFUND) | ((refund_kind != NO_REFUND) & (rng.random(n) < 0.85))
    refund_shipping = (refund_kind == CANCEL_REFUND) | ((refund_kind == FULL_RETURN) & (rng.random(n) < 0.25))
    cancel_us = np.where(cancel_us >= 0, (cancel_us // US_PER_SECOND) * US_PER_SECOND, -1)
    refund_us = np.where(refund_us >= 0, (refund_us // US_PER_SECOND) * US_PER_SECOND, -1)
    return Candidates(customer=customer, time_us=time_us, day=day, channel=channel, source=source,
                      country=country, location=location, status=status, is_test=is_test, cancel_us=cancel_us,
                      refund_kind=refund_kind, refund_us=refund_us, restock=restock, refund_shipping=refund_shipping)


def add_lines(rng: np.random.Generator, cand: Candidates, catalogue: Catalogue, clock: StoreClock) -> None:
    """Lines for every candidate order: products by popularity, a gift card now and then."""
    n = cand.n_orders
    giftable = (cand.channel == ONLINE) | (cand.channel == SOCIAL)
    holiday = in_windows(clock.days[cand.day], bfcm_window) | (
        (clock.days[cand.day].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12) == 11)
    gift = giftable & ~cand.is_test & (rng.random(n) < np.where(holiday, 0.035, 0.01))
    n_products = 1 + np.minimum(rng.poisson(0.55, n), 5)
    n_products[gift & (rng.random(n) < 0.4)] = 0
    order_of_line = np.repeat(np.arange(n), n_products)
    variant = VariantSampler(catalogue).draw(rng, cand.location[order_of_line], cand.day[order_of_line])
    # One line per variant in an order.
    first = np.ones(len(variant), dtype=bool)
    if len(variant):
        key = order_of_line * catalogue.n_variants + variant
        _, first_index = np.unique(key, return_index=True)
        first[:] = False
        first[first_index] = True
    order_of_line, variant = order_of_line[first], variant[first]
    multi = rng.random(len(variant)) < catalogue.multibuy[variant]
    qty = np.where(multi, 2 + np.minimum(rng.poisson(0.6, len(variant)), 4), 1)
    qty = np.where(~multi & (rng.random(len(variant)) < 0.03), 2, qty)
    gift_orders = np.flatnonzero(gift)
    gift_variants = np.flatnonzero(catalogue.is_gift_card)
    gift_weights = np.array([0.5, 1.0, 0.6])[: len(gift_variants)]
    gift_variant = rng.choice(gift_variants, size=len(gift_orders), p=gift_weights / gift_weights.sum())
    line_order = np.concatenate([order_of_line, gift_orders])
    line_variant = np.concatenate([variant, gift_variant])
    line_qty = np.concatenate([qty, np.ones(len(gift_orders), dtype=np.int64)])
    order = np.lexsort((np.arange(len(line_order)), line_order))
    cand.line_order, cand.line_variant, cand.line_qty = line_order[order], line_variant[order], line_qty[order]
    cand.line_return_qty = return_quantities(rng, cand, catalogue)


def return_quantities(rng: np.random.Generator, cand: Candidates, catalogue: Catalogue) -> np.ndarray:
    """Units of each line the customer sends back (or that a cancellation refunds)."""
    lo, qty = cand.line_order, cand.line_qty
    kind = cand.refund_kind[lo]
    is_gift = catalogue.is_gift_card[cand.line_variant]
    # Orders holding a gift card are never refunded.
    has_gift = np.bincount(lo[is_gift], minlength=cand.n_orders) > 0
    cand.refund_kind[has_gift] = NO_REFUND
    cand.refund_us[has_gift] = -1
    cand.restock[has_gift] = False
    cand.refund_shipping[has_gift] = False
    # ... nor cancelled after payment: those orders simply stay paid.
    kept = has_gift & (cand.status == CANCELLED)
    cand.status[kept] = PAID
    cand.cancel_us[kept] = -1
    kind = np.where(has_gift[lo], NO_REFUND, kind)
    out = np.where((kind == FULL_RETURN) | (kind == CANCEL_REFUND), qty, 0)
    partial = np.flatnonzero(cand.refund_kind == PARTIAL_RETURN)
    if len(partial):
        starts = np.searchsorted(lo, partial, side="left")
        counts = np.searchsorted(lo, partial, side="right") - starts
        has_lines = counts > 0
        partial, starts, counts = partial[has_lines], starts[has_lines], counts[has_lines]
        chosen = starts + (rng.random(len(partial)) * counts).astype(np.int64)
        q = qty[chosen]
        single = counts == 1
        # A single-line order returns part of its units, or all of a multi-line order's chosen line.
        back = np.where(single, np.maximum(1, (rng.random(len(q)) * (q - 1)).astype(np.int64) + 1), q)
        back = np.where(single & (q == 1), 1, back)
        back = np.where(~single & (q > 1) & (rng.random(len(q)) < 0.5), 1, back)
        out[chosen] = np.minimum(back, q)
    return out.astype(np.int64)

"""Web sessions and ad spend that agree with the orders.

Every online-store order in the covered window has a session that ends in a
``purchase`` event carrying its ``order_id`` (after ``session_start``,
``view_item`` for each product bought and maybe a few more, ``add_to_cart``
per product and ``begin_checkout``). Around them, sessions that do not buy:
about 40 for each one that does (a 2.5 % conversion rate), dropping off at
each step of the funnel. Sources, media and devices follow a typical mix;
returning customers come more often from email and direct visits, desktops
convert better than phones.

Ad spend covers the whole history: daily clicks per campaign track the
expected sessions of that day (so spend follows traffic and seasonality),
spend = clicks × cost per click, impressions = clicks ÷ click-through rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from connectors.demo.clock import US_PER_SECOND, StoreClock
from connectors.demo.money import dates, decimal_from_minor, pick, pick_or_null, prefixed_ids, repeated, timestamps

CONVERSION = 0.025
MAX_SESSIONS = 2_000_000
EVENT_TYPES = ("session_start", "view_item", "add_to_cart", "begin_checkout", "purchase")
START, VIEW, ATC, CHECKOUT, PURCHASE = range(5)
# (source, medium, share of all sessions, share of new buyers, share of returning buyers)
TRAFFIC = (
    ("google", "cpc", 0.24, 0.30, 0.15),
    ("google", "organic", 0.20, 0.18, 0.15),
    ("facebook", "paid_social", 0.14, 0.17, 0.06),
    ("instagram", "paid_social", 0.07, 0.08, 0.04),
    ("tiktok", "paid_social", 0.04, 0.04, 0.01),
    ("(direct)", "(none)", 0.18, 0.15, 0.30),
    ("newsletter", "email", 0.06, 0.03, 0.25),
    ("bing", "organic", 0.03, 0.03, 0.02),
    ("pinterest", "social", 0.04, 0.02, 0.02),
)
DEVICES = ("mobile", "desktop", "tablet")
DEVICE_SHARE = np.array([0.64, 0.30, 0.06])
BUYER_DEVICE_SHARE = np.array([0.50, 0.44, 0.06])
# (platform, campaign, orders channel, source index in TRAFFIC, share of that source, CPC cents, CTR, starts at)
CAMPAIGNS = (
    ("google", "Search - Brand", "online_store", 0, 0.25, 45, 0.08, 0.0),
    ("google", "Search - Generic", "online_store", 0, 0.35, 135, 0.035, 0.0),
    ("google", "Shopping - All Products", "online_store", 0, 0.30, 70, 0.012, 0.0),
    ("google", "Performance Max", "online_store", 0, 0.10, 60, 0.009, 0.4),
    ("meta", "Prospecting - Broad", "online_store", 2, 0.65, 95, 0.011, 0.0),
    ("meta", "Retargeting - 30 Day Visitors", "online_store", 2, 0.35, 55, 0.018, 0.0),
    ("meta", "Instagram Shop - Catalog", "social", 3, 1.0, 80, 0.013, 0.0),
    ("tiktok", "Spark Ads - Creators", "social", 4, 1.0, 60, 0.008, 0.55),
)


def web_window_days(clock: StoreClock, online_orders_per_day: float, days: int = 90) -> int:
    """Days of web events: ``days`` (90), fewer when that would pass ~2 M sessions."""
    sessions_per_day = max(online_orders_per_day, 1e-9) / CONVERSION
    fit = int(MAX_SESSIONS // sessions_per_day)
    return int(max(1, min(days, clock.n_days, max(7, fit))))


@dataclass
class Buyers:
    """The online-store orders inside the window, with their products."""

    order_ids: pl.Series
    customer_ids: pl.Series
    time_us: np.ndarray
    returning: np.ndarray
    line_start: np.ndarray  # index of the order's first line in ``line_products``
    line_count: np.ndarray
    line_products: np.ndarray  # product index per line, grouped by order


def browsing_starts(rng: np.random.Generator, clock: StoreClock, window_start_us: int, n_buyers: int) -> np.ndarray:
    """Start times of the sessions that do not buy: ~40 per order, with the store's seasonality."""
    n_browse = int(round(n_buyers * (1.0 / CONVERSION - 1.0)))
    window_op = clock.to_op(np.array([window_start_us]))[0]
    return np.sort(clock.to_utc(rng.uniform(window_op, clock.op_total, n_browse)))


def web_events(rng: np.random.Generator, browse_start: np.ndarray, buyers: Buyers, product_weight: np.ndarray,
               product_ids: pl.Series, store_id: str, cutoff_us: int, first_session: int = 1,
               first_event: int = 1) -> pl.DataFrame:
    """Events of the buyers' sessions and of the browsing sessions starting at ``browse_start``.

    Session and event ids are ``s<n>`` and ``e<n>``, numbered from
    ``first_session`` and ``first_event`` in order of the session start.
    """
    n_buy = len(buyers.time_us)
    n_browse = len(browse_start)
    buy_start = buyers.time_us - rng.integers(4 * 60, 45 * 60, n_buy) * US_PER_SECOND
    n = n_buy + n_browse
    start = np.concatenate([buy_start, browse_start])
    buyer = np.concatenate([np.arange(n_buy), np.full(n_browse, -1)])
    n_products = len(product_weight)
    # Funnel of the sessions that do not buy.
    views = np.where(rng.random(n_browse) < 0.62, 1 + rng.poisson(0.8, n_browse), 0)
    carts = ((views > 0) & (rng.random(n_browse) < 0.18)).astype(np.int64)
    checkouts = ((carts > 0) & (rng.random(n_browse) < 0.4)).astype(np.int64)
    extra_views = rng.poisson(0.7, n_buy)
    views = np.concatenate([buyers.line_count + extra_views, views])
    carts = np.concatenate([buyers.line_count, carts])
    checkouts = np.concatenate([np.ones(n_buy, dtype=np.int64), checkouts])
    purchases = np.concatenate([np.ones(n_buy, dtype=np.int64), np.zeros(n_browse, dtype=np.int64)])
    # Session ids in order of their start.
    order = np.argsort(start, kind="stable")
    start, buyer, views, carts, checkouts, purchases = (a[order] for a in
                                                        (start, buyer, views, carts, checkouts, purchases))
    source = np.empty(n, dtype=np.int64)
    is_buyer = buyer >= 0
    ret = np.zeros(n, dtype=bool)
    ret[is_buyer] = buyers.returning[buyer[is_buyer]]
    for mask, col in ((~is_buyer, 2), (is_buyer & ~ret, 3), (is_buyer & ret, 4)):
        p = np.array([t[col] for t in TRAFFIC])
        source[mask] = rng.choice(len(TRAFFIC), size=int(mask.sum()), p=p / p.sum())
    device = np.where(is_buyer, rng.choice(3, size=n, p=BUYER_DEVICE_SHARE), rng.choice(3, size=n, p=DEVICE_SHARE))

    count = 1 + views + carts + checkouts + purchases
    session = np.repeat(np.arange(n), count)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    j = np.arange(len(session)) - first[session]
    v, c, k = views[session], carts[session], checkouts[session]
    etype = np.select([j == 0, j <= v, j <= v + c, j <= v + c + k], [START, VIEW, ATC, CHECKOUT], PURCHASE)
    # Time: buyers' steps spread until the order, others 20-120 s apart.
    end = np.where(buyer >= 0, buyers.time_us[np.maximum(buyer, 0)] if n_buy else 0, 0)
    gap = np.where(buyer >= 0, (end - start) // np.maximum(count - 1, 1),
                   rng.integers(20, 120, n) * US_PER_SECOND)
    occurred = start[session] + j * gap[session]
    sb = buyer[session]
    occurred = np.where((sb >= 0) & (etype == PURCHASE), end[session], occurred)
    occurred = np.minimum(occurred, cutoff_us - US_PER_SECOND)
    # Products: buyers view and add what they buy; everyone browses by popularity.
    product = np.full(len(session), -1, dtype=np.int64)
    browse = (etype == VIEW) | (etype == ATC)
    cdf = np.cumsum(product_weight)
    cdf /= cdf[-1]
    product[browse] = np.minimum(np.searchsorted(cdf, rng.random(int(browse.sum())), side="right"), n_products - 1)
    if n_buy:
        lc = buyers.line_count[np.maximum(sb, 0)]
        ls = buyers.line_start[np.maximum(sb, 0)]
        bought_view = (sb >= 0) & (etype == VIEW) & (j - 1 < lc)
        product[bought_view] = buyers.line_products[ls[bought_view] + (j[bought_view] - 1)]
        bought_cart = (sb >= 0) & (etype == ATC)
        product[bought_cart] = buyers.line_products[ls[bought_cart] + (j[bought_cart] - 1 - v[bought_cart])]
    def gathered(values: pl.Series, index: np.ndarray, keep: np.ndarray, name: str) -> pl.Series:
        if len(values) == 0:
            return pl.Series(name, [None] * len(index), dtype=pl.String)
        out = values.gather(np.maximum(index, 0)).alias(name)
        return pl.select(pl.when(pl.Series(keep)).then(out).otherwise(None).alias(name)).to_series()

    frame = pl.DataFrame([
        repeated(store_id, len(session), "store_id"),
        prefixed_ids("e", np.arange(first_event, first_event + len(session)), "event_id"),
        prefixed_ids("s", np.arange(first_session, first_session + n)[session], "session_id"),
        gathered(buyers.customer_ids, sb, sb >= 0, "customer_id"),
        timestamps(occurred, "occurred_at"),
        pick(EVENT_TYPES, etype, "event_type"),
        pick_or_null(product_ids.to_list(), product, "product_id"),
        gathered(buyers.order_ids, sb, (sb >= 0) & (etype == PURCHASE), "order_id"),
        pick([t[0] for t in TRAFFIC], source[session], "source"),
        pick([t[1] for t in TRAFFIC], source[session], "medium"),
        pick(DEVICES, device[session], "device"),
    ])
    return frame


def ad_spend(rng: np.random.Generator, clock: StoreClock, online_orders_per_day: np.ndarray,
             store_id: str) -> pl.DataFrame:
    """Daily spend, clicks and impressions per campaign, following the expected sessions."""
    kernel = np.ones(7) / 7.0
    smooth = np.convolve(np.concatenate([np.full(3, online_orders_per_day[:7].mean()), online_orders_per_day,
                                         np.full(3, online_orders_per_day[-7:].mean())]), kernel, mode="valid")
    sessions = smooth / CONVERSION
    frames = []
    n_days = clock.n_days
    for platform, campaign, channel, src, share, cpc, ctr, starts in CAMPAIGNS:
        first = int(starts * n_days)
        days = np.arange(first, n_days)
        if len(days) == 0:
            continue
        clicks = sessions[days] * TRAFFIC[src][2] * share / 0.92 * np.exp(rng.normal(0, 0.15, len(days)))
        clicks = np.round(clicks).astype(np.int64)
        live = clicks > 0
        days, clicks = days[live], clicks[live]
        spend = np.round(clicks * cpc * np.exp(rng.normal(0, 0.1, len(days)))).astype(np.int64)
        impressions = np.round(clicks / ctr * np.exp(rng.normal(0, 0.12, len(days)))).astype(np.int64)
        frames.append(pl.DataFrame([
            pl.Series("store_id", [store_id] * len(days), dtype=pl.String),
            dates(clock.days[days], "spend_date"),
            pl.Series("platform", [platform] * len(days), dtype=pl.String),
            pl.Series("campaign", [campaign] * len(days), dtype=pl.String),
            pl.Series("channel", [channel] * len(days), dtype=pl.String),
            decimal_from_minor(spend, 2, "spend"),
            pl.Series("currency", ["USD"] * len(days), dtype=pl.String),
            pl.Series("impressions", impressions),
            pl.Series("clicks", clicks),
        ]))
    return pl.concat(frames) if frames else pl.DataFrame()


def order_attribution(rng: np.random.Generator, clock: StoreClock, events: pl.DataFrame,
                      new_orders: set[str] | None = None) -> pl.DataFrame:
    """Each bought order's last visit as its platform records it: the source and medium of the session that
    bought it and, for a paid one, one of that source's campaigns live that day (by its share of the
    source's clicks); a customer's first order also has it as the first visit. Columns ``order_id`` and
    ``first_visit_*`` / ``last_visit_*`` (source, medium, campaign)."""
    bought = events.filter((pl.col("event_type") == "purchase") & pl.col("order_id").is_not_null()).unique(
        "order_id", keep="first", maintain_order=True).select("order_id", "occurred_at", "source", "medium")
    sources = bought["source"].to_list()
    media = bought["medium"].to_list()
    times = bought["occurred_at"].dt.epoch("us").to_numpy()
    days = np.clip(np.searchsorted(clock.day_start_us, times, side="right") - 1, 0, clock.n_days - 1)
    campaigns: list[str | None] = []
    draws = rng.random(len(sources))
    for source, medium, day, draw in zip(sources, media, days, draws):
        live = [(name, share) for _, name, _, src, share, _, _, starts in CAMPAIGNS
                if TRAFFIC[src][0] == source and TRAFFIC[src][1] == medium and day >= int(starts * clock.n_days)]
        if not live:
            campaigns.append(None)
            continue
        total = sum(share for _, share in live)
        edge, chosen = 0.0, live[-1][0]
        for name, share in live:
            edge += share / total
            if draw < edge:
                chosen = name
                break
        campaigns.append(chosen)
    frame = pl.DataFrame({"order_id": bought["order_id"], "last_visit_source": sources, "last_visit_medium": media,
                          "last_visit_campaign": pl.Series(campaigns, dtype=pl.String)})
    first = pl.col("order_id").is_in(sorted(new_orders or ()))
    return frame.with_columns(
        *[pl.when(first).then(pl.col(f"last_visit_{part}")).otherwise(None).alias(f"first_visit_{part}")
          for part in ("source", "medium", "campaign")])

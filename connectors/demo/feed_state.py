"""What the live demo feed reads from the warehouse: catalogue, stock, id counters, rates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from connectors.demo.catalogue import LOCATIONS
from connectors.demo.customers import COUNTRIES
from connectors.demo.inventory import location_ids
from connectors.demo.store import max_number


def to_cents(value) -> int:
    """A Decimal amount (or None) as whole cents, half up."""
    if value is None:
        return 0
    return int((Decimal(value) * 100).to_integral_value(rounding=ROUND_HALF_UP))


@dataclass
class FeedState:
    """The demo store as the feed needs it; counters move forward as the feed writes."""

    timezone: str
    variant_ids: list[str]
    product_of_variant: np.ndarray  # index into product_ids
    product_ids: list[str]
    skus: list[str]
    titles: list[str]
    price_cents: np.ndarray
    is_gift: np.ndarray
    weight: np.ndarray
    location_ids: list[str]
    next_order: int
    next_customer: int
    next_session: int
    next_event: int
    next_po: int
    customers: list[tuple[str, int]]  # recent customers: (id, country index)
    fx: dict[str, int] = field(default_factory=dict)  # latest rate per currency, 1e-8
    # An ordinary day of the store's history: its orders per store-local hour (see ordinary_pace).
    orders_per_hour: np.ndarray = field(default_factory=lambda: np.zeros(24))
    last_tick: dt.datetime | None = None

    @property
    def product_weight(self) -> np.ndarray:
        return np.bincount(self.product_of_variant, weights=self.weight, minlength=len(self.product_ids))


def load_state(wh, store_id: str, now: dt.datetime) -> FeedState:
    params = {"s": store_id}
    timezone = wh.scalar("SELECT timezone FROM stores WHERE store_id = :s", params)
    variants = wh.query(
        "SELECT v.variant_id, v.product_id, v.sku, p.title AS product_title, v.title AS variant_title, v.price, "
        "COALESCE(p.product_type, '') = 'Gift Cards' AS is_gift "
        "FROM variants v JOIN products p ON p.store_id = v.store_id AND p.product_id = v.product_id "
        "WHERE v.store_id = :s AND COALESCE(p.status, 'active') = 'active' ORDER BY v.variant_id",
        params,
    )
    since = (now - dt.timedelta(days=90)).date()
    sold = wh.query(
        "SELECT variant_id, SUM(units_sold) AS units FROM variant_daily_sales "
        "WHERE store_id = :s AND local_date >= :since GROUP BY variant_id",
        {"s": store_id, "since": since},
    )
    units = dict(zip(sold["variant_id"].to_list(), sold["units"].to_list())) if sold.height else {}
    weight = np.array([float(units.get(v, 0) or 0) for v in variants["variant_id"].to_list()])
    weight = weight + max(weight.mean(), 1.0) * 0.05
    product_ids = sorted(set(variants["product_id"].to_list()))
    product_index = {p: i for i, p in enumerate(product_ids)}
    titles = [p if t in (None, "Default Title") else f"{p} - {t}"
              for p, t in zip(variants["product_title"].to_list(), variants["variant_title"].to_list())]
    recent = wh.query(
        "SELECT customer_id, country FROM customers WHERE store_id = :s ORDER BY updated_at DESC LIMIT 3000",
        params,
    )
    country_index = {c: i for i, c in enumerate(COUNTRIES)}
    rates = wh.query(
        "SELECT quote_currency, rate FROM fx_rates f WHERE base_currency = 'USD' AND rate_date = ("
        "SELECT max(rate_date) FROM fx_rates g WHERE g.base_currency = 'USD' "
        "AND g.quote_currency = f.quote_currency AND g.rate_date <= :today)",
        {"today": now.date()},
    )
    return FeedState(
        timezone=timezone,
        variant_ids=variants["variant_id"].to_list(),
        product_of_variant=np.array([product_index[p] for p in variants["product_id"].to_list()], dtype=np.int64),
        product_ids=product_ids,
        skus=variants["sku"].to_list(),
        titles=titles,
        price_cents=np.array([to_cents(p) for p in variants["price"].to_list()], dtype=np.int64),
        is_gift=np.array(variants["is_gift"].to_list(), dtype=bool),
        weight=weight,
        location_ids=location_ids(store_id),
        next_order=max(int(wh.scalar("SELECT max(CAST(order_number AS BIGINT)) FROM orders WHERE store_id = :s",
                                     params) or 1000), 1000) + 1,
        next_customer=max_number(wh, "customers", "customer_id", "c", store_id) + 1,
        next_session=max_number(wh, "web_events", "session_id", "s", store_id) + 1,
        next_event=max_number(wh, "web_events", "event_id", "e", store_id) + 1,
        next_po=max_po_number(wh, store_id) + 1,
        customers=[(c, country_index.get(k, 0)) for c, k in zip(recent["customer_id"].to_list(),
                                                                 recent["country"].to_list())],
        fx={q: int((Decimal(r) * 10**8).to_integral_value()) for q, r in rates.rows()},
        orders_per_hour=ordinary_pace(wh, store_id, now.astimezone(ZoneInfo(timezone)).date()),
    )


PACE_DAYS = 28
PROFILE_DAYS = 90


def ordinary_pace(wh, store_id: str, today: dt.date) -> np.ndarray:
    """Orders per store-local hour of an ordinary day of the store's history: the median of the daily
    order counts over the :data:`PACE_DAYS` days before ``today`` (days without orders count as 0;
    the median leaves a Black Friday out), spread over the hours as the orders of the
    :data:`PROFILE_DAYS` days before fell. 24 numbers that add up to that median."""
    counts = wh.query(
        "SELECT local_date, COUNT(*) AS orders FROM order_facts WHERE store_id = :s AND local_date >= :since "
        "AND local_date < :today GROUP BY local_date",
        {"s": store_id, "since": today - dt.timedelta(days=PACE_DAYS), "today": today})
    daily = np.zeros(PACE_DAYS)
    for day, orders in counts.rows():
        daily[(today - day).days - 1] = orders
    hours = wh.query(
        "SELECT local_hour, COUNT(*) AS orders FROM order_facts WHERE store_id = :s AND local_date >= :since "
        "AND local_date < :today GROUP BY local_hour",
        {"s": store_id, "since": today - dt.timedelta(days=PROFILE_DAYS), "today": today})
    profile = np.zeros(24)
    for hour, orders in hours.rows():
        profile[int(hour)] = orders
    if profile.sum() == 0:
        return profile
    return float(np.median(daily)) * profile / profile.sum()


def max_po_number(wh, store_id: str) -> int:
    prefix = f"{store_id}-po-"
    value = wh.scalar(
        "SELECT max(CAST(substr(po_id, :start) AS BIGINT)) FROM purchase_orders "
        "WHERE store_id = :s AND substr(po_id, 1, :n) = :p",
        {"start": len(prefix) + 1, "n": len(prefix), "p": prefix, "s": store_id},
    )
    return int(value or 0)


class Stock:
    """The store's current ``inventory_levels`` as a [variant, location] matrix (-1: not stocked)."""

    def __init__(self, wh, store_id: str, state: FeedState) -> None:
        levels = wh.query("SELECT variant_id, location_id, available FROM inventory_levels WHERE store_id = :s",
                          {"s": store_id})
        v_index = {v: i for i, v in enumerate(state.variant_ids)}
        l_index = {loc: i for i, loc in enumerate(state.location_ids)}
        self.available = np.full((len(state.variant_ids), len(LOCATIONS)), -1, dtype=np.int64)
        for v, loc, a in levels.rows():
            if v in v_index and loc in l_index:
                self.available[v_index[v], l_index[loc]] = int(a)
        self.before = self.available.copy()
        self.state = state

    def changed(self) -> np.ndarray:
        return np.argwhere(self.available != self.before)

    def frame(self, store_id: str, cells: np.ndarray, updated: dt.datetime) -> pl.DataFrame:
        return pl.DataFrame({
            "store_id": [store_id] * len(cells),
            "variant_id": [self.state.variant_ids[v] for v, _ in cells],
            "location_id": [self.state.location_ids[loc] for _, loc in cells],
            "available": [int(self.available[v, loc]) for v, loc in cells],
            "updated_at": [updated] * len(cells),
        }, schema_overrides={"available": pl.Int32, "updated_at": pl.Datetime("us", "UTC")})

    def snapshot(self, store_id: str, day: dt.date, levels: np.ndarray | None = None) -> pl.DataFrame:
        levels = self.available if levels is None else levels
        cells = np.argwhere(levels >= 0)
        return pl.DataFrame({
            "store_id": [store_id] * len(cells),
            "snapshot_date": [day] * len(cells),
            "variant_id": [self.state.variant_ids[v] for v, _ in cells],
            "location_id": [self.state.location_ids[loc] for _, loc in cells],
            "available": [int(levels[v, loc]) for v, loc in cells],
        }, schema_overrides={"available": pl.Int32, "snapshot_date": pl.Date})

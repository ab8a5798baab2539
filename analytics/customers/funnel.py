"""The conversion funnel and the conversion rate, from a store's web traffic.

Two sources, one per store: the daily traffic of an analytics property
(``daily_traffic``: Google Analytics 4, or the demo store's own count) when the
store has any, else its web events (``web_events``, one row per session in the
rollup ``session_facts``).

From ``daily_traffic`` the steps are the property's figures: sessions →
engaged sessions → add-to-carts → checkouts → purchases. The last three count
events, not sessions (as GA4's ``addToCarts``, ``checkouts`` and
``ecommercePurchases`` do), so a step can pass the one before it (a session
adding two items to its cart); the source, medium and device are the session's.

From web events a session is counted at a step when it has that step's event and every
earlier one's (a closed funnel): sessions → viewed a product (``view_item``)
→ added to cart → began checkout → purchased. For each step: its sessions,
their share of all sessions, of the step before (conversion) and the drop-off
(1 − conversion). A session falls on the store-local day of its first event;
its source, medium (the marketing channel) and device are those of its first
event.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from analytics.customers.orders import typed
from analytics.periods import check_range
from data.warehouse import Warehouse

__all__ = ["BREAKDOWNS", "FUNNEL_STEPS", "TRAFFIC_STEPS", "conversion_rate", "funnel", "funnel_sessions",
           "funnel_table", "has_traffic", "steps_of"]

FUNNEL_STEPS = (
    ("sessions", "Sessions", None),
    ("viewed_product", "Viewed a product", "view_item"),
    ("added_to_cart", "Added to cart", "add_to_cart"),
    ("began_checkout", "Began checkout", "begin_checkout"),
    ("purchased", "Purchased", "purchase"),
)
TRAFFIC_STEPS = (
    ("sessions", "Sessions", None),
    ("engaged_sessions", "Engaged sessions", None),
    ("add_to_carts", "Add-to-carts", None),
    ("checkouts", "Checkouts", None),
    ("purchases", "Purchases", None),
)
BREAKDOWNS = {"medium": "Channel (medium)", "source": "Source", "device": "Device"}

_TRAFFIC = """
SELECT source, medium, device, SUM(sessions) AS sessions, SUM(engaged_sessions) AS engaged_sessions,
       SUM(add_to_carts) AS add_to_carts, SUM(checkouts) AS checkouts, SUM(purchases) AS purchases
FROM daily_traffic
WHERE store_id = :store_id AND date BETWEEN :start AND :end
GROUP BY source, medium, device
"""
# Orders from the web: the online store's, counted as every sales figure counts them (order_facts).
_WEB_ORDERS = """
SELECT COUNT(*) FROM order_facts
WHERE store_id = :store_id AND local_date BETWEEN :start AND :end AND channel = 'online_store'
"""

_SESSIONS = """
SELECT COALESCE(source, '(unknown)') AS source, COALESCE(medium, '(unknown)') AS medium,
       COALESCE(device, '(unknown)') AS device, COUNT(*) AS sessions,
       SUM(CASE WHEN viewed_product THEN 1 ELSE 0 END) AS viewed_product,
       SUM(CASE WHEN viewed_product AND added_to_cart THEN 1 ELSE 0 END) AS added_to_cart,
       SUM(CASE WHEN viewed_product AND added_to_cart AND began_checkout THEN 1 ELSE 0 END) AS began_checkout,
       SUM(CASE WHEN viewed_product AND added_to_cart AND began_checkout AND purchased THEN 1 ELSE 0 END)
           AS purchased
FROM session_facts
WHERE store_id = :store_id AND local_date BETWEEN :start AND :end
GROUP BY COALESCE(source, '(unknown)'), COALESCE(medium, '(unknown)'), COALESCE(device, '(unknown)')
"""


def has_traffic(wh: Warehouse, store_id: str) -> bool:
    """Whether the store has daily traffic from an analytics property (then its funnel is read from it)."""
    return wh.scalar("SELECT 1 FROM daily_traffic WHERE store_id = :s LIMIT 1", {"s": store_id}) is not None


def steps_of(sessions: pl.DataFrame) -> tuple[tuple[str, str, str | None], ...]:
    """The funnel steps a frame of :func:`funnel_sessions` holds: the property's or the web events'."""
    return TRAFFIC_STEPS if "engaged_sessions" in sessions.columns else FUNNEL_STEPS


def funnel_sessions(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The sessions between ``start`` and ``end`` (store-local, inclusive) per ``source``, ``medium`` and
    ``device``, counted in SQL: from ``daily_traffic`` when the store has it (``sessions`` and the
    property's figures of :data:`TRAFFIC_STEPS`), else from the rollup ``session_facts`` (``sessions`` and,
    per step after it, the sessions that reached that step: a closed funnel)."""
    start, end = check_range(start, end)
    params = {"store_id": store_id, "start": start, "end": end}
    steps = TRAFFIC_STEPS if has_traffic(wh, store_id) else FUNNEL_STEPS
    cells = wh.query(_TRAFFIC if steps is TRAFFIC_STEPS else _SESSIONS, params)
    return typed(cells, {"source": pl.String, "medium": pl.String, "device": pl.String,
                         **{key: pl.Int64 for key, _, _ in steps}})


def conversion_rate(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> dict:
    """Shopify's conversion rate over the range: online-store orders ÷ sessions.

    ``{"orders", "sessions", "conversion_rate"}``; the rate is None without sessions. Sessions come from
    the same source as the funnel (:func:`funnel_sessions`)."""
    sessions = int(funnel_sessions(wh, store_id, start, end)["sessions"].sum())
    start, end = check_range(start, end)
    orders = int(wh.scalar(_WEB_ORDERS, {"store_id": store_id, "start": start, "end": end}) or 0)
    return {"orders": orders, "sessions": sessions, "conversion_rate": orders / sessions if sessions else None}


def funnel_table(sessions: pl.DataFrame) -> pl.DataFrame:
    """The funnel of ``sessions`` (counts as :func:`funnel_sessions`, its steps by :func:`steps_of`): ``step``,
    ``label``, ``sessions``,
    ``share_of_sessions``, ``conversion`` (÷ the step before; none for the first step or after 0) and
    ``drop_off`` (1 − conversion)."""
    steps = steps_of(sessions)
    counts = [int(sessions[key].sum()) for key, _, _ in steps]
    total = counts[0]
    rows = []
    for i, ((key, label, _), count) in enumerate(zip(steps, counts)):
        before = counts[i - 1] if i else None
        conversion = count / before if before else None
        rows.append({"step": key, "label": label, "sessions": count,
                     "share_of_sessions": count / total if total else None,
                     "conversion": conversion, "drop_off": 1 - conversion if conversion is not None else None})
    return pl.DataFrame(rows, schema={"step": pl.String, "label": pl.String, "sessions": pl.Int64,
                                      "share_of_sessions": pl.Float64, "conversion": pl.Float64,
                                      "drop_off": pl.Float64})


def funnel(sessions: pl.DataFrame, by: str | None = None) -> pl.DataFrame:
    """:func:`funnel_table` overall, or per value of ``by`` (``medium``, ``source`` or ``device``) with that
    column first, groups with the most sessions first."""
    if by is None:
        return funnel_table(sessions)
    if by not in BREAKDOWNS:
        raise ValueError(f"the funnel breaks down by {', '.join(BREAKDOWNS)}, not {by!r}")
    sizes = sessions.group_by(by).agg(pl.col("sessions").sum().alias("len")).sort(["len", by], descending=[True, False])
    parts = [funnel_table(sessions.filter(pl.col(by) == value)).select(pl.lit(value).alias(by), pl.all())
             for value in sizes[by].to_list()]
    if not parts:
        return funnel_table(sessions).clear().select(pl.lit(None, dtype=pl.String).alias(by), pl.all())
    return pl.concat(parts)

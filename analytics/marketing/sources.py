"""Where the marketing figures read sessions and each order's visit: the one seam for both.

**Sessions** (:func:`daily_sessions`): one row per store-local day, source,
medium, campaign and device with ``sessions``, ``add_to_carts``,
``checkouts`` and ``purchases``. They come from the daily traffic an
analytics property reports (``daily_traffic``, Google Analytics 4) when the
store has any there; otherwise from the store's own web sessions
(``session_facts``: a session on its first event's day, with that event's
source, medium and device, no campaign, and the closed funnel's steps counted
as sessions that reached them).

**Order visits** (:func:`order_visits`): each counted order of the range
(``order_facts``) with its ``revenue`` (gross sales − discounts), whether it
is its customer's first order ever (``new_customer``), and the source, medium
and campaign of the visit that bought it (the last visit): the order's own
attribution where the platform recorded one (``orders.last_visit_*``:
Shopify's customer journey, WooCommerce's order attribution, an order CSV's
columns), else the session whose ``purchase`` event carries the order's id;
an order with neither has none (``(unknown)``).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from analytics.customers.orders import typed
from analytics.periods import check_range
from data.warehouse import Warehouse

__all__ = ["SESSION_COLUMNS", "ORDER_VISIT_COLUMNS", "daily_sessions", "order_visits", "sessions_source",
           "sessions_as_of", "marketing_stamp"]

NOT_SET = "(not set)"
SESSION_COLUMNS = {"date": pl.Date, "source": pl.String, "medium": pl.String, "campaign": pl.String,
                   "device": pl.String, "sessions": pl.Int64, "add_to_carts": pl.Int64, "checkouts": pl.Int64,
                   "purchases": pl.Int64}
ORDER_VISIT_COLUMNS = {"order_id": pl.String, "date": pl.Date, "channel": pl.String, "revenue": pl.Decimal(38, 4),
                       "new_customer": pl.Boolean, "source": pl.String, "medium": pl.String,
                       "campaign": pl.String}

_TRAFFIC = """
SELECT date, source, medium, campaign, device, SUM(sessions) AS sessions, SUM(add_to_carts) AS add_to_carts,
       SUM(checkouts) AS checkouts, SUM(purchases) AS purchases
FROM daily_traffic WHERE store_id = :store_id AND date BETWEEN :start AND :end
GROUP BY date, source, medium, campaign, device
"""
_SESSIONS = f"""
SELECT local_date AS date, COALESCE(source, '{NOT_SET}') AS source, COALESCE(medium, '{NOT_SET}') AS medium,
       '{NOT_SET}' AS campaign, COALESCE(device, '{NOT_SET}') AS device, COUNT(*) AS sessions,
       SUM(CASE WHEN added_to_cart THEN 1 ELSE 0 END) AS add_to_carts,
       SUM(CASE WHEN began_checkout THEN 1 ELSE 0 END) AS checkouts,
       SUM(CASE WHEN purchased THEN 1 ELSE 0 END) AS purchases
FROM session_facts WHERE store_id = :store_id AND local_date BETWEEN :start AND :end
GROUP BY local_date, COALESCE(source, '{NOT_SET}'), COALESCE(medium, '{NOT_SET}'), COALESCE(device, '{NOT_SET}')
"""
_ORDER_VISITS = f"""
WITH bought AS (
    SELECT e.order_id, MIN(e.session_id) AS session_id
    FROM web_events e
    WHERE e.store_id = :store_id AND e.event_type = 'purchase' AND e.order_id IS NOT NULL
      AND e.occurred_at >= :from_utc
    GROUP BY e.order_id
)
SELECT o.order_id, o.local_date AS date, COALESCE(o.channel, 'other') AS channel,
       CAST(o.gross_sales - o.discounts AS DECIMAL(38,4)) AS revenue,
       COALESCE(o.customer_order_index = 1, FALSE) AS new_customer,
       CASE WHEN (r.last_visit_source IS NOT NULL OR r.last_visit_medium IS NOT NULL) THEN COALESCE(r.last_visit_source, '{NOT_SET}')
            ELSE COALESCE(s.source, '(unknown)') END AS source,
       CASE WHEN (r.last_visit_source IS NOT NULL OR r.last_visit_medium IS NOT NULL) THEN COALESCE(r.last_visit_medium, '{NOT_SET}')
            ELSE COALESCE(s.medium, '(unknown)') END AS medium,
       CASE WHEN (r.last_visit_source IS NOT NULL OR r.last_visit_medium IS NOT NULL) THEN COALESCE(r.last_visit_campaign, '{NOT_SET}')
            WHEN s.session_id IS NULL THEN '(unknown)' ELSE '{NOT_SET}' END AS campaign
FROM order_facts o
JOIN orders r ON r.store_id = o.store_id AND r.order_id = o.order_id
LEFT JOIN bought b ON b.order_id = o.order_id
LEFT JOIN session_facts s ON s.store_id = :store_id AND s.session_id = b.session_id
WHERE o.store_id = :store_id AND o.local_date BETWEEN :start AND :end
"""


def sessions_source(wh: Warehouse, store_id: str) -> str | None:
    """Which table :func:`daily_sessions` reads for this store: ``daily_traffic``, ``session_facts``, or
    ``None`` when the store has no sessions at all."""
    if "daily_traffic" in wh.table_names() and wh.scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM daily_traffic WHERE store_id = :s LIMIT 1) t", {"s": store_id}):
        return "daily_traffic"
    if wh.scalar("SELECT COUNT(*) FROM (SELECT 1 FROM session_facts WHERE store_id = :s LIMIT 1) t", {"s": store_id}):
        return "session_facts"
    return None


def sessions_as_of(wh: Warehouse, store_id: str) -> dt.date | None:
    """The last day with sessions, from the table :func:`daily_sessions` reads."""
    source = sessions_source(wh, store_id)
    if source is None:
        return None
    column = "date" if source == "daily_traffic" else "local_date"
    return wh.scalar(f"SELECT MAX({column}) FROM {source} WHERE store_id = :s", {"s": store_id})


def daily_sessions(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The store's sessions over the inclusive store-local range (:data:`SESSION_COLUMNS`; see the module)."""
    start, end = check_range(start, end)
    source = sessions_source(wh, store_id)
    if source is None:
        return pl.DataFrame(schema=SESSION_COLUMNS)
    sql = _TRAFFIC if source == "daily_traffic" else _SESSIONS
    return typed(wh.query(sql, {"store_id": store_id, "start": start, "end": end}), SESSION_COLUMNS)


def order_visits(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Every counted order of the inclusive store-local range with its last visit (:data:`ORDER_VISIT_COLUMNS`)."""
    start, end = check_range(start, end)
    # Purchase events a day before the range's first day at the latest (any timezone) cover its orders.
    from_utc = dt.datetime.combine(start - dt.timedelta(days=2), dt.time(0), tzinfo=dt.timezone.utc)
    frame = wh.query(_ORDER_VISITS, {"store_id": store_id, "start": start, "end": end, "from_utc": from_utc})
    return typed(frame, ORDER_VISIT_COLUMNS)


def marketing_stamp(wh: Warehouse, store_id: str) -> tuple:
    """What the marketing figures read besides the orders, in a few numbers (rows and sums of the ad spend
    and the sessions' table), so a cache keyed on it sees a new import or sync."""
    spend = wh.rows("SELECT COUNT(*), MAX(spend_date), CAST(SUM(spend) AS DECIMAL(38,4)) FROM ad_spend "
                    "WHERE store_id = :s", {"s": store_id})[0]
    source = sessions_source(wh, store_id)
    sessions: tuple = ()
    if source == "daily_traffic":
        sessions = wh.rows("SELECT COUNT(*), MAX(date), SUM(sessions), MAX(updated_at) FROM daily_traffic "
                           "WHERE store_id = :s", {"s": store_id})[0]
    elif source == "session_facts":
        sessions = wh.rows("SELECT COUNT(*), MAX(started_at) FROM session_facts WHERE store_id = :s",
                           {"s": store_id})[0]
    return tuple(str(v) for v in (*spend, source, *sessions))

"""The demo store's ``daily_traffic``: its own web sessions counted as an analytics property counts them.

Per store-local day, source, medium and device of the session's first event
(``session_facts``): sessions; engaged sessions (those that viewed a product);
add-to-carts, checkouts and purchases (events, as GA4's ``addToCarts``,
``checkouts`` and ``ecommercePurchases`` count them); purchase revenue (the
total price of the orders bought), in the store currency. The campaign is
``(not set)``, as GA4 shows sessions without one. The build counts every day
of its web events once they are written; each live feed tick counts today
(and yesterday) again, replacing those days, through the write path.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.warehouse import Warehouse
from data.writes import Changes

_TRAFFIC = """
WITH events AS (
    SELECT session_id,
           SUM(CASE WHEN event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS add_to_carts,
           SUM(CASE WHEN event_type = 'begin_checkout' THEN 1 ELSE 0 END) AS checkouts,
           SUM(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS purchases,
           MAX(CASE WHEN event_type = 'purchase' THEN order_id END) AS order_id
    FROM web_events
    WHERE store_id = :store_id AND occurred_at >= :since
    GROUP BY session_id
)
SELECT s.local_date AS date, COALESCE(s.source, '(not set)') AS source, COALESCE(s.medium, '(not set)') AS medium,
       '(not set)' AS campaign, COALESCE(s.device, '(not set)') AS device, COUNT(*) AS sessions,
       SUM(CASE WHEN s.viewed_product THEN 1 ELSE 0 END) AS engaged_sessions,
       SUM(COALESCE(e.add_to_carts, 0)) AS add_to_carts, SUM(COALESCE(e.checkouts, 0)) AS checkouts,
       SUM(COALESCE(e.purchases, 0)) AS purchases, SUM(COALESCE(o.total_price, 0)) AS purchase_revenue
FROM session_facts s
LEFT JOIN events e ON e.session_id = s.session_id
LEFT JOIN orders o ON o.store_id = s.store_id AND o.order_id = e.order_id
WHERE s.store_id = :store_id AND s.local_date >= :start
GROUP BY s.local_date, COALESCE(s.source, '(not set)'), COALESCE(s.medium, '(not set)'),
         COALESCE(s.device, '(not set)')
"""
COUNTS = ("sessions", "engaged_sessions", "add_to_carts", "checkouts", "purchases")
EVERY_DAY = dt.date(1970, 1, 1)
# Days after ``start`` a recount clears: past today in any time zone.
AHEAD_DAYS = 3


def demo_traffic(wh: Warehouse, store_id: str, start: dt.date, read_at: dt.datetime) -> pl.DataFrame:
    """``daily_traffic`` rows of the store's sessions from ``start`` (store-local) on, counted at ``read_at``
    (the demo's clock: the same seed builds the same rows)."""
    since = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    frame = wh.query(_TRAFFIC, {"store_id": store_id, "start": start, "since": since})
    currency = wh.scalar("SELECT currency FROM stores WHERE store_id = :s", {"s": store_id}) or "USD"
    return frame.select(
        pl.lit(store_id).alias("store_id"), pl.col("date").cast(pl.Date),
        *[pl.col(c).cast(pl.String) for c in ("source", "medium", "campaign", "device")],
        *[pl.col(c).cast(pl.Int64) for c in COUNTS], pl.col("purchase_revenue").cast(pl.Decimal(18, 4)),
        pl.lit(currency).alias("currency"),
        pl.lit(read_at).cast(pl.Datetime("us", "UTC")).alias("updated_at"),
    )


def traffic_changes(wh: Warehouse, store_id: str, read_at: dt.datetime, start: dt.date | None = None) -> Changes:
    """The write that counts the days from ``start`` again (every day when None: a store just built),
    replacing their rows."""
    changes = Changes()
    if start is not None:
        days = [start + dt.timedelta(days=i) for i in range((read_at.date() - start).days + AHEAD_DAYS)]
        changes.delete("daily_traffic", pl.DataFrame({"store_id": [store_id] * len(days), "date": days},
                                                     schema={"store_id": pl.String, "date": pl.Date}))
    return changes.add("daily_traffic", demo_traffic(wh, store_id, start or EVERY_DAY, read_at))

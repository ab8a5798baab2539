"""What the Customers page reads: each a function of (warehouse, store, …) returning a frame, so the
page caches it on the data version. Scores and predictions come from ``customer_scores`` as the last
refresh wrote them; everything else is computed from the orders (cheap, no model)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from analytics.customers.affinity import (
    acquisition_cost,
    gap_summary,
    new_vs_returning,
    order_gaps,
    product_pairs,
)
from analytics.customers.cohorts import cohort_table_in
from analytics.customers.orders import (
    RETURNS_BY_ORDER,
    customer_orders,
    order_products,
)
from analytics.customers.rfm import rfm_scores_in, segment_movement
from data.warehouse import Warehouse

__all__ = ["AT_RISK_P_ALIVE", "at_risk", "cac_view", "cohort_view", "customer_table", "movement_view", "pairs_view", "between_view", "new_returning_view"]

AT_RISK_P_ALIVE = 0.5
HIGH_VALUE_SHARE = 0.2

_SCORES = """
SELECT s.customer_id, c.email_hash, c.country, c.accepts_marketing, s.rfm_segment, s.r_score, s.f_score,
       s.m_score, s.recency_days, s.frequency, s.monetary, s.p_alive, s.expected_purchases, s.predicted_clv,
       s.horizon_days, h.orders_to_date, h.first_order, h.last_order, h.historical_value
FROM customer_scores s
LEFT JOIN customers c ON c.store_id = s.store_id AND c.customer_id = s.customer_id
LEFT JOIN (
    SELECT o.customer_id, COUNT(*) AS orders_to_date, MIN(o.local_date) AS first_order,
           MAX(o.local_date) AS last_order,
           CAST(SUM(o.gross_sales - o.discounts - COALESCE(r.returns, 0)) AS DECIMAL(38,4)) AS historical_value
    FROM order_facts o LEFT JOIN ({returns}) r ON r.order_id = o.order_id
    WHERE o.store_id = :store_id AND o.customer_id IS NOT NULL AND o.local_date <= :as_of
    GROUP BY o.customer_id
) h ON h.customer_id = s.customer_id
WHERE s.store_id = :store_id AND s.as_of = :as_of
ORDER BY s.customer_id
""".format(returns=RETURNS_BY_ORDER)
_HISTORY = {"orders_to_date": pl.Int64, "first_order": pl.Date, "last_order": pl.Date,
            "historical_value": pl.Decimal(38, 4)}


def customer_table(wh: Warehouse, store_id: str, as_of: dt.date) -> pl.DataFrame:
    """Every customer scored on ``as_of`` with their scores, predictions, orders to date and historical value
    (net sales to date), summed in SQL."""
    scores = wh.query(_SCORES, {"store_id": store_id, "as_of": as_of})
    return scores.with_columns(pl.col(name).cast(dtype) for name, dtype in _HISTORY.items())


def at_risk(customers: pl.DataFrame) -> pl.DataFrame:
    """High-value customers at risk: the top fifth by historical value (net sales to date) whose P(alive) is
    below one half, most valuable first."""
    known = customers.filter(pl.col("p_alive").is_not_null() & pl.col("historical_value").is_not_null())
    if known.height == 0:
        return known
    values = known["historical_value"].sort(descending=True)
    threshold = values[max(0, int(len(values) * HIGH_VALUE_SHARE) - 1)]
    return known.filter((pl.col("historical_value") >= threshold) & (pl.col("p_alive") < AT_RISK_P_ALIVE)).sort(
        "historical_value", descending=True)


def movement_view(wh: Warehouse, store_id: str, as_of: dt.date, earlier: dt.date, window_days: int) -> pl.DataFrame:
    """Customers moving between RFM segments from ``earlier`` to ``as_of`` (both scored over the window)."""
    return segment_movement(rfm_scores_in(wh, store_id, earlier, window_days),
                            rfm_scores_in(wh, store_id, as_of, window_days))


def cohort_view(wh: Warehouse, store_id: str, as_of: dt.date, first_product: str | None, channel: str | None,
                country: str | None, discounted: bool | None) -> pl.DataFrame:
    return cohort_table_in(wh, store_id, as_of, first_product=first_product, channel=channel, country=country,
                           discounted=discounted)


def pairs_view(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    return product_pairs(order_products(wh, store_id, start, end))


def new_returning_view(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    return new_vs_returning(customer_orders(wh, store_id, end, since=start), start, end)


def between_view(wh: Warehouse, store_id: str, as_of: dt.date) -> tuple[pl.DataFrame, dict]:
    return gap_summary(order_gaps(wh, store_id, as_of))


def cac_view(wh: Warehouse, store_id: str, currency: str, start: dt.date, end: dt.date) -> tuple[pl.DataFrame, int]:
    return acquisition_cost(wh, store_id, currency, customer_orders(wh, store_id, end, since=start), start, end)

"""What the Customers page reads: each a function of (warehouse, store, …) returning a frame, so the
page caches it on the data version. Scores and predictions come from ``customer_scores`` as the last
refresh wrote them; everything else is computed from the orders (cheap, no model)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
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
    customer_orders,
    order_products,
    typed,
)
from analytics.customers.rfm import rfm_scores_in, segment_movement, summary_of_groups
from data.warehouse import Warehouse

__all__ = ["AT_RISK_P_ALIVE", "CLV_BINS", "CustomerOverview", "at_risk_customers", "between_view", "cac_view",
           "clv_bins", "clv_ranking", "cohort_view", "customer_overview", "customer_table", "movement_view",
           "new_returning_view", "pairs_view", "stored_movement"]

AT_RISK_P_ALIVE = 0.5
HIGH_VALUE_SHARE = 0.2
TOP_SEGMENTS = ("Champions", "Loyal", "Potential loyalist")
CLV_BINS = 40

# Every customer scored on the as-of day, with their orders to date and historical value (net sales to date),
# as the refresh stored them (analytics/customers/history.py), and their name and email where
# customer_contacts keeps them.
_ALL = """
SELECT s.customer_id,
       (SELECT cc.name FROM customer_contacts cc
        WHERE cc.store_id = s.store_id AND cc.customer_id = s.customer_id) AS customer_name,
       (SELECT cc.email FROM customer_contacts cc
        WHERE cc.store_id = s.store_id AND cc.customer_id = s.customer_id) AS customer_email,
       c.email_hash, c.country, c.accepts_marketing, s.rfm_segment, s.r_score, s.f_score,
       s.m_score, s.recency_days, s.frequency, s.monetary, s.p_alive, s.expected_purchases, s.predicted_clv,
       s.predicted_clv_low, s.predicted_clv_high, s.horizon_days, s.orders_to_date, s.first_order, s.last_order, s.historical_value
FROM customer_scores s
LEFT JOIN customers c ON c.store_id = s.store_id AND c.customer_id = s.customer_id
WHERE s.store_id = :store_id AND s.as_of = :as_of
"""
_SCHEMA = {"customer_id": pl.String, "customer_name": pl.String, "customer_email": pl.String,
           "email_hash": pl.String, "country": pl.String, "accepts_marketing": pl.Boolean,
           "rfm_segment": pl.String, "r_score": pl.Int64, "f_score": pl.Int64, "m_score": pl.Int64,
           "recency_days": pl.Int64, "frequency": pl.Int64, "monetary": pl.Decimal(38, 4), "p_alive": pl.Float64,
           "expected_purchases": pl.Float64, "predicted_clv": pl.Decimal(38, 4),
           "predicted_clv_low": pl.Decimal(38, 4), "predicted_clv_high": pl.Decimal(38, 4), "horizon_days": pl.Int64,
           "orders_to_date": pl.Int64, "first_order": pl.Date, "last_order": pl.Date,
           "historical_value": pl.Decimal(38, 4)}
_DAY = "FROM customer_scores WHERE store_id = :store_id AND as_of = :as_of"
# Per segment (one row without one: customers with no order in the window): the RFM sums of the scored and
# the value sums of everyone.
_GROUPS = f"""
SELECT rfm_segment, COUNT(*) AS customers, SUM(monetary) AS monetary,
       CAST(AVG(recency_days) AS DOUBLE PRECISION) AS mean_recency_days,
       CAST(AVG(frequency) AS DOUBLE PRECISION) AS mean_frequency,
       COUNT(historical_value) AS valued, SUM(historical_value) AS historical_value,
       COUNT(predicted_clv) AS predicted, SUM(predicted_clv) AS predicted_clv,
       SUM(expected_purchases) AS expected_purchases
{_DAY} GROUP BY rfm_segment
"""
# Customers with a P(alive) and a value; the value ranked k-th from the top among them.
_KNOWN = f"{_DAY} AND p_alive IS NOT NULL AND historical_value IS NOT NULL"
_KTH_VALUE = f"SELECT historical_value {_KNOWN} ORDER BY historical_value DESC LIMIT 1 OFFSET :skip"
_AT_RISK = f"""
{_ALL} AND s.historical_value >= :threshold AND s.p_alive < {AT_RISK_P_ALIVE}
ORDER BY s.historical_value DESC, s.customer_id
"""
_AT_RISK_COUNT = f"SELECT COUNT(*) {_KNOWN} AND historical_value >= :threshold AND p_alive < {AT_RISK_P_ALIVE}"
_RANKING = f"{_ALL} AND s.predicted_clv IS NOT NULL ORDER BY s.predicted_clv DESC, s.customer_id"
# Predicted values in CLV_BINS bins of equal width from the lowest to the highest (the last bin closed), as
# numpy.histogram counts them.
_CLV_RANGE = f"SELECT MIN(predicted_clv), MAX(predicted_clv), COUNT(predicted_clv) {_DAY}"
_CLV_BINS = f"""
SELECT LEAST(CAST(FLOOR((CAST(predicted_clv AS DOUBLE PRECISION) - :low) * {CLV_BINS} / (:high - :low))
             AS INTEGER), {CLV_BINS - 1}) AS bin, COUNT(*) AS customers
{_DAY} AND predicted_clv IS NOT NULL
GROUP BY 1
"""


@dataclass(frozen=True)
class CustomerOverview:
    """What the top of the Customers page shows, summed in SQL: a few numbers and short lists, so that a
    store of a million customers costs the page no more memory than a small one."""

    customers: int                    # customers scored on the day (with an order in the window or not)
    scored: int                       # customers with an RFM segment (an order in the window)
    top_segments: int                 # of them, Champions, Loyal and Potential loyalists
    valued: int                       # customers with orders to date
    historical_value: Decimal         # their net sales to date
    predicted: int                    # customers with a predicted value
    predicted_clv: Decimal            # Σ predicted value over the horizon
    expected_purchases: float         # Σ expected purchases over the horizon
    segments: pl.DataFrame            # :func:`segment_summary` of the scored customers
    at_risk_count: int
    at_risk: pl.DataFrame             # the most valuable of them, :data:`_SCHEMA` columns
    clv_top: pl.DataFrame             # the highest predicted values, :data:`_SCHEMA` columns
    clv_counts: tuple[int, ...]       # customers per bin of predicted value (none without predictions)
    clv_edges: tuple[float, ...]      # the bins' edges (one more than the counts)


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    return typed(frame, _SCHEMA)


def _params(store_id: str, as_of: dt.date, **more: Any) -> dict[str, Any]:
    return {"store_id": store_id, "as_of": as_of, **more}


def customer_table(wh: Warehouse, store_id: str, as_of: dt.date, segment: str | None = None) -> pl.DataFrame:
    """Every customer scored on ``as_of`` (of one RFM segment when ``segment`` is given: the campaign export)
    with their scores, predictions, orders to date and historical value (net sales to that day); by id."""
    if segment is None:
        return _typed(wh.query(f"{_ALL} ORDER BY s.customer_id", _params(store_id, as_of)))
    return _typed(wh.query(f"{_ALL} AND s.rfm_segment = :segment ORDER BY s.customer_id",
                           _params(store_id, as_of, segment=segment)))


def at_risk_customers(wh: Warehouse, store_id: str, as_of: dt.date, limit: int | None = None
                      ) -> tuple[pl.DataFrame, int]:
    """High-value customers at risk: of the n customers with a P(alive) and orders to date, the fifth of highest
    historical value (every customer whose value reaches the max(1, ⌊n ÷ 5⌋)-th highest) whose P(alive) is
    below one half; most valuable first (then by id), the ``limit`` first when given; and how many they are."""
    params = _params(store_id, as_of)
    known = int(wh.scalar(f"SELECT COUNT(*) {_KNOWN}", params) or 0)
    if known == 0:
        return pl.DataFrame(schema=_SCHEMA), 0
    params["threshold"] = wh.scalar(_KTH_VALUE, {**params, "skip": max(1, int(known * HIGH_VALUE_SHARE)) - 1})
    frame = _typed(wh.query(_AT_RISK + (f" LIMIT {int(limit)}" if limit is not None else ""), params))
    count = frame.height if limit is None or frame.height < limit else int(wh.scalar(_AT_RISK_COUNT, params))
    return frame, count


def clv_ranking(wh: Warehouse, store_id: str, as_of: dt.date, limit: int | None = None) -> pl.DataFrame:
    """Customers with a predicted value, highest first (then by id), the ``limit`` first when given."""
    sql = _RANKING + (f" LIMIT {int(limit)}" if limit is not None else "")
    return _typed(wh.query(sql, _params(store_id, as_of)))


def clv_bins(wh: Warehouse, store_id: str, as_of: dt.date) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Customers per bin of predicted value (:data:`CLV_BINS` bins of equal width from the lowest value to
    the highest, as ``numpy.histogram`` draws them; all in the middle bin of a one-unit range when every
    value is the same) and the bins' edges; empty without predictions."""
    low, high, count = wh.rows(_CLV_RANGE, _params(store_id, as_of))[0]
    if not count:
        return (), ()
    low, high = float(low), float(high)
    if low == high:
        edges = np.linspace(low - 0.5, high + 0.5, CLV_BINS + 1)
        counts = [0] * CLV_BINS
        counts[CLV_BINS // 2] = int(count)
        return tuple(counts), tuple(float(e) for e in edges)
    counts = [0] * CLV_BINS
    for index, customers in wh.rows(_CLV_BINS, _params(store_id, as_of, low=low, high=high)):
        counts[int(index)] += int(customers)
    return tuple(counts), tuple(float(e) for e in np.linspace(low, high, CLV_BINS + 1))


def customer_overview(wh: Warehouse, store_id: str, as_of: dt.date, at_risk_rows: int, clv_rows: int
                      ) -> CustomerOverview:
    """The key figures, segments, the ``at_risk_rows`` most valuable customers at risk and the ``clv_rows``
    highest predicted values of the customers scored on ``as_of``."""
    groups = wh.query(_GROUPS, _params(store_id, as_of))
    scored = groups.filter(pl.col("rfm_segment").is_not_null())
    risky, at_risk_count = at_risk_customers(wh, store_id, as_of, at_risk_rows)
    counts, edges = clv_bins(wh, store_id, as_of)

    def total(column: str) -> Any:
        return groups[column].sum() if groups.height else 0

    return CustomerOverview(
        customers=int(total("customers") or 0),
        scored=int(scored["customers"].sum()) if scored.height else 0,
        top_segments=int(scored.filter(pl.col("rfm_segment").is_in(TOP_SEGMENTS))["customers"].sum())
        if scored.height else 0,
        valued=int(total("valued") or 0), historical_value=Decimal(total("historical_value") or 0),
        predicted=int(total("predicted") or 0), predicted_clv=Decimal(total("predicted_clv") or 0),
        expected_purchases=float(total("expected_purchases") or 0.0),
        segments=summary_of_groups(scored.select("rfm_segment", "customers", "monetary", "mean_recency_days",
                                                 "mean_frequency")),
        at_risk_count=at_risk_count,
        at_risk=risky,
        clv_top=clv_ranking(wh, store_id, as_of, clv_rows),
        clv_counts=counts, clv_edges=edges,
    )


def movement_view(wh: Warehouse, store_id: str, as_of: dt.date, earlier: dt.date, window_days: int) -> pl.DataFrame:
    """Customers moving between RFM segments from ``earlier`` to ``as_of`` (both scored now over the window)."""
    return segment_movement(rfm_scores_in(wh, store_id, earlier, window_days),
                            rfm_scores_in(wh, store_id, as_of, window_days))


def stored_movement(rfm_run: dict | None) -> pl.DataFrame | None:
    """The movement between segments the refresh worked out (``None`` for a run from before it did)."""
    movement = ((rfm_run or {}).get("metrics") or {}).get("movement")
    if not movement:
        return None
    return pl.DataFrame(movement["rows"], schema={"from_segment": pl.String, "to_segment": pl.String,
                                                  "customers": pl.Int64}, orient="row")


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

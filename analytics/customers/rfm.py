"""RFM: recency, frequency and monetary scores, and named segments.

Over a window of days ending on the as-of day (default 365), for each customer
who ordered in it: recency = days from their last order to the as-of day,
frequency = their orders, monetary = their net sales (returns refunded by the
as-of day taken off). Each is scored 1–5 by quintile of the customers scored:
score = 1 + ⌊5 × (customers with a strictly worse value) ÷ customers⌋, so equal
values share a score (a score may be empty when many customers tie, as with
quantile breaks); for recency, fewer days is better (most recent = 5).

Segments follow the grid of the example of R's ``rfm`` package (0.3.0,
``rfm_segment``): a customer is in a segment when each of the R, F and M
scores lies in its bounds; the first row that holds a customer wins (as
``rfm_segment`` assigns a segment only to customers without one yet);
customers in no row are "Others".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import polars as pl

from analytics.customers.orders import RETURNS_BY_ORDER, typed
from data.warehouse import Warehouse

__all__ = ["DEFAULT_WINDOW_DAYS", "OTHERS", "PLAYBOOKS", "SEGMENT_GRID", "SEGMENTS", "RFM_COLUMNS",
           "quintile_scores", "rfm_scores", "rfm_scores_in", "score_customers", "segment_of", "segment_movement", "segment_summary",
           "summary_of_groups"]

DEFAULT_WINDOW_DAYS = 365
OTHERS = "Others"
# (segment, recency low–high, frequency low–high, monetary low–high), in rfm_segment's order.
SEGMENT_GRID = (
    ("Champions", 5, 5, 5, 5, 5, 5),
    ("Potential loyalist", 3, 5, 3, 5, 2, 5),
    ("Loyal", 2, 4, 2, 4, 2, 4),
    ("Promising", 3, 4, 1, 3, 3, 5),
    ("New", 4, 5, 1, 3, 1, 5),
    ("Cannot lose", 1, 2, 3, 4, 4, 5),
    ("At risk", 1, 2, 2, 5, 4, 5),
    ("Needs attention", 1, 3, 3, 5, 3, 5),
    ("About to sleep", 2, 3, 1, 3, 1, 4),
    ("Lost", 1, 1, 1, 5, 1, 5),
)
SEGMENTS = tuple(row[0] for row in SEGMENT_GRID) + (OTHERS,)
PLAYBOOKS = {
    "Champions": "Reward them: early access, a loyalty perk, ask for reviews and referrals. No discounts needed.",
    "Potential loyalist": "Offer membership or a loyalty programme and recommend products that go with "
                          "what they bought.",
    "Loyal": "Upsell higher-value products, ask for reviews, keep them in the newsletter.",
    "Promising": "Build the habit: a how-to or brand story, then a small incentive on a second category.",
    "New": "Welcome series: onboarding, care tips, best sellers; a reason to make the second order.",
    "Cannot lose": "Win them back now: a personal note, the new versions of what they bought, a strong offer.",
    "At risk": "Reconnect with personalised emails on what they liked and a time-limited offer.",
    "Needs attention": "A limited-time offer based on their past purchases before they slip away.",
    "About to sleep": "Share popular products and a modest discount to reactivate them.",
    "Lost": "One last win-back campaign; leave them out of regular sends if they do not respond.",
    OTHERS: "Mixed scores that fit no segment: keep them in the general newsletter.",
}
RFM_COLUMNS = ("customer_id", "last_order", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
               "rfm_segment")


def quintile_scores(values, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1–5: 1 + ⌊5 × (number of values strictly worse) ÷ n⌋; equal values, equal scores."""
    x = np.asarray(values, dtype=float)
    if not higher_is_better:
        x = -x
    worse = np.searchsorted(np.sort(x), x, side="left")
    return (1 + (5 * worse) // max(len(x), 1)).astype(np.int64)


def segment_of(r: int, f: int, m: int) -> str:
    """The segment of one customer's scores (the first row of :data:`SEGMENT_GRID` that holds them)."""
    for name, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi in SEGMENT_GRID:
        if r_lo <= r <= r_hi and f_lo <= f <= f_hi and m_lo <= m <= m_hi:
            return name
    return OTHERS


def segments_of(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """:func:`segment_of` of every customer's scores at once."""
    held = [(r_lo <= r) & (r <= r_hi) & (f_lo <= f) & (f <= f_hi) & (m_lo <= m) & (m <= m_hi)
            for _, r_lo, r_hi, f_lo, f_hi, m_lo, m_hi in SEGMENT_GRID]
    return np.select(held, [row[0] for row in SEGMENT_GRID], default=OTHERS)


_EMPTY = {"customer_id": pl.String, "last_order": pl.Date, "recency_days": pl.Int64, "frequency": pl.Int64,
          "monetary": pl.Decimal(38, 4), "r_score": pl.Int64, "f_score": pl.Int64, "m_score": pl.Int64,
          "rfm_segment": pl.String}


def _window(as_of: dt.date, window_days: int) -> dt.date:
    if window_days < 1:
        raise ValueError("the RFM window must be at least one day")
    return as_of - dt.timedelta(days=window_days - 1)


def rfm_scores(orders: pl.DataFrame, as_of: dt.date, window_days: int = DEFAULT_WINDOW_DAYS) -> pl.DataFrame:
    """Scores of every customer with an order in the ``window_days`` ending on ``as_of`` (included), from
    ``orders`` (``customer_id``, ``day``, ``net_sales``, as :func:`customer_orders`): :data:`RFM_COLUMNS`."""
    first_day = _window(as_of, window_days)
    inside = orders.filter(pl.col("day").is_between(first_day, as_of))
    per_customer = inside.group_by("customer_id").agg(
        pl.col("day").max().alias("last_order"),
        pl.len().cast(pl.Int64).alias("frequency"),
        pl.col("net_sales").sum().cast(pl.Decimal(38, 4)).alias("monetary"),
    )
    return score_customers(per_customer, as_of)


_PER_CUSTOMER = """
SELECT o.customer_id, MAX(o.local_date) AS last_order, COUNT(*) AS frequency,
       CAST(SUM(o.gross_sales - o.discounts - COALESCE(r.returns, 0)) AS DECIMAL(38,4)) AS monetary
FROM order_facts o LEFT JOIN ({returns}) r ON r.order_id = o.order_id
WHERE o.store_id = :store_id AND o.customer_id IS NOT NULL AND o.local_date BETWEEN :first_day AND :as_of
GROUP BY o.customer_id
"""


def rfm_scores_in(wh: Warehouse, store_id: str, as_of: dt.date, window_days: int = DEFAULT_WINDOW_DAYS
                  ) -> pl.DataFrame:
    """:func:`rfm_scores` of the store's orders, each customer's recency, frequency and monetary summed in SQL."""
    per_customer = typed(wh.query(_PER_CUSTOMER.format(returns=RETURNS_BY_ORDER), {
        "store_id": store_id, "as_of": as_of, "first_day": _window(as_of, window_days)}), {
        "customer_id": pl.String, "last_order": pl.Date, "frequency": pl.Int64, "monetary": pl.Decimal(38, 4)})
    return score_customers(per_customer, as_of)


def score_customers(per_customer: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """:data:`RFM_COLUMNS` from each customer's ``last_order``, ``frequency`` and ``monetary``."""
    per_customer = per_customer.with_columns(
        (pl.lit(as_of) - pl.col("last_order")).dt.total_days().cast(pl.Int64).alias("recency_days")
    ).sort("customer_id")
    if per_customer.height == 0:
        return pl.DataFrame(schema=_EMPTY)
    r = quintile_scores(per_customer["recency_days"].to_numpy(), higher_is_better=False)
    f = quintile_scores(per_customer["frequency"].to_numpy())
    m = quintile_scores(per_customer["monetary"].cast(pl.Float64).to_numpy())
    return per_customer.with_columns(
        pl.Series("r_score", r), pl.Series("f_score", f), pl.Series("m_score", m),
        pl.Series("rfm_segment", segments_of(r, f, m), dtype=pl.String),
    ).select(RFM_COLUMNS)


def segment_summary(scores: pl.DataFrame) -> pl.DataFrame:
    """Per segment (in :data:`SEGMENTS` order, empty ones kept): ``customers``, ``customer_share``,
    ``monetary`` (their net sales in the window), ``revenue_share`` (of all scored customers' net sales;
    none when that total is not positive), mean recency and frequency, and the ``playbook``."""
    return summary_of_groups(scores.group_by("rfm_segment").agg(
        pl.len().alias("customers"), pl.col("monetary").sum().alias("monetary"),
        pl.col("recency_days").mean().alias("mean_recency_days"), pl.col("frequency").mean().alias("mean_frequency"),
    ))


def summary_of_groups(groups: pl.DataFrame) -> pl.DataFrame:
    """:func:`segment_summary` from the scored customers' sums per segment: ``rfm_segment``, ``customers``,
    ``monetary``, ``mean_recency_days``, ``mean_frequency`` (as summed in SQL for a large store)."""
    grouped = {r["rfm_segment"]: r for r in groups.iter_rows(named=True)}
    total_customers = sum(int(r["customers"] or 0) for r in grouped.values())
    total = sum((Decimal(r["monetary"] or 0) for r in grouped.values()), Decimal(0))
    rows = []
    for name in SEGMENTS:
        row = grouped.get(name, {})
        customers = int(row.get("customers") or 0)
        monetary = Decimal(row.get("monetary") or 0)
        rows.append({
            "segment": name, "customers": customers,
            "customer_share": customers / total_customers if total_customers else None,
            "monetary": monetary, "revenue_share": float(monetary / total) if total > 0 else None,
            "mean_recency_days": row.get("mean_recency_days"), "mean_frequency": row.get("mean_frequency"),
            "playbook": PLAYBOOKS[name],
        })
    return pl.DataFrame(rows, schema={"segment": pl.String, "customers": pl.Int64, "customer_share": pl.Float64,
                                      "monetary": pl.Decimal(38, 4), "revenue_share": pl.Float64,
                                      "mean_recency_days": pl.Float64, "mean_frequency": pl.Float64,
                                      "playbook": pl.String})


NOT_SCORED = "Not scored"


def segment_movement(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """How customers moved between two scorings: ``from_segment``, ``to_segment``, ``customers``.
    A customer scored only later comes from "Not scored" (no order in the earlier window); one scored only
    earlier goes to "Not scored" (no order in the later window)."""
    joined = before.select("customer_id", pl.col("rfm_segment").alias("from_segment")).join(
        after.select("customer_id", pl.col("rfm_segment").alias("to_segment")), on="customer_id", how="full",
        coalesce=True,
    ).with_columns(pl.col("from_segment").fill_null(NOT_SCORED), pl.col("to_segment").fill_null(NOT_SCORED))
    order = {name: i for i, name in enumerate((*SEGMENTS, NOT_SCORED))}
    moved = joined.group_by("from_segment", "to_segment").agg(pl.len().cast(pl.Int64).alias("customers"))
    return moved.with_columns(
        pl.col("from_segment").replace_strict(order, return_dtype=pl.Int64).alias("_f"),
        pl.col("to_segment").replace_strict(order, return_dtype=pl.Int64).alias("_t"),
    ).sort("_f", "_t").drop("_f", "_t")

"""The customer steps of ``python -m analytics refresh``: RFM scores and the lifetime value model.

Both write ``customer_scores`` rows of the refresh's as-of day (one per
customer), each step its own columns, in one transaction, after clearing its
columns of that day (so a customer no longer scored loses a stale score):

- ``rfm``: recency_days, frequency, monetary, r/f/m scores, rfm_segment, over
  the chosen window (``customers.rfm_window_days``, default 365); its run's
  metrics hold the customers per segment and how customers moved between
  segments from :data:`MOVEMENT_DAYS` days before (``movement``: ``days``, and
  ``rows`` of from-segment, to-segment, customers, as :func:`segment_movement`);
- ``clv``: p_alive, expected_purchases, predicted_clv and its 90 % range
  (predicted_clv_low, predicted_clv_high) over the chosen horizon
  (``customers.clv_horizon_days``, default 365) in horizon_days, for every
  customer whose first order is on or before the as-of day, by the model chosen
  on a holdout of the store's own history (``analytics/customers/clv_holdout.py``);
  its run's params are ``{"time_unit": "week", "model": ..., "bgnbd": {r, alpha,
  a, b}, "gamma_gamma": {p, q, v}}`` (``bgnbd`` holds the chosen count model's
  parameters; both ``null`` when there was too little data; the warning is in its
  metrics, and the holdout's groups under ``metrics["holdout"]``).

Both keep each customer's history beside the scores (orders to date, first and
last order, historical value: ``analytics/customers/history.py``): ``rfm`` for
the rows still without it, ``clv`` for every customer it predicts, from the
orders it read for the fit (of every row of the day when it has no fit).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from analytics.customers.choices import clv_horizon_days, rfm_window_days
from analytics.customers.clv import ClvFit, clv_summary
from analytics.customers.clv_holdout import fit_chosen_clv
from analytics.customers.history import write_history
from analytics.customers.orders import customer_orders
from analytics.customers.rfm import rfm_scores_in, segment_movement
from analytics.refresh import RefreshContext, RefreshStep, StepResult
from data.warehouse import Warehouse

__all__ = ["MOVEMENT_DAYS", "STEPS", "compute_clv"]

MOVEMENT_DAYS = 90

_RFM_COLUMNS = ("recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_segment")
_CLV_COLUMNS = ("p_alive", "expected_purchases", "predicted_clv", "predicted_clv_low", "predicted_clv_high",
                "horizon_days")


def _clear(wh: Warehouse, context: RefreshContext, columns: tuple[str, ...]) -> None:
    wh.execute(f"UPDATE customer_scores SET {', '.join(f'{c} = NULL' for c in columns)} "
               "WHERE store_id = :store_id AND as_of = :as_of",
               {"store_id": context.store.store_id, "as_of": context.as_of})


def _rfm_step(context: RefreshContext) -> StepResult:
    wh, store = context.wh, context.store
    window = rfm_window_days(wh, store.store_id)
    context.progress(0.1, "reading orders")
    scores = rfm_scores_in(wh, store.store_id, context.as_of, window)
    context.progress(0.6, "writing scores")
    rows = scores.select(pl.lit(store.store_id).alias("store_id"), "customer_id",
                         pl.lit(context.as_of).alias("as_of"), *_RFM_COLUMNS)
    with wh.transaction():
        _clear(wh, context, _RFM_COLUMNS)
        wh.upsert("customer_scores", rows)
        write_history(wh, store.store_id, context.as_of, missing_only=True)
    segments = dict(scores.group_by("rfm_segment").len().iter_rows())
    context.progress(0.8, "comparing with the scores of 90 days before")
    earlier = rfm_scores_in(wh, store.store_id, context.as_of - dt.timedelta(days=MOVEMENT_DAYS), window)
    movement = {"days": MOVEMENT_DAYS, "rows": [list(r) for r in segment_movement(earlier, scores).iter_rows()]}
    return StepResult(params={"window_days": window, "score_method": "quintiles", "grid": "rfm 0.3.0"},
                      metrics={"customers": scores.height, "segments": segments, "movement": movement},
                      summary=f"{scores.height:,} customers scored over {window} days")


def compute_clv(wh: Warehouse, store_id: str, as_of, horizon_days: int
                ) -> tuple[pl.DataFrame, ClvFit, pl.DataFrame]:
    """The CLV summary of every customer with an order on or before ``as_of``, the fitted model, and each of
    those customers' history (the columns of ``analytics/customers/history.py``, from the same orders)."""
    orders = customer_orders(wh, store_id, as_of)
    purchases = orders.select("customer_id", "day", pl.col("net_sales").alias("amount"))
    summary = clv_summary(purchases, as_of)
    history = orders.group_by("customer_id").agg(
        pl.len().cast(pl.Int32).alias("orders_to_date"), pl.col("day").min().alias("first_order"),
        pl.col("day").max().alias("last_order"),
        pl.col("net_sales").sum().cast(pl.Decimal(18, 4)).alias("historical_value"))
    return summary, fit_chosen_clv(purchases, summary, as_of, horizon_days), history


def _to_money(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(f"{value:.4f}")


def _clv_step(context: RefreshContext) -> StepResult:
    wh, store = context.wh, context.store
    horizon = clv_horizon_days(wh, store.store_id)
    context.progress(0.1, "reading orders")
    summary, fit, history = compute_clv(wh, store.store_id, context.as_of, horizon)
    context.progress(0.7, "writing predictions")
    with wh.transaction():
        _clear(wh, context, _CLV_COLUMNS)
        if fit.predictions is not None:
            p = fit.predictions
            wh.upsert("customer_scores", pl.DataFrame({
                "store_id": [store.store_id] * p.height, "customer_id": p["customer_id"],
                "as_of": [context.as_of] * p.height, "p_alive": p["p_alive"],
                "expected_purchases": p["expected_purchases"],
                **{column: pl.Series([_to_money(v) for v in p[column].to_list()], dtype=pl.Decimal(18, 4))
                   for column in ("predicted_clv", "predicted_clv_low", "predicted_clv_high")},
                "horizon_days": [horizon] * p.height,
            }).join(history, on="customer_id", how="left"))
        else:
            write_history(wh, store.store_id, context.as_of)
    metrics = {**fit.metrics, "horizon_days": horizon, "warnings": fit.warnings}
    if fit.predictions is None:
        summary_line = f"no prediction: {fit.warnings[0]}"
    else:
        summary_line = f"{summary.height:,} customers, CLV over {horizon} days"
    return StepResult(params=fit.params(), metrics=metrics, summary=summary_line)


STEPS = (
    RefreshStep("rfm", "Customer RFM scores", _rfm_step),
    RefreshStep("clv", "Customer lifetime value", _clv_step),
)

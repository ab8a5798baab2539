"""The ``forecast`` refresh step: demand forecasts into ``forecasts`` and ``forecast_accuracy``.

Reads units sold per variant and store-local day (``variant_daily_sales``,
every channel) and the daily stock snapshots up to the refresh's ``as_of``,
runs :func:`analytics.inventory.forecast.forecast_demand`, and in one
transaction replaces the store's ``forecasts`` with the new ones (the chosen
model's ŷ and its interval for the :data:`~analytics.inventory.forecast.HORIZON`
days after ``as_of``) and adds this run's backtest scores of every candidate
to ``forecast_accuracy`` (older runs keep only their chosen model's row).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from analytics.inventory.forecast import HISTORY_DAYS, HORIZON, LEVEL, build_series, forecast_demand
from analytics.refresh import RefreshContext, RefreshStep, StepResult
from data.warehouse import Warehouse

_SALES_SQL = """
SELECT variant_id, local_date AS ds, CAST(SUM(units_sold) AS BIGINT) AS units
FROM variant_daily_sales
WHERE store_id = :store_id AND local_date BETWEEN :first AND :as_of AND variant_id IS NOT NULL
GROUP BY variant_id, local_date
"""
_STOCK_SQL = """
SELECT variant_id, day AS ds, available
FROM daily_stock
WHERE store_id = :store_id AND day BETWEEN :first AND :as_of
"""

_GROUPS_SQL = """
SELECT v.variant_id AS unique_id, v.product_id, NULLIF(p.product_type, '') AS product_type
FROM variants v LEFT JOIN products p ON p.store_id = v.store_id AND p.product_id = v.product_id
WHERE v.store_id = :store_id
"""


def demand_series(wh: Warehouse, store_id: str, as_of: dt.date, history_days: int = HISTORY_DAYS) -> pl.DataFrame:
    """The store's daily demand series up to ``as_of`` (see :func:`build_series`)."""
    params = {"store_id": store_id, "first": as_of - dt.timedelta(days=history_days - 1), "as_of": as_of}
    sales = wh.query(_SALES_SQL, params).with_columns(pl.col("ds").cast(pl.Date), pl.col("units").cast(pl.Int64))
    stock = wh.query(_STOCK_SQL, params).with_columns(pl.col("ds").cast(pl.Date),
                                                      pl.col("available").cast(pl.Int64))
    if sales.height == 0:
        sales = pl.DataFrame(schema={"variant_id": pl.String, "ds": pl.Date, "units": pl.Int64})
    if stock.height == 0:
        stock = pl.DataFrame(schema={"variant_id": pl.String, "ds": pl.Date, "available": pl.Int64})
    return build_series(sales, stock, as_of, history_days)


def demand_groups(wh: Warehouse, store_id: str) -> pl.DataFrame:
    """``unique_id, product_id, product_type`` of the store's variants: the groups whose season a variant's
    is shrunk towards."""
    frame = wh.query(_GROUPS_SQL, {"store_id": store_id})
    if frame.height == 0:
        return pl.DataFrame(schema={"unique_id": pl.String, "product_id": pl.String, "product_type": pl.String})
    return frame.with_columns(pl.col("unique_id").cast(pl.String), pl.col("product_id").cast(pl.String),
                              pl.col("product_type").cast(pl.String))


def demand_inputs(wh: Warehouse, store_id: str, as_of: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The demand series up to ``as_of`` and the variants' groups (what :func:`forecast_demand` takes)."""
    return demand_series(wh, store_id, as_of), demand_groups(wh, store_id)


def backtest_windows(cv: pl.DataFrame) -> list[dict]:
    """The backtest's windows: ``window`` (``recent`` or ``year_ago``), ``first`` and ``last`` day, and the
    variants scored in it (what the page says the accuracy was measured on)."""
    if cv.height == 0:
        return []
    spans = cv.group_by("window").agg(pl.col("ds").min().alias("first"), pl.col("ds").max().alias("last"),
                                      pl.col("unique_id").n_unique().alias("variants")).sort("first")
    return [{"window": w, "first": first.isoformat(), "last": last.isoformat(), "variants": int(n)}
            for w, first, last, n in spans.iter_rows()]


def run_forecast(ctx: RefreshContext) -> StepResult:
    store_id = ctx.store.store_id
    ctx.progress(0.0, "reading sales and stock")
    series, groups = demand_inputs(ctx.wh, store_id, ctx.as_of)
    result = forecast_demand(series, ctx.as_of, groups=groups, progress=ctx.progress)
    generated = ctx.started_at
    forecasts = result.forecasts.select(
        pl.lit(store_id).alias("store_id"), pl.col("unique_id").alias("variant_id"), "ds", "model",
        "yhat", "yhat_lo", "yhat_hi", pl.lit(LEVEL, pl.Int32).alias("level"),
        pl.lit(generated).cast(pl.Datetime("us", "UTC")).alias("generated_at"),
    )
    accuracy = pl.DataFrame()
    if result.accuracy.height:
        accuracy = result.accuracy.select(
            pl.lit(store_id).alias("store_id"), pl.col("unique_id").alias("variant_id"), "model",
            pl.lit(generated).cast(pl.Datetime("us", "UTC")).alias("generated_at"),
            "mase", "bias", pl.lit(HORIZON, pl.Int32).alias("horizon"), "chosen", "error_sd",
            pl.col("scored_days").cast(pl.Int32), pl.col("kind").alias("series_kind"),
            *[pl.col(c).cast(pl.Float64) if c in result.accuracy.columns else pl.lit(None, pl.Float64).alias(c)
              for c in ("mae", "coverage")],
            (pl.col("actual_sum").cast(pl.Float64) if "actual_sum" in result.accuracy.columns
             else pl.lit(None, pl.Float64)).alias("actual_units"),
        ).with_columns([pl.col(c).fill_nan(None) for c in ("mase", "bias", "error_sd", "mae", "coverage",
                                                            "actual_units")])
    ctx.progress(0.92, "writing forecasts")
    with ctx.wh.transaction():
        ctx.wh.execute("DELETE FROM forecasts WHERE store_id = :s", {"s": store_id})
        ctx.wh.execute("DELETE FROM forecast_accuracy WHERE store_id = :s AND NOT chosen", {"s": store_id})
        ctx.wh.execute("DELETE FROM forecast_accuracy WHERE store_id = :s AND generated_at = :g",
                       {"s": store_id, "g": generated})
        if forecasts.height:
            ctx.wh.insert("forecasts", forecasts)
        if accuracy.height:
            ctx.wh.insert("forecast_accuracy", accuracy)
    chosen = result.accuracy.filter(pl.col("chosen")) if result.accuracy.height else pl.DataFrame()
    scored = chosen.filter(pl.col("mase").is_not_null()) if chosen.height else chosen
    kinds = dict(result.kinds.group_by("kind").len().iter_rows()) if result.kinds.height else {}
    models = dict(chosen.group_by("model").len().iter_rows()) if chosen.height else {}
    median_mase = float(scored["mase"].median()) if scored.height else None
    metrics = {"series": result.kinds.height, "kinds": kinds, "models_chosen": models,
               "median_mase": median_mase, "forecast_rows": forecasts.height,
               "backtest": backtest_windows(result.backtest)}
    summary = (f"{result.kinds.height:,} variants forecast {HORIZON} days ahead"
               + (f", median MASE {median_mase:.2f}" if median_mase is not None else ""))
    return StepResult(params={"horizon": HORIZON, "level": LEVEL, "history_days": HISTORY_DAYS},
                      metrics=metrics, summary=summary)


STEPS = [RefreshStep("forecast", "Demand forecasts", run_forecast)]

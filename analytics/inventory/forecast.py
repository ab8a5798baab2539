"""Daily demand forecasts per variant, with the model of each series chosen by a backtest.

Demand is units sold per variant per store-local day (every channel). The
functions here take and return Polars frames; :mod:`analytics.inventory.refresh_step`
reads the warehouse and writes the results.

1. **Censoring.** A day on which the variant had nothing available (the sum
   of its ``inventory_snapshots`` over locations ≤ 0) and sold nothing is not
   a day of zero demand: the shelf was empty. Such a day is *censored*: its
   demand is imputed as the mean of the uncensored days among the
   :data:`IMPUTE_WINDOW` days before it (carried forward when there are
   none, 0 at the very start), models are fitted to the imputed series, and
   censored days are never scored.
2. **Series.** A series starts on the variant's first day with a sale in the
   :data:`HISTORY_DAYS` days up to ``as_of``; days without a sale are 0.
   A series shorter than :data:`NEW_DAYS` is a *new product*: its forecast is
   the mean of its (imputed) days so far, labelled ``NewProductMean``, and it
   is not backtested.
3. **The year.** Every model is fitted to demand ÷ the series' *yearly
   factors* and its forecasts multiplied by the factors of the days ahead
   (:mod:`analytics.inventory.yearly`: the yearly shape and the peak days
   from the variant, shrunk top-down towards its product's, product type's
   and the store's; all 1 when the store has under 13 months of history), so
   a weekly model carries last year's season and Black Friday forward. A new
   product's mean is taken the same way: it borrows its group's season.
4. **Backtest.** Every other series is cut at :data:`BACKTEST_WINDOWS`
   rolling origins, :data:`BACKTEST_HORIZON` days apart (the last
   ``windows × horizon`` days are predicted, each window from the data before
   it and with the yearly factors as of its origin,
   ``StatsForecast.cross_validation``), and at one origin :data:`YEAR_AGO`
   days before the last day, predicting the :data:`HORIZON` days after it
   (last year's same season, peaks included), for the series with
   :data:`NEW_DAYS` days before that origin. That window's models see only
   the days before it; its yearly factors come from the other days of the
   history (the window's own left out), as a year earlier the store had too
   little history to have any. Every model of :func:`candidate_models` is
   scored.
   Over the uncensored backtest days: MASE = mean |ŷ − y| ÷ the
   mean |y_t − y_{t−7}| of the days before the first recent origin (seasonal
   naive's in-sample error; when that is 0, the mean of y, else 1); bias =
   Σ(ŷ − y) ÷ Σy (positive: over-forecast); σ of the daily error =
   √(mean (ŷ − y)²); coverage = the share of the days with |ŷ − y| ≤ z σ
   (inside the :data:`LEVEL` % interval).
5. **Choice.** Each kind of series (smooth, intermittent) has a *default*:
   the candidate with the lowest mean MASE over the kind's series (ties: the
   earlier candidate). A series keeps its kind's default unless another
   candidate's MASE is lower by more than :data:`SWITCH_MARGIN` (MASE ×
   (1 + margin) still below the default's); among those, the lowest wins.
   A backtest of 28 days picks noise as often as signal: measured on
   held-out weeks (``bench/forecast.py``), a plain lowest-MASE choice was
   worse than giving every series the same good model, and this one is
   better than both. The chosen model's forecast over the next
   :data:`HORIZON` days, refitted on all the history, is kept; the
   prediction interval at :data:`LEVEL` % is ŷ ± z × σ (lower bound at
   least 0), σ the chosen model's backtest error.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Callable, Sequence

import polars as pl

from analytics.inventory.yearly import yearly_factors

HISTORY_DAYS = 730
HORIZON = 28
LEVEL = 90
SEASON = 7
NEW_DAYS = 56
IMPUTE_WINDOW = 28
BACKTEST_HORIZON = 14
BACKTEST_WINDOWS = 2
YEAR_AGO = 364
NEW_MODEL = "NewProductMean"
SWITCH_MARGIN = 0.2
PARALLEL_FROM = 1000
Progress = Callable[[float, str], None]

SERIES_SCHEMA = {"unique_id": pl.String, "ds": pl.Date, "y": pl.Float64, "censored": pl.Boolean}


def candidate_models() -> list:
    """The cheap, robust models a series may get, simplest first (ties go to the earlier one)."""
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        TSB,
        CrostonOptimized,
        SeasonalExponentialSmoothingOptimized,
        SeasonalNaive,
        SeasonalWindowAverage,
        SimpleExponentialSmoothingOptimized,
    )

    from analytics.inventory.seasonal_ses import DeseasonalizedSES

    return [
        SeasonalNaive(season_length=SEASON),
        SeasonalWindowAverage(season_length=SEASON, window_size=4, alias="SeasonalWindowAverage"),
        SimpleExponentialSmoothingOptimized(alias="SES"),
        SeasonalExponentialSmoothingOptimized(season_length=SEASON, alias="SeasonalES"),
        DeseasonalizedSES(season_length=SEASON),
        CrostonOptimized(),
        ADIDA(),
        IMAPA(),
        TSB(alpha_d=0.2, alpha_p=0.2),
    ]


def model_names(models: Sequence | None = None) -> list[str]:
    return [str(m) for m in (models if models is not None else candidate_models())]


def z_value(level: float) -> float:
    """The two-sided normal quantile of a central interval of ``level`` % (90 → 1.645)."""
    return NormalDist().inv_cdf(0.5 + level / 200)


# -- series ------------------------------------------------------------------------------------------------

def build_series(sales: pl.DataFrame, stock: pl.DataFrame, as_of: dt.date,
                 history_days: int = HISTORY_DAYS) -> pl.DataFrame:
    """Daily demand series, censored days imputed.

    ``sales``: ``variant_id, ds, units`` (units sold that day); ``stock``:
    ``variant_id, ds, available`` (summed over locations; a variant without
    snapshots has no censored days). Returns ``unique_id, ds, y, censored``
    sorted, one row per day from the variant's first sale in the window to
    ``as_of``; ``y`` is the imputed demand on censored days.
    """
    first = as_of - dt.timedelta(days=history_days - 1)
    sales = sales.filter(pl.col("ds").is_between(first, as_of))
    if sales.filter(pl.col("units") > 0).height == 0:
        return pl.DataFrame(schema=SERIES_SCHEMA)
    starts = (sales.filter(pl.col("units") > 0).group_by("variant_id").agg(pl.col("ds").min().alias("start")))
    calendar = starts.with_columns(
        pl.date_ranges(pl.col("start"), pl.lit(as_of), interval="1d").alias("ds")
    ).explode("ds").select("variant_id", "ds")
    daily = sales.group_by("variant_id", "ds").agg(pl.col("units").sum().cast(pl.Float64))
    stock = stock.group_by("variant_id", "ds").agg(pl.col("available").sum())
    frame = (calendar.join(daily, on=["variant_id", "ds"], how="left")
             .join(stock, on=["variant_id", "ds"], how="left")
             .with_columns(pl.col("units").fill_null(0.0))
             .with_columns(((pl.col("available").fill_null(1) <= 0) & (pl.col("units") == 0)).alias("censored"))
             .sort("variant_id", "ds"))
    observed = pl.when(pl.col("censored")).then(None).otherwise(pl.col("units"))
    imputed = (observed.shift(1).rolling_mean(window_size=IMPUTE_WINDOW, min_samples=1)
               .forward_fill().fill_null(0.0)).over("variant_id")
    return frame.select(
        pl.col("variant_id").alias("unique_id"), "ds",
        pl.when(pl.col("censored")).then(imputed).otherwise(pl.col("units")).alias("y"),
        "censored",
    )


def series_kinds(series: pl.DataFrame, new_days: int = NEW_DAYS) -> pl.DataFrame:
    """``unique_id, days, kind``: ``new`` (fewer than ``new_days`` days), ``intermittent`` (more than
    half the uncensored days without a sale) or ``smooth``."""
    return series.group_by("unique_id").agg(
        pl.len().alias("days"),
        ((pl.col("y") == 0) & ~pl.col("censored")).sum().alias("zeros"),
        (~pl.col("censored")).sum().alias("observed"),
    ).select(
        "unique_id", "days",
        pl.when(pl.col("days") < new_days).then(pl.lit("new"))
        .when(pl.col("zeros") > pl.col("observed") / 2).then(pl.lit("intermittent"))
        .otherwise(pl.lit("smooth")).alias("kind"),
    ).sort("unique_id")


# -- backtest and choice ---------------------------------------------------------------------------------

def _statsforecast(models: Sequence, n_jobs: int):
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    return StatsForecast(models=list(models), freq="1d", n_jobs=n_jobs, fallback_model=Naive())


def _forecast_adjusted(series: pl.DataFrame, cutoff: dt.date, horizon: int, models: Sequence, n_jobs: int,
                       groups: pl.DataFrame | None, yearly: bool, windows: int = 0,
                       through: dt.date | None = None) -> pl.DataFrame:
    """Forecasts from ``cutoff`` on demand ÷ its yearly factors as of ``cutoff``, multiplied back by the
    factors of the days ahead: ``unique_id, ds, <one column per model>``. With ``windows``, a
    cross-validation of that many windows of ``horizon`` days after ``cutoff`` (with ``cutoff``)."""
    names = model_names(models)
    ahead = horizon * max(windows, 1)
    history = series.filter(pl.col("ds") <= cutoff + dt.timedelta(days=ahead if windows else 0))
    frame = history.select("unique_id", "ds", "y")
    if yearly:
        factors = yearly_factors(series if through else history, cutoff, ahead, groups, through)
        frame = frame.join(factors, on=["unique_id", "ds"], how="left").with_columns(
            (pl.col("y") / pl.col("factor").fill_null(1.0)).alias("y")).drop("factor")
    sf = _statsforecast(models, n_jobs)
    out = (sf.cross_validation(h=horizon, df=frame, n_windows=windows, step_size=horizon) if windows
           else sf.forecast(h=horizon, df=frame))
    out = (out if isinstance(out, pl.DataFrame) else pl.DataFrame(out)).with_columns(pl.col("ds").cast(pl.Date))
    out = out.drop("y") if "y" in out.columns else out
    if not yearly:
        return out
    return out.join(factors.filter(pl.col("ds") > cutoff), on=["unique_id", "ds"], how="left").with_columns(
        [(pl.col(n) * pl.col("factor").fill_null(1.0)).alias(n) for n in names]).drop("factor")


def backtest(series: pl.DataFrame, *, models: Sequence | None = None, horizon: int = BACKTEST_HORIZON,
             windows: int = BACKTEST_WINDOWS, n_jobs: int = 2, groups: pl.DataFrame | None = None,
             yearly: bool = True, year_ago: int = HORIZON) -> pl.DataFrame:
    """Rolling-origin forecasts of each series: the last ``windows × horizon`` days, each window from the data
    before it, and (``year_ago`` > 0) the ``year_ago`` days after the day :data:`YEAR_AGO` days before the
    last, for the series with :data:`NEW_DAYS` days before that origin: ``unique_id, ds, cutoff, window
    ("recent" or "year_ago"), y, <one column per model>``. The recent windows' forecasts see the yearly
    factors as of their first origin; the window a year back those of the rest of the history, its own days
    left out (:mod:`analytics.inventory.yearly`); every model sees only the days before its origin."""
    models = list(models if models is not None else candidate_models())
    if series.height == 0:
        return pl.DataFrame()
    last = series["ds"].max()
    first_cutoff = last - dt.timedelta(days=horizon * windows)
    recent = _forecast_adjusted(series, first_cutoff, horizon, models, n_jobs, groups, yearly, windows=windows)
    parts = [recent.with_columns(pl.col("cutoff").cast(pl.Date), pl.lit("recent").alias("window"))]
    origin = last - dt.timedelta(days=YEAR_AGO)
    if year_ago > 0:
        starts = series.group_by("unique_id").agg(pl.col("ds").min().alias("start"))
        old = starts.filter(pl.col("start") <= origin - dt.timedelta(days=NEW_DAYS - 1))["unique_id"]
        if old.len():
            past = series.filter(pl.col("unique_id").is_in(old.implode()))
            ahead = _forecast_adjusted(past, origin, year_ago, models, n_jobs, groups, yearly, through=last)
            parts.append(ahead.with_columns(pl.lit(origin).alias("cutoff"), pl.lit("year_ago").alias("window")))
    columns = ["unique_id", "ds", "cutoff", "window", *model_names(models)]
    return pl.concat([p.select(columns) for p in parts], how="vertical_relaxed").join(
        series.select("unique_id", "ds", "y"), on=["unique_id", "ds"], how="inner")


def score_backtest(series: pl.DataFrame, cv: pl.DataFrame, names: Sequence[str], level: int = LEVEL) -> pl.DataFrame:
    """Per series and model over its uncensored backtest days: ``unique_id, model, mase, bias,
    error_sd, scored_days, mae, actual_sum, coverage`` (see the module docstring). The MASE scale is taken on
    the days before the first ``recent`` origin (every origin when ``cv`` has no ``window``)."""
    cv = cv.with_columns(pl.col("ds").cast(pl.Date), pl.col("cutoff").cast(pl.Date))
    recent = cv.filter(pl.col("window") == "recent") if "window" in cv.columns else cv
    first_cutoff = recent.group_by("unique_id").agg(pl.col("cutoff").min().alias("first_cutoff"))
    train = (series.join(first_cutoff, on="unique_id").filter(pl.col("ds") <= pl.col("first_cutoff"))
             .sort("unique_id", "ds")
             .with_columns((pl.col("y") - pl.col("y").shift(SEASON)).abs().over("unique_id").alias("naive_error")))
    scale = train.group_by("unique_id").agg(
        pl.col("naive_error").mean().alias("naive_mae"), pl.col("y").mean().alias("train_mean"))
    scale = scale.select("unique_id", pl.when(pl.col("naive_mae") > 0).then(pl.col("naive_mae"))
                         .when(pl.col("train_mean") > 0).then(pl.col("train_mean"))
                         .otherwise(1.0).alias("scale"))
    scored = cv.drop("y", "window", strict=False).join(series.select("unique_id", "ds", "y", "censored"),
                                                       on=["unique_id", "ds"])
    scored = scored.filter(~pl.col("censored"))
    long = scored.unpivot(index=["unique_id", "ds", "y"], on=list(names), variable_name="model",
                          value_name="yhat").with_columns((pl.col("yhat").fill_nan(None) - pl.col("y")).alias("e"))
    stats = long.group_by("unique_id", "model").agg(
        pl.col("e").abs().mean().alias("mae"),
        pl.col("e").sum().alias("error_sum"),
        pl.col("y").sum().alias("actual_sum"),
        (pl.col("e") ** 2).mean().sqrt().alias("error_sd"),
        pl.col("e").is_not_null().sum().cast(pl.Int32).alias("scored_days"),
    ).join(scale, on="unique_id", how="left")
    # The share of the scored days inside ŷ ± z σ, σ the model's own backtest error.
    z = z_value(level)
    covered = long.join(stats.select("unique_id", "model", "error_sd"), on=["unique_id", "model"]).group_by(
        "unique_id", "model").agg(
        (pl.col("e").abs() <= z * pl.col("error_sd") + 1e-9).filter(pl.col("e").is_not_null())
        .cast(pl.Float64).mean().alias("coverage"))
    stats = stats.join(covered, on=["unique_id", "model"], how="left")
    order = {name: i for i, name in enumerate(names)}
    return stats.select(
        "unique_id", "model",
        (pl.col("mae") / pl.col("scale")).alias("mase"),
        pl.when(pl.col("actual_sum") > 0).then(pl.col("error_sum") / pl.col("actual_sum")).otherwise(None)
        .alias("bias"),
        "error_sd", "scored_days", "mae", "actual_sum", "coverage",
        pl.col("model").replace_strict(order, return_dtype=pl.Int32).alias("rank"),
    ).sort("unique_id", "rank").drop("rank")


def choose_models(scores: pl.DataFrame, names: Sequence[str], kinds: pl.DataFrame | None = None,
                  margin: float = SWITCH_MARGIN) -> pl.DataFrame:
    """``scores`` with ``chosen`` (see the module docstring, step 5). ``kinds``: ``unique_id, kind``
    (without it every series is of one kind). A series no model could score gets its kind's default,
    and a kind no series of which could be scored the first candidate."""
    order = {name: i for i, name in enumerate(names)}
    kind = (scores.join(kinds.select("unique_id", "kind"), on="unique_id", how="left")
            .with_columns(pl.col("kind").fill_null("")) if kinds is not None
            else scores.with_columns(pl.lit("").alias("kind")))
    ranked = kind.with_columns(
        pl.col("model").replace_strict(order, return_dtype=pl.Int32).alias("_rank"),
        pl.col("mase").fill_nan(None).alias("_mase"),
    )
    defaults = (ranked.group_by("kind", "model", "_rank").agg(pl.col("_mase").mean().alias("_pooled"))
                .with_columns(pl.col("_pooled").fill_null(float("inf")))
                .sort("kind", "_pooled", "_rank").group_by("kind", maintain_order=True)
                .agg(pl.col("model").first().alias("_default")))
    keyed = ranked.join(defaults, on="kind").with_columns(
        pl.when(pl.col("model") == pl.col("_default")).then(pl.col("_mase").fill_null(float("inf")))
        .otherwise(pl.col("_mase").fill_null(float("inf")) * (1 + margin)).alias("_key"),
        (pl.col("model") != pl.col("_default")).alias("_challenger"),
    ).sort("unique_id", "_key", "_challenger", "_rank")
    first = keyed.group_by("unique_id", maintain_order=True).agg(pl.col("model").first().alias("_best"))
    return (keyed.join(first, on="unique_id").with_columns((pl.col("model") == pl.col("_best")).alias("chosen"))
            .select(*scores.columns, "chosen").sort("unique_id", "model"))


# -- the forecasts ------------------------------------------------------------------------------------------

def _apply(frame: pl.DataFrame, factors: pl.DataFrame | None, column: str, divide: bool) -> pl.DataFrame:
    """``column`` of ``frame`` divided (history) or multiplied (days ahead) by the yearly factors."""
    if factors is None:
        return frame
    joined = frame.join(factors, on=["unique_id", "ds"], how="left").with_columns(pl.col("factor").fill_null(1.0))
    value = pl.col(column) / pl.col("factor") if divide else pl.col(column) * pl.col("factor")
    return joined.with_columns(value.alias(column)).drop("factor")


def new_product_forecast(series: pl.DataFrame, as_of: dt.date, horizon: int = HORIZON,
                         factors: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Forecasts (``unique_id, ds, yhat, error_sd``) and accuracy rows for new products: the mean of
    the days so far (of demand ÷ the yearly factors, multiplied back by those of the days ahead: the
    product's group's season); σ the standard deviation of those days (√mean when they do not vary)."""
    stats = _apply(series, factors, "y", divide=True).group_by("unique_id").agg(
        pl.col("y").mean().alias("yhat"), pl.col("y").std().fill_null(0.0).alias("sd"))
    stats = stats.with_columns(
        pl.when(pl.col("sd") > 0).then(pl.col("sd")).otherwise(pl.col("yhat").sqrt()).alias("error_sd"))
    days = pl.DataFrame({"ds": pl.date_range(as_of + dt.timedelta(days=1), as_of + dt.timedelta(days=horizon),
                                             interval="1d", eager=True)})
    frame = stats.join(days, how="cross").select("unique_id", "ds", "yhat", "error_sd",
                                                 pl.lit(NEW_MODEL).alias("model"))
    frame = _apply(frame, factors, "yhat", divide=False)
    accuracy = stats.select("unique_id", pl.lit(NEW_MODEL).alias("model"), pl.lit(None, pl.Float64).alias("mase"),
                            pl.lit(None, pl.Float64).alias("bias"), "error_sd",
                            pl.lit(0, pl.Int32).alias("scored_days"), pl.lit(True).alias("chosen"))
    return frame, accuracy


def _forecast_chosen(series: pl.DataFrame, chosen: pl.DataFrame, models: Sequence, horizon: int,
                     n_jobs: int, factors: pl.DataFrame | None = None) -> pl.DataFrame:
    """Each series' forecast by its chosen model only, refitted on all its history (one call per model),
    on demand ÷ the yearly factors and multiplied back by those of the days ahead."""
    by_name = {str(m): m for m in models}
    adjusted = _apply(series.select("unique_id", "ds", "y"), factors, "y", divide=True)
    parts = []
    for name, ids in chosen.group_by("model", maintain_order=True).agg(pl.col("unique_id")).iter_rows():
        subset = adjusted.filter(pl.col("unique_id").is_in(ids))
        ahead = _statsforecast([by_name[name]], n_jobs).forecast(h=horizon, df=subset)
        ahead = ahead if isinstance(ahead, pl.DataFrame) else pl.DataFrame(ahead)
        parts.append(ahead.select("unique_id", pl.col("ds").cast(pl.Date), pl.col(name).alias("yhat"),
                                  pl.lit(name).alias("model")))
    ahead = _apply(pl.concat(parts), factors, "yhat", divide=False)
    return ahead.join(chosen.select("unique_id", "error_sd"), on="unique_id").select(
        "unique_id", "ds", "yhat", "error_sd", "model")


@dataclass
class ForecastResult:
    """``forecasts``: ``unique_id, ds, model, yhat, yhat_lo, yhat_hi``; ``accuracy``: every scored model of
    every series (``unique_id, model, mase, bias, error_sd, scored_days, mae, actual_sum, coverage, chosen,
    kind``); ``kinds``; ``backtest``: the days each series was scored on (``unique_id, ds, window``)."""

    forecasts: pl.DataFrame
    accuracy: pl.DataFrame
    kinds: pl.DataFrame
    backtest: pl.DataFrame = field(default_factory=pl.DataFrame)


def forecast_demand(series: pl.DataFrame, as_of: dt.date, *, horizon: int = HORIZON, level: int = LEVEL,
                    models: Sequence | None = None, n_jobs: int | None = None, groups: pl.DataFrame | None = None,
                    yearly: bool = True, progress: Progress = lambda f, m: None) -> ForecastResult:
    """Backtest, choose and forecast every series (see the module docstring). ``groups``: ``unique_id`` with
    ``product_id`` and ``product_type``, whose seasons a variant's own is shrunk towards; ``yearly=False``
    leaves the yearly factors out (every factor 1: the week only)."""
    models = list(models if models is not None else candidate_models())
    names = model_names(models)
    kinds = series_kinds(series)
    # Worker processes pay off only for many series: their start costs seconds.
    n_jobs = n_jobs or (min(2, os.cpu_count() or 1) if kinds.height >= PARALLEL_FROM else 1)
    new_ids = kinds.filter(pl.col("kind") == "new")["unique_id"]
    established = series.filter(~pl.col("unique_id").is_in(new_ids.implode()))
    parts, accuracy_parts, days = [], [], pl.DataFrame()
    factors = yearly_factors(series, as_of, horizon, groups) if yearly and series.height else None
    if new_ids.len():
        frame, accuracy = new_product_forecast(series.filter(pl.col("unique_id").is_in(new_ids.implode())),
                                               as_of, horizon, factors)
        parts.append(frame)
        accuracy_parts.append(accuracy)
    if established.height:
        progress(0.05, f"backtesting {established['unique_id'].n_unique():,} series")
        cv = backtest(established, models=models, n_jobs=n_jobs, groups=groups, yearly=yearly)
        scores = choose_models(score_backtest(established, cv, names, level), names, kinds)
        days = cv.select("unique_id", "ds", "window")
        accuracy_parts.append(scores)
        progress(0.55, "forecasting")
        chosen = scores.filter(pl.col("chosen")).select("unique_id", "model", "error_sd")
        parts.append(_forecast_chosen(established, chosen, models, horizon, n_jobs, factors))
    if not parts:
        empty = pl.DataFrame(schema={"unique_id": pl.String, "ds": pl.Date, "model": pl.String,
                                     "yhat": pl.Float64, "yhat_lo": pl.Float64, "yhat_hi": pl.Float64})
        return ForecastResult(empty, pl.DataFrame(), kinds)
    z = z_value(level)
    forecasts = pl.concat(parts, how="vertical_relaxed").with_columns(
        pl.col("yhat").fill_nan(0.0).clip(lower_bound=0.0),
        pl.col("error_sd").fill_nan(None).fill_null(0.0),
    ).select(
        "unique_id", "ds", "model", "yhat",
        (pl.col("yhat") - z * pl.col("error_sd")).clip(lower_bound=0.0).alias("yhat_lo"),
        (pl.col("yhat") + z * pl.col("error_sd")).alias("yhat_hi"),
    ).sort("unique_id", "ds")
    accuracy = pl.concat(accuracy_parts, how="diagonal_relaxed").join(
        kinds.select("unique_id", "kind"), on="unique_id", how="left")
    progress(0.9, "forecasts ready")
    return ForecastResult(forecasts, accuracy, kinds, days)


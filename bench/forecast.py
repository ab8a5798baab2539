"""Time and score the demand forecasts on synthetic stores.

    python -m bench.forecast [--series 10000] [--days 730] [--holdout 28] [--ets-sample 500]

A seeded synthetic store of ``--series`` variants with ``--days`` days of
history, then ``--holdout`` more days that the forecasts never see:

- 40 % smooth weekly-seasonal demand (Poisson, busier weekends, 1–30 a day),
- 20 % trending (the same, with a level growing or shrinking by up to ±60 % a year),
- 30 % intermittent (a sale on 3–30 % of days, 1–3 units),
- 10 % new products (launched 10–80 days before the end of the history),
- stockouts: a third of the variants run out for 1–3 spells of 3–14 days (stock 0, no sale),
  in the history and the held-out weeks alike.

Timing (``forecast``): the whole refresh computation on the history, as
``python -m analytics refresh`` runs it: censoring and imputation, the
rolling-origin backtest of every candidate, the choice and the final forecasts
(``forecast_demand``, 2 worker processes). ``seconds`` is wall time;
``cpu_seconds`` the CPU time of the process and its workers (on a busy machine
wall time is longer than ``cpu_seconds ÷ 2``, on an idle one close to it), with
the load average at the end.

Accuracy (``accuracy``): on the held-out days that were not stockouts, per
series MASE (mean absolute error ÷ seasonal naive's in-sample error on the
history) and bias (Σ error ÷ Σ actual), averaged over series, for (a) the
per-series choice, (b) seasonal naive for every series, and (c) AutoETS fitted
per series, on a random sample of ``--ets-sample`` established series (AutoETS
on all 10,000 would take about 13 minutes here; the sample is a fair
yardstick), with (a) and (b) on the same sample beside it.

Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import os
import datetime as dt
import resource
import time

import numpy as np
import polars as pl

from bench.common import emit

END = dt.date(2026, 10, 31)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the forecast's worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def synthetic_store(n: int, days: int, holdout: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """``sales`` (variant_id, ds, units) and ``stock`` (variant_id, ds, available: 0 on stockout days only)
    over ``days + holdout`` days, and the count of each kind."""
    rng = np.random.default_rng(seed)
    total = days + holdout
    t = np.arange(total)
    first = END - dt.timedelta(days=total - 1)
    weekday = np.array([(first + dt.timedelta(days=int(i))).weekday() for i in t])
    kinds = rng.choice(["smooth", "trend", "intermittent", "new"], size=n, p=[0.4, 0.2, 0.3, 0.1])
    level = np.exp(rng.uniform(np.log(1), np.log(30), n))
    weekly = 1 + rng.uniform(0.1, 0.8, n)[:, None] * (weekday[None, :] >= 5)
    slope = np.where(kinds == "trend", rng.uniform(-0.6, 0.6, n), 0.0)
    rate = level[:, None] * weekly * np.clip(1 + slope[:, None] * t[None, :] / 365, 0.1, None)
    units = rng.poisson(rate)
    sparse = kinds == "intermittent"
    p = rng.uniform(0.03, 0.3, n)
    intermittent = (rng.random((n, total)) < p[:, None]) * rng.integers(1, 4, (n, total))
    units = np.where(sparse[:, None], intermittent, units)
    start = np.where(kinds == "new", days - rng.integers(10, 80, n), 0)
    units = np.where(t[None, :] >= start[:, None], units, -1)       # -1: not launched yet
    out = np.zeros((n, total), dtype=bool)
    for i in np.flatnonzero(rng.random(n) < 1 / 3):
        for _ in range(rng.integers(1, 4)):
            begin = rng.integers(max(start[i], 0), total - 3)
            out[i, begin:begin + rng.integers(3, 15)] = True
    units = np.where(out & (units >= 0), 0, units)
    ids = np.array([f"v{i:05d}" for i in range(n)])
    dates = pl.date_range(first, END, interval="1d", eager=True)
    row_id, day_index = np.nonzero(units >= 0)
    sales = pl.DataFrame({"variant_id": ids[row_id], "ds": dates.gather(day_index),
                          "units": units[row_id, day_index].astype(np.int64)})
    out_id, out_day = np.nonzero(out)
    stock = pl.DataFrame({"variant_id": ids[out_id], "ds": dates.gather(out_day),
                          "available": np.zeros(len(out_id), dtype=np.int64)})
    counts = {str(k): int(c) for k, c in zip(*np.unique(kinds, return_counts=True))}
    return sales, stock, counts


def scores(actual: pl.DataFrame, predicted: pl.DataFrame, scale: pl.DataFrame) -> dict:
    """Mean and median MASE and mean bias over series of ``predicted`` (unique_id, ds, yhat)."""
    joined = predicted.join(actual, on=["unique_id", "ds"]).join(scale, on="unique_id")
    per = joined.group_by("unique_id").agg(
        ((pl.col("yhat") - pl.col("y")).abs().mean() / pl.col("scale").first()).alias("mase"),
        (pl.col("yhat") - pl.col("y")).sum().alias("error"), pl.col("y").sum().alias("actual"))
    # A model that could not forecast a series (seasonal naive on one shorter than a week) gives NaN there.
    per = per.filter(pl.col("mase").is_not_nan())
    bias = per.filter(pl.col("actual") > 0).select((pl.col("error") / pl.col("actual")).mean()).item()
    return {"series": per.height, "mase_mean": round(per["mase"].mean(), 4),
            "mase_median": round(per["mase"].median(), 4), "bias_mean": round(bias, 4)}


def fit_one_model(history: pl.DataFrame, model, horizon: int, n_jobs: int = 2) -> pl.DataFrame:
    from statsforecast import StatsForecast

    ahead = StatsForecast(models=[model], freq="1d", n_jobs=n_jobs).forecast(
        h=horizon, df=history.select("unique_id", "ds", "y"))
    ahead = ahead if isinstance(ahead, pl.DataFrame) else pl.DataFrame(ahead)
    return ahead.select("unique_id", pl.col("ds").cast(pl.Date), pl.col(str(model)).alias("yhat"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast")
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--holdout", type=int, default=28)
    parser.add_argument("--ets-sample", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    from statsforecast.models import AutoETS, SeasonalNaive

    from analytics.inventory.forecast import HORIZON, build_series, forecast_demand, series_kinds

    sales, stock, counts = synthetic_store(args.series, args.days, args.holdout, args.seed)
    cut = END - dt.timedelta(days=args.holdout)
    history_sales = sales.filter(pl.col("ds") <= cut)
    history_stock = stock.filter(pl.col("ds") <= cut)

    clock, cpu = time.perf_counter(), cpu_seconds()
    history = build_series(history_sales, history_stock, cut, history_days=args.days)
    result = forecast_demand(history, cut, horizon=max(HORIZON, args.holdout), n_jobs=2)
    seconds, cpu = time.perf_counter() - clock, cpu_seconds() - cpu
    chosen = result.accuracy.filter(pl.col("chosen"))
    emit(bench="forecast", series=args.series, days=args.days, kinds=counts,
         seconds=round(seconds, 1), cpu_seconds=round(cpu, 1), load_average=[round(x, 1) for x in os.getloadavg()],
         models_chosen=dict(chosen.group_by("model").len().sort("model").iter_rows()))

    # Held-out days that were not stockouts (stock 0 and no sale): what the models are scored on.
    full = build_series(sales, stock, END, history_days=args.days + args.holdout)
    actual = full.filter((pl.col("ds") > cut) & ~pl.col("censored")).select("unique_id", "ds", "y")
    train = history.filter(~pl.col("censored")).sort("unique_id", "ds").with_columns(
        (pl.col("y") - pl.col("y").shift(7)).abs().over("unique_id").alias("e"))
    scale = train.group_by("unique_id").agg(pl.col("e").mean().alias("naive"), pl.col("y").mean().alias("mean"))
    scale = scale.select("unique_id", pl.when(pl.col("naive") > 0).then(pl.col("naive"))
                         .when(pl.col("mean") > 0).then(pl.col("mean")).otherwise(1.0).alias("scale"))

    clock = time.perf_counter()
    naive = fit_one_model(history, SeasonalNaive(season_length=7), args.holdout)
    naive_seconds = time.perf_counter() - clock
    ours = result.forecasts.select("unique_id", "ds", "yhat")
    emit(bench="forecast_accuracy", scope="all series", holdout_days=args.holdout,
         per_series_choice=scores(actual, ours, scale), seasonal_naive=scores(actual, naive, scale),
         seasonal_naive_seconds=round(naive_seconds, 1))

    established = series_kinds(history).filter(pl.col("kind") != "new")["unique_id"]
    sample = established.sample(min(args.ets_sample, established.len()), seed=args.seed)
    sampled = history.filter(pl.col("unique_id").is_in(sample.implode()))
    clock = time.perf_counter()
    ets = fit_one_model(sampled, AutoETS(season_length=7), args.holdout)
    ets_seconds = time.perf_counter() - clock
    keep = pl.col("unique_id").is_in(sample.implode())
    emit(bench="forecast_accuracy", scope=f"random sample of {sample.len()} established series",
         holdout_days=args.holdout, per_series_choice=scores(actual, ours.filter(keep), scale),
         seasonal_naive=scores(actual, naive.filter(keep), scale), auto_ets=scores(actual, ets, scale),
         auto_ets_seconds=round(ets_seconds, 1),
         auto_ets_all_series_estimate_s=round(ets_seconds / sample.len() * args.series))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

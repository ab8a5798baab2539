"""Demand forecasts: censoring, scores and choice worked by hand; statsforecast on seeded synthetic series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from analytics.inventory.forecast import (
    NEW_MODEL,
    build_series,
    candidate_models,
    choose_models,
    forecast_demand,
    score_backtest,
    series_kinds,
    z_value,
)

AS_OF = dt.date(2026, 3, 31)


def day(n: int) -> dt.date:
    """``n`` days before AS_OF."""
    return AS_OF - dt.timedelta(days=n)


def sales(rows: list[tuple[str, dt.date, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"variant_id": pl.String, "ds": pl.Date, "units": pl.Int64}, orient="row")


def stock(rows: list[tuple[str, dt.date, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"variant_id": pl.String, "ds": pl.Date, "available": pl.Int64}, orient="row")


def test_stockout_days_are_censored_and_imputed_not_read_as_zero():
    # Sold 4, 2, 6 on days 6, 5, 4 before; days 3 and 2 out of stock (snapshot 0, no sale); day 1 nothing sold
    # while in stock (a true zero); as_of sold 1.
    frame = build_series(
        sales([("v", day(6), 4), ("v", day(5), 2), ("v", day(4), 6), ("v", day(0), 1)]),
        stock([("v", day(3), 0), ("v", day(2), 0), ("v", day(1), 3)]), AS_OF)
    assert frame["ds"].to_list() == [day(n) for n in range(6, -1, -1)]   # from the first sale to as_of
    assert frame["censored"].to_list() == [False, False, False, True, True, False, False]
    # A censored day's demand: the mean of the uncensored days before it, (4 + 2 + 6) ÷ 3 = 4, twice.
    assert frame["y"].to_list() == [4.0, 2.0, 6.0, 4.0, 4.0, 0.0, 1.0]


def test_a_day_with_a_sale_is_never_censored_even_at_zero_stock():
    frame = build_series(sales([("v", day(1), 2), ("v", day(0), 3)]), stock([("v", day(0), 0)]), AS_OF)
    assert frame["censored"].to_list() == [False, False]
    assert frame["y"].to_list() == [2.0, 3.0]


def test_scores_are_worked_by_hand():
    # 14 training days: week 1 all 1, week 2 all 3, so seasonal naive's in-sample error is |3 − 1| = 2 on
    # each of its 7 days: the MASE scale is 2.
    train = [1.0] * 7 + [3.0] * 7
    test = [2.0, 4.0, 2.0]
    days = [day(16 - i) for i in range(17)]
    series = pl.DataFrame({"unique_id": ["v"] * 17, "ds": days, "y": train + test,
                           "censored": [False] * 15 + [True, False]})
    cutoff = days[13]
    cv = pl.DataFrame({"unique_id": ["v"] * 3, "ds": days[14:], "cutoff": [cutoff] * 3, "y": test,
                       "A": [3.0, 3.0, 3.0], "B": [2.0, 4.0, 9.0]})
    scores = score_backtest(series, cv, ["A", "B"])
    a = scores.filter(pl.col("model") == "A").row(0, named=True)
    b = scores.filter(pl.col("model") == "B").row(0, named=True)
    # The censored middle day (actual 4) is not scored: A's errors are 3 − 2 = +1 twice (MAE 1,
    # MASE 1 ÷ 2 = 0.5); bias (1 + 1) ÷ (2 + 2) = 0.5; σ √((1 + 1) ÷ 2) = 1. B's errors are 0 and 7.
    assert (a["mase"], a["bias"], a["error_sd"], a["scored_days"]) == (0.5, 0.5, 1.0, 2)
    assert b["mase"] == pytest.approx(3.5 / 2) and b["bias"] == pytest.approx(7 / 4)
    chosen = choose_models(scores, ["A", "B"]).filter(pl.col("chosen"))["model"].to_list()
    assert chosen == ["A"]


def test_a_tie_goes_to_the_earlier_candidate_and_unscored_series_get_the_first():
    scores = pl.DataFrame({"unique_id": ["v", "v", "w", "w"], "model": ["A", "B", "A", "B"],
                           "mase": [0.7, 0.7, None, None], "bias": [0.0] * 4, "error_sd": [1.0] * 4,
                           "scored_days": [5, 5, 0, 0]})
    chosen = choose_models(scores, ["B", "A"]).filter(pl.col("chosen")).select("unique_id", "model").rows()
    assert chosen == [("v", "B"), ("w", "B")]


def test_a_series_keeps_its_kinds_default_unless_another_model_is_clearly_better():
    # Kind "smooth": A's mean MASE over its three series is (1.0 + 0.5 + 1.0) / 3 = 0.83, B's
    # (0.9 + 1.0 + 0.5) / 3 = 0.8: B is the default. "s1": A is 1.0 × 1.2 = 1.2 against B's 0.9, B stays.
    # "s2": A's 0.5 × 1.2 = 0.6 beats B's 1.0, A. "s3": B is best anyway. Kind "intermittent": A's mean is
    # (0.95 + 0.9) / 2 = 0.925, B's 1.0, C's (0.85 + 1.5) / 2 = 1.175, so A is the default there, and on
    # "i1" C's 0.85 × 1.2 = 1.02 does not beat A's 0.95.
    scores = pl.DataFrame({
        "unique_id": ["s1", "s1", "s2", "s2", "s3", "s3", "i1", "i1", "i1", "i2", "i2", "i2"],
        "model": ["A", "B", "A", "B", "A", "B", "A", "B", "C", "A", "B", "C"],
        "mase": [1.0, 0.9, 0.5, 1.0, 1.0, 0.5, 0.95, 1.0, 0.85, 0.9, 1.0, 1.5],
        "bias": [0.0] * 12, "error_sd": [1.0] * 12, "scored_days": [28] * 12})
    kinds = pl.DataFrame({"unique_id": ["s1", "s2", "s3", "i1", "i2"],
                          "kind": ["smooth", "smooth", "smooth", "intermittent", "intermittent"]})
    chosen = choose_models(scores, ["A", "B", "C"], kinds, margin=0.2).filter(pl.col("chosen"))
    assert chosen.select("unique_id", "model").sort("unique_id").rows() == [
        ("i1", "A"), ("i2", "A"), ("s1", "B"), ("s2", "A"), ("s3", "B")]
    # Without the margin each series takes its lowest MASE.
    plain = choose_models(scores, ["A", "B", "C"], kinds, margin=0.0).filter(pl.col("chosen"))
    assert plain.select("unique_id", "model").sort("unique_id").rows() == [
        ("i1", "C"), ("i2", "A"), ("s1", "B"), ("s2", "A"), ("s3", "B")]


def test_series_kinds():
    days = [day(n) for n in range(59, -1, -1)]
    frame = pl.concat([
        pl.DataFrame({"unique_id": "smooth", "ds": days, "y": [3.0] * 60, "censored": False}),
        pl.DataFrame({"unique_id": "sparse", "ds": days, "y": [1.0 if i % 5 == 0 else 0.0 for i in range(60)],
                      "censored": False}),
        pl.DataFrame({"unique_id": "young", "ds": days[-10:], "y": [1.0] * 10, "censored": False}),
    ])
    assert dict(series_kinds(frame).select("unique_id", "kind").iter_rows()) == {
        "smooth": "smooth", "sparse": "intermittent", "young": "new"}


def test_z_of_a_90_percent_interval():
    assert z_value(90) == pytest.approx(1.6449, abs=1e-4)


def test_forecasts_follow_a_known_weekly_pattern_and_new_products_are_labelled():
    """Seeded synthetic series: a weekly pattern (10 on Saturdays and Sundays, 2 on weekdays) plus small noise,
    a series without any pattern, and a product launched 20 days ago."""
    rng = np.random.default_rng(7)
    days = [day(n) for n in range(181, -1, -1)]
    weekly = [(10 if d.weekday() >= 5 else 2) + int(rng.integers(0, 2)) for d in days]
    flat = [int(x) for x in rng.poisson(4, len(days))]
    rows = [("weekly", d, u) for d, u in zip(days, weekly)] + [("flat", d, u) for d, u in zip(days, flat)]
    rows += [("launch", day(n), 2) for n in range(20)]
    series = build_series(sales(rows), stock([]), AS_OF)
    result = forecast_demand(series, AS_OF, n_jobs=1)

    chosen = result.accuracy.filter(pl.col("chosen"))
    weekly_row = chosen.filter(pl.col("unique_id") == "weekly").row(0, named=True)
    # A weekly model wins, and beats seasonal naive's in-sample error (the noise alone costs about that much).
    assert weekly_row["model"] in ("SeasonalNaive", "SeasonalWindowAverage", "SeasonalES", "DeseasonalizedSES")
    assert weekly_row["mase"] < 1
    ahead = result.forecasts.filter(pl.col("unique_id") == "weekly")
    assert ahead.height == 28 and ahead["ds"].min() == AS_OF + dt.timedelta(days=1)
    weekend = ahead.filter(pl.col("ds").dt.weekday() >= 6)["yhat"].mean()
    weekdays = ahead.filter(pl.col("ds").dt.weekday() < 6)["yhat"].mean()
    assert 9.5 < weekend < 11.5 and 1.5 < weekdays < 3.5
    assert (ahead["yhat_lo"] <= ahead["yhat"]).all() and (ahead["yhat"] <= ahead["yhat_hi"]).all()
    assert (ahead["yhat_lo"] >= 0).all()

    flat_mean = result.forecasts.filter(pl.col("unique_id") == "flat")["yhat"].mean()
    assert 3 < flat_mean < 5

    launch = chosen.filter(pl.col("unique_id") == "launch").row(0, named=True)
    assert (launch["model"], launch["kind"], launch["mase"]) == (NEW_MODEL, "new", None)
    assert result.forecasts.filter(pl.col("unique_id") == "launch")["yhat"].to_list() == [2.0] * 28
    # every candidate was scored on the two established series
    assert result.accuracy.filter(pl.col("unique_id") == "weekly").height == len(candidate_models())

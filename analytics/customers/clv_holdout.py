"""Which purchase-count model a store's lifetime value uses: chosen on the store's own history.

The history up to the as-of day is cut in two: the calibration period, and the last
:data:`HOLDOUT_DAYS` days held out (a quarter of the history when it is shorter than a year; no
choice with less than :data:`MIN_HOLDOUT_DAYS`). Every model of
:data:`analytics.customers.clv_models.MODELS` is fitted on the calibration period and predicts each
calibration customer's repeat purchase days in the holdout. Customers are grouped by how many repeat
purchases they had made in calibration (0, 1, …, 6, 7 or more, as in Fader, Hardie & Lee 2005,
figure 4); a model's holdout error is Σ over groups of |predicted − actual purchases| ÷ the actual
purchases of all groups. The identified model with the smallest error is chosen, then fitted again
on the whole history for the prediction. The groups' actual and predicted purchases are stored with
the refresh run, and the Lifetime value tab draws them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from analytics.customers.clv import DAYS_PER_WEEK, ClvFit, clv_summary, fit_clv
from analytics.customers.clv_models import MODEL_NAMES, MODELS, expected_purchases_of, fit_count_model

__all__ = ["HOLDOUT_DAYS", "MIN_HOLDOUT_DAYS", "ModelChoice", "choose_model", "fit_chosen_clv",
           "holdout_days_for"]

HOLDOUT_DAYS = 91
MIN_HOLDOUT_DAYS = 14
TOP_GROUP = 7
# Errors closer than this are a tie, which goes to the model listed first in MODELS (the plain BG/NBD).
TIE = 0.005
# Fewer calibration customers than this, or fewer of them with a repeat purchase, choose nothing.
MIN_CALIBRATION_CUSTOMERS = 10
MIN_CALIBRATION_REPEATERS = 2


@dataclass
class ModelChoice:
    """The outcome of a holdout comparison: the chosen model (``None`` when none was identified), the
    calibration end, the holdout length, the groups' figures and each model's error (``None`` when
    the model could not be fitted)."""

    chosen: str | None
    calibration_end: dt.date
    holdout_days: int
    groups: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, float | None] = field(default_factory=dict)

    def as_metrics(self) -> dict[str, Any]:
        """What the refresh run stores under ``metrics["holdout"]`` (JSON)."""
        return {"chosen": self.chosen, "calibration_end": self.calibration_end.isoformat(),
                "holdout_days": self.holdout_days, "groups": self.groups, "errors": self.errors,
                "names": {kind: MODEL_NAMES[kind] for kind in MODELS}}


def holdout_days_for(first_day: dt.date, as_of: dt.date) -> int | None:
    """Days held out: :data:`HOLDOUT_DAYS` with a year of history or more, else a quarter of it;
    ``None`` when that is under :data:`MIN_HOLDOUT_DAYS`."""
    span = (as_of - first_day).days
    days = HOLDOUT_DAYS if span >= 365 else span // 4
    return days if days >= MIN_HOLDOUT_DAYS else None


def choose_model(purchases: pl.DataFrame, as_of: dt.date) -> ModelChoice | None:
    """Compare the models on the last part of ``purchases`` (``customer_id``, ``day``, ``amount``) up to
    ``as_of``; ``None`` when the history is too short or too thin to hold part of it out."""
    known = purchases.filter(pl.col("day") <= as_of)
    if known.is_empty():
        return None
    holdout = holdout_days_for(known["day"].min(), as_of)
    if holdout is None:
        return None
    end = as_of - dt.timedelta(days=holdout)
    calibration = clv_summary(known, end)
    if (calibration.height < MIN_CALIBRATION_CUSTOMERS
            or calibration.filter(pl.col("frequency") > 0).height < MIN_CALIBRATION_REPEATERS):
        return None
    later = (known.filter(pl.col("day") > end).select("customer_id", "day").unique()
             .group_by("customer_id").len("actual"))
    table = (calibration.join(later, on="customer_id", how="left")
             .with_columns(pl.col("actual").fill_null(0).cast(pl.Float64),
                           pl.col("frequency").clip(upper_bound=TOP_GROUP).alias("group")))
    x, t_x, big_t = (table[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    weeks = holdout / DAYS_PER_WEEK
    predicted: dict[str, np.ndarray] = {}
    for kind in MODELS:
        fit = fit_count_model(kind, x, t_x, big_t, with_covariance=False)
        if fit.identified:
            with np.errstate(all="ignore"):
                values = expected_purchases_of(kind, fit.params, weeks, x, t_x, big_t)
            if np.all(np.isfinite(values)):
                predicted[kind] = values
    table = table.with_columns(*(pl.Series(kind, values) for kind, values in predicted.items()))
    groups = (table.group_by("group").agg(pl.len().alias("customers"), pl.col("actual").sum(),
                                          *(pl.col(kind).sum() for kind in predicted))
              .sort("group"))
    total = float(groups["actual"].sum())
    errors: dict[str, float | None] = {kind: None for kind in MODELS}
    for kind in predicted:
        errors[kind] = float((groups[kind] - groups["actual"]).abs().sum()) / total if total else None
    usable = {kind: e for kind, e in errors.items() if e is not None}
    chosen = None
    if usable:
        best = min(usable.values())
        chosen = next(kind for kind in MODELS if kind in usable and usable[kind] <= best + TIE)
    rows = [{"group": f"{g}+" if g == TOP_GROUP else str(g), "customers": int(n), "actual": float(a),
             "predicted": {kind: float(row[kind]) for kind in predicted}}
            for g, n, a, row in zip(groups["group"], groups["customers"], groups["actual"], groups.iter_rows(named=True))]
    return ModelChoice(chosen, end, holdout, rows, errors)


def fit_chosen_clv(purchases: pl.DataFrame, summary: pl.DataFrame, as_of: dt.date, horizon_days: int) -> ClvFit:
    """The lifetime value of every customer of ``summary`` (the summary of ``purchases`` as of ``as_of``)
    by the model the holdout chose, with the range of each prediction and the holdout's figures in
    ``metrics["holdout"]``. Without a choice (a short or thin history) BG/NBD answers, or BG/NBD with
    priors where BG/NBD cannot; a chosen model that the whole history no longer identifies gives way
    to BG/NBD with priors as well."""
    choice = choose_model(purchases, as_of)
    model = choice.chosen if choice is not None and choice.chosen else "bgnbd"
    fit = fit_clv(summary, horizon_days, model, with_range=True)
    if fit.predictions is None and model != "bgnbd_map":
        fallback = fit_clv(summary, horizon_days, "bgnbd_map", with_range=True)
        if fallback.predictions is not None:
            fallback.metrics["instead_of"] = {"model": model, "warnings": fit.warnings}
            fit = fallback
    if choice is not None:
        fit.metrics["holdout"] = choice.as_metrics()
    return fit

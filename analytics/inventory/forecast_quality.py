"""How good the last refresh's forecasts were on the backtest they were chosen on, in words.

One definition for the Inventory page's forecast card, its Demand forecasts
tab and anything else that reports forecast accuracy. All figures come from
the newest run's rows of ``forecast_accuracy`` (every candidate's score per
variant) and the backtest windows that run recorded in ``model_runs``:

- **vs naive**: Σ over the scored variants of the chosen model's mean
  absolute error ÷ the same Σ for seasonal naive (the same weekday last
  week) on the same days, − 1: −25 % means a quarter less error than
  the naive forecast;
- **beats naive**: the share of scored variants whose chosen model's error
  is below seasonal naive's;
- **bias**: Σ(forecast − actual) ÷ Σ actual pooled over the variants
  (positive: the forecasts ran high);
- **coverage**: the share of the scored days inside the 90 % interval.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from data.warehouse import Warehouse

NAIVE = "SeasonalNaive"

_SQL = """
SELECT variant_id, model, chosen, mae, bias, actual_units, coverage, scored_days FROM forecast_accuracy
WHERE store_id = :store_id AND mae IS NOT NULL
  AND generated_at = (SELECT MAX(generated_at) FROM forecast_accuracy WHERE store_id = :store_id)
  AND (chosen OR model = :naive)
"""


def _pct(ratio: float, signed: bool = False) -> str:
    """A share in whole percent (0.318 → ``32%``, ``+32%`` with ``signed``)."""
    return f"{ratio:+.0%}" if signed else f"{ratio:.0%}"


@dataclass(frozen=True)
class ForecastQuality:
    variants: int
    vs_naive: float | None
    beats_naive: float | None
    bias: float | None
    coverage: float | None
    windows: tuple[dict, ...] = ()

    def verdict(self) -> str:
        """One sentence: how the forecasts compared with the naive forecast."""
        if self.vs_naive is None or self.beats_naive is None:
            return "No backtest to judge the forecasts by yet."
        size = _pct(abs(self.vs_naive))
        if abs(self.vs_naive) < 0.005:
            lead = "As accurate as the naive forecast (the same weekday last week)"
        elif self.vs_naive < 0:
            lead = f"{size} less error than the naive forecast (the same weekday last week)"
        else:
            lead = f"{size} more error than the naive forecast (the same weekday last week)"
        return (f"{lead}; better than it for {_pct(self.beats_naive)} of "
                f"{self.variants:,} variants.")

    def bias_words(self) -> str:
        if self.bias is None:
            return "Bias: none measured."
        if abs(self.bias) < 0.005:
            return "No bias: the forecasts' total matched what sold."
        way = "high" if self.bias > 0 else "low"
        return f"Bias {_pct(self.bias, signed=True)}: the forecasts ran {way}."

    def coverage_words(self, level: int = 90) -> str:
        if self.coverage is None:
            return "Interval coverage: none measured."
        return f"The {level}% intervals held {_pct(self.coverage)} of the days."

    def measured_on(self) -> str:
        """Which days the figures were measured on, in words."""
        parts = []
        for w in self.windows:
            first, last = dt.date.fromisoformat(w["first"]), dt.date.fromisoformat(w["last"])
            span = f"{first:%-d %b %Y} – {last:%-d %b %Y}"
            parts.append(f"{span} (last year's same season, {w['variants']:,} variants)" if w["window"] == "year_ago"
                         else span)
        if not parts:
            return "Measured on the backtest the models were chosen on."
        return "Measured on the backtest the models were chosen on: " + " and ".join(parts) + "."


def quality_from_rows(rows: pl.DataFrame, windows: list[dict] | tuple = ()) -> ForecastQuality:
    """:class:`ForecastQuality` of ``rows`` (``variant_id, model, chosen, mae, bias, actual_units, coverage,
    scored_days``: the chosen model's and seasonal naive's row per variant)."""
    chosen = rows.filter(pl.col("chosen"))
    naive = rows.filter(pl.col("model") == NAIVE).select("variant_id", pl.col("mae").alias("naive_mae"))
    both = chosen.join(naive, on="variant_id", how="inner")
    vs = beats = None
    if both.height and both["naive_mae"].sum() > 0:
        vs = float(both["mae"].sum() / both["naive_mae"].sum() - 1)
        beats = float((both["mae"] < both["naive_mae"]).mean())
    with_bias = chosen.filter(pl.col("bias").is_not_null() & (pl.col("actual_units") > 0))
    units = with_bias["actual_units"].sum() if with_bias.height else 0
    bias = float((with_bias["bias"] * with_bias["actual_units"]).sum() / units) if units else None
    with_cover = chosen.filter(pl.col("coverage").is_not_null() & (pl.col("scored_days") > 0))
    days = with_cover["scored_days"].sum() if with_cover.height else 0
    coverage = float((with_cover["coverage"] * with_cover["scored_days"]).sum() / days) if days else None
    return ForecastQuality(both.height if vs is not None else chosen.height, vs, beats, bias, coverage,
                           tuple(windows))


def forecast_quality(wh: Warehouse, store_id: str, run: dict[str, Any] | None = None) -> ForecastQuality | None:
    """The newest forecast run's accuracy (``None`` before any backtest). ``run``: that run's
    :func:`analytics.refresh.latest_run` row, for the windows it recorded."""
    rows = wh.query(_SQL, {"store_id": store_id, "naive": NAIVE})
    if rows.height == 0:
        return None
    rows = rows.with_columns(pl.col("chosen").cast(pl.Boolean), *[pl.col(c).cast(pl.Float64) for c in (
        "mae", "bias", "actual_units", "coverage")], pl.col("scored_days").cast(pl.Int64))
    windows = ((run or {}).get("metrics") or {}).get("backtest") or []
    return quality_from_rows(rows, windows)

"""Simple exponential smoothing of a weekday-adjusted series: a cheap level-and-season model.

statsforecast's ``SeasonalExponentialSmoothingOptimized`` smooths each weekday
on its own, so each of its seven levels learns from a seventh of the days;
ETS with a seasonal component shares one level across the week but costs
about 18 ms a series here (10,000 variants, refitted for every backtest
origin, would take minutes). This model is the classical-decomposition middle
way, at the cost of one SES fit:

1. **Weekday indices.** Index of weekday ``j`` = mean demand on the series'
   days of that weekday ÷ mean demand over all its days (1 for every weekday
   when the series never sold).
2. **Level.** statsforecast's ``SimpleExponentialSmoothingOptimized`` (α
   chosen by squared error) on demand ÷ index, the days of a weekday that
   never sold (index 0, a shop closed on Sundays say) left out.
3. **Forecast.** The level × the index of each coming day's weekday: 0 on a
   weekday that never sold.

Weekdays are positions modulo the season length counted from the series'
first day, which is how statsforecast hands a series over (values only).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from statsforecast.models import SimpleExponentialSmoothingOptimized


def weekday_indices(y: np.ndarray, season_length: int) -> np.ndarray:
    """Mean of each season position ÷ the overall mean (all 1 when the mean is 0)."""
    mean = float(y.mean()) if len(y) else 0.0
    if mean <= 0:
        return np.ones(season_length)
    phase = np.arange(len(y)) % season_length
    return np.array([y[phase == j].mean() / mean if np.any(phase == j) else 1.0 for j in range(season_length)])


class DeseasonalizedSES(SimpleExponentialSmoothingOptimized):
    """SES on demand ÷ weekday index, forecasts multiplied back (see the module docstring)."""

    def __init__(self, season_length: int = 7, alias: str = "DeseasonalizedSES") -> None:
        super().__init__(alias=alias)
        self.season_length = season_length

    def _parts(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices, the index of every day of ``y``, and which days the level learns from."""
        index = weekday_indices(y, self.season_length)
        daily = index[np.arange(len(y)) % self.season_length]
        return index, daily, daily > 0

    def _ahead(self, index: np.ndarray, n: int, h: int) -> np.ndarray:
        return index[np.arange(n, n + h) % self.season_length]

    def forecast(self, y: np.ndarray, h: int, X: Any = None, X_future: Any = None, level: Any = None,
                 fitted: bool = False) -> dict:
        y = np.asarray(y, dtype=float)
        index, daily, used = self._parts(y)
        res = super().forecast(y=y[used] / daily[used], h=h, fitted=fitted)
        out = {"mean": res["mean"] * self._ahead(index, len(y), h)}
        if fitted:
            full = np.zeros(len(y))
            full[used] = res["fitted"] * daily[used]
            out["fitted"] = full
        return out

    def fit(self, y: np.ndarray, X: Any = None) -> "DeseasonalizedSES":
        y = np.asarray(y, dtype=float)
        index, daily, used = self._parts(y)
        self.index_, self.n_ = index, len(y)
        super().fit(y[used] / daily[used])
        return self

    def predict(self, h: int, X: Any = None, level: Any = None) -> dict:
        return {"mean": super().predict(h)["mean"] * self._ahead(self.index_, self.n_, h)}

    def predict_in_sample(self, level: Any = None) -> dict:
        raise NotImplementedError("DeseasonalizedSES keeps no in-sample fit")

"""The weekday-adjusted SES model, worked by hand on exact weekly patterns."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.inventory.seasonal_ses import DeseasonalizedSES, weekday_indices


def test_an_exact_weekly_pattern_is_forecast_exactly():
    # Eight weeks of 2 on five days and 10 on two: the mean is (5 × 2 + 2 × 10) / 7 = 30/7, so the indices are
    # 2 ÷ 30/7 = 7/15 and 10 ÷ 30/7 = 7/3. Demand ÷ index is 30/7 every day, SES keeps that level, and the
    # forecast is the pattern again, continuing from where the series stopped (it ends on a weekday, position 2).
    week = [2.0, 2.0, 2.0, 2.0, 2.0, 10.0, 10.0]
    y = np.array(week * 8 + week[:3])
    assert weekday_indices(y[:56], 7) == pytest.approx([7 / 15] * 5 + [7 / 3] * 2)
    ahead = DeseasonalizedSES().forecast(y, h=9)["mean"]
    assert ahead == pytest.approx([2.0, 2.0, 10.0, 10.0, 2.0, 2.0, 2.0, 2.0, 2.0])


def test_a_weekday_that_never_sells_is_forecast_zero_and_leaves_the_level_alone():
    # Closed on the seventh day: 6 on each of the other six, so the mean is 36/7 and their index 7/6. The level
    # learns only from the open days (36/7 each), so they are forecast 6, not dragged down by the closed day.
    y = np.array([6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 0.0] * 6)
    model = DeseasonalizedSES().fit(y)
    assert model.predict(h=7)["mean"] == pytest.approx([6.0] * 6 + [0.0])
    assert DeseasonalizedSES().forecast(y, h=7)["mean"] == pytest.approx([6.0] * 6 + [0.0])


def test_a_series_that_never_sold_is_forecast_zero():
    assert DeseasonalizedSES().forecast(np.zeros(30), h=3)["mean"] == pytest.approx([0.0, 0.0, 0.0])


def test_the_level_follows_a_step():
    # Flat 4 for ten weeks, then 8 for three: the level moves towards 8 (SES with an optimised α).
    y = np.array([4.0] * 70 + [8.0] * 21)
    ahead = DeseasonalizedSES().forecast(y, h=7)["mean"]
    assert np.all(ahead > 7.0) and np.all(ahead < 8.5)

"""The Goals page under AppTest on the store of ``tests/test_goals.py`` with its goals saved."""

from __future__ import annotations

import datetime as dt

from analytics.goals.choices import save_goals
from tests.app_support import app, app_store, texts  # noqa: F401 - app_store is a fixture
from tests.test_goals import GOALS, build_goal_store


def goal_store(wh) -> None:
    build_goal_store(wh)
    # A goal period long enough to be under way whenever the test runs.
    save_goals(wh, "s", GOALS.__class__(GOALS.baseline_start, GOALS.baseline_end, dt.date(2030, 12, 31)))


def test_the_cards_show_each_measure_against_its_baseline(app_store):
    app_store(goal_store)
    at = app("pages/goals.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    values = {m.label: m.value for m in at.metric}
    # The baseline's 100.00 over 6 days; a conversion rate of 1 in 4 sessions.
    text = texts(at)
    assert "Baseline $16.67 a day · target +25.0%" in text
    assert "Baseline 25.0% · target +15.0%" in text
    assert set(values) == {"Revenue growth", "Conversion rate", "Repeat-purchase rate", "Stockout days"}
    assert "Baseline 23–28 Feb 2026" in text


def test_an_analyst_sees_the_goals_but_cannot_change_them(app_store):
    app_store(goal_store)
    at = app("pages/goals.py", user="analyst")
    at.run()
    assert not at.exception
    assert "Only an owner can change this" in texts(at)
    assert not at.button

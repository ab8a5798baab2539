"""The goals panel's figures on the store of ``tests/marketing_store.py``, worked out by hand.

Baseline 23–28 February 2026: order f1 (2 × 50.00, c9's only order) and four sessions, f1 bought in one.
Goal period 1–12 March, as of 7 March: so far 1–6 March (half the period). A year earlier (364 days):
ly1 50.00 on 25 Feb 2025 (in the baseline's weeks), ly2 100.00 on 3 Mar 2025 (in the weeks so far).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import polars as pl
import pytest

from analytics.goals.choices import GoalChoices, default_goals, load_goals, save_goals
from analytics.goals.progress import goal_progress
from data.rollups import refresh_sessions, refresh_store
from tests.builders import add_order, utc
from tests.marketing_store import build_marketing_store

GOALS = GoalChoices(dt.date(2026, 2, 23), dt.date(2026, 2, 28), dt.date(2026, 3, 12))
TODAY = dt.date(2026, 3, 7)


def build_goal_store(wh) -> None:
    build_marketing_store(wh)
    add_order(wh, "f1", utc(2026, 2, 24, 15), [(2, "50.00", "0")], customer="c9")
    add_order(wh, "ly1", utc(2025, 2, 25, 15), [(1, "50.00", "0")], customer="c7")
    add_order(wh, "ly2", utc(2025, 3, 3, 15), [(1, "100.00", "0")], customer="c8")
    rows = []
    for n, (bought, day) in enumerate([("f1", 24), (None, 24), (None, 25), (None, 27)]):
        for i, event in enumerate(("session_start", "purchase") if bought else ("session_start",)):
            rows.append({"store_id": "s", "event_id": f"f{n}-{i}", "session_id": f"f{n}", "customer_id": None,
                         "occurred_at": utc(2026, 2, day, 14, i), "event_type": event, "product_id": None,
                         "order_id": bought if event == "purchase" else None, "source": "google",
                         "medium": "cpc", "device": "mobile"})
    wh.insert("web_events", pl.DataFrame(rows, schema_overrides={
        "occurred_at": pl.Datetime("us", "UTC"), "customer_id": pl.String, "product_id": pl.String,
        "order_id": pl.String}))
    refresh_store(wh, "s")
    refresh_sessions(wh, "s", [f"f{n}" for n in range(4)])


def by_key(progress):
    return {m["key"]: m for m in progress["measures"]}


def test_progress_pacing_and_last_years_weeks(wh):
    build_goal_store(wh)
    progress = goal_progress(wh, "s", GOALS, TODAY)
    assert progress["so_far"] == (dt.date(2026, 3, 1), dt.date(2026, 3, 6))
    assert progress["elapsed"] == 0.5  # 6 of 12 days
    m = by_key(progress)
    revenue = m["revenue"]
    # 100.00 ÷ 6 days before, 232.50 ÷ 6 so far: +132.5 %, 5.3 times the +25 % target.
    assert (revenue["baseline"], revenue["current"]) == pytest.approx((100 / 6, 38.75))
    assert (revenue["change"], revenue["progress"], revenue["status"]) == (pytest.approx(1.325), pytest.approx(5.3),
                                                                           "reached")
    # A year earlier the same weeks went from 50.00 to 100.00 (+100 %): 2.325 ÷ 2 − 1 = +16.25 %.
    assert (revenue["last_year_change"], revenue["like_for_like"]) == pytest.approx((1.0, 0.1625))
    # Conversion 1 order ÷ 4 sessions before, 2 ÷ 5 so far: +60 %; last year had no sessions.
    conversion = m["conversion_rate"]
    assert (conversion["baseline"], conversion["current"], conversion["change"]) == pytest.approx((0.25, 0.4, 0.6))
    assert (conversion["last_year_change"], conversion["like_for_like"]) == (None, None)
    # c9 ordered once in the baseline: a rate of 0, which no change can be measured from; no stock recorded.
    assert (m["repeat_purchase_rate"]["baseline"], m["repeat_purchase_rate"]["current"]) == (0.0, 0.5)
    assert m["repeat_purchase_rate"]["status"] == "no data"
    assert (m["stockout_days"]["current"], m["stockout_days"]["status"]) == (None, "no data")


def test_a_target_out_of_reach_is_behind(wh):
    build_goal_store(wh)
    # +132.5 % against a +500 % target: progress 0.265, under the half of the period gone by.
    m = by_key(goal_progress(wh, "s", replace(GOALS, revenue=5.0), TODAY))
    assert (m["revenue"]["progress"], m["revenue"]["status"]) == (pytest.approx(0.265), "behind")


def test_before_the_goal_period_nothing_is_measured_yet(wh):
    build_goal_store(wh)
    progress = goal_progress(wh, "s", GOALS, dt.date(2026, 3, 1))
    assert (progress["so_far"], progress["elapsed"]) == (None, 0.0)
    assert {m["status"] for m in progress["measures"]} == {"not started"}


def test_goals_are_saved_per_store_and_checked(wh):
    build_goal_store(wh)
    assert load_goals(wh, "s", TODAY) == default_goals(TODAY)
    # Goal period: the 12 weeks to yesterday, 13 Dec–6 Mar; baseline the 12 weeks before, 20 Sep–12 Dec.
    defaults = default_goals(TODAY)
    assert (defaults.baseline_start, defaults.baseline_end, defaults.goal_start, defaults.goal_end) == (
        dt.date(2025, 9, 20), dt.date(2025, 12, 12), dt.date(2025, 12, 13), dt.date(2026, 3, 6))
    save_goals(wh, "s", replace(GOALS, conversion_rate=0.2), by="owner")
    assert load_goals(wh, "s", TODAY) == replace(GOALS, conversion_rate=0.2)
    assert load_goals(wh, "other", TODAY) == default_goals(TODAY)


@pytest.mark.parametrize("change, message", [
    pytest.param({"stockout_days": 0.1}, "stockout days target must be a fall", id="stockouts-must-fall"),
    pytest.param({"revenue": -0.1}, "revenue growth target must be a rise", id="revenue-must-rise"),
    pytest.param({"goal_end": dt.date(2026, 2, 1)}, "must end after the baseline", id="goal-before-baseline"),
    pytest.param({"baseline_start": dt.date(2026, 3, 1)}, "baseline must start", id="baseline-reversed"),
])
def test_bad_goals_get_one_sentence(change, message):
    with pytest.raises(ValueError, match=message):
        replace(GOALS, **change).validated()


def test_the_report_folder_has_marketing_csv_and_goals_json(wh, tmp_path):
    import csv
    import json

    from analytics.report import resolve_store, write_report

    build_goal_store(wh)
    save_goals(wh, "s", GOALS)
    write_report(wh, resolve_store(wh, "s"), dt.date(2026, 3, 1), dt.date(2026, 3, 6), tmp_path, charts=False,
                 now=dt.datetime(2026, 3, 7, 12, tzinfo=dt.timezone.utc))
    with (tmp_path / "marketing.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["date", "channel", "sessions", "orders", "conversion_rate", "spend", "revenue", "roas"]
    # 2 March: w1 (google / cpc) bought o1 (85.00) against 30.00 of spend; w3 came from organic search.
    assert [r for r in rows if r[0] == "2026-03-02"] == [
        ["2026-03-02", "google", "1", "1", "1.0", "30.00", "85.00", "2.8333"],
        ["2026-03-02", "organic search", "1", "0", "0.0", "0.00", "0.00", ""]]
    document = json.loads((tmp_path / "goals.json").read_text())
    # As of the report's last day, 6 March: the same figures as test_progress_pacing_and_last_years_weeks.
    assert (document["baseline"], document["so_far"], document["elapsed"]) == (
        {"from": "2026-02-23", "to": "2026-02-28"}, {"from": "2026-03-01", "to": "2026-03-06"}, 0.5)
    revenue = document["measures"]["revenue"]
    assert (revenue["change"], revenue["target"], revenue["progress"], revenue["status"],
            revenue["like_for_like"]) == (1.325, 0.25, 5.3, "reached", 0.1625)

"""The sidebar's date presets, comparisons and ranges in words (pure parts of ui/filters.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.store_state import Store
from ui.filters import PRESETS, comparison_range, describe_range, make_filters, preset_range

D = dt.date
TODAY = D(2026, 11, 25)  # a Wednesday
STORE = Store("s", "Store", "USD", "America/New_York")


@pytest.mark.parametrize(
    "preset, expected",
    [
        pytest.param("today", (D(2026, 11, 25), D(2026, 11, 25)), id="today"),
        pytest.param("yesterday", (D(2026, 11, 24), D(2026, 11, 24)), id="yesterday"),
        pytest.param("last_7_days", (D(2026, 11, 18), D(2026, 11, 24)), id="last-7-days-end-yesterday"),
        pytest.param("last_30_days", (D(2026, 10, 26), D(2026, 11, 24)), id="last-30-days"),
        pytest.param("last_90_days", (D(2026, 8, 27), D(2026, 11, 24)), id="last-90-days"),
        pytest.param("month_to_date", (D(2026, 11, 1), D(2026, 11, 25)), id="month-to-date"),
        pytest.param("quarter_to_date", (D(2026, 10, 1), D(2026, 11, 25)), id="quarter-to-date"),
        pytest.param("year_to_date", (D(2026, 1, 1), D(2026, 11, 25)), id="year-to-date"),
    ],
)
def test_preset_ranges(preset, expected):
    start, end = preset_range(preset, TODAY)
    assert (start, end) == expected
    if preset.startswith("last_"):
        assert (end - start).days + 1 == int(preset.split("_")[1])


def test_every_preset_but_custom_has_a_range():
    for preset in PRESETS:
        if preset != "custom":
            preset_range(preset, TODAY)
    with pytest.raises(ValueError):
        preset_range("custom", TODAY)


def test_quarter_to_date_on_the_first_day_of_a_quarter():
    assert preset_range("quarter_to_date", D(2026, 4, 1)) == (D(2026, 4, 1), D(2026, 4, 1))


@pytest.mark.parametrize(
    "comparison, expected",
    [
        pytest.param("previous_period", (D(2026, 10, 2), D(2026, 10, 31)), id="previous-period-same-length"),
        # 52 weeks back: Sunday 1 Nov 2026 against Sunday 2 Nov 2025.
        pytest.param("previous_year", (D(2025, 11, 2), D(2025, 12, 1)), id="last-year-by-weekday"),
        pytest.param("none", None, id="none"),
    ],
)
def test_comparison_ranges(comparison, expected):
    assert comparison_range(comparison, D(2026, 11, 1), D(2026, 11, 30)) == expected


@pytest.mark.parametrize(
    "start, end, words",
    [
        pytest.param(D(2026, 11, 25), D(2026, 11, 25), "25 Nov 2026", id="one-day"),
        pytest.param(D(2026, 11, 1), D(2026, 11, 30), "1–30 Nov 2026", id="within-a-month"),
        pytest.param(D(2026, 10, 28), D(2026, 11, 3), "28 Oct – 3 Nov 2026", id="across-months"),
        pytest.param(D(2025, 12, 28), D(2026, 1, 3), "28 Dec 2025 – 3 Jan 2026", id="across-years"),
    ],
)
def test_describe_range(start, end, words):
    assert describe_range(start, end) == words


def test_make_filters_writes_the_range_out():
    f = make_filters(STORE, "custom", "previous_period", ("pos", "online_store"), TODAY,
                     custom=(D(2026, 11, 30), D(2026, 11, 1)))
    assert (f.start, f.end, f.compare_start, f.compare_end) == (D(2026, 11, 1), D(2026, 11, 30), D(2026, 10, 2),
                                                                 D(2026, 10, 31))
    assert f.range_label == "1–30 Nov 2026 vs 2–31 Oct 2026"
    assert f.comparison_label == "the previous period"
    assert f.channels == ("online_store", "pos") and f.channel_filter == ("online_store", "pos")
    assert (f.currency, f.timezone, f.days) == ("USD", "America/New_York", 30)

    plain = make_filters(STORE, "yesterday", "none", (), TODAY)
    assert plain.range_label == "24 Nov 2026"
    assert not plain.has_comparison and plain.compare_start is None and plain.channel_filter is None
    assert plain.comparison_short is None


def test_today_compares_with_the_same_weekday_up_to_the_same_time():
    from zoneinfo import ZoneInfo

    now = dt.datetime(2026, 11, 25, 14, 29, 40, tzinfo=ZoneInfo("America/New_York"))
    f = make_filters(STORE, "today", "previous_period", (), TODAY, now=now)
    # Wednesday 25 Nov up to 14:30 (the next whole minute) against Wednesday 18 Nov up to 14:30.
    assert (f.start, f.end, f.compare_start, f.compare_end) == (TODAY, TODAY, D(2026, 11, 18), D(2026, 11, 18))
    assert f.until == dt.datetime(2026, 11, 25, 14, 30, tzinfo=ZoneInfo("America/New_York"))
    assert f.compare_until == dt.datetime(2026, 11, 18, 14, 30, tzinfo=ZoneInfo("America/New_York"))
    assert f.range_label == "Today up to 14:30 vs Wed 18 Nov 2026 up to 14:30"
    assert f.comparison_label == "the same weekday last week up to the same time"
    assert f.comparison_short == "vs last Wed"
    # Last year: 52 weeks back, the same weekday, the same time.
    year = make_filters(STORE, "today", "previous_year", (), TODAY, now=now)
    assert year.compare_start == D(2025, 11, 26) and year.compare_until.time() == dt.time(14, 30)
    assert year.comparison_short == "vs last year"
    alone = make_filters(STORE, "today", "none", (), TODAY, now=now)
    assert not alone.has_comparison and alone.compare_until is None and alone.range_label == "Today up to 14:30"
    # In the day's last minute the cut stays on the day.
    late = make_filters(STORE, "today", "previous_period", (), TODAY, now=now.replace(hour=23, minute=59))
    assert late.start == TODAY and late.until.date() == TODAY and late.compare_until.date() == D(2026, 11, 18)


@pytest.mark.parametrize(
    "params, choices, notes",
    [
        pytest.param({"dates": "yesterday", "compare": "previous_year", "store": "b"},
                     {"preset": "yesterday", "comparison": "previous_year", "store": "b"}, 0, id="presets"),
        pytest.param({"dates": "custom", "from": "2026-11-30", "to": "2026-11-01"},
                     {"preset": "custom", "custom": (D(2026, 11, 1), D(2026, 11, 30))}, 0, id="custom-sorted"),
        pytest.param({"dates": "custom", "from": "30/11/2026", "to": "2026-11-01"}, {}, 1, id="custom-bad-date"),
        pytest.param({"dates": "fortnight", "compare": "yesterday", "store": "zz"}, {}, 3, id="three-bad-values"),
        pytest.param({"channels": "pos,online_store"}, {"channels": ["pos", "online_store"]}, 0, id="channels"),
    ],
)
def test_a_link_makes_the_choices_and_names_what_it_cannot(params, choices, notes):
    from ui.filters import link_choices

    made, said = link_choices(params, {"a", "b"})
    assert made == choices and len(said) == notes
    assert all(s.endswith(".") and "link" in s for s in said)


def test_link_params_leave_defaults_out_and_open_the_same_view():
    from ui.filters import link_choices, link_params

    assert link_params(make_filters(STORE, "last_30_days", "previous_period", (), TODAY), False) == {}
    f = make_filters(STORE, "custom", "none", ("pos",), TODAY, custom=(D(2026, 11, 1), D(2026, 11, 30)))
    params = link_params(f, True)
    assert params == {"store": "s", "dates": "custom", "from": "2026-11-01", "to": "2026-11-30",
                      "compare": "none", "channels": "pos"}
    choices, notes = link_choices(params, {"s"})
    again = make_filters(STORE, choices["preset"], choices["comparison"], tuple(choices["channels"]), TODAY,
                         custom=choices["custom"])
    assert again == f and notes == []

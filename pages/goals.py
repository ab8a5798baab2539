"""Goals: the four success measures over the goal period so far against the baseline, each with its target,
progress and pacing, and the same weeks last year so a season is not taken for progress."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from analytics.formatting import format_money, format_percent
from analytics.goals.choices import MEASURES, GoalChoices, load_goals, save_goals
from analytics.goals.progress import GOAL_DEFINITIONS, goal_progress
from analytics.periods import range_in_words
from ui.cache import cached_by, current_version
from ui.downloads import table_download
from ui.errors import open_warehouse, section
from ui.filters import sidebar_filters, store_now
from ui.login import OWNERS_ONLY, current_user, may_change

QUESTION = "Is the store getting better at what matters (revenue, conversion, repeat purchases, stock), and is " \
           "it more than the season?"
STATUS = {"reached": ("Target reached", "green"), "on pace": ("On pace", "green"), "behind": ("Behind", "orange"),
          "no data": ("Not measurable yet", "gray"), "not started": ("Not started", "gray")}


def shown(key: str, value: float | None, currency: str) -> str:
    """A measure's value as people read it."""
    if value is None:
        return "—"
    if key == "revenue":
        return f"{format_money(value, currency)} a day"
    if key == "stockout_days":
        return f"{value:,.1f} a day"
    return format_percent(value)


def signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


def measure_card(measure: dict[str, Any], currency: str) -> None:
    key = measure["key"]
    label, color = STATUS[measure["status"]]
    with st.container(border=True):
        st.markdown(f"**{measure['label']}** :{color}-badge[{label}]", help=GOAL_DEFINITIONS[key])
        st.metric(measure["label"], shown(key, measure["current"], currency), signed(measure["change"])
                  if measure["change"] is not None else None,
                  delta_color="inverse" if MEASURES[key][2] else "normal", label_visibility="collapsed")
        st.caption(f"Baseline {shown(key, measure['baseline'], currency)} · target {signed(measure['target'])}")
        progress = measure["progress"]
        st.progress(min(max(progress or 0.0, 0.0), 1.0),
                    text=f"{max(progress, 0.0):,.0%} of the target, {measure['expected']:,.0%} of the period gone"
                    if progress is not None else "No progress to measure")
        if measure["last_year_change"] is not None:
            st.caption(f"Same weeks last year {signed(measure['last_year_change'])}; like for like "
                       f"{signed(measure['like_for_like'])}")
        else:
            st.caption("No figures for the same weeks last year.")


def goals_form(wh, store_id: str, goals: GoalChoices) -> None:
    if not may_change():
        st.caption(OWNERS_ONLY)
        return
    with st.form("goals_form"):
        cols = st.columns(2)
        baseline = cols[0].date_input("Baseline period", (goals.baseline_start, goals.baseline_end),
                                      help="What \"before\" means: the figures the goals improve on.")
        goal_end = cols[1].date_input("Goal period ends", goals.goal_end,
                                      help="The goal period starts the day after the baseline.")
        targets = {}
        target_cols = st.columns(4)
        for col, (key, (label, _, _)) in zip(target_cols, MEASURES.items()):
            targets[key] = col.number_input(f"{label} target (%)", -99.0, 1000.0, goals.target(key) * 100, 5.0,
                                            key=f"goals_target_{key}")
        if st.form_submit_button("Save goals"):
            if not isinstance(baseline, tuple) or len(baseline) != 2:
                st.error("Pick the baseline's first and last day.")
                return
            user = current_user()
            try:
                save_goals(wh, store_id, GoalChoices(baseline[0], baseline[1], goal_end,
                                                     **{k: v / 100 for k, v in targets.items()}),
                           by=user.username if user else None)
                st.rerun()
            except ValueError as exc:
                st.error(str(exc))


def progress_frame(progress: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(progress["measures"], schema={
        "key": pl.String, "label": pl.String, "baseline": pl.Float64, "current": pl.Float64, "change": pl.Float64,
        "target": pl.Float64, "progress": pl.Float64, "expected": pl.Float64, "status": pl.String,
        "last_year_change": pl.Float64, "like_for_like": pl.Float64})


# -- the page ----------------------------------------------------------------------------------

wh = open_warehouse()
filters = sidebar_filters(wh)
st.title("Goals")
st.caption(QUESTION)
today = store_now(filters.timezone).date()

with section("The goals"):
    goals = load_goals(wh, filters.store_id, today)
    stamp = (current_version(wh, filters.store_id).everything, goals)
    progress = cached_by(stamp, goal_progress, wh, filters.store_id, goals, today)
    so_far = progress["so_far"]
    st.markdown(f"**Baseline {range_in_words(*progress['baseline'])}** · goal period "
                f"{range_in_words(*progress['goal'])} · "
                + (f"so far {range_in_words(*so_far)} ({format_percent(progress['elapsed'])} of it)" if so_far
                   else "not started yet"))
    st.caption("The sidebar's dates do not apply here: the goals have their own periods, which an owner sets "
               "below. Pacing expects a target to be reached evenly over the goal period.")
    with st.container(horizontal=True, gap="small"):
        for measure in progress["measures"]:
            with st.container(width=300):
                measure_card(measure, filters.currency)
    table_download(progress_frame(progress), "goals", filters)

with section("Set the goals"):
    st.subheader("Set the goals", help="Targets are changes against the baseline: +25 % revenue, +15 % "
                 "conversion rate, +30 % repeat-purchase rate, −40 % stockout days unless an owner sets others.")
    goals_form(wh, filters.store_id, goals)

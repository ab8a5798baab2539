"""The marketing and goals section of the report folder.

- ``marketing.csv``: one row per day and channel of the range
  (:func:`analytics.marketing.figures.daily_by_channel`): ``date``, ``channel``,
  ``sessions``, ``orders``, ``conversion_rate``, ``spend``, ``revenue`` and
  ``roas`` (money with two decimals, ratios with four, empty without a
  denominator);
- ``goals.json``: the goals as of the day after the range (so the goal period
  counts up to the range's last day): the baseline and goal periods, the share
  gone by and per measure its baseline, figure so far, change, target,
  progress, status and the same weeks last year.
"""

from __future__ import annotations

import datetime as dt
import html

import polars as pl

from analytics.goals.choices import load_goals
from analytics.goals.progress import GOAL_DEFINITIONS, goal_progress
from analytics.marketing.figures import daily_by_channel
from analytics.report import ReportContext, ReportSection, SectionOutput, csv_file, html_table, json_file, money_column

MARKETING_COLUMNS = ("date", "channel", "sessions", "orders", "conversion_rate", "spend", "revenue", "roas")


def marketing_frame(ctx: ReportContext) -> pl.DataFrame:
    frame = daily_by_channel(ctx.wh, ctx.store.store_id, ctx.start, ctx.end)
    return frame.with_columns(money_column("spend", frame["spend"].to_list()),
                              money_column("revenue", frame["revenue"].to_list()),
                              pl.col("conversion_rate").round(4), pl.col("roas").round(4)).select(MARKETING_COLUMNS)


def _rounded(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def goals_document(ctx: ReportContext) -> dict:
    today = ctx.end + dt.timedelta(days=1)
    goals = load_goals(ctx.wh, ctx.store.store_id, today)
    progress = goal_progress(ctx.wh, ctx.store.store_id, goals, today)

    def period(pair):
        return None if pair is None else {"from": pair[0].isoformat(), "to": pair[1].isoformat()}

    return {
        "store": ctx.store.store_id, "currency": ctx.store.currency, "as_of": ctx.end.isoformat(),
        "baseline": period(progress["baseline"]), "goal_period": period(progress["goal"]),
        "so_far": period(progress["so_far"]), "elapsed": _rounded(progress["elapsed"]),
        "measures": {m["key"]: {
            "label": m["label"], "baseline": _rounded(m["baseline"]), "current": _rounded(m["current"]),
            "change": _rounded(m["change"]), "target": m["target"], "progress": _rounded(m["progress"]),
            "status": m["status"], "last_year_change": _rounded(m["last_year_change"]),
            "like_for_like": _rounded(m["like_for_like"]), "definition": GOAL_DEFINITIONS[m["key"]],
        } for m in progress["measures"]},
    }


def build(ctx: ReportContext) -> SectionOutput:
    document = goals_document(ctx)

    def signed(value):
        return "—" if value is None else f"{value:+.1%}"

    rows = [(m["label"], signed(m["change"]), signed(m["target"]), m["status"], signed(m["like_for_like"]))
            for m in document["measures"].values()]
    note = (f"<p>Goals: baseline {html.escape(document['baseline']['from'])} to "
            f"{html.escape(document['baseline']['to'])}, goal period to {html.escape(document['goal_period']['to'])}."
            " Definitions in docs/METRICS.md (Goals, Marketing).</p>")
    return SectionOutput(
        files={"marketing.csv": csv_file(marketing_frame(ctx)), "goals.json": json_file(document)},
        html=note + html_table(("Measure", "Change", "Target", "Status", "Like for like"), rows,
                               numeric=(False, True, True, False, True)),
    )


SECTIONS = [ReportSection("goals", "Marketing and goals", build)]

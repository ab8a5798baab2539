"""Plotly figures of the customer analyses, shared by the Customers page and the report.

Values are drawn as floats; hover texts carry the formatted figures. They come
without a template: the page styles them with its own, the report with
``REPORT_TEMPLATE`` (applying plotly's plotly_white costs about 15 ms a figure,
on every render of the page).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import polars as pl

from analytics.customers.rfm import NOT_SCORED, SEGMENTS
from analytics.formatting import format_count, format_money, format_percent

BLUE, ORANGE, GREY = "#0072B2", "#E69F00", "#8C8C8C"
REPORT_TEMPLATE = "plotly_white"


def _layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(title=title, margin=dict(l=8, r=8, t=60, b=8), showlegend=False)
    return fig


def segment_bars(summary: pl.DataFrame, currency: str) -> go.Figure:
    """Customers per segment (bars) with each segment's share of net sales in the hover."""
    shown = summary.filter(pl.col("customers") > 0)
    hover = [f"{s}: {format_count(c)} customers, {format_money(m, currency)} net sales "
             f"({format_percent(r) if r is not None else '–'} of the total)"
             for s, c, m, r in shown.select("segment", "customers", "monetary", "revenue_share").iter_rows()]
    fig = go.Figure(go.Bar(x=shown["customers"].to_list(), y=shown["segment"].to_list(), orientation="h",
                           marker_color=BLUE, hovertext=hover, hoverinfo="text"))
    fig.update_yaxes(autorange="reversed", ticksuffix="  ")
    fig.update_xaxes(title="Customers", tickformat=",d")
    top = shown.sort("monetary", descending=True).row(0, named=True) if shown.height else None
    title = (f"{top['segment']} customers bring {format_percent(top['revenue_share'])} of net sales"
             if top and top["revenue_share"] is not None else "Customers per segment")
    return _layout(fig, title)


def retention_heatmap(cohorts: pl.DataFrame) -> go.Figure:
    """Cohorts (rows) × months since the first order (columns), coloured by retention."""
    # Month 0 is 100 % by definition: left out.
    months = sorted(set(cohorts["months_since_first"].to_list()) - {0})
    labels = [f"{c:%b %Y} ({format_count(n)})" for c, n in
              cohorts.select("cohort", "customers").unique().sort("cohort").iter_rows()]
    cohort_list = sorted(set(cohorts["cohort"].to_list()))
    grid = {(r["cohort"], r["months_since_first"]): r for r in cohorts.iter_rows(named=True)}
    z, text = [], []
    for cohort in cohort_list:
        row_z, row_t = [], []
        for k in months:
            cell = grid.get((cohort, k))
            value = None if cell is None else cell["retention"]
            row_z.append(value)
            row_t.append("" if value is None else f"{value * 100:.0f}%" + ("" if cell["complete"] else "*"))
        z.append(row_z)
        text.append(row_t)
    fig = go.Figure(go.Heatmap(z=z, x=[str(k) for k in months], y=labels, text=text, texttemplate="%{text}",
                               colorscale="Blues", showscale=False, hoverongaps=False,
                               hovertemplate="%{y}, month %{x}: %{text} ordered<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title="Months since the first order", type="category")
    return _layout(fig, "Share of each cohort who ordered again, month by month (* month not over)")


def funnel_bars(table: pl.DataFrame, previous: pl.DataFrame | None = None) -> go.Figure:
    """Sessions reaching each step, with the comparison period's shares as a lighter bar."""
    fig = go.Figure(go.Bar(
        x=table["label"].to_list(), y=[v or 0 for v in table["share_of_sessions"].to_list()], name="This period",
        marker_color=BLUE, text=[format_count(v) for v in table["sessions"].to_list()], textposition="outside",
        hovertext=[f"{label}: {format_count(n)} sessions" for label, n in table.select("label", "sessions").iter_rows()],
        hoverinfo="text"))
    if previous is not None:
        fig.add_trace(go.Bar(x=previous["label"].to_list(), y=[v or 0 for v in previous["share_of_sessions"].to_list()],
                             name="Comparison", marker_color=GREY, opacity=0.55))
        fig.update_layout(showlegend=True)
    fig.update_yaxes(title="Share of sessions", tickformat=".0%")
    last = table.row(-1, named=True)
    title = (f"{format_percent(last['share_of_sessions'])} of sessions ended in a purchase"
             if last["share_of_sessions"] is not None else "Sessions by funnel step")
    _layout(fig, title)
    if previous is not None:
        fig.update_layout(showlegend=True, barmode="group")
    return fig


def clv_histogram(counts: Sequence[int], edges: Sequence[float], currency: str, horizon_days: int) -> go.Figure:
    """How predicted lifetime value over the horizon is spread over customers: ``counts`` customers in the
    bins between ``edges`` (counted in SQL: a page never sends every customer's value to the browser)."""
    counts, edges = np.asarray(counts, dtype=np.int64), np.asarray(edges, dtype=float)
    fig = go.Figure(go.Bar(
        x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), marker_color=BLUE,
        customdata=np.stack([edges[:-1], edges[1:]], axis=1) if len(counts) else None,
        hovertemplate="%{customdata[0]:,.2f} to %{customdata[1]:,.2f}: %{y:,d} customers<extra></extra>"))
    fig.update_xaxes(title=f"Predicted value over {horizon_days} days ({currency})")
    fig.update_yaxes(title="Customers", tickformat=",d")
    return _layout(fig, f"Predicted lifetime value over the next {horizon_days} days")


def clv_holdout_bars(holdout: dict) -> go.Figure:
    """The holdout the lifetime value model was chosen on (``metrics["holdout"]`` of the refresh run):
    per group of customers by their repeat purchases before the holdout, the repeat purchases they
    made in it against those the chosen model predicted."""
    groups, chosen = holdout["groups"], holdout["chosen"]
    labels = [g["group"] for g in groups]
    name = holdout.get("names", {}).get(chosen, chosen)
    fig = go.Figure([
        go.Bar(x=labels, y=[g["actual"] for g in groups], name="Actual", marker_color=BLUE,
               hovertemplate="%{y:,.0f} repeat purchases made<extra></extra>"),
        go.Bar(x=labels, y=[g["predicted"].get(chosen) for g in groups], name=f"Predicted by {name}",
               marker_color=ORANGE, hovertemplate="%{y:,.1f} predicted<extra></extra>"),
    ])
    fig.update_xaxes(title="Repeat purchases before the held-out days", type="category")
    fig.update_yaxes(title="Repeat purchases in the held-out days", tickformat=",d")
    _layout(fig, f"Predicted against actual repeat purchases over the {holdout['holdout_days']} days held out")
    fig.update_layout(showlegend=True, barmode="group")
    return fig


def movement_heatmap(movement: pl.DataFrame) -> go.Figure:
    """Customers moving from one segment (rows) to another (columns)."""
    order = [*SEGMENTS, NOT_SCORED]
    froms = [s for s in order if s in set(movement["from_segment"].to_list())]
    tos = [s for s in order if s in set(movement["to_segment"].to_list())]
    cells = {(f, t): n for f, t, n in movement.iter_rows()}
    z = [[cells.get((f, t)) for t in tos] for f in froms]
    fig = go.Figure(go.Heatmap(z=z, x=tos, y=froms, colorscale="Blues", showscale=False, texttemplate="%{z}",
                               hoverongaps=False, hovertemplate="%{y} → %{x}: %{z} customers<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title="Before")
    fig.update_xaxes(title="Now")
    return _layout(fig, "Where each segment's customers went")

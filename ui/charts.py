"""One look for every chart: a plotly template, the Okabe-Ito palette
(colour-blind safe), comparison periods lighter and dashed, store-local dates
on the axes, titles that state the finding.

The builders take frames of figures (money as ``Decimal``) and return plotly
figures; hover labels carry the exactly formatted money, the plotted values
are floats for drawing only. Nothing here computes a metric.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from typing import Any, Sequence

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from analytics.formatting import SYMBOLS, format_count, format_money, format_percent

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
)
PALETTE = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK)
GREY = "#8C8C8C"
COMPARISON_OPACITY = 0.55
HEAT_SCALE = "Blues"

TEMPLATE_NAME = "storefront"
DARK_TEMPLATE_NAME = "storefront_dark"
HEIGHT = 340
TITLE_WIDTH = 48  # characters per title line: keeps titles inside a 390 px phone screen

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DATE_FORMATS = {"hour": "%H:%M", "day": "%-d %b", "week": "%-d %b", "month": "%b %Y"}
_HOVER_DATES = {"hour": "%a %-d %b %H:%M", "day": "%a %-d %b %Y", "week": "week of %-d %b %Y", "month": "%B %Y"}


# The two looks: light (the default, and every PNG) and dark, for a browser in a dark theme.
# Dark keeps the palette (Okabe-Ito reads on both), swaps black for a light grey, and lets the
# page's own background show through.
_LOOKS = {
    "light": dict(text="#262730", grid="#E6E6E6", line="#BDBDBD", paper="white", hover="white", ink=BLACK),
    "dark": dict(text="#FAFAFA", grid="#31333F", line="#555867", paper="rgba(0,0,0,0)", hover="#262730",
                 ink="#E6E6E6"),
}


def _template(look: str = "light") -> go.layout.Template:
    colours = _LOOKS[look]
    axis = dict(showgrid=True, gridcolor=colours["grid"], zeroline=False, linecolor=colours["line"], ticks="",
                automargin=True, title=dict(standoff=8))
    return go.layout.Template(layout=go.Layout(
        colorway=[colours["ink"] if c == BLACK else c for c in PALETTE],
        font=dict(family="Source Sans Pro, Helvetica, Arial, sans-serif", size=13, color=colours["text"]),
        title=dict(font=dict(size=15), x=0, xanchor="left", y=0.97, yanchor="top", pad=dict(l=8)),
        paper_bgcolor=colours["paper"], plot_bgcolor=colours["paper"],
        margin=dict(l=8, r=8, t=64, b=8),
        height=HEIGHT,
        xaxis=axis, yaxis=axis,
        # Below the plot: a legend that wraps on a phone then pushes the margin, not into the title.
        legend=dict(orientation="h", x=0, xanchor="left", y=-0.12, yanchor="top", title=dict(text="")),
        hoverlabel=dict(bgcolor=colours["hover"], font=dict(size=13, color=colours["text"])),
        hovermode="closest",
        separators=".,",
    ))


pio.templates[TEMPLATE_NAME] = _template("light")
pio.templates[DARK_TEMPLATE_NAME] = _template("dark")


def wrap_title(title: str, width: int = TITLE_WIDTH) -> str:
    """A title broken into lines of at most ``width`` characters (plotly does not wrap)."""
    return "<br>".join(textwrap.wrap(title, width)) or title


def style(fig: go.Figure, title: str, *, height: int = HEIGHT) -> go.Figure:
    """The house template and a wrapped title (more top margin for a second line)."""
    wrapped = wrap_title(title)
    lines = wrapped.count("<br>") + 1
    fig.update_layout(template=TEMPLATE_NAME, title=dict(text=wrapped), height=height,
                      margin=dict(t=30 + 20 * lines))
    return fig


def money_axis(currency: str) -> dict[str, Any]:
    """Axis settings for money: the currency symbol and thousands separators, no decimals."""
    symbol = SYMBOLS.get(currency.upper(), currency.upper() + " ")
    return dict(tickprefix=symbol, tickformat=",.0f")


def as_float(values: Sequence[Any]) -> list[float]:
    return [float(v) if v is not None else 0.0 for v in values]


def describe_value(value: Any, kind: str, currency: str) -> str:
    """A figure as people read it: ``money``, ``count``, ``ratio`` or ``text`` (shown as it is)."""
    if kind == "text":
        return str(value)
    if kind == "money":
        return format_money(value, currency)
    if kind == "ratio":
        return format_percent(value)
    return format_count(value)


def finding_title(label: str, relative_change: Decimal | None, comparison_words: str, fallback: str) -> str:
    """``Net sales up 12.3% on the previous period``; ``fallback`` when there is nothing to compare."""
    if not comparison_words or relative_change is None:
        return fallback
    if abs(relative_change) < Decimal("0.0005"):
        return f"{label} flat on {comparison_words}"
    direction = "up" if relative_change > 0 else "down"
    return f"{label} {direction} {format_percent(abs(relative_change))} on {comparison_words}"


# -- figures -------------------------------------------------------------------------------

def time_series(
    periods: Sequence[dt.date],
    values: Sequence[Any],
    *,
    title: str,
    label: str,
    kind: str,
    currency: str,
    grain: str,
    comparison_periods: Sequence[dt.date] | None = None,
    comparison_values: Sequence[Any] | None = None,
    comparison_label: str = "Comparison",
) -> go.Figure:
    """A figure over time, with the comparison period overlaid by position.

    The n-th bucket of the comparison is drawn over the n-th bucket of the
    range (day 1 over day 1), lighter and dashed, its own dates in the hover.
    """
    fig = go.Figure()
    hover = [f"{p:{_HOVER_DATES[grain]}}: {describe_value(v, kind, currency)}" for p, v in zip(periods, values)]
    if comparison_periods is not None and comparison_values is not None:
        n = min(len(periods), len(comparison_periods))
        fig.add_trace(go.Scatter(
            x=list(periods[:n]), y=as_float(comparison_values[:n]), name=comparison_label, mode="lines",
            line=dict(color=BLUE, width=2, dash="dash"), opacity=COMPARISON_OPACITY,
            hovertext=[f"{p:{_HOVER_DATES[grain]}}: {describe_value(v, kind, currency)}"
                       for p, v in zip(comparison_periods[:n], comparison_values[:n])],
            hoverinfo="text",
        ))
    fig.add_trace(go.Scatter(
        x=list(periods), y=as_float(values), name=label, mode="lines+markers" if len(periods) <= 40 else "lines",
        line=dict(color=BLUE, width=3), marker=dict(size=5), hovertext=hover, hoverinfo="text",
    ))
    fig.update_xaxes(tickformat=_DATE_FORMATS[grain], title=None, ticklabelstandoff=6)
    fig.update_yaxes(rangemode="tozero", title=None, **(money_axis(currency) if kind == "money" else {}))
    fig.update_layout(hovermode="x unified" if comparison_periods is not None else "closest")
    return style(fig, title)


def waterfall(steps: Sequence[tuple[str, Decimal, str]], *, title: str, currency: str) -> go.Figure:
    """``steps`` are ``(label, amount, measure)`` with measure ``absolute``, ``relative`` or ``total``."""
    fig = go.Figure(go.Waterfall(
        x=[s[0] for s in steps],
        y=[float(s[1]) for s in steps],
        measure=[s[2] for s in steps],
        text=[format_money(s[1], currency) for s in steps],
        textposition="outside",
        hovertext=[f"{s[0]}: {format_money(s[1], currency)}" for s in steps],
        hoverinfo="text",
        increasing=dict(marker=dict(color=GREEN)),
        decreasing=dict(marker=dict(color=VERMILLION)),
        totals=dict(marker=dict(color=BLUE)),
        connector=dict(line=dict(color=GREY, width=1)),
        cliponaxis=False,
    ))
    fig.update_yaxes(title=None, **money_axis(currency))
    fig.update_xaxes(title=None)
    fig.update_layout(showlegend=False)
    return style(fig, title, height=380)


def ranked_bars(labels: Sequence[str], values: Sequence[Any], *, title: str, kind: str, currency: str,
                shares: Sequence[Decimal | None] | None = None) -> go.Figure:
    """Horizontal bars, largest at the top, each labelled with its share (or value when there are no shares).

    The labels stay short so they fit beside the bars on a phone; the hover
    and the table beside the chart carry the amounts.
    """
    amounts = [describe_value(v, kind, currency) for v in values]
    if shares is not None:
        text = [format_percent(s) if s is not None else a for a, s in zip(amounts, shares)]
    else:
        text = amounts
    floats = as_float(values)
    top = max([abs(v) for v in floats] + [1.0])
    fig = go.Figure(go.Bar(
        y=[_short(label) for label in labels], x=floats, orientation="h",
        marker=dict(color=[GREY if str(label).startswith("Other (") else BLUE for label in labels]),
        text=text, textposition="outside", cliponaxis=False,
        hovertext=[f"{label}: {a}" + (f" ({t})" if t != a else "") for label, a, t in zip(labels, amounts, text)],
        hoverinfo="text",
    ))
    fig.update_yaxes(autorange="reversed", title=None, showgrid=False, ticksuffix="  ")
    low = min(floats + [0.0])
    fig.update_xaxes(title=None, showticklabels=False, showgrid=False,
                     range=[low * 1.25 if low < 0 else 0, top * 1.22])
    fig.update_layout(showlegend=False, bargap=0.25)
    return style(fig, title, height=max(220, 70 + 34 * len(labels)))


def heatmap(frame: pl.DataFrame, *, title: str, value: str = "orders") -> go.Figure:
    """Weekday rows (Monday on top) × hour columns from a ``isodow, hour, <value>`` frame of 168 rows."""
    grid = [[0] * 24 for _ in range(7)]
    for row in frame.iter_rows(named=True):
        grid[row["isodow"] - 1][row["hour"]] = int(row[value])
    fig = go.Figure(go.Heatmap(
        z=grid, x=[f"{h:02d}" for h in range(24)], y=list(WEEKDAYS), colorscale=HEAT_SCALE,
        xgap=1, ygap=1, colorbar=dict(title=dict(text="Orders"), thickness=10),
        hovertemplate="%{y} %{x}:00–%{x}:59: %{z:,} orders<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", title=None, showgrid=False)
    fig.update_xaxes(title=dict(text="Hour of the day (store time)"), showgrid=False, dtick=3)
    return style(fig, title, height=320)


def chart_config() -> dict[str, Any]:
    """Plotly's browser options: no mode bar (downloads are buttons), no scroll-zoom on phones."""
    return {"displayModeBar": False, "scrollZoom": False, "responsive": True}


def in_theme(fig: go.Figure, theme: str | None) -> go.Figure:
    """``fig`` as the browser's theme shows it: a dark copy for ``"dark"``, ``fig`` itself otherwise
    (so a PNG made from ``fig`` stays light whatever the screen)."""
    if theme != "dark":
        return fig
    dark = go.Figure(fig)
    dark.update_layout(template=DARK_TEMPLATE_NAME)
    return dark


def show(fig: go.Figure, key: str) -> None:
    """Draw ``fig`` on the page in the browser's light or dark theme (read at each rerun)."""
    import streamlit as st

    st.plotly_chart(in_theme(fig, st.context.theme.type), key=key, config=chart_config(), theme=None)


def _short(label: str, width: int = 24) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"

"""Insights: what changed, why, and what to do, in plain words tied to the computed figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from analytics.formatting import format_money
from analytics.insights.anomalies import daily_bands
from analytics.insights.facts import HISTORY_WEEKS, build_facts, has_sales
from analytics.inventory.figures import STOCK_DEFINITIONS
from analytics.insights.store import insight_history
from analytics.metrics import METRIC_DEFINITIONS, sales_over_time
from analytics.periods import previous_period
from ui.cache import cached_query
from ui import charts
from ui.downloads import chart_download, table_download
from ui.errors import open_warehouse, section
from ui.explain import GROUNDING_HELP, summary_panel
from ui.filters import channel_name, describe_range, page_header, sidebar_filters
from ui.kpis import kpi, kpi_cards
from ui.tables import for_display, money_text, money_text_column, percent_column, time_column

QUESTION = "What changed, why, and what to do: a written summary checked against the computed figures."
PERIODS = {"week": "Last full week", "range": "Sidebar dates"}
CARDS = (
    ("net_sales", "Net sales", "money"), ("orders", "Orders", "count"), ("aov", "Average order value", "money"),
    ("new_customers", "New customers", "count"), ("returning_customer_rate", "Returning customer rate", "ratio"),
    ("refund_rate", "Refund rate", "ratio"),
)
LOWER_IS_BETTER = {"refund_rate"}


def last_full_week(today: dt.date) -> tuple[dt.date, dt.date]:
    """The Monday–Sunday week that ended before ``today`` (store time)."""
    end = today - dt.timedelta(days=today.weekday() + 1)
    return end - dt.timedelta(days=6), end


def figure(value: Any, kind: str) -> Any:
    return Decimal(value) if kind in ("money", "ratio") else value


def kpi_section(facts: dict[str, Any], currency: str) -> None:
    cards = []
    for key, label, kind in CARDS:
        entry = facts["kpis"][key]
        change = {name: figure(entry[name], kind) if entry[name] is not None else None
                  for name in ("current", "previous", "change")}
        change["relative_change"] = Decimal(entry["relative_change"]) if entry["relative_change"] else None
        cards.append(kpi(label, change["current"], kind=kind, currency=currency, change=change,
                         lower_is_better=key in LOWER_IS_BETTER, help=METRIC_DEFINITIONS[key]))
    anomalies = facts["anomalies"]
    found = anomalies["events_found"] + len(anomalies["segments"])
    cards.append(kpi("Anomalies", found, kind="count", currency=currency,
                     help="Runs of days of net sales or orders outside their weekly-seasonal range (consecutive "
                          "days count once), and channels or countries that moved unlike the store (see "
                          "METRICS.md)."))
    cards.append(kpi("Low on stock", facts["stock_risks"]["at_risk"], kind="count", currency=currency,
                     help=STOCK_DEFINITIONS["low_stock"] + " Stock is today's, whatever the dates."))
    kpi_cards(cards, key="insights", delta_description="vs the period before")


def band_chart(wh, store_id: str, start: dt.date, end: dt.date, channels, currency: str, period) -> None:
    """Net sales per day against the weekly-seasonal expected range (the method of the anomaly list)."""
    history_start = start - dt.timedelta(days=7 * HISTORY_WEEKS)
    daily = cached_query(sales_over_time, wh, store_id, history_start, end, "day", channels=channels)
    bands = daily_bands(dict(zip(daily["period"].to_list(), daily["net_sales"].to_list())), start, end,
                        weeks=HISTORY_WEEKS)
    shown = daily.filter(pl.col("period") >= start).select("period", "net_sales")
    outside = [b for b in bands if b["outside"]]
    fig = go.Figure()
    if bands:
        days = [b["date"] for b in bands]
        fig.add_trace(go.Scatter(x=days, y=charts.as_float([b["high"] for b in bands]), mode="lines",
                                 line=dict(width=0), showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=days, y=charts.as_float([b["low"] for b in bands]), mode="lines",
                                 line=dict(width=0), fill="tonexty", fillcolor="rgba(0,114,178,0.12)",
                                 name="Expected range"))
        fig.add_trace(go.Scatter(x=days, y=charts.as_float([b["expected"] for b in bands]), mode="lines",
                                 line=dict(dash="dash", color="#7F7F7F"), name="Expected (weekday median)"))
    fig.add_trace(go.Scatter(x=shown["period"].to_list(), y=charts.as_float(shown["net_sales"].to_list()),
                             mode="lines+markers", line=dict(color="#0072B2"), name="Net sales"))
    if outside:
        fig.add_trace(go.Scatter(x=[b["date"] for b in outside], y=charts.as_float([b["actual"] for b in outside]),
                                 mode="markers", marker=dict(size=12, color="#D55E00", symbol="circle-open",
                                                             line=dict(width=3)), name="Outside the range"))
    title = (f"Net sales were outside the expected range on {len(outside)} day{'s' if len(outside) != 1 else ''}"
             if outside else "Net sales stayed within the expected range" if bands
             else "Net sales by day (too little history for an expected range)")
    charts.style(fig, title)
    fig.update_yaxes(**charts.money_axis(currency))
    fig.update_xaxes(tickformat="%-d %b")
    charts.show(fig, key="chart_insights_net_sales_band")
    data = pl.DataFrame({"date": [b["date"] for b in bands], "net_sales": [b["actual"] for b in bands],
                         "expected": [b["expected"] for b in bands], "low": [b["low"] for b in bands],
                         "high": [b["high"] for b in bands], "outside": [b["outside"] for b in bands]},
                        schema={"date": pl.Date, "net_sales": pl.Decimal(38, 4), "expected": pl.Decimal(38, 4),
                                "low": pl.Decimal(38, 4), "high": pl.Decimal(38, 4), "outside": pl.Boolean})
    with st.container(horizontal=True, gap="small"):
        chart_download(fig, "insights_net_sales_band", period)
        table_download(data, "insights_net_sales_band", period)


def _anomaly_figure(value: Any, metric: str, currency: str) -> str:
    return format_money(Decimal(value), currency) if metric == "net_sales" else f"{Decimal(value):,f}"


def anomaly_table(facts: dict[str, Any]) -> pl.DataFrame:
    currency = facts["currency"]
    rows = []
    day = lambda text: f"{dt.date.fromisoformat(text):%a %-d %b %Y}"  # noqa: E731
    money_of = lambda value: format_money(Decimal(value), currency)  # noqa: E731
    for a in facts["anomalies"]["events"]:
        rows.append({"what": "Day" if a["days"] == 1 else f"{a['days']} days",
                     "when_or_where": day(a["start"]) if a["days"] == 1 else f"{day(a['start'])} – {day(a['end'])}",
                     "figure": "Net sales", "actual": money_of(a["net_sales"]),
                     "expected": money_of(a["expected_net_sales"]), "range": f"gap {money_of(a['net_sales_gap'])}",
                     "direction": a["direction"].capitalize()})
    for a in facts["anomalies"]["segments"]:
        sigmas = abs(Decimal(a["z"]))
        rows.append({"what": a["dimension"].capitalize(), "when_or_where": channel_name(a["segment"])
                     if a["dimension"] == "channel" else a["segment"], "figure": "Orders",
                     "actual": f"{int(a['orders']):,}", "expected": f"{Decimal(a['expected_orders']):,.1f}",
                     "range": f"{sigmas:.1f} standard deviations away",
                     "direction": a["direction"].capitalize()})
    return pl.DataFrame(rows, schema={c: pl.String for c in
                                      ("what", "when_or_where", "figure", "actual", "expected", "range", "direction")})


def movers_table(facts: dict[str, Any]) -> pl.DataFrame:
    rows = []
    for key, kind in (("channels", "Channel"), ("countries", "Country"), ("products_rising", "Product"),
                      ("products_falling", "Product")):
        for row in facts["movers"][key]:
            name = channel_name(row["name"]) if kind == "Channel" else row["name"]
            rows.append({"kind": kind, "name": name, "net_sales": Decimal(row["net_sales"]),
                         "previous_net_sales": Decimal(row["previous_net_sales"]),
                         "change": Decimal(row["net_sales_change"]),
                         "relative_change": Decimal(row["relative_change"]) if row["relative_change"] else None})
    return pl.DataFrame(rows, schema={"kind": pl.String, "name": pl.String, "net_sales": pl.Decimal(38, 2),
                                      "previous_net_sales": pl.Decimal(38, 2), "change": pl.Decimal(38, 2),
                                      "relative_change": pl.Decimal(38, 4)})


def stock_table(facts: dict[str, Any]) -> pl.DataFrame:
    schema = {"variant": pl.String, "available": pl.Int64, "daily_demand": pl.String, "days_of_cover": pl.String,
              "lead_time_days": pl.Int64, "demand_from": pl.String}
    return pl.DataFrame([{k: r[k] for k in schema} for r in facts["stock_risks"]["items"]], schema=schema)


TITLES = {
    "what": "What", "when_or_where": "When / where", "figure": "Figure", "actual": "Actual", "expected": "Expected",
    "range": "Expected range", "direction": "Outside", "kind": "Kind", "name": "Name", "variant": "Variant",
    "available": "Available", "daily_demand": "Daily demand", "days_of_cover": "Days of cover",
    "lead_time_days": "Lead time (days)", "demand_from": "Demand from", "created_at": "Written at (UTC)",
    "topic": "Topic", "period_start": "From", "period_end": "To", "requested_provider": "Asked",
    "provider": "Written by", "model": "Model", "ungrounded_count": "Ungrounded numbers",
    "fallback_reason": "Why offline",
}
MONEY_COLUMNS = {"net_sales": "Net sales", "previous_net_sales": "Before", "change": "Change"}


def table(frame: pl.DataFrame, name: str, period, *, empty: str, currency: str) -> None:
    """A table with readable titles (money in the store currency, changes as percentages) and its CSV."""
    if frame.height == 0:
        st.caption(empty)
        return
    config: dict[str, Any] = {column: TITLES[column] for column in frame.columns if column in TITLES}
    if "relative_change" in frame.columns:
        config["relative_change"] = percent_column("Change %")
    shown = for_display(frame, percent=("relative_change",))
    # Money as text, so a loss reads −$3,805.28; times and dates as people write them.
    money = [column for column in MONEY_COLUMNS if column in frame.columns]
    shown = shown.with_columns(money_text(frame, column, currency) for column in money)
    config.update({column: money_text_column(MONEY_COLUMNS[column]) for column in money})
    for column, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            config[column] = time_column(TITLES.get(column, column))
        elif dtype == pl.Date:
            config[column] = st.column_config.DateColumn(TITLES.get(column, column), format="D MMM YYYY")
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, key=f"table_{name}",
                 placeholder="–")
    table_download(frame, name, period)


# -- the page ----------------------------------------------------------------------------------------

wh = open_warehouse()
filters = sidebar_filters(wh)
page_header("Insights", QUESTION, wh, filters)

choice = st.segmented_control("Summary of", list(PERIODS), default="week", required=True,
                              format_func=PERIODS.get, key="insights_period") or "week"
if choice == "week":
    start, end = last_full_week(filters.today())
    compare = previous_period(start, end)
else:
    start, end = filters.start, filters.end
    compare = (filters.compare_start, filters.compare_end) if filters.has_comparison else previous_period(start, end)


class Period:  # what the downloads name their files after
    def __init__(self, start: dt.date, end: dt.date) -> None:
        self.start, self.end = start, end


period = Period(start, end)
st.caption(f"{describe_range(start, end)} against {describe_range(*compare)}"
           f"{' · ' + ', '.join(map(channel_name, filters.channels)) if filters.channels else ''}.")

facts = None
with section("The figures"):
    facts = cached_query(build_facts, wh, filters.store_id, start, end, compare=compare,
                         channels=filters.channel_filter, topic="overview", stock_as_of=filters.today())
if facts is None:
    st.stop()
if not has_sales(facts):
    st.info(f"No orders or refunds in {describe_range(start, end)} or {describe_range(*compare)}, so there is "
            "nothing to summarise. Pick other dates in the sidebar (Summary of: Sidebar dates), or connect a "
            "store in Settings.", icon=":material/event_busy:")
    st.stop()

with section("The key figures"):
    kpi_section(facts, filters.currency)

with section("The net sales chart"):
    band_chart(wh, filters.store_id, start, end, filters.channel_filter, filters.currency, period)

with section("The written summary"):
    st.subheader("The summary", help=GROUNDING_HELP)
    summary_panel(wh, filters.store_id, start, end, compare=compare, channels=filters.channel_filter,
                  topic="overview", timezone=filters.timezone, key="insights_summary")

LISTS = (
    ("Anomalies", "Days whose net sales or orders fall outside the median ± 3 × MAD band of the same weekday over "
     "the 8 weeks before; channels and countries whose orders moved more than 3 standard deviations (Poisson) "
     "away from the store's own change.", lambda: anomaly_table(facts), "insights_anomalies",
     "No day or segment was outside its expected range."),
    ("Stock risks", STOCK_DEFINITIONS["low_stock"] + " Days of cover: " + STOCK_DEFINITIONS["days_of_cover"]
     + " Lead time: " + STOCK_DEFINITIONS["lead_time_days"] + " Stock is today's, as on the Inventory page.",
     lambda: stock_table(facts),
     "insights_stock_risks", "No variant is at risk of selling out within its lead time."),
    ("What moved", "Net sales per channel and country (largest changes first) and the products whose net sales "
     "rose or fell the most, against the period before. " + METRIC_DEFINITIONS["net_sales"],
     lambda: movers_table(facts), "insights_movers", "Nothing sold in either period."),
    ("Earlier summaries", "Every summary written for this store: who wrote it, how many numbers matched no "
     "figure, and why the offline writer stood in when it did.", lambda: insight_history(wh, filters.store_id),
     "insights_history", "No summary written yet."),
)
for title, help_text, frame, name, empty in LISTS:
    with section(title):
        st.subheader(title, help=help_text)
        table(frame(), name, period, empty=empty, currency=filters.currency)
        risks = facts["stock_risks"]
        if name == "insights_stock_risks" and risks["at_risk"] > len(risks["items"]):
            st.caption(f"The {len(risks['items'])} with the fewest days of cover of {risks['at_risk']:,} low on "
                       "stock; the Inventory page lists them all.")
        if name == "insights_stock_risks" and facts["forecast"].get("status"):
            st.caption("No forecast yet: demand is the last 30 days' sales. Forecasts appear once the refresh "
                       "has written them (in the background, or Compute forecasts now on the Inventory page).")

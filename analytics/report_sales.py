"""The sales sections of the report folder.

- ``kpis.json``: the range's ``sales_summary`` figures (METRICS.md), money as
  strings with two decimals, ratios as strings of the fraction with four
  (``"0.2500"`` = 25 %), counts as numbers; with the range, the store, its
  currency and timezone, when it was generated, and each figure's definition.
- ``sales_daily.csv``: one row per store-local day of the range, exactly the
  columns of :data:`DAILY_COLUMNS`; money with two decimals.
- ``sales_by_channel.csv`` and ``sales_by_product.csv``: the range's sales per
  channel and per product (with return rate and margin, "cost unknown" as an
  empty cell).
- ``net_sales_by_day.png`` and ``sales_by_channel.png``.

Money is rounded to the cent half to even (2.345 → 2.34) only when written;
each figure is rounded on its own, so a rounded net sales may differ by a
cent from the rounded gross sales − discounts − returns.
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
import polars as pl

from analytics.formatting import format_count, format_money, format_percent
from analytics.metrics import METRIC_DEFINITIONS, sales_over_time, sales_summary
from analytics.products import PRODUCT_DEFINITIONS, product_performance
from analytics.report import (
    ReportChart,
    ReportContext,
    ReportSection,
    SectionOutput,
    csv_file,
    html_table,
    json_file,
    money_2dp,
    money_column,
)
from analytics.sales_breakdowns import sales_by_channel

DAILY_COLUMNS = (
    "date", "orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "total_sales",
    "units_sold", "aov", "new_customers", "returning_customers",
)
MONEY_FIGURES = ("gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "duties",
                 "total_sales", "aov")
RATIO_FIGURES = ("returning_customer_rate", "repeat_purchase_rate", "refund_rate")

# The headline figures of index.html, in order.
HEADLINE = (
    ("total_sales", "Total sales"), ("net_sales", "Net sales"), ("orders", "Orders"),
    ("aov", "Average order value"), ("units_sold", "Units sold"), ("gross_sales", "Gross sales"),
    ("discounts", "Discounts"), ("returns", "Returns"), ("shipping", "Shipping"), ("taxes", "Taxes"),
    ("new_customers", "New customers"), ("returning_customer_rate", "Returning customer rate"),
)

BLUE = "#0072B2"  # Okabe-Ito


def channel_label(channel: str) -> str:
    return "Point of sale" if channel == "pos" else channel.replace("_", " ").capitalize()


def _chart_layout(fig: go.Figure, title: str, y_title: str) -> go.Figure:
    fig.update_layout(
        title=title, template="plotly_white", font=dict(size=14), margin=dict(l=70, r=30, t=70, b=60),
        yaxis_title=y_title, showlegend=False,
    )
    return fig


# -- headline figures and days -----------------------------------------------------------

def kpi_document(context: ReportContext, figures: dict[str, Any]) -> dict[str, Any]:
    """The content of ``kpis.json``."""
    written: dict[str, Any] = {}
    for name, value in figures.items():
        if name in MONEY_FIGURES:
            written[name] = str(money_2dp(value))
        elif name in RATIO_FIGURES:
            written[name] = str(Decimal(value).quantize(Decimal("0.0001")))
        else:
            written[name] = int(value)
    store = context.store
    return {
        "store": {"id": store.store_id, "name": store.name, "timezone": store.timezone},
        "currency": store.currency,
        "range": {"from": context.start.isoformat(), "to": context.end.isoformat()},
        "generated_at": context.generated_at.isoformat(),
        "figures": written,
        "definitions": {name: METRIC_DEFINITIONS[name] for name in written if name in METRIC_DEFINITIONS},
    }


def daily_frame(daily: pl.DataFrame) -> pl.DataFrame:
    """``sales_daily.csv``: :data:`DAILY_COLUMNS`, money as exact cents."""
    columns = []
    for name in DAILY_COLUMNS:
        source = "period" if name == "date" else name
        values = daily[source]
        if name in MONEY_FIGURES:
            columns.append(money_column(name, values.to_list()))
        else:
            columns.append(values.alias(name))
    return pl.DataFrame(columns)


def _summary_section(context: ReportContext) -> SectionOutput:
    store = context.store
    figures = sales_summary(context.wh, store.store_id, context.start, context.end)
    daily = sales_over_time(context.wh, store.store_id, context.start, context.end, "day")

    def shown(name: str) -> str:
        value = figures[name]
        if name in MONEY_FIGURES:
            return format_money(value, store.currency)
        if name in RATIO_FIGURES:
            return format_percent(value)
        return format_count(value)

    table = html_table(["Figure", "Value", "Definition"],
                       [(label, shown(name), METRIC_DEFINITIONS.get(name, "")) for name, label in HEADLINE],
                       numeric=[False, True, False])
    fig = go.Figure(go.Bar(x=daily["period"].to_list(), y=[float(v) for v in daily["net_sales"].to_list()],
                           marker_color=BLUE, name="Net sales"))
    _chart_layout(fig, f"Net sales by day: {format_money(figures['net_sales'], store.currency)} in all",
                  store.currency)
    fig.update_xaxes(title="Day (store time)", tickformat="%-d %b")
    fig.update_yaxes(tickformat=",.0f")
    return SectionOutput(
        files={
            "kpis.json": json_file(kpi_document(context, figures)),
            "sales_daily.csv": csv_file(daily_frame(daily)),
        },
        charts=[ReportChart("net_sales_by_day.png", "Net sales by day",
                            fig, "Gross sales − discounts − returns, per store-local day.")],
        html=table,
    )


# -- channels --------------------------------------------------------------------------------

CHANNEL_COLUMNS = ("channel", "orders", "units_sold", "gross_sales", "discounts", "returns", "net_sales",
                   "shipping", "taxes", "total_sales")


def _channel_section(context: ReportContext) -> SectionOutput:
    store = context.store
    frame = sales_by_channel(context.wh, store.store_id, context.start, context.end)
    written = pl.DataFrame([
        money_column(c, frame[c].to_list()) if frame.schema[c] == pl.Decimal(38, 4) else frame[c]
        for c in CHANNEL_COLUMNS
    ]) if frame.height else pl.DataFrame(schema={c: pl.String for c in CHANNEL_COLUMNS})
    output = SectionOutput(files={"sales_by_channel.csv": csv_file(written)})
    if frame.height == 0:
        output.html = "<p>No sales in this range.</p>"
        return output
    ordered = frame.sort("net_sales")
    labels = [channel_label(c) for c in ordered["channel"].to_list()]
    fig = go.Figure(go.Bar(x=[float(v) for v in ordered["net_sales"].to_list()], y=labels, orientation="h",
                           marker_color=BLUE, name="Net sales"))
    top = frame.row(0, named=True)
    _chart_layout(fig, f"{channel_label(top['channel'])} sold the most: "
                       f"{format_money(top['net_sales'], store.currency)} net", "")
    fig.update_xaxes(title=f"Net sales ({store.currency})", tickformat=",.0f")
    fig.update_yaxes(ticksuffix="  ")
    output.charts.append(ReportChart("sales_by_channel.png", "Net sales by channel", fig,
                                     "Each order's channel; a refund counts in its order's channel."))
    output.html = html_table(
        ["Channel", "Orders", "Net sales", "Total sales"],
        [(channel_label(r["channel"]), format_count(r["orders"]), format_money(r["net_sales"], store.currency),
          format_money(r["total_sales"], store.currency)) for r in frame.iter_rows(named=True)],
        numeric=[False, True, True, True],
    )
    return output


# -- products --------------------------------------------------------------------------------

PRODUCT_COLUMNS = ("product_id", "product", "units_sold", "units_returned", "gross_sales", "discounts", "returns",
                   "net_sales", "return_rate", "cost_of_goods", "margin")
TOP_PRODUCTS = 10


def product_frame(products: pl.DataFrame) -> pl.DataFrame:
    """``sales_by_product.csv``: :data:`PRODUCT_COLUMNS`, money as exact cents, empty margin = cost unknown."""
    money = {"gross_sales", "discounts", "returns", "net_sales", "cost_of_goods", "margin"}
    columns = []
    for name in PRODUCT_COLUMNS:
        source = "product_title" if name == "product" else name
        if name in money:
            columns.append(money_column(name, products[source].to_list()))
        else:
            columns.append(products[source].alias(name))
    return pl.DataFrame(columns)


def _product_section(context: ReportContext) -> SectionOutput:
    store = context.store
    products = product_performance(context.wh, store.store_id, context.start, context.end, as_of=context.end)
    output = SectionOutput(files={"sales_by_product.csv": csv_file(product_frame(products))})
    if products.height == 0:
        output.html = "<p>No product sold in this range.</p>"
        return output
    rows = []
    for r in products.head(TOP_PRODUCTS).iter_rows(named=True):
        rows.append((
            r["product_title"], format_count(r["units_sold"]), format_money(r["net_sales"], store.currency),
            "–" if r["return_rate"] is None else format_percent(r["return_rate"]),
            "cost unknown" if r["margin"] is None else format_money(r["margin"], store.currency),
        ))
    note = (f"The {min(TOP_PRODUCTS, products.height)} products with the highest net sales, of "
            f"{format_count(products.height)} sold. Return rate: {PRODUCT_DEFINITIONS['return_rate']} "
            f"Margin: {PRODUCT_DEFINITIONS['margin']}")
    output.html = (
        f"<p>{html.escape(note)}</p>"
        + html_table(["Product", "Units sold", "Net sales", "Return rate", "Margin"], rows,
                     numeric=[False, True, True, True, True])
    )
    return output


SECTIONS = (
    ReportSection("sales", "Sales", _summary_section),
    ReportSection("channels", "Sales by channel", _channel_section),
    ReportSection("products", "Sales by product", _product_section),
)

"""The inventory section of the report folder.

- ``inventory.csv``: one row per variant of :func:`analytics.inventory.stock.stock_health` on the
  report's last day, columns :data:`INVENTORY_COLUMNS` (days of cover with one decimal, empty without
  demand; ``status`` the code of :data:`analytics.inventory.figures.STATUSES`, ``low_stock`` and
  ``reorder_due`` true or false, the definitions of :mod:`analytics.inventory.figures`);
- ``forecast.csv``: the latest refresh's daily forecasts, columns :data:`FORECAST_COLUMNS` (units per
  day, three decimals); empty under its header when no refresh has run.
"""

from __future__ import annotations

import html

import polars as pl

from analytics.formatting import format_count, format_money
from analytics.inventory.choices import load_choices
from analytics.inventory.figures import STATUSES
from analytics.inventory.stock import health_summary, stock_health
from analytics.report import ReportContext, ReportSection, SectionOutput, csv_file, html_table

INVENTORY_COLUMNS = ("sku", "variant_id", "available", "daily_demand", "days_of_cover", "abc_class",
                     "reorder_point", "safety_stock", "suggested_order_qty", "status", "low_stock", "reorder_due")
FORECAST_COLUMNS = ("variant_id", "sku", "ds", "yhat", "yhat_lo", "yhat_hi", "model")


def forecast_frame(wh, store_id: str) -> pl.DataFrame:
    frame = wh.query(
        "SELECT f.variant_id, v.sku, f.ds, f.yhat, f.yhat_lo, f.yhat_hi, f.model FROM forecasts f "
        "LEFT JOIN variants v ON v.store_id = f.store_id AND v.variant_id = f.variant_id "
        "WHERE f.store_id = :s ORDER BY f.variant_id, f.ds", {"s": store_id})
    if frame.height == 0:
        return pl.DataFrame(schema={"variant_id": pl.String, "sku": pl.String, "ds": pl.Date, "yhat": pl.Float64,
                                    "yhat_lo": pl.Float64, "yhat_hi": pl.Float64, "model": pl.String})
    return frame.with_columns(pl.col("ds").cast(pl.Date), *(pl.col(c).cast(pl.Float64).round(3)
                                                           for c in ("yhat", "yhat_lo", "yhat_hi")))


def build(ctx: ReportContext) -> SectionOutput:
    health = stock_health(ctx.wh, ctx.store.store_id, ctx.end, load_choices(ctx.wh, ctx.store.store_id))
    inventory = health.select(*INVENTORY_COLUMNS).with_columns(pl.col("days_of_cover").round(1),
                                                               pl.col("daily_demand").round(4))
    summary = health_summary(health)
    currency = ctx.store.currency
    rows = [
        ("Variants", format_count(summary["variants"])),
        ("Inventory value at cost", format_money(summary["inventory_value"], currency)),
        *((STATUSES[s], format_count(summary[s])) for s in ("stockout", "stockout_risk", "dead_stock", "overstock")),
        ("Low on stock", format_count(summary["low_stock"])),
        ("Variants to reorder", format_count(summary["to_reorder"])),
        ("Suggested orders at cost", format_money(summary["reorder_value"], currency)),
    ]
    note = (f"<p>Stock as of today; sales and forecasts up to {html.escape(ctx.end.isoformat())}. "
            "Definitions in docs/METRICS.md (Inventory).</p>")
    return SectionOutput(
        files={"inventory.csv": csv_file(inventory), "forecast.csv": csv_file(forecast_frame(ctx.wh, ctx.store.store_id))},
        html=note + html_table(("Figure", "Value"), rows, numeric=(False, True)),
    )


SECTIONS = [ReportSection("inventory", "Inventory", build)]

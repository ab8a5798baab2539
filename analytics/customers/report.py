"""The customer sections of the report folder, as of the report's last day (``--to``).

- ``customers_rfm.csv``: every customer with an order in the RFM window ending on
  that day: recency, frequency, monetary (two decimals), the three scores and
  the segment;
- ``cohorts.csv``: the monthly first-order cohorts up to that day;
- ``clv.csv``: customer_id, frequency, recency, T (weeks), monetary_value,
  p_alive, expected_purchases, predicted_clv and its 90 % range
  (predicted_clv_low, predicted_clv_high), from the newest refresh whose
  as-of day is on or before that day (its as-of day and horizon are said in
  the index); without one, fitted as of that day; prediction columns empty
  when there was too little data;
- ``clv_model.json``: that model's params (``time_unit``, ``model``, ``bgnbd``, ``gamma_gamma``);
- ``customer_segments.png`` and ``cohort_retention.png``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from decimal import Decimal

import polars as pl

from analytics.customers.clv import SUMMARY_COLUMNS, clv_summary
from analytics.customers.clv_holdout import fit_chosen_clv
from analytics.customers.cohorts import cohort_table_in
from analytics.customers.figures import REPORT_TEMPLATE, retention_heatmap, segment_bars
from analytics.customers.orders import customer_orders
from analytics.customers.rfm import rfm_scores_in, segment_summary
from analytics.customers.choices import clv_horizon_days, rfm_window_days
from analytics.formatting import format_count, format_money, format_percent
from analytics.report import ReportChart, ReportContext, ReportSection, SectionOutput, csv_file, html_table, \
    json_file, money_column
from data.warehouse import Warehouse

CLV_COLUMNS = (*SUMMARY_COLUMNS, "p_alive", "expected_purchases", "predicted_clv", "predicted_clv_low",
               "predicted_clv_high")


def _float_money(values) -> list[Decimal | None]:
    return [None if v is None else Decimal(f"{v:.4f}") for v in values]


def clv_run_on_or_before(wh: Warehouse, store_id: str, day: dt.date) -> dict | None:
    """The newest succeeded ``clv`` run whose as-of day is on or before ``day``."""
    rows = wh.rows("SELECT as_of, CAST(params AS TEXT), CAST(metrics AS TEXT) FROM model_runs "
                   "WHERE store_id = :store AND kind = 'clv' AND status = 'succeeded' AND as_of <= :day "
                   "ORDER BY as_of DESC, finished_at DESC LIMIT 1", {"store": store_id, "day": day})
    if not rows:
        return None
    as_of, params, metrics = rows[0]
    return {"as_of": as_of, "params": json.loads(params) if params else {},
            "metrics": json.loads(metrics) if metrics else {}}


def clv_frame(wh: Warehouse, store_id: str, day: dt.date) -> tuple[pl.DataFrame, dict, str]:
    """``clv.csv``'s rows, the model's params and a sentence saying where they come from."""
    run = clv_run_on_or_before(wh, store_id, day)
    as_of = run["as_of"] if run else day
    orders = customer_orders(wh, store_id, as_of)
    purchases = orders.select("customer_id", "day", pl.col("net_sales").alias("amount"))
    summary = clv_summary(purchases, as_of)
    if run is not None:
        scores = wh.query("SELECT customer_id, p_alive, expected_purchases, CAST(predicted_clv AS DOUBLE PRECISION) AS "
                          "predicted_clv, CAST(predicted_clv_low AS DOUBLE PRECISION) AS predicted_clv_low, "
                          "CAST(predicted_clv_high AS DOUBLE PRECISION) AS predicted_clv_high, horizon_days "
                          "FROM customer_scores WHERE store_id = :store AND as_of = :as_of",
                          {"store": store_id, "as_of": as_of})
        frame = summary.join(scores.drop("horizon_days"), on="customer_id", how="left") if scores.height else \
            summary.with_columns(*(pl.lit(None, dtype=pl.Float64).alias(c) for c in CLV_COLUMNS[5:]))
        horizon = run["metrics"].get("horizon_days")
        warnings = run["metrics"].get("warnings") or []
        source = f"From the refresh as of {as_of:%-d %b %Y}, predicted over {horizon} days."
        params = run["params"]
    else:
        horizon = clv_horizon_days(wh, store_id)
        fit = fit_chosen_clv(purchases, summary, as_of, horizon)
        frame = fit.predictions.drop("expected_spend") if fit.predictions is not None else summary.with_columns(
            *(pl.lit(None, dtype=pl.Float64).alias(c) for c in CLV_COLUMNS[5:]))
        warnings = fit.warnings
        source = (f"No refresh had run up to {day:%-d %b %Y}, so the model was fitted as of that day, "
                  f"predicted over {horizon} days.")
        params = fit.params()
    if warnings:
        source += " " + " ".join(warnings)
    frame = frame.select(CLV_COLUMNS).with_columns(
        money_column("monetary_value", _float_money(frame["monetary_value"].to_list())),
        *(money_column(c, _float_money(frame[c].to_list()))
          for c in ("predicted_clv", "predicted_clv_low", "predicted_clv_high")),
    )
    return frame, params, source


def _rfm_section(context: ReportContext) -> SectionOutput:
    store, day = context.store, context.end
    window = rfm_window_days(context.wh, store.store_id)
    scores = rfm_scores_in(context.wh, store.store_id, day, window)
    written = scores.with_columns(money_column("monetary", scores["monetary"].to_list()))
    output = SectionOutput(files={"customers_rfm.csv": csv_file(written)})
    if scores.height == 0:
        output.html = f"<p>No customer ordered in the {window} days up to {html.escape(f'{day:%-d %b %Y}')}.</p>"
        return output
    summary = segment_summary(scores)
    output.charts.append(ReportChart("customer_segments.png", "Customers per RFM segment",
                                     segment_bars(summary, store.currency).update_layout(template=REPORT_TEMPLATE),
                                     f"Scored over the {window} days up to {day:%-d %b %Y}."))
    output.html = html_table(
        ["Segment", "Customers", "Net sales", "Share of net sales", "What to send them"],
        [(r["segment"], format_count(r["customers"]), format_money(r["monetary"], store.currency),
          "–" if r["revenue_share"] is None else format_percent(r["revenue_share"]), r["playbook"])
         for r in summary.filter(pl.col("customers") > 0).iter_rows(named=True)],
        numeric=[False, True, True, True, False])
    return output


def _cohort_section(context: ReportContext) -> SectionOutput:
    cohorts = cohort_table_in(context.wh, context.store.store_id, context.end)
    written = cohorts.with_columns(
        money_column("net_sales", cohorts["net_sales"].to_list()),
        money_column("cumulative_net_sales_per_customer", cohorts["cumulative_net_sales_per_customer"].to_list()))
    output = SectionOutput(files={"cohorts.csv": csv_file(written)})
    if cohorts.height == 0:
        output.html = "<p>No customer has ordered yet.</p>"
        return output
    recent = cohorts.filter(pl.col("cohort") >= dt.date(context.end.year - 1, context.end.month, 1))
    output.charts.append(ReportChart("cohort_retention.png", "Cohort retention",
                                     retention_heatmap(recent).update_layout(template=REPORT_TEMPLATE),
                                     "Cohorts of the last twelve months; cohorts.csv holds them all."))
    output.html = "<p>Customers by the month of their first order, and the share who ordered in each later month.</p>"
    return output


def _clv_section(context: ReportContext) -> SectionOutput:
    frame, params, source = clv_frame(context.wh, context.store.store_id, context.end)
    output = SectionOutput(files={"clv.csv": csv_file(frame), "clv_model.json": json_file(params)})
    total = frame["predicted_clv"].drop_nulls()
    figure = format_money(sum(total.to_list(), Decimal(0)), context.store.currency) if total.len() else "–"
    output.html = (f"<p>{html.escape(source)}</p>"
                   + html_table(["Customers", "Predicted value of all customers over the horizon"],
                                [(format_count(frame.height), figure)], numeric=[True, True]))
    return output


SECTIONS = (
    ReportSection("customer_segments", "Customer segments (RFM)", _rfm_section),
    ReportSection("cohorts", "Cohorts", _cohort_section),
    ReportSection("clv", "Customer lifetime value", _clv_section),
)

"""Customers: who the best customers are, who is slipping away, what a customer is worth, where
visitors drop out of the funnel, and what sells together."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
import streamlit as st

from analytics.customers import figures
from analytics.customers.affinity import first_product_choices, first_product_counts, repeat_rates
from analytics.customers.funnel import BREAKDOWNS, conversion_rate, funnel, funnel_sessions, steps_of
from analytics.customers.rfm import PLAYBOOKS, SEGMENTS
from analytics.customers.clv_models import MODEL_NAMES
from analytics.customers.definitions import CUSTOMER_DEFINITIONS
from analytics.customers.choices import HORIZON_CHOICE, WINDOW_CHOICE, clv_horizon_days, rfm_window_days
from analytics.customers.steps import MOVEMENT_DAYS
from analytics.customers.views import (
    AT_RISK_P_ALIVE,
    CustomerOverview,
    at_risk_customers,
    between_view,
    cac_view,
    clv_ranking,
    cohort_view,
    customer_overview,
    customer_table,
    movement_view,
    new_returning_view,
    pairs_view,
    stored_movement,
)
from analytics.formatting import format_percent
from analytics.refresh import latest_run
from analytics.store_state import list_stores
from data.app_settings import set_choice
from ui import cache, charts
from ui.actions import refresh_button
from ui.cache import cached_query
from ui.downloads import FrameSource, chart_download, table_download
from ui.errors import open_tab_only, open_warehouse, section
from ui.filters import Filters, channel_name, page_header, sidebar_filters
from ui.kpis import kpi, kpi_cards
from ui.login import OWNERS_ONLY, may_change
from ui.tables import count_column, for_display, money_column, percent_column, text_of

QUESTION = ("Who your best customers are, who is slipping away, what a customer is worth, where visitors "
            "drop out, and what sells together.")
REFRESH_NOW = "refresh the customer scores (Model settings, at the bottom of the page)"
AT_RISK_ROWS = 15
CLV_ROWS = 100
EXPORT_COLUMNS = ("customer_id", "customer_name", "customer_email", "email_hash", "country", "accepts_marketing", "rfm_segment", "r_score", "f_score",
                  "m_score", "recency_days", "frequency", "monetary", "p_alive", "predicted_clv")
HEATMAP_HEIGHT = 480
CONTACT_HELP = ("The customer's name as the store or import gave it; – when none is kept "
                "(STORE_CUSTOMER_CONTACTS off, or erased).")
REPEAT_WINDOW_DAYS = 90
DEFINITIONS = CUSTOMER_DEFINITIONS


# -- helpers -----------------------------------------------------------------------------

def plot(fig, name: str, f: Filters, title: str, *, data: pl.DataFrame | None = None,
         height: int = charts.HEIGHT) -> None:
    """A chart in the house style with its PNG download (and the CSV of what it shows)."""
    charts.style(fig, title, height=height)
    charts.show(fig, key=f"chart_{name}")
    with st.container(horizontal=True, gap="small"):
        chart_download(fig, name, f)
        if data is not None:
            table_download(data, name, f)


def table(frame: pl.DataFrame, name: str, f: Filters, config: dict[str, Any], *, percent: tuple[str, ...] = (),
          download: FrameSource | None = None, height: int | None = None) -> None:
    shown = frame.select(list(config))
    shown = for_display(shown, percent=percent)  # shares are fractions, drawn × 100
    st.dataframe(shown, hide_index=True, placeholder="–", column_config=config, key=f"table_{name}", width="stretch",
                 height=height or min(35 * (shown.height + 1) + 3, 420))
    table_download(download if download is not None else frame, name, f)


def value_columns(f: Filters, extra: str, extra_column: Any) -> dict[str, Any]:
    """The columns of a list of customers and their value, with one more before the predicted value."""
    return {
        "customer_name": st.column_config.TextColumn("Customer", help=CONTACT_HELP),
        "historical_value": money_column("Historical value", f.currency, DEFINITIONS["historical"]),
        "rfm_segment": st.column_config.TextColumn("Segment"),
        "p_alive": percent_column("Chance still active", DEFINITIONS["p_alive"]),
        extra: extra_column,
        "predicted_clv": money_column("Predicted value", f.currency, DEFINITIONS["predicted"]),
        "customer_email": st.column_config.TextColumn("Email"),
        "customer_id": st.column_config.TextColumn("Customer id"),
    }


def customer_refresh(wh, f: Filters, label: str) -> None:
    """Run the customer steps of the refresh with a progress bar, then show the new figures."""
    store = next(s for s in list_stores(wh) if s.store_id == f.store_id)
    if refresh_button(wh, store, label, key="customers_refresh", only=("rfm", "clv")):
        st.rerun()


def settings_row(wh, f: Filters) -> None:
    """The RFM window and CLV horizon used by the next refresh."""
    window, horizon = rfm_window_days(wh, f.store_id), clv_horizon_days(wh, f.store_id)
    with st.expander("Model settings", icon=":material/tune:"):
        if not may_change():
            st.caption(f"RFM window {window} days, CLV horizon {horizon} days. " + OWNERS_ONLY)
            return
        windows = [90, 180, 365, 730]
        horizons = [90, 180, 365, 730]
        new_window = st.selectbox("RFM window (days)", windows, index=windows.index(window) if window in windows else 2,
                                  key="customers_rfm_window", help="Orders of these last days are scored.")
        new_horizon = st.selectbox("CLV horizon (days)", horizons,
                                   index=horizons.index(horizon) if horizon in horizons else 2,
                                   key="customers_clv_horizon", help="Predicted value covers these next days.")
        if (new_window, new_horizon) != (window, horizon):
            set_choice(wh, WINDOW_CHOICE, int(new_window), scope=f.store_id)
            set_choice(wh, HORIZON_CHOICE, int(new_horizon), scope=f.store_id)
            st.caption("Saved: the next refresh uses them.")
        st.caption("Scores are computed by the background refresh (every REFRESH_INTERVAL_HOURS), or now by the "
                   "button below.")
        customer_refresh(wh, f, "Refresh customer scores now")


# -- sections --------------------------------------------------------------------------------

def kpi_section(view: CustomerOverview, f: Filters, clv_run: dict | None) -> None:
    horizon = (clv_run or {}).get("metrics", {}).get("horizon_days")
    cards = [
        kpi("Customers scored", view.scored, kind="count", currency=f.currency, help=DEFINITIONS["rfm"]),
        kpi("Champions, loyal and potential loyalists", Decimal(view.top_segments) / view.scored
            if view.scored else None, kind="ratio", currency=f.currency,
            help="Share of scored customers in these three segments."),
        kpi("Historical CLV per customer", view.historical_value / view.valued if view.valued else None,
            kind="money", currency=f.currency, help=DEFINITIONS["historical"]),
        kpi("High-value customers at risk", view.at_risk_count, kind="count", currency=f.currency,
            help=DEFINITIONS["at_risk"]),
    ]
    if view.predicted:
        cards.append(kpi(f"Predicted CLV, next {horizon} days", view.predicted_clv,
                         kind="money", currency=f.currency, help=DEFINITIONS["predicted"] + " All customers."))
        cards.append(kpi(f"Expected orders, next {horizon} days", int(round(view.expected_purchases)),
                         kind="count", currency=f.currency, help="Sum of every customer's expected purchases "
                         "(purchase days) over the horizon, from the BG/NBD model."))
    kpi_cards(cards, key="customers")


def at_risk_section(wh, view: CustomerOverview, f: Filters, as_of: dt.date) -> None:
    if view.at_risk_count == 0:
        st.caption("No high-value customer is at risk: none of the most valuable fifth has a chance of still "
                   f"being active below {AT_RISK_P_ALIVE:.0%}.")
        return
    st.caption(f"{view.at_risk_count:,} customers, the most valuable {view.at_risk.height} shown; the CSV "
               "holds them all. Send them the At risk or Cannot lose playbook first.")
    shown = view.at_risk.with_columns(pl.col("rfm_segment").fill_null("No order in the window"))
    table(shown, "customers_at_risk", f, value_columns(f, "last_order", st.column_config.DateColumn(
        "Last order", format="D MMM YYYY")), percent=("p_alive",),
        download=lambda: at_risk_customers(wh, f.store_id, as_of)[0])


def segments_section(wh, view: CustomerOverview, f: Filters, rfm_run: dict) -> None:
    as_of, window = rfm_run["as_of"], rfm_run["params"].get("window_days", 365)
    if view.scored == 0:
        st.caption(f"No customer ordered in the {window} days up to {as_of:%-d %b %Y}.")
        return
    summary = view.segments
    fig = figures.segment_bars(summary, f.currency)
    plot(fig, "customers_segments", f, fig.layout.title.text, data=summary)
    st.markdown("**What to send each segment**")
    table(summary.filter(pl.col("customers") > 0), "customers_segment_playbook", f, {
        "segment": st.column_config.TextColumn("Segment"),
        "customers": count_column("Customers"),
        "revenue_share": percent_column("Share of net sales", "Their net sales in the window ÷ all scored "
                                        "customers' net sales."),
        "playbook": st.column_config.TextColumn("What to send them", width="large"),
    }, percent=("revenue_share",), download=summary)
    sizes = dict(summary.select("segment", "customers").iter_rows())
    present = [s for s in SEGMENTS if sizes.get(s)]
    chosen = st.selectbox("Export a segment for a campaign", present, key="customers_export_segment",
                          help="A CSV of the segment's customers (id, name, email, email hash, country, scores) for "
                               "an email or ads tool.")
    st.caption(f"{sizes[chosen]:,} customers. {PLAYBOOKS[chosen]}")
    table_download(lambda: customer_table(wh, f.store_id, as_of, chosen).select(*EXPORT_COLUMNS),
                   f"customers_segment_{chosen}", f, label=f"Download {chosen} customers",
                   key="csv_customers_segment_export")
    st.markdown(f"**Movement between segments, {MOVEMENT_DAYS} days before {as_of:%-d %b %Y} → then**")
    movement = stored_movement(rfm_run)
    if movement is None:  # scored before the refresh kept the movement
        movement = cached_query(movement_view, wh, f.store_id, as_of, as_of - dt.timedelta(days=MOVEMENT_DAYS),
                                window)
    if movement.height:
        fig = figures.movement_heatmap(movement)
        plot(fig, "customers_segment_movement", f, fig.layout.title.text, data=movement, height=HEATMAP_HEIGHT)


def cohorts_section(wh, f: Filters) -> None:
    products = first_product_choices(cached_query(first_product_counts, wh, f.store_id, f.end, REPEAT_WINDOW_DAYS))
    names = dict(zip(products["first_product_id"].to_list(), products["first_product"].to_list()))
    with st.container(horizontal=True, gap="small"):
        product = st.selectbox("First product", [None, *names], format_func=lambda p: "Any" if p is None else names[p],
                               key="customers_cohort_product")
        channel = st.selectbox("Channel", [None, "online_store", "pos", "marketplace", "social", "other"],
                               format_func=lambda c: "Any" if c is None else channel_name(c),
                               key="customers_cohort_channel")
        country = st.text_input("Country (ISO code)", key="customers_cohort_country", max_chars=2,
                                placeholder="Any").strip().upper() or None
        discount = st.selectbox("Discount on first order", [None, True, False],
                                format_func=lambda d: "Any" if d is None else ("Yes" if d else "No"),
                                key="customers_cohort_discount")
    cohorts = cached_query(cohort_view, wh, f.store_id, f.end, product, channel, country, discount)
    if cohorts.height == 0:
        st.caption("No customer matches these filters. Choose Any for some of them.")
        return
    recent = cohorts.filter(pl.col("cohort") >= dt.date(f.end.year - 1, f.end.month, 1))
    fig = figures.retention_heatmap(recent)
    plot(fig, "customers_cohort_retention", f, fig.layout.title.text, data=cohorts, height=HEATMAP_HEIGHT)
    per_customer = recent.pivot(on="months_since_first", index="cohort",
                                values="cumulative_net_sales_per_customer").sort("cohort")
    st.markdown("**Cumulative net sales per customer, by months since the first order**")
    config = {"cohort": st.column_config.DateColumn("Cohort", format="MMM YYYY")}
    config.update({c: money_column(f"+{c}", f.currency) for c in per_customer.columns if c != "cohort"})
    table(per_customer, "customers_cohort_net_sales", f, config)


def clv_section(wh, view: CustomerOverview, f: Filters, clv_run: dict | None, as_of: dt.date) -> None:
    metrics = (clv_run or {}).get("metrics", {})
    for warning in metrics.get("warnings") or []:
        st.warning(warning, icon=":material/warning:")
    if view.predicted == 0:
        st.caption("No predicted value: see the warning above." if metrics.get("warnings")
                   else f"No prediction yet: {REFRESH_NOW}.")
        return
    horizon = metrics.get("horizon_days", 365)
    fig = figures.clv_histogram(view.clv_counts, view.clv_edges, f.currency, horizon)
    plot(fig, "customers_predicted_clv", f, fig.layout.title.text)
    st.caption(clv_model_sentence(clv_run))
    holdout = metrics.get("holdout")
    if holdout and holdout.get("chosen"):
        fig = figures.clv_holdout_bars(holdout)
        plot(fig, "customers_clv_holdout", f, fig.layout.title.text)
    columns = value_columns(f, "expected_purchases", st.column_config.NumberColumn("Expected orders", format="%.2f"))
    contact = {name: columns.pop(name) for name in ("customer_email", "customer_id")}  # they stay last
    columns.update({"predicted_clv_low": money_column("Low (90 % range)", f.currency, DEFINITIONS["range"]),
                    "predicted_clv_high": money_column("High (90 % range)", f.currency, DEFINITIONS["range"]),
                    **contact})
    table(view.clv_top, "customers_clv", f, columns, percent=("p_alive",),
          download=lambda: clv_ranking(wh, f.store_id, as_of))


def clv_model_sentence(clv_run: dict) -> str:
    """Which model predicted the values, what it was fitted on and how it did on the held-out days."""
    metrics, params = clv_run.get("metrics", {}), clv_run.get("params", {})
    model = MODEL_NAMES.get(params.get("model") or "bgnbd", "BG/NBD")
    sentence = (f"Predicted by {model} with Gamma-Gamma for spend, fitted on {metrics.get('customers', 0):,} "
                f"customers, {metrics.get('repeat_customers', 0):,} of whom bought again; not discounted.")
    holdout = metrics.get("holdout")
    if holdout and holdout.get("chosen"):
        chosen = holdout["chosen"]
        actual = sum(g["actual"] for g in holdout["groups"])
        predicted = sum(g["predicted"].get(chosen, 0.0) for g in holdout["groups"])
        others = [MODEL_NAMES[k] for k, e in holdout["errors"].items() if e is not None and k != chosen]
        sentence += (f" Chosen by holding out the last {holdout['holdout_days']} days: fitted on the orders "
                     f"before them, it predicted {predicted:,.0f} repeat purchases where customers made "
                     f"{actual:,.0f}, {format_percent(holdout['errors'][chosen])} off across the groups below"
                     + (f", closer than {' and '.join(others)}." if others else "."))
    return sentence


def funnel_section(wh, f: Filters) -> None:
    sessions = cached_query(funnel_sessions, wh, f.store_id, f.start, f.end)
    current = funnel(sessions)
    if current["sessions"][0] == 0:
        st.caption("No web sessions in this range: connect web analytics events, or widen the dates.")
        return
    previous = (funnel(cached_query(funnel_sessions, wh, f.store_id, f.compare_start, f.compare_end))
                if f.has_comparison else None)
    if previous is not None and previous["sessions"][0] == 0:
        previous = None
    rate = cached_query(conversion_rate, wh, f.store_id, f.start, f.end)
    if rate["conversion_rate"] is not None:
        st.metric("Conversion rate", f"{rate['conversion_rate']:.2%}", help=DEFINITIONS["conversion"],
                  border=True)
        st.caption(f"{rate['orders']:,} online-store orders ÷ {rate['sessions']:,} sessions.")
    fig = figures.funnel_bars(current, previous)
    plot(fig, "customers_funnel", f, fig.layout.title.text, data=current)
    shown = current
    if previous is not None:
        shown = current.join(previous.select("step", pl.col("conversion").alias("previous_conversion")), on="step")
    config = {"label": st.column_config.TextColumn("Step"), "sessions": count_column("Sessions"),
              "share_of_sessions": percent_column("Share of sessions"),
              "conversion": percent_column("Conversion from the step before"),
              "drop_off": percent_column("Drop-off")}
    if previous is not None:
        config["previous_conversion"] = percent_column(f"Conversion, {f.comparison_label}")
    table(shown, "customers_funnel_steps", f, config,
          percent=("share_of_sessions", "conversion", "drop_off", "previous_conversion"))
    by = st.segmented_control("Break down by", list(BREAKDOWNS), default="medium", required=True,
                              format_func=BREAKDOWNS.get, key="customers_funnel_by") or "medium"
    split = funnel(sessions, by)
    wide = split.pivot(on="step", index=by, values="share_of_sessions")
    sizes = split.filter(pl.col("step") == "sessions").select(by, pl.col("sessions"))
    wide = sizes.join(wide.drop("sessions"), on=by)
    if by == "medium":  # a channel in words (paid_social → Paid social); the CSV keeps the code
        wide = wide.with_columns(text_of(wide, channel_name, by))
    config = {by: st.column_config.TextColumn(BREAKDOWNS[by]), "sessions": count_column("Sessions")}
    later = [(key, label) for key, label, _ in steps_of(sessions)[1:]]
    config.update({key: percent_column(label) for key, label in later})
    table(wide, f"customers_funnel_by_{by}", f, config, percent=tuple(key for key, _ in later), download=split)


def personalization_section(wh, f: Filters) -> None:
    st.markdown("**Bought together**", help=DEFINITIONS["affinity"])
    pairs = cached_query(pairs_view, wh, f.store_id, f.start, f.end)
    if pairs.height == 0:
        st.caption("No two products were bought together in two or more orders in this range.")
    else:
        table(pairs.head(20), "customers_bought_together", f, {
            "antecedent": st.column_config.TextColumn("Bought"), "consequent": st.column_config.TextColumn("Also bought"),
            "orders": count_column("Orders with both"),
            "support": percent_column("Support"), "confidence": percent_column("Confidence"),
            "lift": st.column_config.NumberColumn("Lift", format="%.2f"),
        }, percent=("support", "confidence"), download=pairs)
    st.markdown("**First product → repeat purchase**", help=f"Of the customers whose first order (main product) "
                f"was at least {REPEAT_WINDOW_DAYS} days ago, the share who ordered again within "
                f"{REPEAT_WINDOW_DAYS} days.")
    repeat = repeat_rates(cached_query(first_product_counts, wh, f.store_id, f.end, REPEAT_WINDOW_DAYS))
    if repeat.height:
        table(repeat.head(20), "customers_first_product_repeat", f, {
            "first_product": st.column_config.TextColumn("First product"), "customers": count_column("Customers"),
            "repeat_customers": count_column("Came back"), "repeat_rate": percent_column("Repeat rate"),
        }, percent=("repeat_rate",), download=repeat)
    else:
        st.caption(f"No customer's first order is {REPEAT_WINDOW_DAYS} days old yet.")
    st.markdown("**New and returning customers**", help="New: first order ever in the month; returning: ordered "
                "in the month after an earlier order.")
    months = cached_query(new_returning_view, wh, f.store_id, f.start, f.end)
    if months.height:
        table(months, "customers_new_vs_returning", f, {
            "month": st.column_config.DateColumn("Month", format="MMM YYYY"),
            "new_customers": count_column("New"), "returning_customers": count_column("Returning"),
            "new_net_sales": money_column("Net sales, new", f.currency),
            "returning_net_sales": money_column("Net sales, returning", f.currency),
        })
    st.markdown("**Time between orders**", help="Days between consecutive orders of the same customer, all orders "
                "up to the end of the range.")
    gaps, stats = cached_query(between_view, wh, f.store_id, f.end)
    if stats["gaps"]:
        import plotly.graph_objects as go

        fig = go.Figure(go.Bar(x=gaps["days_between"].to_list(), y=gaps["gaps"].to_list(), marker_color=charts.BLUE))
        fig.update_xaxes(title="Days between orders", type="category")
        fig.update_yaxes(title="Repeat orders", tickformat=",d")
        plot(fig, "customers_time_between_orders", f,
             f"Half of repeat orders come within {stats['median']:.0f} days of the one before", data=gaps)
    else:
        st.caption("No customer has ordered twice yet.")
    st.markdown("**Cost of a new customer**", help=DEFINITIONS["cac"])
    cac, other_currency = cached_query(cac_view, wh, f.store_id, f.currency, f.start, f.end)
    if cac.height == 0:
        st.caption("No ad spend recorded in this range.")
    else:
        table(cac.with_columns(text_of(cac, channel_name, "channel")),
              "customers_cac", f, {
            "channel": st.column_config.TextColumn("Channel"), "ad_spend": money_column("Ad spend", f.currency),
            "new_customers": count_column("New customers"), "cac": money_column("CAC", f.currency, DEFINITIONS["cac"]),
        })
        if other_currency:
            st.caption(f"{other_currency:,} ad spend rows in another currency than the store's are left out.")


# -- the page ----------------------------------------------------------------------------------

wh = open_warehouse()
filters = sidebar_filters(wh)
page_header("Customers", QUESTION, wh, filters)

rfm_run = clv_run = None
with section("The customer scores"):
    rfm_run = latest_run(wh, filters.store_id, "rfm")
    clv_run = latest_run(wh, filters.store_id, "clv")

if rfm_run is None:
    st.info("Customer scores have not been computed yet. The background refresh computes them soon, or the "
            "button below does now; it scores every customer and fits the lifetime value model from the orders "
            "so far.", icon=":material/hourglass_empty:")
    customer_refresh(wh, filters, "Compute customer scores now")
    view = None
else:
    as_of = rfm_run["as_of"]
    window = rfm_run["params"].get("window_days", 365)
    st.caption(f"Scores as of {as_of:%-d %b %Y} (last refresh, {window}-day RFM window); the date range below "
               "drives the funnel, products bought together, new against returning customers and CAC.")
    view = None
    with section("The customer figures"):
        # The scores change only with a refresh: new orders leave these figures cached until the next run
        # (the names beside them follow customer_contacts at once: an erased customer never lingers).
        runs = (rfm_run["run_id"], clv_run["run_id"] if clv_run else None,
                cache.current_version(wh, filters.store_id).contacts)
        view = cache.cached_by(runs, customer_overview, wh, filters.store_id, as_of, AT_RISK_ROWS, CLV_ROWS)
    if view is not None and view.customers == 0:
        st.info(f"No customer had ordered by {as_of:%-d %b %Y}. Import orders or connect a store, then "
                f"{REFRESH_NOW}.", icon=":material/group_off:")
        view = None
    if view is not None:
        with section("The key figures"):
            kpi_section(view, filters, clv_run)
        with section("High-value customers at risk"):
            st.subheader("High-value customers at risk", help="Act on these first. " + DEFINITIONS["at_risk"])
            at_risk_section(wh, view, filters, as_of)
    settings_row(wh, filters)


def needs_scores(render, what: str):
    """``render``, or where the scores are still to be computed, the command that computes them."""
    return (lambda: st.caption(f"{what} once the customer scores are computed.")) if view is None else render


# tab: (title, its help, what draws it)
TAB_CONTENT = {
    "Segments": ("RFM segments", DEFINITIONS["rfm"],
                 needs_scores(lambda: segments_section(wh, view, filters, rfm_run), "Segments appear")),
    "Cohorts": ("Cohorts by month of first order", DEFINITIONS["cohort"], lambda: cohorts_section(wh, filters)),
    "Lifetime value": ("Lifetime value", DEFINITIONS["historical"] + " " + DEFINITIONS["predicted"],
                       needs_scores(lambda: clv_section(wh, view, filters, clv_run, rfm_run["as_of"]),
                                    "Predicted value appears")),
    "Funnel": ("Conversion funnel", DEFINITIONS["funnel"], lambda: funnel_section(wh, filters)),
    "Products and repeat": ("Products and repeat purchases", None, lambda: personalization_section(wh, filters)),
}
# Each tab's figures cost a first visit seconds on a large store, and nobody reads five tabs at once.
open_tab_only(TAB_CONTENT, "customers_tab")

from ui.explain import explain_panel  # noqa: E402 - the Explain panel closes the page

explain_panel(wh, filters.store_id, filters, "customers")

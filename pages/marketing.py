"""Marketing: what the ads cost and brought, against the comparison; channels and campaigns; traffic and
conversion by source and device."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from analytics.formatting import format_money
from analytics.marketing.figures import (
    MARKETING_DEFINITIONS,
    MARKETING_LOWER_IS_BETTER,
    TRAFFIC_BREAKDOWNS,
    campaign_table,
    channel_table,
    marketing_over_time,
    marketing_summary,
    traffic_table,
)
from analytics.marketing.sources import marketing_stamp, sessions_as_of, sessions_source
from analytics.marketing.spend import spend_as_of
from analytics.metrics import METRIC_DEFINITIONS, with_change
from ui import charts
from ui.cache import cached_by, current_version
from ui.downloads import chart_download, table_download
from ui.errors import open_tab, open_warehouse, section
from ui.filters import Filters, describe_range, page_header, sidebar_filters
from ui.kpis import kpi, kpi_cards
from ui.tables import count_column, for_display, money_column, percent_column, text_of

QUESTION = "What the ads cost and what they brought, which channels and campaigns pay, and how visits convert."
CARDS = (
    ("ad_spend", "Ad spend", "money"),
    ("net_sales", "Net sales", "money"),
    ("mer", "MER", "multiple"),
    ("blended_roas", "Blended ROAS", "multiple"),
    ("sessions", "Sessions", "count"),
    ("conversion_rate", "Conversion rate", "ratio"),
    ("new_customer_cac", "New-customer CAC", "money"),
    ("new_customer_roas", "New-customer ROAS", "multiple"),
    ("margin_after_ad_spend", "Margin after ad spend", "money"),
)
OVER_TIME = {"ad_spend": "Ad spend", "net_sales": "Net sales", "blended_roas": "ROAS", "mer": "MER",
             "sessions": "Sessions", "conversion_rate": "Conversion rate"}
KINDS = {"ad_spend": "money", "net_sales": "money", "blended_roas": "multiple", "mer": "multiple",
         "sessions": "count", "conversion_rate": "ratio"}
GRAINS = {"day": "Day", "week": "Week", "month": "Month"}
SOURCE_NAMES = {"daily_traffic": "Google Analytics", "session_facts": "the store's own web sessions"}


def query(wh, f: Filters, fn, *args: Any) -> Any:
    """``fn(wh, store, *args)`` cached on the orders' version and the spend and sessions read."""
    stamp = (current_version(wh, f.store_id).everything, marketing_stamp(wh, f.store_id))
    return cached_by(stamp, fn, wh, f.store_id, *args)


def multiple(value: Any) -> str:
    """A ratio of money to money, as ad people say it: ``4.32×``; — when it has no denominator."""
    return "—" if value is None else f"{float(value):,.2f}×"


PLATFORM_NAMES = {"google": "Google", "meta": "Meta", "tiktok": "TikTok", "microsoft": "Microsoft",
                  "pinterest": "Pinterest", "snapchat": "Snapchat"}


def channel_words(name: str | None) -> str | None:
    """A channel as people write it: ``meta`` → Meta, ``organic search`` → Organic search."""
    if name is None:
        return None
    return PLATFORM_NAMES.get(name) or (name if name.startswith("(") else name[:1].upper() + name[1:])


def source_words(name: str | None) -> str | None:
    """``facebook / paid_social`` → facebook / paid social (the CSV keeps the code)."""
    return None if name is None else name.replace("_", " ")


def default_grain(f: Filters) -> str:
    return "day" if f.days <= 62 else "week" if f.days <= 400 else "month"


def card(key: str, label: str, kind: str, f: Filters, current: dict, changes: dict):
    value = current[key]
    help_text = MARKETING_DEFINITIONS.get(key) or METRIC_DEFINITIONS[key]
    change = changes.get(key)
    if value is None:
        reason = {"margin_after_ad_spend": " No unit costs are recorded, so no margin is shown.",
                  "conversion_rate": " No sessions in this range.", "new_customer_cac": " No new customers."}
        return kpi(label, "—", kind="text", currency=f.currency, help=help_text + reason.get(key, " No ad spend."))
    if kind == "multiple":
        return kpi(label, multiple(value), kind="text", currency=f.currency, change=change, help=help_text)
    return kpi(label, value, kind=kind, currency=f.currency, change=change, help=help_text,
               lower_is_better=key in MARKETING_LOWER_IS_BETTER)


def sources_line(wh, f: Filters) -> None:
    """When each source was last filled: sessions and ad spend (the orders' is in the header)."""
    source = sessions_source(wh, f.store_id)
    seen = sessions_as_of(wh, f.store_id)
    spent = spend_as_of(wh, f.store_id)
    sessions = (f"Sessions from {SOURCE_NAMES[source]}, data as of {seen:%-d %b %Y}" if source
                else "No sessions recorded")
    spend = f"ad spend as of {spent:%-d %b %Y}" if spent else "no ad spend recorded"
    st.caption(f"{sessions}; {spend}. The channel filter does not apply on this page: channels here are "
               "where visits came from.")


def kpi_section(f: Filters, current: dict, changes: dict) -> None:
    cards = [card(key, label, kind, f, current, changes) for key, label, kind in CARDS]
    kpi_cards(cards, key="marketing", delta_description=f.comparison_short)
    if current["left_out_other_currency"]:
        st.caption(f"{current['left_out_other_currency']:,} ad spend rows in another currency than the store's "
                   "are left out: there is no exchange rate for their day to convert them at.")


def over_time_section(wh, f: Filters, changes: dict) -> None:
    with st.container(horizontal=True, gap="medium", vertical_alignment="bottom"):
        metric = st.segmented_control("Figure", list(OVER_TIME), default="ad_spend", required=True,
                                      format_func=OVER_TIME.get, key="marketing_over_time_figure")
        grain = st.segmented_control("By", list(GRAINS), default=default_grain(f), required=True,
                                     format_func=GRAINS.get, key="marketing_over_time_grain")
    metric, grain = metric or "ad_spend", grain or default_grain(f)
    kind = KINDS[metric]
    frame = query(wh, f, marketing_over_time, f.start, f.end, grain)
    compared = query(wh, f, marketing_over_time, f.compare_start, f.compare_end, grain) if f.has_comparison else None
    label = OVER_TIME[metric]
    change = changes.get(metric, {}).get("relative_change")
    title = charts.finding_title(label, change, f.comparison_label, f"{label} by {grain} (store time)")
    # Multiples are drawn as plain numbers (4.3 = 4.3×).
    fig = charts.time_series(
        frame["period"].to_list(), frame[metric].to_list(), title=title, label=describe_range(f.start, f.end),
        kind="count" if kind == "multiple" else kind, currency=f.currency, grain=grain,
        comparison_periods=compared["period"].to_list() if compared is not None else None,
        comparison_values=compared[metric].to_list() if compared is not None else None,
        comparison_label=describe_range(f.compare_start, f.compare_end) if f.has_comparison else "",
    )
    st.plotly_chart(fig, key="chart_marketing_over_time", config=charts.chart_config(), theme=None)
    with st.container(horizontal=True, gap="small"):
        chart_download(fig, f"marketing_{metric}_by_{grain}", f)
        table_download(frame, f"marketing_by_{grain}", f)


def figures_table(frame: pl.DataFrame, f: Filters, first: dict[str, str], key: str) -> None:
    """A table of channel or campaign figures: labels, money, counts, rates as percentages and ROAS."""
    titles = {"ad_spend": "Spend", "impressions": "Impressions", "clicks": "Clicks", "cpc": "Cost per click",
              "sessions": "Sessions", "orders": "Orders", "conversion_rate": "Conversion rate",
              "revenue": "Revenue", "roas": "ROAS", "new_customers": "New customers",
              "new_customer_cac": "New-customer CAC", "add_to_carts": "Add-to-carts", "checkouts": "Checkouts",
              "purchases": "Purchases", "purchase_rate": "Purchase rate"}
    config: dict[str, Any] = {name: st.column_config.TextColumn(title) for name, title in first.items()}
    rates = [name for name in ("conversion_rate", "purchase_rate") if name in frame.columns]
    for name in frame.columns:
        if name in first:
            continue
        if name in rates:
            config[name] = percent_column(titles[name])
        elif name == "roas":
            config[name] = st.column_config.NumberColumn("ROAS", format="%.2f×",
                                                         help=MARKETING_DEFINITIONS["roas"])
        elif isinstance(frame.schema[name], pl.Decimal):
            config[name] = money_column(titles[name], f.currency)
        else:
            config[name] = count_column(titles[name])
    shown = for_display(frame).with_columns(pl.col(rates) * 100) if rates else for_display(frame)
    words = {"channel": channel_words, "source": source_words}
    shown = shown.with_columns(text_of(shown, words[name], name) for name in first if name in words)
    st.dataframe(shown, hide_index=True, column_config=config, key=key, width="stretch",
                 height=min(35 * (shown.height + 1) + 3, 460))
    table_download(frame, key, f)


def channels_section(wh, f: Filters) -> None:
    frame = query(wh, f, channel_table, f.start, f.end)
    if frame.height == 0:
        st.caption("No spend, sessions or orders in this range.")
        return
    paid = frame.filter(pl.col("ad_spend") > 0)
    if paid.height:
        best = paid.sort("roas", descending=True, nulls_last=True).row(0, named=True)
        title = (f"{channel_words(best['channel'])} returned {multiple(best['roas'])} its spend of "
                 f"{format_money(best['ad_spend'], f.currency)}")
        fig = charts.ranked_bars([channel_words(c) for c in paid["channel"].to_list()], paid["ad_spend"].to_list(), title=title, kind="money",
                                 currency=f.currency)
        st.plotly_chart(fig, key="chart_marketing_channels", config=charts.chart_config(), theme=None)
        chart_download(fig, "marketing_spend_by_channel", f)
    figures_table(frame, f, {"channel": "Channel"}, "marketing_channels")


def campaigns_section(wh, f: Filters) -> None:
    frame = query(wh, f, campaign_table, f.start, f.end)
    if frame.height == 0:
        st.caption("No ad spend in this range.")
        return
    if frame["roas"].null_count() == frame.height and frame["orders"].null_count() == frame.height:
        st.caption("The visits recorded carry no campaign, so what each campaign brought is not known; "
                   "channel ROAS above counts them.")
    figures_table(frame, f, {"channel": "Channel", "campaign": "Campaign"}, "marketing_campaigns")


def traffic_section(wh, f: Filters) -> None:
    tab, label = open_tab(list(TRAFFIC_BREAKDOWNS.values()), "marketing_traffic_tab")
    by = next(key for key, title in TRAFFIC_BREAKDOWNS.items() if title == label)
    with tab:
        frame = query(wh, f, traffic_table, f.start, f.end, by)
        if frame.height == 0:
            st.caption("No sessions in this range.")
            return
        figures_table(frame, f, {by: label}, f"marketing_traffic_by_{by}")


# -- the page ----------------------------------------------------------------------------------

wh = open_warehouse()
filters = sidebar_filters(wh)
page_header("Marketing", QUESTION, wh, filters)

current: dict[str, Any] | None = None
with section("The marketing figures"):
    sources_line(wh, filters)
    current = query(wh, filters, marketing_summary, filters.start, filters.end)
    previous = (query(wh, filters, marketing_summary, filters.compare_start, filters.compare_end)
                if filters.has_comparison else None)
    changes = with_change(current, previous) if previous is not None else {}
if current is None:
    st.stop()

if current["sessions"] == 0 and current["ad_spend"] == 0 and not current["left_out_other_currency"]:
    st.info(f"No sessions or ad spend in {describe_range(filters.start, filters.end)}. Import ad spend in "
            "Settings › Import data or with `python -m connectors import-csv PATH --kind ad-spend`, or widen "
            "the dates.", icon=":material/campaign:")
    st.stop()

with section("The key figures"):
    kpi_section(filters, current, changes)

with section("Marketing over time"):
    st.subheader("Spend, revenue and returns over time", help="Each day, ISO week (from Monday) or month of "
                 "the range, store time. ROAS and MER have no value on a day without spend. The comparison is "
                 "drawn over the range bucket by bucket.")
    over_time_section(wh, filters, changes)

with section("Channels"):
    st.subheader("Channels", help="A visit with a paid medium belongs to its ad platform; other visits to "
                 "organic search, organic social, email, referral or direct. An order counts in the channel of "
                 "the visit that bought it; (unknown) holds the orders without one (in-store sales among them). "
                 + MARKETING_DEFINITIONS["roas"])
    channels_section(wh, filters)

with section("Campaigns"):
    st.subheader("Campaigns", help="Spend, clicks and the orders whose paid visit carried the campaign.")
    campaigns_section(wh, filters)

with section("Traffic and conversion"):
    st.subheader("Traffic and conversion", help="Sessions and how far they went, by channel, source and "
                 "medium, or device. Purchase rate: purchases ÷ sessions, as the sessions' source counts them.")
    traffic_section(wh, filters)

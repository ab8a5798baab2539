"""Sales: how much the store sold in the chosen range, against the comparison,
where the money came from, when people buy, and how today is going, live."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
import streamlit as st

from analytics.all_stores import sales_over_time_all, sales_summary_all
from analytics.formatting import format_money, format_percent
from analytics.fx import newest_rate_date
from analytics.margin import MARGIN_DEFINITIONS, contribution_margin, margin_costs
from analytics.metrics import LOWER_IS_BETTER, METRIC_DEFINITIONS, sales_over_time, sales_summary, with_change
from analytics.sales_hours import sales_by_hour
from analytics.sales_breakdowns import (
    latest_orders,
    sales_by_channel,
    sales_by_country,
    sales_by_product,
    sales_by_variant,
    sales_heatmap,
    today_vs_last_week,
    top_n_with_other,
)
from ui import charts
from ui.cache import cached_by, cached_query, cached_warehouse_query, current_version
from ui.downloads import chart_download, table_download
from ui.errors import open_tab, open_warehouse, section
from ui.filters import Filters, channel_name, describe_range, live_cut, page_header, sidebar_filters, store_now
from ui.kpis import kpi, kpi_cards
from ui.tables import count_column, for_display, money_column, text_of

QUESTION = "How much the store sold, how that compares, where the money came from, and how today is going."
LIVE_SECONDS = 5
TICKER_ROWS = 8
TOP_N = 10

CARDS = (
    ("total_sales", "Total sales", "money"),
    ("net_sales", "Net sales", "money"),
    ("orders", "Orders", "count"),
    ("aov", "Average order value", "money"),
    ("units_sold", "Units sold", "count"),
    ("returning_customer_rate", "Returning customer rate", "ratio"),
    ("refund_rate", "Refund rate", "ratio"),
)
OVER_TIME = {"total_sales": "Total sales", "net_sales": "Net sales", "orders": "Orders", "aov": "AOV"}
GRAINS = {"day": "Day", "week": "Week", "month": "Month"}
GRAIN, GRAIN_PICKED = "sales_over_time_grain", "_sales_over_time_grain_picked"
ITEM_COLUMNS = ("units_sold", "units_returned", "gross_sales", "discounts", "returns", "net_sales")
ORDER_COLUMNS = ("orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "total_sales")
COLUMN_TITLES = {
    "orders": "Orders", "units_sold": "Units sold", "units_returned": "Units returned",
    "gross_sales": "Gross sales", "discounts": "Discounts", "returns": "Returns", "net_sales": "Net sales",
    "shipping": "Shipping", "taxes": "Taxes", "total_sales": "Total sales",
}


# -- helpers -----------------------------------------------------------------------------

def query(wh, f: Filters, fn, *args: Any, **kwargs: Any) -> Any:
    """``fn(wh, store, *args, channels=..., **kwargs)`` through the page cache."""
    return cached_query(fn, wh, f.store_id, *args, channels=f.channel_filter, **kwargs)


def money_query(wh, f: Filters, fn, *args: Any, **kwargs: Any) -> Any:
    """:func:`query` of a figure that converts money: in the reporting currency when one is chosen, then
    kept until the store's data or the newest exchange rate changes (a rate published later replaces the
    one carried over)."""
    if not f.converted:
        return query(wh, f, fn, *args, **kwargs)
    stamp = (current_version(wh, f.store_id).everything, cached_warehouse_query(newest_rate_date, wh, seconds=60))
    return cached_by(stamp, fn, wh, f.store_id, *args, channels=f.channel_filter, currency=f.reporting_currency,
                     **kwargs)


def csv_of(frame: pl.DataFrame, f: Filters, *, converted: bool = True) -> pl.DataFrame:
    """A frame for a CSV, with the currency its money is in (the reporting one when ``converted``)."""
    return frame.with_columns(pl.lit(f.money_currency if converted else f.currency).alias("currency"))


def conversion_caption(f: Filters) -> None:
    """Beside converted figures: what they were converted to, and how."""
    if f.converted:
        st.caption(f":material/currency_exchange: Figures {f.conversion_note}.")


def rates_note(wh, f: Filters) -> None:
    """When the range runs past the newest ECB rates by more than a long weekend, say which day's rates the
    later days are converted at."""
    if not f.converted:
        return
    newest = cached_warehouse_query(newest_rate_date, wh, seconds=60)
    if newest is not None and (f.end - newest).days > 4:
        st.caption(f":material/history: The newest ECB rates stored are of {newest:%-d %B %Y}: the days after it "
                   "are converted at those (they refresh when the app can reach the ECB, FX_REFRESH).")


def store_currency_caption(f: Filters) -> None:
    """Beside figures this page does not convert, when the others are converted."""
    if f.converted:
        st.caption(f"In {f.currency}, the store's currency (not converted).")


def one_day(f: Filters) -> bool:
    """A range of one day is drawn hour by hour."""
    return f.start == f.end


def show_table(frame: pl.DataFrame, f: Filters, *, first: dict[str, str], figures: tuple[str, ...],
               key: str, currency: str | None = None) -> None:
    """A scrollable table: the label columns of ``first`` (name → title), then figures, money formatted."""
    config: dict[str, Any] = {name: st.column_config.TextColumn(title) for name, title in first.items()}
    for name in figures:
        if frame.schema[name] == pl.Int64:
            config[name] = count_column(COLUMN_TITLES[name], METRIC_DEFINITIONS.get(name))
        else:
            config[name] = money_column(COLUMN_TITLES[name], currency or f.currency, METRIC_DEFINITIONS.get(name))
    shown = for_display(frame.select([*first, *figures]))
    st.dataframe(shown, hide_index=True, placeholder="–", column_config=config, key=key, width="stretch",
                 height=35 * (shown.height + 1) + 3)


def plot(fig, name: str, f: Filters, *, data: pl.DataFrame | None = None, converted: bool = True) -> None:
    """A chart with its PNG download (and the CSV of what it shows, with its money's currency)."""
    charts.show(fig, key=f"chart_{name}")
    with st.container(horizontal=True, gap="small"):
        chart_download(fig, name, f)
        if data is not None:
            table_download(csv_of(data, f, converted=converted), name, f)


def sparkline(series: pl.DataFrame, key: str) -> list[float] | None:
    """A card's figure per bucket (drawing only: floats); none for a figure the buckets do not hold (the
    customers of an hour)."""
    if key == "returning_customer_rate":
        if "customers" not in series.columns:
            return None
        return [float(r) / c if c else 0.0 for r, c in zip(series["returning_customers"], series["customers"])]
    if key == "refund_rate":
        return [float(r) / float(g) if g else 0.0 for r, g in zip(series["returns"], series["gross_sales"])]
    return charts.as_float(series[key].to_list())


def default_grain(f: Filters) -> str:
    return "day" if f.days <= 62 else "week" if f.days <= 400 else "month"


def is_empty(summary: dict[str, Any]) -> bool:
    return summary["orders"] == 0 and summary["returns"] == 0 and summary["units_returned"] == 0 \
        and summary["total_sales"] == 0


# -- sections --------------------------------------------------------------------------------

def kpi_section(wh, f: Filters, current: dict, changes: dict) -> None:
    # The sparklines use the chart's default buckets (hours for a day, days for a month, weeks for a year):
    # one query for both.
    series = (money_query(wh, f, sales_by_hour, f.start, until=f.until) if one_day(f)
              else money_query(wh, f, sales_over_time, f.start, f.end, default_grain(f)))
    cards = [
        kpi(label, current[key], kind=kind, currency=f.money_currency, change=changes.get(key),
            lower_is_better=key in LOWER_IS_BETTER, help=METRIC_DEFINITIONS[key], sparkline=sparkline(series, key))
        for key, label, kind in CARDS
    ]
    costs = money_query(wh, f, margin_costs, f.start, f.end)
    margin = contribution_margin(current["net_sales"], costs)
    help_text = MARGIN_DEFINITIONS["contribution_margin"]
    if margin is None:
        cards.append(kpi("Contribution margin", "Costs unknown", kind="text", currency=f.money_currency,
                         help=help_text + " No unit costs are recorded for the variants sold, so no margin "
                         "is shown: add them in the catalogue or import them."))
    else:
        change = None
        # Costs are known per day: a comparison cut at a time of day has no margin to compare with.
        if f.has_comparison and f.compare_until is None:
            before = money_query(wh, f, margin_costs, f.compare_start, f.compare_end)
            previous_margin = contribution_margin(changes["net_sales"]["previous"], before)
            if previous_margin is not None:
                change = with_change({"m": margin}, {"m": previous_margin})["m"]
        note = None
        if costs["costs"] == "partial":
            note = f"costs known for {format_percent(costs['cost_coverage'])} of units"
            help_text += (f" Unit costs are missing for {costs['units_uncosted']:,} of the units sold or "
                          "returned, so the margin leaves their cost out and is too high.")
        cards.append(kpi("Contribution margin", margin, kind="money", currency=f.money_currency, change=change,
                         help=help_text, note=note))
    kpi_cards(cards, key="sales", delta_description=f.comparison_short)
    conversion_caption(f)
    rates_note(wh, f)
    if costs["left_out_other_currency"]:
        st.caption(f"{costs['left_out_other_currency']:,} days of payment fees or ad spend in a currency without "
                   "an ECB exchange rate are left out of the margin (python -m connectors fx loads the rates).")


def over_time_section(wh, f: Filters, changes: dict) -> None:
    with st.container(horizontal=True, gap="medium", vertical_alignment="bottom"):
        metric = st.segmented_control("Figure", list(OVER_TIME), default="total_sales", required=True,
                                      format_func=OVER_TIME.get, key="sales_over_time_figure")
        if one_day(f):
            st.caption("By hour (store time).")
            grain = None
        else:
            # Days for a month, weeks for a year, months beyond, until someone picks a grain.
            if not st.session_state.get(GRAIN_PICKED):
                st.session_state[GRAIN] = default_grain(f)
            grain = st.segmented_control("By", list(GRAINS), required=True, format_func=GRAINS.get, key=GRAIN,
                                         on_change=lambda: st.session_state.update({GRAIN_PICKED: True}))
    metric, grain = metric or "total_sales", grain or default_grain(f)
    label = "Average order value" if metric == "aov" else OVER_TIME[metric]
    kind = "count" if metric == "orders" else "money"
    if one_day(f):
        # One day is drawn by hour (store time), its comparison day up to the same time.
        grain = "hour"
        frame = money_query(wh, f, sales_by_hour, f.start, until=f.until)
        compared = (money_query(wh, f, sales_by_hour, f.compare_start, until=f.compare_until)
                    if f.has_comparison else None)
    else:
        frame = money_query(wh, f, sales_over_time, f.start, f.end, grain)
        compared = (money_query(wh, f, sales_over_time, f.compare_start, f.compare_end, grain)
                    if f.has_comparison else None)
    change = changes.get(metric, {}).get("relative_change")
    title = charts.finding_title(label, change, f.comparison_label, f"{label} by {grain} (store time)")
    fig = charts.time_series(
        frame["period"].to_list(), frame[metric].to_list(), title=title, label=describe_range(f.start, f.end),
        kind=kind, currency=f.money_currency, grain=grain,
        comparison_periods=compared["period"].to_list() if compared is not None else None,
        comparison_values=compared[metric].to_list() if compared is not None else None,
        comparison_label=describe_range(f.compare_start, f.compare_end) if f.has_comparison else "",
    )
    plot(fig, f"sales_{metric}_by_{grain}", f, data=frame)
    conversion_caption(f)


@st.fragment(run_every=LIVE_SECONDS)
def live_section(wh, f: Filters) -> None:
    with section("Today's live figures"):
        now = store_now(f.timezone)
        cut = live_cut(now)
        live = cached_query(today_vs_last_week, wh, f.store_id, cut, channels=f.channel_filter)
        changes = with_change(live["today"], live["last_week"])
        cards = [
            kpi(label, live["today"][key], kind=kind, currency=f.currency, change=changes[key],
                help=METRIC_DEFINITIONS[key] + " Today so far.")
            for key, label, kind in (("total_sales", "Total sales today", "money"), ("orders", "Orders today", "count"),
                                     ("net_sales", "Net sales today", "money"), ("aov", "AOV today", "money"))
        ]
        kpi_cards(cards, key="today", delta_description=f"vs last {live['last_week_date']:%a}")
        store_currency_caption(f)
        st.caption(f"Today up to {cut:%H:%M} against {live['last_week_date']:%A %-d %b} up to {cut:%H:%M} "
                   f"(store time){', ' + ', '.join(map(channel_name, f.channels)) if f.channels else ''}. "
                   f"Refreshes every {LIVE_SECONDS} seconds.")
        ticker = cached_query(latest_orders, wh, f.store_id, TICKER_ROWS, channels=f.channel_filter)
        if ticker.height == 0:
            st.caption("No orders yet.")
            return
        today = now.date()
        shown = ticker.with_columns(
            text_of(ticker, lambda t: f"{t:%H:%M:%S}" if t.date() == today else f"{t.day} {t:%b %H:%M}",
                    "created_at", name="time"),
            text_of(ticker, channel_name, "channel"),
        ).select("order_number", "time", "channel", "items", "total")
        st.dataframe(for_display(shown), hide_index=True, placeholder="–", key="live_ticker", width="stretch",
                     column_config={
            "order_number": st.column_config.TextColumn("Order"),
            "time": st.column_config.TextColumn("Time", help="Store time."),
            "channel": st.column_config.TextColumn("Channel"),
            "items": count_column("Items", "Units, gift cards excluded."),
            "total": money_column("Total", f.currency, "The order's total as placed: goods after discounts, "
                                  "shipping, taxes and duties."),
        })
        table_download(csv_of(ticker, f, converted=False), "sales_latest_orders", None)


def waterfall_section(f: Filters, current: dict) -> None:
    steps = [
        ("Gross sales", current["gross_sales"], "absolute"),
        ("Discounts", -current["discounts"], "relative"),
        ("Returns", -current["returns"], "relative"),
        ("Net sales", current["net_sales"], "total"),
        ("Shipping", current["shipping"], "relative"),
        ("Taxes", current["taxes"], "relative"),
    ]
    if current["duties"]:
        steps.append(("Duties", current["duties"], "relative"))
    steps.append(("Total sales", current["total_sales"], "total"))
    title = (f"{format_money(current['gross_sales'], f.money_currency)} of gross sales made "
             f"{format_money(current['total_sales'], f.money_currency)} of total sales")
    fig = charts.waterfall(steps, title=title, currency=f.money_currency)
    data = pl.DataFrame({"step": [s[0] for s in steps], "amount": [s[1] for s in steps]},
                        schema={"step": pl.String, "amount": pl.Decimal(38, 10 if f.converted else 4)})
    plot(fig, "sales_gross_to_total", f, data=data)
    conversion_caption(f)


def breakdown(frame: pl.DataFrame, f: Filters, *, label: str, title: str, name: str, noun: str,
              figures: tuple[str, ...], names=None, converted: bool = True) -> None:
    """Top N bars of net sales with an "Other" bar, the table, and their downloads (the CSV holds every row).

    ``converted``: the frame's money is in the reporting currency (else in the store's)."""
    currency = f.money_currency if converted else f.currency
    if frame.height == 0:
        st.caption(f"No sales by {noun} in this range.")
        return
    shown = top_n_with_other(frame, label, TOP_N)
    if names is not None:
        shown = shown.with_columns(text_of(shown, names, label))
    total = frame["net_sales"].sum()
    shares = [Decimal(v) / total if total > 0 else None for v in shown["net_sales"]]
    labels = shown[label].to_list()
    finding = f"{labels[0]} brought {format_percent(shares[0])} of net sales" if shares[0] is not None else title
    fig = charts.ranked_bars(labels, shown["net_sales"].to_list(), title=finding, kind="money",
                             currency=currency, shares=shares)
    charts.show(fig, key=f"chart_{name}")
    show_table(shown, f, first={label: title}, figures=figures, key=f"table_{name}", currency=currency)
    with st.container(horizontal=True, gap="small"):
        chart_download(fig, name, f)
        table_download(csv_of(frame, f, converted=converted), name, f)
    if converted:
        conversion_caption(f)
    else:
        store_currency_caption(f)


def heatmap_section(wh, f: Filters) -> None:
    frame = query(wh, f, sales_heatmap, f.start, f.end)
    if frame["orders"].sum() == 0:
        st.caption("No orders in this range.")
        return
    busiest = frame.sort(["orders", "isodow", "hour"], descending=[True, False, False]).row(0, named=True)
    day = charts.WEEKDAYS[busiest["isodow"] - 1]
    title = f"Busiest hour: {day} {busiest['hour']:02d}:00–{busiest['hour']:02d}:59 ({busiest['orders']:,} orders)"
    plot(charts.heatmap(frame, title=title), "sales_by_weekday_and_hour", f, data=frame, converted=False)


def all_stores_query(wh, f: Filters, fn, *args: Any, **kwargs: Any) -> Any:
    """``fn(wh, stores, *args, currency=..., channels=..., **kwargs)`` through the page cache, kept until any
    of the stores' data changes."""
    stamp = (*(current_version(wh, store).everything for store in f.stores),
             cached_warehouse_query(newest_rate_date, wh, seconds=60))
    return cached_by(stamp, fn, wh, f.stores, *args, currency=f.money_currency, channels=f.channel_filter,
                     **kwargs)


def all_stores_section(wh, f: Filters) -> None:
    """"All stores": the sales cards and the chart over time, every store added up in one currency."""
    current = all_stores_query(wh, f, sales_summary_all, f.start, f.end, until=f.until)
    previous = (all_stores_query(wh, f, sales_summary_all, f.compare_start, f.compare_end, until=f.compare_until)
                if f.has_comparison else None)
    changes = with_change(current, previous) if previous is not None else {}
    if is_empty(current):
        st.info(f"No orders or refunds in any store in {describe_range(f.start, f.end)}.",
                icon=":material/event_busy:")
        return
    kpi_cards([kpi(label, current[key], kind=kind, currency=f.money_currency, change=changes.get(key),
                   lower_is_better=key in LOWER_IS_BETTER, help=METRIC_DEFINITIONS[key])
               for key, label, kind in CARDS], key="sales_all", delta_description=f.comparison_short)
    st.caption(f"{len(f.stores)} stores added up, each store's days in its own timezone; customers are counted "
               "per store." + (f" Figures {f.conversion_note}." if f.converted else ""))
    rates_note(wh, f)
    grain = default_grain(f)
    frame = all_stores_query(wh, f, sales_over_time_all, f.start, f.end, grain)
    fig = charts.time_series(frame["period"].to_list(), frame["total_sales"].to_list(),
                             title=f"Total sales by {grain}, all stores", label=describe_range(f.start, f.end),
                             kind="money", currency=f.money_currency, grain=grain)
    plot(fig, f"sales_all_stores_total_sales_by_{grain}", f, data=frame)
    st.info("The margin, the breakdowns and today's live figures are per store: choose a store to see them.",
            icon=":material/storefront:")


# -- the page ----------------------------------------------------------------------------------

wh = open_warehouse()
filters = sidebar_filters(wh, currencies=True, all_stores=True)
page_header("Sales", QUESTION, wh, filters)
if filters.all_stores:
    with section("The sales of all stores"):
        all_stores_section(wh, filters)
    st.stop()

current: dict[str, Any] | None = None
with section("The sales figures"):
    current = money_query(wh, filters, sales_summary, filters.start, filters.end, until=filters.until)
    previous = (money_query(wh, filters, sales_summary, filters.compare_start, filters.compare_end,
                            until=filters.compare_until) if filters.has_comparison else None)
    changes = with_change(current, previous) if previous is not None else {}
if current is None:
    st.stop()

with section("The key figures"):
    if is_empty(current):
        where = " in these channels" if filters.channels else ""
        st.info(f"No orders or refunds{where} in {describe_range(filters.start, filters.end)}. Widen the dates"
                f"{' or choose other channels' if filters.channels else ''}, or connect a store in Settings.",
                icon=":material/event_busy:")
        if current_version(wh, filters.store_id).orders:
            st.subheader("Today, live", help="Today so far against the same weekday last week up to the same "
                         "time (store time), and the newest orders. Refreshes every few seconds.")
            live_section(wh, filters)
        st.stop()

    kpi_section(wh, filters, current, changes)

with section("Sales over time"):
    st.subheader("Sales over time", help="Each day, ISO week (from Monday) or month of the range, store time; "
                 "the first and last week or month count only the days inside the range. The comparison is "
                 "drawn over the range bucket by bucket: its first day over the range's first day.")
    over_time_section(wh, filters, changes)

st.subheader("Today, live", help="Today so far against the same weekday last week up to the same time "
             "(store time), and the newest orders. Refreshes every few seconds; the date range does not apply, "
             "the channel filter does.")
live_section(wh, filters)

with section("From gross to total sales"):
    st.subheader("From gross to total sales", help=" ".join(
        f"{name.replace('_', ' ').capitalize()}: {METRIC_DEFINITIONS[name]}"
        for name in ("gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "total_sales")))
    waterfall_section(filters, current)

st.subheader("Where the sales came from", help="Net sales: " + METRIC_DEFINITIONS["net_sales"] + " A refund "
             "counts in its order's channel and country, on the refund's day. The largest ten, the rest as Other; "
             "the CSV holds every row.")
left, right = st.columns(2, gap="medium")
with left, section("Sales by channel"):
    breakdown(money_query(wh, filters, sales_by_channel, filters.start, filters.end), filters, label="channel",
              title="Channel", name="sales_by_channel", noun="channel", figures=ORDER_COLUMNS, names=channel_name)
with right, section("Sales by country"):
    breakdown(money_query(wh, filters, sales_by_country, filters.start, filters.end), filters, label="country",
              title="Country", name="sales_by_country", noun="country", figures=ORDER_COLUMNS)

# Only the open tab runs (a click on the other reruns the page): the browser draws one chart and table.
ITEM_TABS = {"By product": ("product", sales_by_product), "By variant": ("variant", sales_by_variant)}
items_tab, items_label = open_tab(list(ITEM_TABS), "sales_items_tab")
item, figures_of = ITEM_TABS[items_label]
with items_tab, section(f"Sales by {item}"):
    breakdown(query(wh, filters, figures_of, filters.start, filters.end), filters, label=item,
              title=item.capitalize(), name=f"sales_by_{item}", noun=item, figures=ITEM_COLUMNS, converted=False)

with section("When people buy"):
    st.subheader("When people buy", help="Orders by weekday and hour of the day in the store's timezone, over "
                 "the range.")
    heatmap_section(wh, filters)

from ui.explain import explain_panel  # noqa: E402 - the Explain panel closes the page

explain_panel(wh, filters.store_id, filters, "sales")

"""Sales: the store's headline figures for the last 30 days against the 30 before."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import streamlit as st

from analytics.formatting import format_count, format_money, format_percent
from analytics.metrics import LOWER_IS_BETTER, METRIC_DEFINITIONS, sales_over_time, sales_summary, with_change
from analytics.periods import previous_period
from data.settings import setting
from data.warehouse import WarehouseError, shared

st.title("Sales")
st.caption("How much the store sold in the last 30 days, and how that compares with the 30 days before.")

try:
    wh = shared()
    stores = wh.query("SELECT store_id, name, currency, timezone FROM stores ORDER BY store_id")
except WarehouseError as exc:
    st.error(str(exc))
    st.stop()

if stores.height == 0:
    st.info(
        "No store yet. Build the demo store with `python -m connectors demo`, or import your orders with "
        "`python -m connectors import-csv orders.csv`."
    )
    st.stop()

preferred = setting("STORE_ID")
store_ids = stores["store_id"].to_list()
index = store_ids.index(preferred) if preferred in store_ids else (store_ids.index("demo") if "demo" in store_ids else 0)
if len(store_ids) > 1:
    store_id = st.sidebar.selectbox("Store", store_ids, index=index)
else:
    store_id = store_ids[index]
store = stores.row(store_ids.index(store_id), named=True)
currency, tz = store["currency"], ZoneInfo(store["timezone"])


@st.fragment(run_every=10)
def headline() -> None:
    now = dt.datetime.now(tz)
    end = now.date()
    start = end - dt.timedelta(days=29)
    prev_start, prev_end = previous_period(start, end)
    newest = wh.scalar("SELECT max(created_at) FROM orders WHERE store_id = :s", {"s": store_id})
    as_of = newest.astimezone(tz).strftime("%-d %b %Y %H:%M") if newest else "no orders yet"
    st.caption(
        f"{start:%-d %b} – {end:%-d %b %Y} vs {prev_start:%-d %b} – {prev_end:%-d %b %Y} · "
        f"data as of {as_of} (store time, {store['timezone']})"
    )
    current = sales_summary(wh, store_id, start, end)
    previous = sales_summary(wh, store_id, prev_start, prev_end)
    changes = with_change(current, previous)

    cards = [
        ("total_sales", "Total sales", "money"),
        ("net_sales", "Net sales", "money"),
        ("orders", "Orders", "count"),
        ("aov", "Average order value", "money"),
        ("units_sold", "Units sold", "count"),
        ("returning_customer_rate", "Returning customer rate", "percent"),
        ("returns", "Returns", "money"),
        ("new_customers", "New customers", "count"),
    ]
    for row_start in range(0, len(cards), 4):
        columns = st.columns(4)
        for column, (key, label, kind) in zip(columns, cards[row_start:row_start + 4]):
            value = current.get(key)
            text = (
                format_money(value, currency) if kind == "money"
                else format_percent(value) if kind == "percent" else format_count(value)
            )
            change = changes.get(key, {}).get("relative_change")
            delta = format_percent(change, signed=True) if change is not None else None
            column.metric(
                label, text, delta,
                delta_color="inverse" if key in LOWER_IS_BETTER else "normal",
                help=METRIC_DEFINITIONS.get(key, ""),
                border=True,
            )

    daily = sales_over_time(wh, store_id, start, end, "day")
    if daily.height == 0 or sum(daily["orders"].to_list()) == 0:
        st.info("No orders in the last 30 days. Import orders or build the demo store.")
        return
    fig = go.Figure(
        go.Bar(
            x=daily["period"].to_list(),
            y=[float(v) for v in daily["net_sales"].to_list()],
            marker_color="#0072B2",
            name="Net sales",
            hovertemplate="%{x|%a %-d %b}: %{y:,.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Net sales by day (store time)",
        margin=dict(l=10, r=10, t=50, b=10),
        height=340,
        yaxis_title=currency,
    )
    st.plotly_chart(fig, width="stretch")


headline()

"""Inventory: what to reorder today, what is about to run out, what sits still, and how good the
demand forecasts are. Forecasts are read from the last refresh; the page never fits a model."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from analytics.formatting import format_count, format_money, format_percent
from analytics.inventory.alerts import DigestConfig
from analytics.inventory.choices import InventoryChoices, load_choices, save_choices
from analytics.inventory.forecast_quality import ForecastQuality, forecast_quality
from analytics.inventory.purchasing import (
    PurchaseOrderError,
    cancel,
    draft_purchase_orders,
    mark_received,
    mark_sent,
    purchase_order_csv,
    purchase_order_lines,
    purchase_orders,
    update_lines,
)
from analytics.inventory.figures import STATUSES, reorder_due_expr
from analytics.inventory.stock import (
    INVENTORY_DEFINITIONS,
    health_summary,
    inventory_version,
    levels_by_location,
    lost_sales,
    sell_through,
)
from analytics.inventory.suppliers import (
    Supplier,
    SupplierError,
    list_suppliers,
    save_supplier,
    supplier_items,
)
from analytics.refresh import latest_run
from analytics.store_state import Store
from ui import charts
from ui.actions import digest_button, refresh_button
from ui.cache import cached_by, cached_query
from ui.downloads import chart_download, table_download
from ui.errors import open_tab, open_tab_only, open_warehouse, section
from ui.filters import Filters, describe_range, page_header, sidebar_filters, store_now
from ui.kpis import kpi, kpi_cards
from ui.login import OWNERS_ONLY, may_change
from ui.stock import store_stock
from ui.tables import count_column, for_display, money_column, percent_column
from ui.uploads import supplier_items_upload

QUESTION = "What to reorder today, what is about to run out, what is not selling, and how sure the forecasts are."
D = INVENTORY_DEFINITIONS
STATUS_WORDS = {**STATUSES, "draft": "Draft", "sent": "Sent", "received": "Received", "cancelled": "Cancelled"}
LOW_TOGETHER = " Stockouts and stockout risks together, {:,}, are the variants low on stock on the Products page."


# -- cached reads (keyed on the sales data version and the inventory fingerprint) ---------------------------

def _forecast_rows(wh, store_id: str, stamp: tuple) -> pl.DataFrame:
    return wh.query("SELECT variant_id, ds, yhat, yhat_lo, yhat_hi, model, level FROM forecasts "
                    "WHERE store_id = :s ORDER BY variant_id, ds", {"s": store_id})


def _history(wh, store_id: str, variant_id: str, start: dt.date, end: dt.date, stamp: tuple) -> pl.DataFrame:
    """Units sold each day of the range, 0 on days without a sale."""
    sold = wh.query("SELECT local_date AS ds, CAST(SUM(units_sold) AS BIGINT) AS units FROM variant_daily_sales "
                    "WHERE store_id = :s AND variant_id = :v AND local_date BETWEEN :a AND :b GROUP BY local_date",
                    {"s": store_id, "v": variant_id, "a": start, "b": end})
    days = pl.DataFrame({"ds": pl.date_range(start, end, interval="1d", eager=True)})
    if sold.height == 0:
        return days.with_columns(pl.lit(0, pl.Int64).alias("units"))
    return days.join(sold.with_columns(pl.col("ds").cast(pl.Date)), on="ds", how="left").with_columns(
        pl.col("units").fill_null(0))


def _range_figures(wh, store_id: str, start: dt.date, end: dt.date, stamp: tuple) -> pl.DataFrame:
    return sell_through(wh, store_id, start, end).join(lost_sales(wh, store_id, start, end), on="variant_id",
                                                       how="full", coalesce=True)


# -- pieces ---------------------------------------------------------------------------------------------------

def table(frame: pl.DataFrame, columns: dict[str, Any], key: str, name: str, f: Filters | None,
          *, percent: tuple[str, ...] = (), height: int | None = None) -> None:
    """A table of ``columns`` (name → column config) with its CSV download of every column of ``frame``
    (a ``status_words`` column shows the ``status`` code in words; the CSV keeps the code)."""
    if "status_words" in columns:
        frame_shown = frame.with_columns(pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status"))
                                         .alias("status_words"))
    else:
        frame_shown = frame
    shown = for_display(frame_shown.select(list(columns)), percent=percent)
    st.dataframe(shown, hide_index=True, placeholder="–", column_config=columns, key=key, width="stretch",
                 height=height or min(420, 35 * (shown.height + 1) + 3))
    table_download(frame, name, f, key=f"csv_{key}")


def variant_columns(currency: str, *key: tuple[str, Any]) -> dict[str, Any]:
    """The variant's name pinned first, then ``key`` (the columns a phone must show), then its stock."""
    return {
        "name": st.column_config.TextColumn("Variant", pinned=True),
        **dict(key),
        "available": count_column("Available", D["available"]),
        "days_of_cover": st.column_config.NumberColumn("Days of cover", format="%.0f", help=D["days_of_cover"]),
        "daily_demand": st.column_config.NumberColumn("Units / day", format="%.2f", help=D["daily_demand"]),
        "sku": st.column_config.TextColumn("SKU"),
    }


def refresh_notice(wh, store: Store, run: dict | None) -> None:
    if run is not None:
        finished = run["finished_at"]
        st.caption(f"Forecasts from the refresh of {finished:%-d %b %Y %H:%M} UTC, data up to "
                   f"{run['as_of']:%-d %b %Y}. The app refreshes them in the background.")
        label = "Refresh forecasts now"
    else:
        st.info("Demand forecasts have not been computed yet, so cover and reorder figures use the last 30 days' "
                "rate of sale. The background refresh computes them, or compute them here (a minute or two for a "
                "few thousand variants).", icon=":material/update:")
        label = "Compute forecasts now"
    if refresh_button(wh, store, label, key="run_forecast", only=["forecast"]):
        st.rerun()


def _quality(wh, store_id: str) -> ForecastQuality | None:
    return forecast_quality(wh, store_id, latest_run(wh, store_id, "forecast"))


def kpi_section(summary: dict, quality: ForecastQuality | None, f: Filters) -> None:
    reorder_note = (f"{format_money(summary['reorder_value'], f.currency)} at cost"
                    if summary["to_reorder"] else None)
    if quality is None or quality.vs_naive is None:
        accuracy, accuracy_note = "No forecast yet", None
    else:
        accuracy = (f"{abs(quality.vs_naive):.0%} {'less' if quality.vs_naive < 0 else 'more'} than naive"
                    if abs(quality.vs_naive) >= 0.005 else "Same as naive")
        parts = [f"better for {quality.beats_naive:.0%} of variants"]
        if quality.bias is not None:
            parts.append(f"bias {quality.bias:+.0%}")
        if quality.coverage is not None:
            parts.append(f"interval held {quality.coverage:.0%} of days")
        accuracy_note = " · ".join(parts)
    cards = [
        kpi("Inventory value", summary["inventory_value"], kind="money", currency=f.currency,
            help="Σ " + D["inventory_value"], note=(f"{summary['variants_without_cost']:,} variants lack a cost"
                                                    if summary["variants_without_cost"] else None)),
        kpi("Units available", summary["units_available"], kind="count", currency=f.currency, help=D["available"]),
        kpi("To reorder", summary["to_reorder"], kind="count", currency=f.currency, note=reorder_note,
            help=D["reorder_due"] + " " + D["suggested_order_qty"]),
        kpi("Stockouts", summary["stockout"], kind="count", currency=f.currency,
            help=D["stockout"] + LOW_TOGETHER.format(summary["low_stock"])),
        kpi("Stockout risk", summary["stockout_risk"], kind="count", currency=f.currency,
            help=D["stockout_risk"] + LOW_TOGETHER.format(summary["low_stock"])),
        kpi("Dead stock", summary["dead_stock"], kind="count", currency=f.currency, help=D["dead_stock"]),
        kpi("Overstock", summary["overstock"], kind="count", currency=f.currency, help=D["overstock"]),
        kpi("Forecast error", accuracy, kind="text", currency=f.currency, note=accuracy_note,
            help=" ".join(x for x in ((quality.verdict() + " " + quality.measured_on()) if quality else "",
                                      D["vs_naive"], D["bias"], D["coverage"]) if x)),
    ]
    kpi_cards(cards, key="inventory")


def value_chart(health: pl.DataFrame, f: Filters) -> None:
    by_status = (health.filter(pl.col("inventory_value").is_not_null())
                 .group_by("status").agg(pl.col("inventory_value").sum(), pl.len().alias("variants")))
    rows = {s: (Decimal(0), 0) for s in STATUSES}
    for status, value, count in by_status.iter_rows():
        rows[status] = (Decimal(value), int(count))
    total = sum((v for v, _ in rows.values()), Decimal(0))
    if total <= 0:
        st.caption("No stock with a known unit cost: nothing to value.")
        return
    idle = rows["overstock"][0] + rows["dead_stock"][0]
    title = f"{format_percent(idle / total)} of stock value is overstock or dead stock"
    labels = [STATUSES[s] for s in rows]
    fig = charts.ranked_bars(labels, [v for v, _ in rows.values()], title=title, kind="money",
                             currency=f.currency, shares=[v / total for v, _ in rows.values()])
    charts.show(fig, key="chart_inventory_value")
    data = pl.DataFrame({"status": list(rows), "inventory_value": [v for v, _ in rows.values()],
                         "variants": [c for _, c in rows.values()]},
                        schema={"status": pl.String, "inventory_value": pl.Decimal(38, 4), "variants": pl.Int64})
    with st.container(horizontal=True, gap="small"):
        chart_download(fig, "inventory_value_by_status", f)
        table_download(data, "inventory_value_by_status", f)


def reorder_section(wh, store: Store, health: pl.DataFrame, f: Filters, choices: InventoryChoices) -> None:
    due = health.filter(reorder_due_expr()).sort(
        ["status", "days_of_cover"], nulls_last=True)
    if due.height == 0:
        st.success("Nothing to reorder today: every variant's stock and orders on the way cover its reorder point "
                   "and the review period.", icon=":material/check_circle:")
        return
    st.caption(f"Service level {choices.service_level:.1%}, review period {choices.review_days} days. "
               "Quantities are rounded up to the supplier's pack size and at least its MOQ.")
    table(due, {
        **variant_columns(f.currency, ("suggested_order_qty", count_column("Order", D["suggested_order_qty"])),
                          ("order_value", money_column("Order value", f.currency, "Order × the supplier's unit cost.")),
                          ("status_words", st.column_config.TextColumn("Status"))),
        "supplier_name": st.column_config.TextColumn("Supplier"),
        "lead_time_days": count_column("Lead time (days)", "The supplier item's lead time, else the supplier's, "
                                       "else the default you set."),
        "on_order": count_column("On order", D["on_order"]),
        "safety_stock": count_column("Safety stock", D["safety_stock"]),
        "reorder_point": count_column("Reorder point", D["reorder_point"]),
    }, "reorder", "inventory_reorder_list", None)
    without = due.filter(pl.col("supplier_id").is_null()).height
    if without:
        st.caption(f"{without:,} of these have no supplier: add one in the Suppliers tab to order them.")
    if not may_change():
        st.caption("Drafting purchase orders: " + OWNERS_ONLY)
    elif st.button("Create draft purchase orders", key="draft_pos", icon=":material/post_add:",
                 help="One draft per supplier with these quantities; variants already on an open order are "
                      "left out. Edit them in the Purchase orders tab."):
        created = draft_purchase_orders(wh, store.store_id, health, store.currency)
        st.toast(f"Created {len(created):,} draft purchase orders." if created else
                 "No new drafts: every suggested variant is already on an open order or has no supplier.")


def alert_lists(wh, store: Store, health: pl.DataFrame, f: Filters) -> None:
    kinds = {"Stockouts": "stockout", "Stockout risk": "stockout_risk", "Dead stock": "dead_stock",
             "Overstock": "overstock"}
    # Only the open list runs (a click on another reruns the page); the cards above count each of them. The
    # labels carry no count: a tab's label is its key, and a count changed by a sale would close it.
    tab, title = open_tab(list(kinds), "inventory_alerts_tab")
    kind = kinds[title]
    rows = health.filter(pl.col("status") == kind).sort("net_sales_90d", descending=True)
    with tab:
        if rows.height == 0:
            st.caption(f"No {title.lower()} today. {D[kind]}")
        else:
            st.caption(f"{format_count(rows.height)} {'variant' if rows.height == 1 else 'variants'}. {D[kind]}")
            table(rows, {**variant_columns(f.currency,
                                           ("inventory_value", money_column("Value at cost", f.currency,
                                                                            D["inventory_value"]))),
                         "abc_class": st.column_config.TextColumn("ABC", help=D["abc_class"]),
                         "last_sold": st.column_config.DateColumn("Last sold", format="D MMM YYYY")},
                  f"alerts_{kind}", f"inventory_{kind}", None)
    config = DigestConfig.from_settings()
    st.caption("Daily digest: " + (f"sent by {' and '.join(config.channels)} once a day." if config.channels else
               "off. An owner sets its mail server and address, or its webhook, in Settings to get these lists "
               "every morning."))
    if config.channels:
        digest_button(wh, store, key="inventory_send_digest")


def forecast_section(wh, store: Store, health: pl.DataFrame, quality: ForecastQuality | None, f: Filters,
                     stamp: tuple) -> None:
    forecasts = cached_query(_forecast_rows, wh, store.store_id, stamp)
    if forecasts.height == 0:
        st.caption("No forecasts yet (see the note at the top of the page).")
        return
    scored = health.filter(pl.col("forecast_model").is_not_null())
    options = scored.sort("net_sales_90d", descending=True)
    labels = {row["variant_id"]: f"{row['sku'] or row['variant_id']} · {row['name']}"
              for row in options.iter_rows(named=True)}
    variant = st.selectbox("Variant", list(labels), format_func=labels.get, key="forecast_variant")
    if variant:
        row = options.filter(pl.col("variant_id") == variant).row(0, named=True)
        ahead = forecasts.filter(pl.col("variant_id") == variant)
        start = f.end - dt.timedelta(days=90) if f.end else dt.date.today()
        history = cached_query(_history, wh, store.store_id, variant, start, f.end, stamp)
        fig = forecast_chart(history, ahead, row)
        charts.show(fig, key="chart_forecast")
        with st.container(horizontal=True, gap="small"):
            chart_download(fig, f"inventory_forecast_{variant}", f)
            table_download(ahead, f"inventory_forecast_{variant}", None)
    if quality is not None and quality.vs_naive is not None:
        st.markdown(f"**Accuracy over the backtest**: {quality.verdict()} {quality.bias_words()} "
                    f"{quality.coverage_words()}", help=D["vs_naive"] + " " + D["bias"] + " " + D["coverage"])
        st.caption(quality.measured_on() + " " + D["backtest"])
    table(scored.sort("net_sales_90d", descending=True), {
        "sku": st.column_config.TextColumn("SKU"), "name": st.column_config.TextColumn("Variant"),
        "forecast_model": st.column_config.TextColumn("Model", help="Chosen per variant by the lowest MASE in a "
                                                      "rolling-origin backtest; NewProductMean for new products."),
        "series_kind": st.column_config.TextColumn("Demand", help="smooth, intermittent (mostly days without a "
                                                   "sale) or new (under 8 weeks of history)."),
        "vs_naive": percent_column("Error vs naive", D["vs_naive"]),
        "bias": percent_column("Bias", D["bias"]),
        "coverage": percent_column("Interval held", D["coverage"]),
        "mase": st.column_config.NumberColumn("MASE", format="%.2f", help=D["mase"]),
        "daily_demand": st.column_config.NumberColumn("Units / day", format="%.2f", help=D["daily_demand"]),
    }, "forecast_accuracy", "inventory_forecast_accuracy", None, percent=("vs_naive", "bias", "coverage"))


def forecast_chart(history: pl.DataFrame, ahead: pl.DataFrame, row: dict) -> go.Figure:
    fig = go.Figure()
    if history.height:
        fig.add_trace(go.Scatter(x=history["ds"].to_list(), y=charts.as_float(history["units"].to_list()),
                                 mode="lines", name="Units sold", line=dict(color=charts.GREY)))
    x = ahead["ds"].to_list()
    level = int(ahead["level"][0]) if ahead.height and ahead["level"][0] is not None else 90
    fig.add_trace(go.Scatter(x=x + x[::-1], y=ahead["yhat_hi"].to_list() + ahead["yhat_lo"].to_list()[::-1],
                             fill="toself", fillcolor="rgba(0,114,178,0.15)", line=dict(width=0),
                             name=f"{level}% interval", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=ahead["yhat"].to_list(), mode="lines",
                             name=f"Forecast ({row['forecast_model']})",
                             line=dict(color=charts.BLUE, width=2)))
    fig.update_yaxes(title=dict(text="Units per day"), rangemode="tozero")
    total = sum(ahead["yhat"].to_list())
    title = f"{row['sku'] or row['variant_id']}: about {total:,.0f} units in {ahead.height} days"
    return charts.style(fig, title)


def stock_table(wh, store: Store, health: pl.DataFrame, f: Filters, stamp: tuple) -> None:
    figures = cached_query(_range_figures, wh, store.store_id, f.start, f.end, stamp)
    joined = health.join(figures.select("variant_id", "sell_through", "stockout_days", "lost_sales"),
                         on="variant_id", how="left")
    lost = sum((v for v in joined["lost_sales"].to_list() if v is not None), Decimal(0))
    st.caption(f"Estimated sales lost to stockouts in {describe_range(f.start, f.end)}: "
               f"{format_money(lost, f.currency)}. " + D["lost_sales"])
    table(joined.sort(["abc_class", "net_sales_90d"], descending=[False, True]), {
        **variant_columns(f.currency, ("status_words", st.column_config.TextColumn("Status"))),
        "abc_class": st.column_config.TextColumn("ABC", help=D["abc_class"]),
        "inventory_value": money_column("Value at cost", f.currency, D["inventory_value"]),
        "sell_through": percent_column("Sell-through", D["sell_through"]),
        "stockout_days": count_column("Days out of stock", "Days of the range with nothing available and no sale."),
        "lost_sales": money_column("Lost sales", f.currency, D["lost_sales"]),
    }, "stock_all", "inventory_stock", f, percent=("sell_through",))
    with st.expander("Stock by location"):
        table(levels_by_location(wh, store.store_id), {
            "sku": st.column_config.TextColumn("SKU"), "location": st.column_config.TextColumn("Location"),
            "available": count_column("Available", "Units available at this location."),
        }, "stock_locations", "inventory_stock_by_location", None)


def purchase_order_section(wh, store: Store, f: Filters) -> None:
    orders = purchase_orders(wh, store.store_id)
    if orders.height == 0:
        st.caption("No purchase orders yet: create drafts from the reorder list above.")
        return
    table(orders, {
        "po_id": st.column_config.TextColumn("Order"), "supplier_name": st.column_config.TextColumn("Supplier"),
        "status_words": st.column_config.TextColumn("Status"),
        "created_at": st.column_config.DatetimeColumn("Created", format="D MMM YYYY"),
        "expected_at": st.column_config.DatetimeColumn("Expected", format="D MMM YYYY"),
        "units": count_column("Units"), "total": money_column("Total", f.currency, "Σ quantity × unit cost."),
    }, "purchase_orders", "inventory_purchase_orders", None, height=250)
    open_first = orders.sort(pl.col("status").replace_strict({"draft": 0, "sent": 1}, default=2,
                                                             return_dtype=pl.Int32))
    po_id = st.selectbox("Open an order", open_first["po_id"].to_list(), key="po_selected")
    if not po_id:
        return
    status = orders.filter(pl.col("po_id") == po_id)["status"][0]
    lines = purchase_order_lines(wh, po_id)
    st.caption(f"Status: {status}.")
    editable = status in ("draft", "sent") and may_change()
    if status in ("draft", "sent") and not editable:
        st.caption(OWNERS_ONLY)
    column = "quantity" if status == "draft" else "received_quantity"
    edited = st.data_editor(
        for_display(lines.select("sku", "supplier_sku", "variant_id", "quantity", "unit_cost", "received_quantity")),
        hide_index=True, key=f"po_lines_{po_id}", width="stretch", disabled=[c for c in (
            "sku", "supplier_sku", "variant_id", "quantity", "unit_cost", "received_quantity") if c != column or
            not editable],
        column_config={"quantity": count_column("Ordered"), "received_quantity": count_column("Received"),
                       "unit_cost": money_column("Unit cost", f.currency), "sku": st.column_config.TextColumn("SKU"),
                       "supplier_sku": st.column_config.TextColumn("Supplier's SKU"),
                       "variant_id": st.column_config.TextColumn("Variant id")})
    values = {r["variant_id"]: int(r[column] or 0) for r in pl.DataFrame(edited).iter_rows(named=True)}
    with st.container(horizontal=True, gap="small"):
        try:
            if editable and status == "draft" and st.button("Save quantities", key="po_save"):
                update_lines(wh, po_id, values)
                st.toast("Saved.")
            if editable and status == "draft" and st.button("Mark sent", key="po_send", type="primary"):
                update_lines(wh, po_id, values)
                mark_sent(wh, po_id)
                st.rerun()
            if editable and status == "sent" and st.button("Mark received", key="po_receive", type="primary",
                                              help="Adds the units received to stock. A connected store's next "
                                                   "sync replaces stock with the platform's figure."):
                mark_received(wh, po_id, {v: q if q else None for v, q in values.items()} if any(values.values())
                              else None)
                st.rerun()
            if editable and st.button("Cancel order", key="po_cancel"):
                cancel(wh, po_id)
                st.rerun()
        except PurchaseOrderError as exc:
            st.error(str(exc))
        table_download(lambda: purchase_order_csv(wh, po_id), f"inventory_{po_id}", None, label="Download order CSV",
                       key=f"csv_po_{po_id}")


def suppliers_section(wh, store: Store) -> None:
    suppliers = list_suppliers(wh, store.store_id)
    if suppliers.height:
        table(suppliers, {
            "name": st.column_config.TextColumn("Supplier"), "email": st.column_config.TextColumn("Email"),
            "lead_time_days": count_column("Lead time (days)"), "items": count_column("Items"),
        }, "suppliers", "inventory_suppliers", None, height=220)
    if not may_change():
        st.caption("Adding, editing and importing suppliers: " + OWNERS_ONLY)
        return
    names = {"": "New supplier", **dict(zip(suppliers["supplier_id"], suppliers["name"]))}
    chosen = st.selectbox("Add or edit", list(names), format_func=names.get, key="supplier_selected")
    current = suppliers.filter(pl.col("supplier_id") == chosen).row(0, named=True) if chosen else {}
    with st.form(f"supplier_form_{chosen}"):
        name = st.text_input("Name", current.get("name") or "")
        email = st.text_input("Email", current.get("email") or "")
        currency = st.text_input("Currency", current.get("currency") or store.currency, max_chars=3)
        lead = st.number_input("Lead time (days)", 0, 365, int(current.get("lead_time_days") or 14))
        notes = st.text_area("Notes", current.get("notes") or "")
        if st.form_submit_button("Save supplier"):
            try:
                save_supplier(wh, Supplier(name, email or None, currency or None, int(lead), notes or None,
                                           chosen or None))
                st.toast("Supplier saved.")
            except SupplierError as exc:
                st.error(str(exc))
    if chosen:
        items = supplier_items(wh, store.store_id, chosen)
        st.caption(f"{items.height:,} items from {names[chosen]}.")
        if items.height:
            table(items, {"sku": st.column_config.TextColumn("SKU"),
                          "supplier_sku": st.column_config.TextColumn("Supplier SKU"),
                          "unit_cost": money_column("Unit cost", store.currency), "moq": count_column("MOQ"),
                          "pack_size": count_column("Pack size"), "lead_time_days": count_column("Lead time")},
                  f"supplier_items_{chosen}", f"inventory_supplier_items_{chosen}", None, height=250)
    supplier_items_upload(wh, store.store_id)


def choices_section(wh, store: Store, choices: InventoryChoices) -> None:
    if not may_change():
        st.caption(f"Service level {choices.service_level:.1%}, review period {choices.review_days} days, overstock "
                   f"above {choices.overstock_days} days of cover, dead stock after {choices.dead_stock_days} days "
                   f"without a sale, lead time without a supplier {choices.default_lead_days} days. "
                   + OWNERS_ONLY)
        return
    with st.form("inventory_choices"):
        cols = st.columns(2)
        level = cols[0].slider("Service level", 0.80, 0.995, float(choices.service_level), 0.005, format="%.3f",
                               help="The chance of not running out while a reorder is on its way; sets z in "
                                    "safety stock (95 % → z = 1.645).")
        review = cols[1].number_input("Review period (days)", 1, 90, choices.review_days,
                                      help="Days between two ordering rounds; each order covers them.")
        over = cols[0].number_input("Overstock above (days of cover)", 1, 3650, choices.overstock_days,
                                    key="inventory_overstock_days")
        dead = cols[1].number_input("Dead stock after (days without a sale)", 1, 3650, choices.dead_stock_days,
                                    key="inventory_dead_stock_days")
        lead = cols[0].number_input("Lead time without a supplier (days)", 0, 365, choices.default_lead_days,
                                    key="inventory_default_lead_days")
        if st.form_submit_button("Save thresholds"):
            try:
                save_choices(wh, store.store_id, InventoryChoices(float(level), int(review), int(over), int(dead),
                                                                  int(lead)))
                st.rerun()
            except ValueError as exc:
                st.error(str(exc))


# -- the page -------------------------------------------------------------------------------------------------

wh = open_warehouse()
filters = sidebar_filters(wh)
page_header("Inventory", QUESTION, wh, filters)
store = Store(filters.store_id, filters.store_name or filters.store_id, filters.currency, filters.timezone)
today = store_now(filters.timezone).date()

health: pl.DataFrame | None = None
with section("The stock figures"):
    choices = load_choices(wh, store.store_id)
    run = latest_run(wh, store.store_id, "forecast")
    refresh_notice(wh, store, run)
    stamp = inventory_version(wh, store.store_id)
    with st.spinner("Reading stock"):
        health = store_stock(wh, store.store_id, today, choices, stamp)
if health is None:
    st.stop()
if health.height == 0:
    st.info("No stock or sales recorded for this store yet. Sync a store with inventory tracking (Settings).",
            icon=":material/inventory_2:")
    st.stop()

with section("The key figures"):
    # Only a refresh changes these figures: cached on the run that wrote them.
    quality = cached_by((run["run_id"] if run else None,), _quality, wh, store.store_id)
    kpi_section(health_summary(health), quality, filters)

with section("Stock value by status"):
    st.subheader("Where the stock value sits", help="Inventory value at unit cost by status. " + " ".join(
        f"{STATUSES[s]}: {D[s]}" for s in ("stockout", "stockout_risk", "dead_stock", "overstock")))
    value_chart(health, filters)

with section("The reorder list"):
    st.subheader("Reorder today", help=D["suggested_order_qty"] + " " + D["reorder_point"] + " " + D["safety_stock"])
    reorder_section(wh, store, health, filters, choices)

with section("Stock alerts"):
    st.subheader("At risk and not selling")
    alert_lists(wh, store, health, filters)

# Lists to act on above, the rest in tabs of which only the open one runs: forecasts, every variant's
# stock and the suppliers' forms are most of what the browser draws on this page.
st.divider()
open_tab_only({
    "Purchase orders": ("Purchase orders", "Draft → sent → received. Receiving adds the units to stock and takes "
                        "them off order.", lambda: purchase_order_section(wh, store, filters)),
    "Demand forecasts": ("Demand forecasts", "Daily units per variant for the next 28 days with a 90 % interval, "
                         "from the last refresh, with last year's season and peak days. " + D["backtest"],
                         lambda: forecast_section(wh, store, health, quality, filters, stamp)),
    "Stock by variant": ("Stock by variant", "Every variant with stock, recent sales or a forecast. Sell-through "
                         "and lost sales over the chosen range.",
                         lambda: stock_table(wh, store, health, filters, stamp)),
    "Suppliers": ("Suppliers", "Lead times, MOQ, pack sizes and costs drive the reorder list.",
                  lambda: suppliers_section(wh, store)),
    "Thresholds": ("Thresholds and service level", None, lambda: choices_section(wh, store, choices)),
}, "inventory_tab")

from ui.explain import explain_panel  # noqa: E402 - the Explain panel closes the page

explain_panel(wh, filters.store_id, filters, "inventory")

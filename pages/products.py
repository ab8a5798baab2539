"""Products: what each product and variant sold, kept and earned, and what is running out."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import polars as pl
import streamlit as st

from analytics.formatting import format_money
from analytics.metrics import sales_summary, with_change
from analytics.products import (
    PRODUCT_DEFINITIONS,
    low_stock,
    product_performance,
    trend_grain,
    unit_return_rate,
    variant_performance,
)
from ui.cache import cached_query
from ui.downloads import table_download
from ui.errors import open_warehouse, section
from ui.filters import Filters, describe_range, page_header, sidebar_filters
from ui.kpis import kpi, kpi_cards
from ui.stock import store_stock
from ui.tables import count_column, for_display, money_column, percent_column, text_of

QUESTION = "Which products sell, which come back, which make money, and which are about to run out."
VIEWS = {"product": "Per product", "variant": "Per variant"}
SORTS = {
    "net_sales": "Net sales", "units_sold": "Units sold", "return_rate": "Return rate", "margin": "Margin",
    "days_of_cover": "Days of cover",
}
COVER_HELP = PRODUCT_DEFINITIONS["days_of_cover"]


def stock_status(available: int | None, cover: Decimal | None, low: bool) -> str:
    """A word for the stock column that needs no hover: out, low, fine, untracked."""
    if available is None:
        return "Not tracked"
    if low and available <= 0:
        return "Out of stock"
    if low:
        return "Low"
    if available <= 0:
        return "None left (no recent sales)"
    return "OK" if cover is not None else "OK (no recent sales)"


def product_stock_status(available: int | None, cover: Decimal | None, low_variants: int) -> str:
    """A product is as short as its shortest variant: a size out of stock is a sale lost."""
    if low_variants:
        return f"{low_variants} variant{'s' if low_variants > 1 else ''} low"
    return stock_status(available, cover, False)


def with_words(frame: pl.DataFrame, currency: str, view: str) -> pl.DataFrame:
    """The frame with ``margin_text`` ("cost unknown" when missing) and ``stock`` words for the table."""
    if view == "product":
        stock = text_of(frame, product_stock_status, "available", "days_of_cover", "low_stock_variants", name="stock")
    else:
        stock = text_of(frame, stock_status, "available", "days_of_cover", "low_stock", name="stock")
    return frame.with_columns(
        text_of(frame, lambda margin: format_money(margin, currency), "margin", name="margin_text")
        .fill_null("cost unknown"),
        stock,
    )


# -- sections ------------------------------------------------------------------------------------

def cards(wh, low: pl.DataFrame, f: Filters) -> None:
    """Units, net sales and the unit return rate (against the comparison), and how many variants run low."""
    def figures(start, end) -> dict[str, Any]:
        summary = cached_query(sales_summary, wh, f.store_id, start, end, channels=f.channel_filter)
        return {**summary, "return_rate": unit_return_rate(summary["units_returned"], summary["units_sold"])}

    current = figures(f.start, f.end)
    changes = with_change(current, figures(f.compare_start, f.compare_end)) if f.has_comparison else {}
    kpi_cards(key="products", delta_description=(
        f"vs {describe_range(f.compare_start, f.compare_end)}" if f.has_comparison else None), cards=[
        kpi("Units sold", current["units_sold"], kind="count", currency=f.currency,
            change=changes.get("units_sold"), help=PRODUCT_DEFINITIONS["units_sold"]),
        kpi("Net sales", current["net_sales"], kind="money", currency=f.currency,
            change=changes.get("net_sales"), help=PRODUCT_DEFINITIONS["net_sales"]),
        kpi("Return rate", current["return_rate"], kind="ratio", currency=f.currency,
            change=changes.get("return_rate"), lower_is_better=True, help=PRODUCT_DEFINITIONS["return_rate"]),
        kpi("Low on stock", low.height, kind="count", currency=f.currency,
            help=PRODUCT_DEFINITIONS["low_stock"] + " Days of cover: " + COVER_HELP),
    ])


def low_stock_section(low: pl.DataFrame, f: Filters) -> None:
    st.subheader("Running out", help=PRODUCT_DEFINITIONS["low_stock"] + " Days of cover: " + COVER_HELP
                 + " Stock is today's: it does not depend on the dates or channels chosen.")
    if low.height == 0:
        st.caption("No variant is out of stock or at risk of running out before a reorder arrives.")
        return
    st.dataframe(for_display(low), hide_index=True, width="stretch", placeholder="–", key="products_low_stock",
                 column_order=["variant", "days_of_cover", "available", "daily_demand", "sku"],
                 column_config={
                     "variant": st.column_config.TextColumn("Variant", pinned=True),
                     "sku": st.column_config.TextColumn("SKU"),
                     "available": count_column("Available", PRODUCT_DEFINITIONS["available"]),
                     "daily_demand": st.column_config.NumberColumn(
                         "Sold a day", format="%.2f", help=PRODUCT_DEFINITIONS["daily_demand"]),
                     "days_of_cover": st.column_config.NumberColumn("Days of cover", format="%.1f",
                                                                    help=COVER_HELP),
                 })
    # Stock is today's, whatever the range: the file is named after today.
    today = f.today()
    table_download(low, "products_low_stock", SimpleNamespace(start=today, end=today))


def performance_section(f: Filters, view: str, sort: str, frame: pl.DataFrame) -> None:
    grain = trend_grain(f.start, f.end)
    ordered = frame.sort([sort, "net_sales"], descending=[sort != "days_of_cover", True], nulls_last=True)
    shown = for_display(with_words(ordered, f.currency, view), percent=("return_rate",))
    label = "product_title" if view == "product" else "variant"
    config: dict[str, Any] = {
        label: st.column_config.TextColumn("Product" if view == "product" else "Variant", pinned=True),
        "sku": st.column_config.TextColumn("SKU"),
        "variants": count_column("Variants", "Variants of the product sold in the range."),
        "units_sold": count_column("Units sold", PRODUCT_DEFINITIONS["units_sold"]),
        "units_returned": count_column("Returned", PRODUCT_DEFINITIONS["units_returned"]),
        "net_sales": money_column("Net sales", f.currency, PRODUCT_DEFINITIONS["net_sales"]),
        "return_rate": percent_column("Return rate", PRODUCT_DEFINITIONS["return_rate"]),
        "margin_text": st.column_config.TextColumn("Margin", help=PRODUCT_DEFINITIONS["margin"],
                                                   alignment="right"),
        "trend": st.column_config.LineChartColumn(
            f"Units per {grain}", help=PRODUCT_DEFINITIONS["trend"], y_min=0),
        "available": count_column("Stock", PRODUCT_DEFINITIONS["available"]),
        "days_of_cover": st.column_config.NumberColumn("Days of cover", format="%.1f", help=COVER_HELP),
        "stock": st.column_config.TextColumn("Stock status", help=PRODUCT_DEFINITIONS["low_stock"]),
    }
    # The name, its sales and its stock word first: what a phone shows without a sideways scroll.
    order = [label, "net_sales", "units_sold", "stock", "return_rate", "margin_text", "units_returned", "trend",
             "available", "days_of_cover", *(["variants"] if view == "product" else ["sku"])]
    st.caption(f"{shown.height:,} {'products' if view == 'product' else 'variants'} sold or returned in the range.")
    st.dataframe(shown, hide_index=True, width="stretch", placeholder="–", column_order=order,
                 column_config=config, key=f"products_table_{view}", height=min(shown.height, 15) * 35 + 38)
    table_download(ordered, f"products_by_{view}", f)


def _running_out(wh, store_id: str, today) -> pl.DataFrame:
    """The variants low on stock, from the stock figures shared with the Inventory page."""
    return low_stock(wh, store_id, today, store_stock(wh, store_id, today))


def _performance(wh, store_id: str, start, end, today, channels, view: str) -> pl.DataFrame:
    """Product or variant performance, its stock columns from the stock figures the page already read
    (one computation of them per data version, shared with the Inventory page)."""
    health = store_stock(wh, store_id, today)
    if view == "product":
        return product_performance(wh, store_id, start, end, as_of=today, channels=channels, health=health)
    return variant_performance(wh, store_id, start, end, as_of=today, channels=channels, health=health)


# -- the page -----------------------------------------------------------------------------------

wh = open_warehouse()
filters = sidebar_filters(wh)
page_header("Products", QUESTION, wh, filters)
today = filters.today()

low: pl.DataFrame | None = None
with section("The stock check"):
    low = cached_query(_running_out, wh, filters.store_id, today)

products: pl.DataFrame | None = None
with section("Product sales"):
    products = cached_query(_performance, wh, filters.store_id, filters.start, filters.end, today,
                            filters.channel_filter, "product")

if low is not None:
    with section("The key figures"):
        cards(wh, low, filters)
if low is not None:
    with section("Running out"):
        low_stock_section(low, filters)

if products is not None:
    st.subheader("Performance", help="Sales over the range for each product or variant, with today's stock. "
                 + PRODUCT_DEFINITIONS["margin"])
    if products.height == 0:
        where = " in these channels" if filters.channels else ""
        st.info(f"No product sold or returned{where} in {describe_range(filters.start, filters.end)}. "
                f"Widen the dates{' or choose other channels' if filters.channels else ''}.",
                icon=":material/inventory:")
    else:
        with st.container(horizontal=True, gap="medium", vertical_alignment="bottom"):
            view = st.segmented_control("Show", list(VIEWS), format_func=VIEWS.get, default="product",
                                        required=True, key="products_view", persist_state="session") or "product"
            sort = st.selectbox("Sort by", list(SORTS), format_func=SORTS.get, key="products_sort", width=180,
                                persist_state="session") or "net_sales"
        with section("The product table"):
            if view == "product":
                frame = products
            else:
                frame = cached_query(_performance, wh, filters.store_id, filters.start, filters.end, today,
                                     filters.channel_filter, "variant")
            unknown = frame.filter(pl.col("margin").is_null()).height
            if unknown:
                st.caption(f"{unknown:,} {'products' if view == 'product' else 'variants'} have no unit cost "
                           "recorded, so their margin says \"cost unknown\".")
            performance_section(filters, view, sort, frame)

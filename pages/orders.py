"""Orders: find an order and see everything about it.

The list is paged in the warehouse (50 orders a page, whatever the number of
matches); the sidebar's dates and channels apply, the statuses, search and
sort are the page's own. Choosing an order (a row, or the picker under the
table) shows its lines, refunds and payments.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import streamlit as st

from analytics.formatting import format_count, format_money
from analytics.orders import (
    FINANCIAL_STATUSES,
    FULFILLMENT_STATUSES,
    ORDER_SORTS,
    SORT_LABELS,
    OrderPage,
    OrderQuery,
    order_detail,
    order_page,
    orders_for_export,
)
from ui.cache import cached_query
from ui.downloads import table_download
from ui.errors import open_warehouse, section
from ui.filters import Filters, channel_name, describe_range, page_header, sidebar_filters
from ui.tables import count_column, for_display, money_column, text_of, time_column, words

QUESTION = "Which orders came in, what was in each, and what happened to it after: refunds and payments."
PICK = "orders_pick"
PAGE = "orders_page"
SIGNATURE = "_orders_signature"

# Badge colours: green when settled, orange while waiting, red when money went back or never came.
STATUS_COLOURS = {
    "paid": "green", "fulfilled": "green", "pending": "orange", "authorized": "orange", "partially_paid": "orange",
    "unfulfilled": "orange", "partial": "orange", "partially_refunded": "red", "refunded": "red", "voided": "red",
    "restocked": "gray",
}
DIRECTIONS = {"desc": "High to low", "asc": "Low to high"}
TOTAL_HELP = "The order's total as placed: goods after discounts, shipping, taxes and duties, in the shop currency."


def list_page(wh, store_id: str, query: OrderQuery) -> OrderPage:
    """:func:`order_page` in the shape the page cache calls (warehouse, store, arguments)."""
    return order_page(wh, query)


# -- the controls ------------------------------------------------------------------------------

def list_query(filters: Filters) -> OrderQuery:
    """The page's own controls, as an order query on page 1."""
    # Columns: side by side on a desk, stacked full width on a phone.
    search_column, financial_column, fulfillment_column, sort_column, direction_column = st.columns(
        [2.2, 1.6, 1.6, 1.4, 1.4], gap="small", vertical_alignment="bottom")
    search = search_column.text_input(
        "Search", key="orders_search", placeholder="Order number, customer name, id or email",
        help="An order number (1001 finds #1001), an order or customer id, or a customer's email address "
             "(matched by its hash: addresses are never stored).", persist_state="session",
    )
    financial = financial_column.multiselect(
        "Payment status", FINANCIAL_STATUSES, format_func=words, placeholder="Any", key="orders_financial",
        persist_state="session",
    )
    fulfillment = fulfillment_column.multiselect(
        "Fulfillment status", FULFILLMENT_STATUSES, format_func=words, placeholder="Any", key="orders_fulfillment",
        persist_state="session",
    )
    sort = sort_column.selectbox("Sort by", list(ORDER_SORTS), format_func=SORT_LABELS.get, key="orders_sort",
                                 persist_state="session")
    direction = direction_column.selectbox("Order", list(DIRECTIONS), format_func=DIRECTIONS.get,
                                           key="orders_direction", persist_state="session")
    return OrderQuery(
        store_id=filters.store_id, start=filters.start, end=filters.end, timezone=filters.timezone,
        channels=filters.channels, financial_statuses=tuple(financial), fulfillment_statuses=tuple(fulfillment),
        search=(search or "").strip(), sort=sort or "placed", descending=(direction or "desc") == "desc",
    )


def current_page_number(query: OrderQuery) -> int:
    """The page to show: back to 1 whenever the filters, search or sort change."""
    if st.session_state.get(SIGNATURE) != query:
        st.session_state[SIGNATURE] = query
        st.session_state[PAGE] = 1
    return int(st.session_state.get(PAGE) or 1)


def move_page(step: int, page_count: int) -> None:
    st.session_state[PAGE] = min(max(1, int(st.session_state.get(PAGE) or 1) + step), page_count)


def pager(page: OrderPage) -> None:
    """Previous / page number / next, under the table."""
    st.session_state[PAGE] = page.page  # a page past the end came back as the last one
    with st.container(horizontal=True, gap="small", vertical_alignment="center", wrap=False, width="content"):
        st.button("Previous", icon=":material/chevron_left:", disabled=page.page <= 1, key="orders_previous",
                  on_click=move_page, args=(-1, page.page_count))
        st.number_input("Page", min_value=1, max_value=page.page_count, step=1, key=PAGE, width=96,
                        label_visibility="collapsed", help=f"Page 1 to {page.page_count:,}")
        st.markdown(f"of\u00a0{page.page_count:,}", width="content")
        st.button("Next", icon=":material/chevron_right:", icon_position="right",
                  disabled=page.page >= page.page_count, key="orders_next", on_click=move_page,
                  args=(1, page.page_count))


# -- the list --------------------------------------------------------------------------------------

def order_label(row: dict[str, Any], currency: str) -> str:
    return f"{row['order_number'] or row['order_id']} · {row['placed_at']:%-d %b %Y %H:%M} · " \
           f"{format_money(row['total'], row['currency'] or currency)}"


def order_table(page: OrderPage, filters: Filters, query: OrderQuery) -> None:
    rows = page.rows
    ids = rows["order_id"].to_list()

    def picked_from_table() -> None:
        state = st.session_state.get(table_key)
        chosen = state["selection"]["rows"] if state else []
        st.session_state[PICK] = ids[chosen[0]] if chosen and chosen[0] < len(ids) else None

    shown = for_display(rows).with_columns(
        text_of(rows, words, "financial_status"),
        text_of(rows, words, "fulfillment_status"),
        text_of(rows, channel_name, "channel"),
    )
    # A new key per page and query: a row chosen on one page is not carried to the next.
    table_key = f"orders_table_{abs(hash((query, page.page))) % 10**12}"
    st.dataframe(
        shown, key=table_key, on_select=picked_from_table, selection_mode="single-row", hide_index=True,
        width="stretch", placeholder="–", height=min(rows.height, 15) * 35 + 38,
        # The order, its total and its payment first: what a phone shows without a sideways scroll.
        column_order=["order_number", "total", "financial_status", "customer_name", "placed_at", "items",
                      "fulfillment_status", "channel", "customer_email", "customer_id"],
        column_config={
            "order_number": st.column_config.TextColumn("Order", pinned=True),
            "placed_at": time_column("Placed", "When the order was placed, store time."),
            "customer_name": st.column_config.TextColumn(
                "Customer", help="The customer's name as the store or import gave it; – for a guest or when "
                                 "contact details are not kept (STORE_CUSTOMER_CONTACTS)."),
            "customer_email": st.column_config.TextColumn("Email"),
            "customer_id": st.column_config.TextColumn("Customer id", help="The customer's id in the store."),
            "items": count_column("Items", "Units on the order's lines."),
            "total": money_column("Total", filters.currency, TOTAL_HELP),
            "financial_status": st.column_config.TextColumn("Payment"),
            "fulfillment_status": st.column_config.TextColumn("Fulfillment"),
            "channel": st.column_config.TextColumn("Channel"),
        },
    )


def list_section(wh, filters: Filters) -> OrderPage | None:
    query = list_query(filters)
    number = current_page_number(query)
    page = cached_query(list_page, wh, filters.store_id, replace(query, page=number))
    if page.total == 0:
        hints = ["clear the search"] if query.search else []
        if query.financial_statuses or query.fulfillment_statuses:
            hints.append("choose other statuses")
        if filters.channels:
            hints.append("choose other channels")
        hints.append("widen the dates")
        st.info(f"No orders match in {describe_range(filters.start, filters.end)}. "
                f"{', '.join(hints).capitalize()}.", icon=":material/search_off:")
        return None
    st.caption(f"**{format_count(page.total)}** orders match · showing {page.first_row:,}–{page.last_row:,} · "
               "test orders are left out; cancelled and voided ones are listed (sales figures leave out those "
               "never paid).")
    order_table(page, filters, query)
    with st.container(horizontal=True, gap="small", vertical_alignment="center", horizontal_alignment="distribute"):
        pager(page)
        table_download(lambda: orders_for_export(wh, query), "orders_list", filters,
                       label="Download CSV", help=f"Every matching order ({page.total:,}), not just this page.")
    return page


# -- one order -----------------------------------------------------------------------------------

def pick_order(page: OrderPage, filters: Filters) -> str | None:
    ids = page.rows["order_id"].to_list()
    labels = {row["order_id"]: order_label(row, filters.currency) for row in page.rows.iter_rows(named=True)}
    if st.session_state.get(PICK) not in ids:
        st.session_state[PICK] = None
    return st.selectbox("Order details", ids, index=None, format_func=labels.get, key=PICK,
                        placeholder="Choose an order on this page (or tap its row)")


def customer_words(order: dict) -> str:
    """``Ana Lima (ana@example.com)``, else the customer's id, else ``guest``."""
    name, email = order.get("customer_name"), order.get("customer_email")
    if name or email:
        return f"customer {name or email}" + (f" ({email})" if name and email else "")
    return f"customer {order['customer_id'] or 'guest'}"


def detail_section(wh, filters: Filters, order_id: str) -> None:
    detail = cached_query(order_detail, wh, filters.store_id, order_id, filters.timezone)
    if detail is None:
        st.info("This order is no longer in the warehouse. Choose another.", icon=":material/help:")
        return
    order, currency = detail.order, detail.order["currency"] or filters.currency
    number = order["order_number"] or order_id
    st.subheader(f"Order {number}")
    facts = [
        f"Placed {order['placed_at']:%-d %b %Y %H:%M} (store time)",
        customer_words(order),
        channel_name(order["channel"] or "other"),
    ]
    if order["cancelled_at"] is not None:
        facts.append(f"cancelled {order['cancelled_at']:%-d %b %Y %H:%M}")
    if order["is_test"]:
        facts.append("test order")
    st.caption(" · ".join(facts))
    with st.container(horizontal=True, gap="small"):
        payment, fulfillment = order["financial_status"], order["fulfillment_status"]
        st.badge(f"Payment: {words(payment) or 'unknown'}", color=STATUS_COLOURS.get(payment, "gray"))
        st.badge(f"Fulfillment: {words(fulfillment) or 'unknown'}", color=STATUS_COLOURS.get(fulfillment, "gray"))
    refunded = sum((r for r in detail.refunds["total_refunded"].to_list() if r is not None), start=Decimal(0))
    with st.container(horizontal=True, gap="small"):
        for label, value, help_text in (
            ("Total", format_money(order["total_price"], currency), TOTAL_HELP),
            ("Items", format_count(int(detail.lines["quantity"].sum() or 0)), "Units on the order's lines."),
            ("Refunded", format_money(refunded, currency), "Money paid back: goods, shipping and tax."),
        ):
            st.metric(label, value, border=True, width=170, help=help_text)
    st.caption(
        f"Goods after discounts {format_money(order['subtotal'], currency)} (discounts "
        f"{format_money(order['total_discounts'], currency)}) + shipping "
        f"{format_money(order['total_shipping'], currency)}"
        f" + tax {format_money(order['total_tax'], currency)}"
        + (f" + duties {format_money(order['total_duties'], currency)}" if order["total_duties"] else "")
        + (f" · codes: {order['discount_codes']}" if order.get("discount_codes") else "")
    )
    lines_tab, refunds_tab, payments_tab = st.tabs([
        f"Lines ({detail.lines.height})", f"Refunds ({detail.refunds.height})",
        f"Payments ({detail.payments.height})",
    ])
    slug = f"orders_{number}"
    with lines_tab:
        st.dataframe(for_display(detail.lines), hide_index=True, width="stretch", placeholder="–",
                     column_order=["title", "sku", "quantity", "unit_price", "discount", "tax", "line_total",
                                   "returned", "is_gift_card"],
                     column_config={
                         "title": st.column_config.TextColumn("Item", pinned=True),
                         "sku": st.column_config.TextColumn("SKU"),
                         "quantity": count_column("Qty"),
                         "unit_price": money_column("Unit price", currency),
                         "discount": money_column("Discount", currency, "The line's discount plus its share "
                                                  "of order-level discounts."),
                         "tax": money_column("Tax", currency),
                         "line_total": money_column("Line total", currency, "Unit price × quantity − discount."),
                         "returned": count_column("Returned", "Units refunded so far."),
                         "is_gift_card": st.column_config.CheckboxColumn("Gift card"),
                     })
        table_download(detail.lines, f"{slug}_lines", None)
    with refunds_tab:
        if detail.refunds.height == 0:
            st.caption("No refunds.")
        else:
            st.dataframe(for_display(detail.refunds), hide_index=True, width="stretch", placeholder="–",
                         column_config={
                             "refund_id": st.column_config.TextColumn("Refund"),
                             "refunded_at": time_column("When", "Store time."),
                             "items_returned": count_column("Items back"),
                             "goods_returned": money_column("Goods", currency, "Value of the goods returned, "
                                                            "before tax (what returns count)."),
                             "shipping_refunded": money_column("Shipping", currency),
                             "tax_refunded": money_column("Tax", currency),
                             "total_refunded": money_column("Paid back", currency),
                             "note": st.column_config.TextColumn("Note"),
                         })
            table_download(detail.refunds, f"{slug}_refunds", None)
    with payments_tab:
        if detail.payments.height == 0:
            st.caption("No payment records for this order.")
        else:
            st.dataframe(for_display(detail.payments), hide_index=True, width="stretch", placeholder="–",
                         column_config={
                             "transaction_id": st.column_config.TextColumn("Transaction"),
                             "at": time_column("When", "Store time."),
                             "kind": st.column_config.TextColumn("Kind"),
                             "status": st.column_config.TextColumn("Status"),
                             "provider": st.column_config.TextColumn("Provider"),
                             "amount": money_column("Amount", currency),
                             "fee": money_column("Fee", currency, "The payment processor's fee."),
                             "net": money_column("Net", currency, "Amount − fee."),
                             "currency": st.column_config.TextColumn("Currency"),
                         })
            table_download(detail.payments, f"{slug}_payments", None)


# -- the page -------------------------------------------------------------------------------------

wh = open_warehouse()
filters = sidebar_filters(wh)
page_header("Orders", QUESTION, wh, filters)

listed: OrderPage | None = None
with section("The order list"):
    listed = list_section(wh, filters)

if listed is not None:
    with section("The order's details"):
        chosen = pick_order(listed, filters)
        if chosen is not None:
            detail_section(wh, filters, chosen)

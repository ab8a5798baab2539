"""Imports from the browser (owners only): order CSV files, ad spend and supplier items.

Each upload goes through the same all-or-nothing importer as the command
line (``connectors.csv_import.import_csv``,
``analytics.inventory.suppliers.import_supplier_items``) in the app's own
process, so it works while the app holds the embedded warehouse file. A bad
file gets the importer's one sentence and nothing is written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from analytics.inventory.suppliers import SupplierError, import_supplier_items
from analytics.store_state import list_stores
from connectors.csv_import import CsvImportError, import_csv
from connectors.csv_import.importer import DEFAULT_STORE
from data.warehouse import Warehouse, WarehouseError
from ui.cache import clear
from ui.login import OWNERS_ONLY, may_change

ORDERS_HELP = ("The generic order-lines CSV (order_id, created_at, sku, quantity, unit_price, …) or Shopify's "
               "Orders > Export file. The whole file is checked first: if a row is wrong, nothing is written and "
               "the error names the row and column. Importing the same file again changes nothing.")
AD_SPEND_HELP = ("Columns: date (YYYY-MM-DD), channel (the ad platform: Google Ads, TikTok, …), campaign, spend, "
                 "currency (empty: the store's), and optionally impressions, clicks, conversions. One row per day, "
                 "channel and campaign; nothing is written when a row is wrong, and importing the same file again "
                 "changes nothing.")
SUPPLIER_ITEMS_HELP = ("Columns: supplier (id or name), sku or variant_id, and optionally supplier_sku, unit_cost, "
                       "moq, pack_size, lead_time_days. Nothing is written when a row is wrong.")


def _safe_name(name: str) -> str:
    return Path(name).name or "orders.csv"


def orders_upload(wh: Warehouse) -> None:
    """Upload an order CSV into a store (new or existing), with the importer's progress."""
    if not may_change():
        st.caption("Importing orders: " + OWNERS_ONLY)
        return
    upload = st.file_uploader("Orders CSV", type=["csv"], key="upload_orders_csv", help=ORDERS_HELP)
    cols = st.columns(3)
    store_id = cols[0].text_input("Store", value=DEFAULT_STORE,
                                  key="upload_orders_store",
                                  help="The store to import into; a new id creates a store.").strip()
    timezone = cols[1].text_input("Timezone of a new store", key="upload_orders_timezone", placeholder="UTC",
                                  help="For times written without an offset; an existing store keeps its own.")
    currency = cols[2].text_input("Currency of a new store", key="upload_orders_currency", max_chars=3,
                                  placeholder="the file's, else USD")
    if upload is None or not st.button("Import orders", key="upload_orders_import", icon=":material/upload:",
                                       type="primary"):
        return
    with st.status(f"Importing {_safe_name(upload.name)}…", expanded=True) as box:
        try:
            with tempfile.TemporaryDirectory(prefix="orders-upload-") as folder:
                path = Path(folder) / _safe_name(upload.name)
                path.write_bytes(upload.getvalue())
                result = import_csv(wh, path, store_id=store_id or DEFAULT_STORE, timezone=timezone.strip() or None,
                                    currency=currency.strip() or None,
                                    progress=lambda message: st.write(message[:1].upper() + message[1:] + "…"))
        except WarehouseError as exc:  # CsvImportError is one: a sentence naming the row and column
            box.update(label="Nothing was imported", state="error")
            st.error(f"{exc}" if isinstance(exc, CsvImportError) else f"Nothing was imported: {exc}",
                     icon=":material/error:")
            return
        box.update(label="Imported", state="complete", expanded=False)
    clear()
    st.success(result.summary(), icon=":material/check_circle:")


def ad_spend_upload(wh: Warehouse, store_id: str) -> None:
    """Upload an ad-spend CSV (any ad platform) into ``store_id``."""
    from connectors.csv_import.ad_spend import import_ad_spend

    upload = st.file_uploader("Ad spend CSV", type=["csv"], key="upload_ad_spend_csv", help=AD_SPEND_HELP)
    if upload is None or not st.button("Import ad spend", key="upload_ad_spend_import", icon=":material/upload:"):
        return
    with st.spinner(f"Importing {_safe_name(upload.name)}…"):
        try:
            with tempfile.TemporaryDirectory(prefix="ad-spend-upload-") as folder:
                path = Path(folder) / _safe_name(upload.name)
                path.write_bytes(upload.getvalue())
                result = import_ad_spend(wh, path, store_id=store_id)
        except WarehouseError as exc:
            st.error(f"{exc}" if isinstance(exc, CsvImportError) else f"Nothing was imported: {exc}",
                     icon=":material/error:")
            return
    clear()
    st.success(result.summary(), icon=":material/check_circle:")


def supplier_items_upload(wh: Warehouse, store_id: str, key: str = "supplier_items") -> None:
    """Upload supplier items (costs, MOQ, pack sizes, lead times) of ``store_id``'s variants."""
    upload = st.file_uploader("Supplier items CSV", type=["csv"], key=f"{key}_csv", help=SUPPLIER_ITEMS_HELP)
    if upload is None or not st.button("Import supplier items", key=f"{key}_import", icon=":material/upload:"):
        return
    with st.spinner(f"Importing {_safe_name(upload.name)}…"):
        try:
            written = import_supplier_items(wh, store_id, upload.getvalue())
        except SupplierError as exc:
            st.error("Nothing was imported: " + " ".join(exc.problems[:10]) +
                     (f" (and {len(exc.problems) - 10} more)" if len(exc.problems) > 10 else ""),
                     icon=":material/error:")
            return
    clear()
    st.success(f"Imported {written:,} supplier items.", icon=":material/check_circle:")


def imports_section(wh: Warehouse) -> None:
    """Settings' Import data section: orders, then the ad spend and supplier items of a chosen store."""
    st.markdown("**Orders**")
    orders_upload(wh)
    stores = list_stores(wh)
    if not stores:
        st.caption("Ad spend and supplier items belong to a store: import orders or connect a store first.")
        return
    names = {s.store_id: f"{s.name} ({s.store_id})" for s in stores}
    chosen = st.selectbox("Store", list(names), format_func=names.get, key="upload_supplier_store",
                          help="The store the ad spend and supplier items below belong to.")
    if may_change():
        st.markdown("**Ad spend**")
        ad_spend_upload(wh, chosen)
    st.markdown("**Supplier items**")
    st.caption("Suppliers themselves are added on the Inventory page (Suppliers tab).")
    supplier_items_upload(wh, chosen, key="upload_supplier_items")

"""Settings' Customer privacy section: whether contact details are kept, and erasing one person's.

The same work as ``python -m data erase-customer`` (:func:`data.contacts.erase_customer`), from the app's
own process, which with the embedded DuckDB file is the only one that may open the warehouse.
"""

from __future__ import annotations

import streamlit as st

from analytics.store_state import list_stores
from data.contacts import contacts_stored, erase_customer
from data.warehouse import Warehouse
from ui import cache

KEPT = ("Names, emails and phones from the stores and imports are kept in the warehouse's contact details (shown "
        "on Orders, Customers and in their CSVs, never sent to an AI provider). Set the setting "
        "STORE_CUSTOMER_CONTACTS to off to keep only email hashes.")
NOT_KEPT = ("STORE_CUSTOMER_CONTACTS is off: no name, email or phone is written; the pages show customer ids. "
            "Rows kept before stay until erased (python -m data erase-customer --all).")


def privacy_section(wh: Warehouse) -> None:
    st.caption(KEPT if contacts_stored() else NOT_KEPT)
    stores = list_stores(wh)
    if not stores:
        return
    names = {s.store_id: f"{s.name} ({s.store_id})" for s in stores}
    with st.form("privacy_erase", clear_on_submit=True, border=False):
        store = st.selectbox("Store", list(names), format_func=names.get, key="privacy_store")
        who = st.text_input("Customer id or email address", key="privacy_who",
                            placeholder="c1234 or ana@example.com")
        erase = st.form_submit_button("Erase their contact details", icon=":material/person_remove:")
    if not erase:
        return
    who = (who or "").strip()
    if not who:
        st.error("Type the customer's id or email address first.", icon=":material/error:")
        return
    ids = erase_customer(wh, store, **({"email": who} if "@" in who else {"customer_id": who}))
    if not ids:
        st.warning("No customer of this store has that id or address; nothing was changed.",
                   icon=":material/person_search:")
        return
    cache.clear()
    st.success(f"Erased the name, email, phone and email hash of customer {', '.join(ids)}. Their orders stay "
               "under the id; erase them on the platform too, or the next sync brings them back.",
               icon=":material/check_circle:")

"""The entry point: the login, then routes to the pages. Computes nothing.

Nothing but the login form is drawn until someone has logged in
(``ui/login.py``); Settings is in the navigation of owners only. Each page
draws the shared sidebar filters (``ui/filters.py``) itself; their choices
live in the session, so they carry from page to page.
"""

from pathlib import Path

import streamlit as st

from ui.login import gate

HERE = Path(__file__).resolve().parent

st.set_page_config(
    page_title="Storefront Analytics",
    # A file of the app's own: a :material/ icon would make the browser fetch it from Google's servers.
    page_icon=str(HERE / "ui" / "assets" / "favicon.png"),
    layout="wide",
    initial_sidebar_state="auto",
)

user = gate()


def page(script: str, title: str, icon: str, **options) -> st.Page | None:
    """The page of ``pages/<script>``, or ``None`` while that file is not there."""
    path = HERE / "pages" / script
    return st.Page(path, title=title, icon=icon, **options) if path.exists() else None


SECTIONS = {
    "Sales": [
        page("sales.py", "Sales", ":material/monitoring:", default=True),
        page("goals.py", "Goals", ":material/flag:"),
        page("orders.py", "Orders", ":material/receipt_long:"),
        page("products.py", "Products", ":material/sell:"),
        page("marketing.py", "Marketing", ":material/campaign:"),
    ],
    "Customers & stock": [
        page("customers.py", "Customers", ":material/group:"),
        page("inventory.py", "Inventory", ":material/inventory_2:"),
    ],
    "More": [
        page("insights.py", "Insights", ":material/lightbulb:"),
        page("settings.py", "Settings", ":material/settings:") if user.is_owner else None,
    ],
}

navigation = {name: [p for p in pages if p is not None] for name, pages in SECTIONS.items()}
st.navigation({name: pages for name, pages in navigation.items() if pages}).run()

"""The entry point: routes to the pages. Computes nothing."""

import streamlit as st

st.set_page_config(page_title="Storefront Analytics", page_icon=":material/storefront:", layout="wide")

pages = [
    st.Page("pages/sales.py", title="Sales", icon=":material/monitoring:", default=True),
]
st.navigation(pages).run()

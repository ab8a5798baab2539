"""Settings › Users: owners add users, reset passwords, change roles, limit analysts to some stores and
remove users.

A generated password is shown once, right after it was made, and is never
kept in the session; only its bcrypt hash is stored.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from auth.users import ROLES, UserError, UserStore
from ui.login import current_user

ROLE_HELP = ("An owner sees every page and store, Settings included (connections, syncs, users); "
             "an analyst reads every figure and exports, without Settings, of every store or only of those "
             "they are limited to.")
STORES_HELP = "The stores this analyst may see (their pages, downloads and Explain panel). None: every store."


def _show_password(username: str, password: str, what: str) -> None:
    st.success(f"{what} Give {username} this password; it is shown only now.", icon=":material/key:")
    st.code(password, language=None)


def _add_form(store: UserStore, stores: dict[str, str]) -> None:
    with st.form("users_add", clear_on_submit=True, border=True):
        st.markdown("**Add a user**")
        username = st.text_input("Username", key="users_add_username")
        name = st.text_input("Name shown in the app (optional)", key="users_add_name")
        role = st.selectbox("Role", ROLES, index=1, key="users_add_role", help=ROLE_HELP)
        limited = st.multiselect("Stores (analysts)", list(stores), format_func=lambda s: stores.get(s, s),
                                 key="users_add_stores", placeholder="Every store", help=STORES_HELP)
        submitted = st.form_submit_button("Add user", icon=":material/person_add:")
    if submitted:
        try:
            password = store.add(username, role=role, name=name or None, stores=limited or None)
        except UserError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        _show_password(username.strip().lower(), password, f"Added {role} {username.strip().lower()}.")


def _change_form(store: UserStore, me: str, stores: dict[str, str]) -> None:
    names = [u.username for u in store.users()]
    with st.form("users_change", border=True):
        st.markdown("**Change a user**")
        username = st.selectbox("User", names, key="users_change_user")
        action = st.radio("What to do", ["Reset password", "Make owner", "Make analyst", "Set stores", "Remove"],
                          key="users_change_action", horizontal=True)
        limited = st.multiselect("Stores (with Set stores)", list(stores), format_func=lambda s: stores.get(s, s),
                                 key="users_change_stores", placeholder="Every store", help=STORES_HELP)
        sure = st.checkbox("Yes, do it", key="users_change_sure")
        submitted = st.form_submit_button("Apply", icon=":material/manage_accounts:")
    if not submitted:
        return
    if not sure:
        st.warning("Tick “Yes, do it” first.", icon=":material/check_box:")
        return
    try:
        if action == "Reset password":
            _show_password(username, store.set_password(username),
                           f"{username} has a new password and was logged out everywhere.")
        elif action == "Set stores":
            store.set_stores(username, limited)
            shown = ", ".join(stores.get(s, s) for s in sorted(limited)) if limited else "every store"
            st.success(f"{username} now sees {shown}.", icon=":material/storefront:")
        elif action == "Remove":
            store.remove(username)
            st.success(f"Removed {username}." + (" You are logged out on your next click." if username == me else ""),
                       icon=":material/person_remove:")
        else:
            role = "owner" if action == "Make owner" else "analyst"
            store.set_role(username, role)
            st.success(f"{username} is now {role}.", icon=":material/badge:")
    except UserError as exc:
        st.error(str(exc), icon=":material/error:")


def stores_text(user, stores: dict[str, str]) -> str:
    """What a user sees: ``Every store`` or the stores' names."""
    if not user.limited:
        return "Every store"
    return ", ".join(stores.get(s, f"{s} (not in the warehouse)") for s in user.stores)


def users_section(stores: dict[str, str] | None = None) -> None:
    """The users table and forms; ``stores`` maps the warehouse's store ids to their names."""
    stores = stores or {}
    store = UserStore()
    me = current_user()
    st.caption(ROLE_HELP + f" The users file is {store.path}; `python -m auth` manages it from a shell too.")
    frame = pl.DataFrame([{"Username": u.username, "Name": u.name, "Role": u.role, "Stores": stores_text(u, stores)}
                          for u in store.users()],
                         schema={"Username": pl.String, "Name": pl.String, "Role": pl.String, "Stores": pl.String})
    st.dataframe(frame, hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        _add_form(store, stores)
    with right:
        _change_form(store, me.username if me else "", stores)

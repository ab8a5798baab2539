"""The login in front of every page, and the role of whoever is logged in.

``app.py`` calls :func:`gate` before ``st.navigation``: without a valid login
the login form is all that is drawn. The password is checked by
``auth.throttle.GUARD`` (one bcrypt check whatever the input, slowed per
username and per address). streamlit-authenticator sets and deletes the login
cookie (an HS256 JWT signed with AUTH_COOKIE_KEY) in the browser, so a reload
or a new tab stays logged in for AUTH_COOKIE_DAYS; the cookie the browser sends
is read here the way the library reads it (``st.context.cookies`` and PyJWT),
because building the library's ``Authenticate`` draws a cookie component that
makes every page load run twice: it is built only on the run that logs in or
out. Its own login widget is not used: it answers an unknown username without
checking a hash (so faster than a wrong password) and only knows a fixed number
of attempts after which a user is locked out until the users file is edited.

Every run re-reads the user from the users file, so a removed user, a changed
role or a reset password takes effect at once; a logout or a password reset
also refuses the cookies given out before it.
"""

from __future__ import annotations

import logging
import time

import jwt
import streamlit as st
import streamlit_authenticator as stauth

from auth.keys import CookieKeyError, require_cookie_key
from auth.throttle import GUARD
from auth.users import User, UserError, UserStore
from data.settings import setting

log = logging.getLogger("ui.login")
COOKIE_NAME = "storefront_login"
STATE_KEYS = ("authentication_status", "username", "name", "roles")
# The cookie is written by a component in the browser. A rerun that comes before the component has run
# (a page switch right after the login, a busy browser) takes it away unwritten, so the runs of the next
# few seconds write it again; each write carries a new expiry, so the component runs each time.
COOKIE_RESEND_SECONDS = 20.0
_COOKIE_UNTIL = "auth_cookie_resend_until"


def cookie_days() -> float:
    try:
        return max(0.0, float(setting("AUTH_COOKIE_DAYS") or 7))
    except ValueError:
        return 7.0


def current_user() -> User | None:
    """Who is logged in in this browser session (as of this run's check), or ``None``."""
    if st.session_state.get("authentication_status") is not True:
        return None
    roles = st.session_state.get("roles") or []
    username = st.session_state.get("username") or ""
    return User(username, st.session_state.get("name") or username, "owner" if "owner" in roles else "analyst")


def allowed_stores() -> tuple[str, ...] | None:
    """The store ids the logged-in user may see, from the users file as it is now; ``None``: every store
    (an owner, an analyst without a limit, or nobody logged in: the gate stops those runs first)."""
    user = current_user()
    if user is None or user.is_owner:
        return None
    try:
        found = UserStore().get(user.username)
    except UserError:
        return ()  # the file cannot be read: nothing rather than everything
    if found is None:
        return ()
    return found.stores if found.limited else None


def may_see(store_id: str) -> bool:
    """Whether the logged-in user may see ``store_id``'s figures."""
    allowed = allowed_stores()
    return allowed is None or store_id in allowed


def _remember(user: User) -> None:
    st.session_state.update({"authentication_status": True, "username": user.username, "name": user.name,
                             "roles": [user.role], "logout": None})


def _forget() -> None:
    for key in STATE_KEYS:
        st.session_state[key] = None
    st.session_state.pop(_COOKIE_UNTIL, None)


def _authenticator(store: UserStore, key: str) -> stauth.Authenticate:
    return stauth.Authenticate(store.credentials(), COOKIE_NAME, key, cookie_days(), auto_hash=False)


def _from_cookie(store: UserStore, key: str) -> User | None:
    """The user of a valid, unexpired login cookie this browser sent, if any."""
    raw = st.context.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        token = jwt.decode(raw, key, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    if not isinstance(token, dict) or float(token.get("exp_date") or 0) <= time.time():
        return None
    user = store.get(str(token.get("username") or ""))
    issued = float(token.get("exp_date", 0)) - cookie_days() * 86400
    if user is None or issued <= store.sessions_valid_after(user.username):
        return None  # a removed user, or a cookie from before a logout or password reset
    return user


def _login_form(store: UserStore, key: str) -> User | None:
    slot = st.empty()
    with slot.container():
        _, middle, _ = st.columns([1, 2, 1])
        with middle:
            st.title("Storefront Analytics")
            st.caption("Log in to see your store's figures.")
            with st.form("auth_login", clear_on_submit=True):
                username = st.text_input("Username", key="auth_login_username", autocomplete="username")
                password = st.text_input("Password", key="auth_login_password", type="password",
                                         autocomplete="current-password")
                submitted = st.form_submit_button("Log in", type="primary", icon=":material/login:")
            message = st.empty()
    if not submitted:
        return None
    attempt = GUARD.attempt(store, username, password, st.context.ip_address)
    if attempt.wait_seconds:
        message.warning(f"Too many failed logins: try again in {attempt.wait_seconds} s.", icon=":material/timer:")
        return None
    if attempt.user is None:
        log.info("failed login from %s", st.context.ip_address or "an unknown address")
        message.error("Wrong username or password.", icon=":material/lock:")
        return None
    slot.empty()
    _remember(attempt.user)
    _authenticator(store, key).cookie_controller.set_cookie()
    st.session_state[_COOKIE_UNTIL] = time.monotonic() + COOKIE_RESEND_SECONDS
    log.info("%s logged in", attempt.user.username)
    return attempt.user


def _sidebar(store: UserStore, key: str, user: User) -> bool:
    """Who is logged in and the logout button; ``True`` when the button was pressed."""
    slot = st.sidebar.empty()
    with slot.container():
        st.caption(f"Logged in as **{user.name}** ({user.role})")
        pressed = st.button("Log out", key="auth_logout", icon=":material/logout:")
    if not pressed:
        return False
    slot.empty()
    try:
        store.end_sessions(user.username)
    except UserError:
        pass  # removed meanwhile: nothing left to end
    authenticator = _authenticator(store, key)
    authenticator.authentication_controller.logout()
    authenticator.cookie_controller.delete_cookie()
    _forget()
    return True


def gate() -> User:
    """The logged-in user; otherwise draws the login form (or why the app cannot start) and stops the run."""
    try:
        key = require_cookie_key()
    except CookieKeyError as exc:
        st.error(str(exc), icon=":material/key_off:")
        st.stop()
    store = UserStore()
    try:
        user = current_user()
        if user is not None:
            user = store.get(user.username)  # the file decides: removed users and changed roles count now
        elif st.session_state.get("logout") is not True:
            user = _from_cookie(store, key)
        resend = user is not None and time.monotonic() < st.session_state.get(_COOKIE_UNTIL, 0.0)
        if user is not None:
            _remember(user)
        else:
            _forget()
            user = _login_form(store, key)  # writes the cookie itself
        if user is not None and _sidebar(store, key, user):
            user = _login_form(store, key)  # None: the form is what a logout leaves
        elif resend:
            _authenticator(store, key).cookie_controller.set_cookie()
    except UserError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    if user is None:
        st.stop()
    return user


def may_change() -> bool:
    """Whether this session may change data (purchase orders, suppliers, thresholds): owners only;
    analysts read and export."""
    user = current_user()
    return user is not None and user.is_owner


OWNERS_ONLY = "Only an owner can change this; analysts read and export."


def require_owner() -> User:
    """Stop the page with one sentence unless an owner is logged in."""
    user = current_user()
    if user is None or not user.is_owner:
        st.title("Settings")
        st.warning("Only an owner can open Settings. Ask an owner of this app if something needs changing.",
                   icon=":material/lock:")
        st.stop()
    return user

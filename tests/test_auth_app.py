"""The login under AppTest: only the form without a login, the form itself, roles, logout, users in Settings.

Once app.py has drawn a page, AppTest runs that page's script directly on the
next run (not app.py), so what happens over several runs of a logged-in
session (a logout, a removed user) is tested on a script that calls
``ui.login.gate()`` alone, as app.py does first.
"""

from __future__ import annotations

import pytest

import ui.login
from auth.throttle import LoginGuard, Throttle
from auth.users import UserStore
from streamlit.testing.v1 import AppTest

from tests.app_support import TEST_USERS, TIMEOUT, app, app_store  # noqa: F401 - app_store is a fixture
from tests.sales_store import END, START, build_sales_store


@pytest.fixture(autouse=True)
def fresh_guard(monkeypatch):
    """Failed logins of one test do not slow the next."""
    monkeypatch.setattr(ui.login, "GUARD", LoginGuard(Throttle(), Throttle(free=5, base=2, cap=900)))


def _gated_script():
    import streamlit as st

    from ui.login import gate

    user = gate()
    st.title(f"Figures for {user.username}")
    st.metric("Total sales", "$1.00")


def gated(user: str | None = None) -> AppTest:
    """A page behind the gate, logged in as ``user`` (``None``: nobody)."""
    at = AppTest.from_function(_gated_script, default_timeout=TIMEOUT)
    if user is not None:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = user
        at.session_state["roles"] = [TEST_USERS[user][0]]
    return at


def log_in(at, username: str, password: str):
    at.text_input(key="auth_login_username").input(username)
    at.text_input(key="auth_login_password").input(password)
    return at.button[0].click().run()


def shows_nothing_but_the_form(at) -> bool:
    return ([t.value for t in at.title] == ["Storefront Analytics"] and not at.metric and not at.dataframe
            and not at.get("plotly_chart") and [t.label for t in at.text_input] == ["Username", "Password"])


def test_without_a_login_only_the_login_form_shows(app_store):
    app_store(build_sales_store)
    at = app("app.py", user=None, filters_preset="custom", filters_custom=(START, END))
    at.run()
    assert not at.exception
    assert shows_nothing_but_the_form(at)
    assert not at.sidebar.button  # no logout, no filters


def test_the_right_password_opens_the_app_and_a_wrong_one_or_an_unknown_user_do_not(app_store):
    app_store(build_sales_store)
    at = app("app.py", user=None, filters_preset="custom", filters_custom=(START, END))
    at.run()
    for username, password in (("owner", "wrong-password-0"), ("nobody", TEST_USERS["owner"][1])):
        log_in(at, username, password)
        assert [e.value for e in at.error] == ["Wrong username or password."]  # the same words either way
        assert shows_nothing_but_the_form(at)
    log_in(at, "Owner", TEST_USERS["owner"][1])
    assert not at.exception
    assert at.title[0].value == "Sales" and at.metric
    assert "Logged in as **Owner** (owner)" in [c.value for c in at.sidebar.caption]
    assert not at.text_input  # the form is gone


def test_repeated_failures_slow_the_next_try_even_with_the_right_password(app_store):
    app_store(build_sales_store)
    at = app("app.py", user=None)
    at.run()
    for _ in range(3):
        log_in(at, "owner", "wrong-password-0")
    log_in(at, "owner", TEST_USERS["owner"][1])
    # 3 failures → the 4th try waits 1 s (tests/test_auth.py checks the doubling)
    assert [w.value for w in at.warning] == ["Too many failed logins: try again in 1 s."]
    assert shows_nothing_but_the_form(at)


def test_an_analyst_reads_the_pages_but_settings_is_not_in_the_navigation_nor_opens(app_store):
    app_store(build_sales_store)
    at = app("app.py", user="analyst", filters_preset="custom", filters_custom=(START, END))
    at.run()
    assert at.title[0].value == "Sales" and at.metric
    at.switch_page("pages/orders.py").run()
    assert not at.exception and at.title[0].value == "Orders"
    # Run directly (as a deep link would reach it), Settings refuses in one sentence and shows nothing.
    page = app("pages/settings.py", user="analyst")
    page.run()
    assert not page.exception
    assert [w.value for w in page.warning] == [
        "Only an owner can open Settings. Ask an owner of this app if something needs changing."]
    assert not page.text_input and not page.dataframe and not page.button
    assert "Users" not in [s.value for s in page.subheader]


def test_logging_out_shows_the_form_and_refuses_the_cookies_given_before(app_store, tmp_path):
    app_store()
    at = gated("owner")
    at.run()
    assert at.metric and at.title[0].value == "Figures for owner"
    at.sidebar.button(key="auth_logout").click().run()
    assert not at.exception
    assert shows_nothing_but_the_form(at)
    assert at.session_state["authentication_status"] is None
    assert UserStore(tmp_path / "credentials.yaml").sessions_valid_after("owner") > 0
    at.run()
    assert shows_nothing_but_the_form(at)  # and stays logged out
    log_in(at, "owner", TEST_USERS["owner"][1])
    assert at.title[0].value == "Figures for owner"


def test_a_removed_user_is_logged_out_and_a_changed_role_counts_at_the_next_click(app_store, tmp_path):
    app_store()
    store = UserStore(tmp_path / "credentials.yaml", rounds=4)
    at = gated("analyst")
    at.run()
    assert "Logged in as **Analyst** (analyst)" in [c.value for c in at.sidebar.caption]
    store.set_role("analyst", "owner")
    at.run()
    assert at.session_state["roles"] == ["owner"]
    store.remove("analyst")
    at.run()
    assert shows_nothing_but_the_form(at)


def test_an_owner_adds_a_user_and_resets_a_password_in_settings(app_store, tmp_path):
    app_store()
    store = UserStore(tmp_path / "credentials.yaml", rounds=4)
    at = app("pages/settings.py", user="owner")
    at.run()
    assert not at.exception
    users = next(frame.value for frame in at.dataframe if "Username" in frame.value.columns)
    assert users["Username"].tolist() == ["analyst", "owner"]
    at.text_input(key="users_add_username").input("Gina")
    at.selectbox(key="users_add_role").set_value("analyst")
    at.button(key="FormSubmitter:users_add-Add user").click().run()
    assert not at.exception
    assert any("Added analyst gina" in s.value for s in at.success)
    (password,) = [c.value for c in at.code]
    assert store.verify("gina", password).role == "analyst"

    at.selectbox(key="users_change_user").set_value("gina")
    at.radio(key="users_change_action").set_value("Reset password")
    at.checkbox(key="users_change_sure").check()
    at.button(key="FormSubmitter:users_change-Apply").click().run()
    (new_password,) = [c.value for c in at.code]
    assert new_password != password
    assert store.verify("gina", new_password) and not store.verify("gina", password)

    at.selectbox(key="users_change_user").set_value("owner")
    at.radio(key="users_change_action").set_value("Remove")
    at.checkbox(key="users_change_sure").check()
    at.button(key="FormSubmitter:users_change-Apply").click().run()
    assert [e.value for e in at.error] == ["owner is the only owner: make another user an owner first."]


def test_an_empty_or_sample_cookie_key_stops_the_app_with_one_sentence(app_store, monkeypatch):
    app_store(build_sales_store)
    for key in ("", "some_key"):
        monkeypatch.setenv("AUTH_COOKIE_KEY", key)
        at = app("app.py", user="owner")
        at.run()
        assert not at.exception
        assert len(at.error) == 1 and "AUTH_COOKIE_KEY" in at.error[0].value
        assert not at.metric and not at.text_input and not at.title

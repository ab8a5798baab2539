"""Per-store access: an analyst limited to some stores sees nothing of the others, on every page.

The warehouse holds the store ``s`` of ``tests/sales_store.py`` (New York, USD) and a store ``b`` (Berlin,
EUR) with one order: 1 × 99.00 on 3 March 2026. The analyst ``viewer`` may see ``b`` only.
"""

from __future__ import annotations


import pytest

from auth.users import UserError, UserStore
from data.rollups import refresh_store
from tests.app_support import ROOT, app, app_store, cards, texts  # noqa: F401 - app_store is a fixture
from tests.builders import add_order, add_store, utc
from tests.sales_store import END, START, build_sales_store

MARCH = {"filters_preset": "custom", "filters_custom": (START, END)}
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py") if p.name != "settings.py")


def two_stores(wh) -> None:
    build_sales_store(wh)
    add_store(wh, "b", timezone="Europe/Berlin", currency="EUR")
    add_order(wh, "b1", utc(2026, 3, 3, 10), [(1, "99.00", "0")], store_id="b", currency="EUR", customer="cb")
    refresh_store(wh, "b")


@pytest.fixture
def viewer(app_store, tmp_path):
    """The warehouse of two stores and the users file with ``viewer``, an analyst of store ``b``."""
    app_store(two_stores)
    UserStore(tmp_path / "credentials.yaml", rounds=4).add("viewer", role="analyst", password="viewer-password-1",
                                                          stores=["b"])
    return tmp_path / "credentials.yaml"


def as_viewer(page: str, **state):
    return app(f"pages/{page}", user=None, authentication_status=True, username="viewer", name="Viewer",
               roles=["analyst"], **{**MARCH, **state})


@pytest.mark.parametrize("page", PAGES, ids=[p.removesuffix(".py") for p in PAGES])
def test_every_page_shows_a_limited_analyst_only_their_store(viewer, page):
    at = as_viewer(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = texts(at)
    assert "Store b" in shown and "Store s" not in shown
    # No store picker: the only store the analyst may see is named, not offered beside the others.
    assert not [box for box in at.selectbox if box.key == "filters_store"]
    assert not [e.value for e in at.error]


def test_the_sales_figures_are_the_allowed_stores(viewer):
    at = as_viewer("sales.py")
    at.run()
    assert cards(at)["Net sales"][0] == "€99.00"


def test_a_link_to_another_store_is_not_followed_nor_confirmed(viewer):
    at = as_viewer("sales.py")
    at.query_params.update({"store": "s"})
    at.run()
    assert not at.exception
    # The same sentence as for a store that does not exist: nothing says that it does.
    assert "The link names a store ('s') that is not in this warehouse" in " ".join(w.value for w in at.warning)
    assert cards(at)["Net sales"][0] == "€99.00"


def test_an_analyst_without_any_of_the_stores_gets_one_sentence(viewer):
    UserStore(viewer, rounds=4).set_stores("viewer", ["gone"])
    at = as_viewer("sales.py")
    at.run()
    assert not at.exception
    assert [i.value for i in at.info] == ["No store is shared with you yet. Ask an owner of this app to give you "
                                          "access to a store (Settings › Users)."]
    assert not at.metric


def test_a_change_in_the_users_file_applies_at_the_next_click(viewer):
    at = as_viewer("sales.py")
    at.run()
    UserStore(viewer, rounds=4).set_stores("viewer", [])  # every store again
    at.run()
    assert [box.key for box in at.selectbox if box.key == "filters_store"] == ["filters_store"]


def test_an_unlimited_analyst_and_an_owner_see_every_store(viewer):
    for user in ("analyst", "owner"):
        at = app("pages/sales.py", user=user, **MARCH)
        at.run()
        assert at.selectbox(key="filters_store").options == ["Store b", "Store s", "All stores"]


def test_only_an_analyst_can_be_limited(tmp_path):
    store = UserStore(tmp_path / "users.yaml", rounds=4)
    store.add("boss", role="owner", password="boss-password-12")
    store.add("ann", password="ann-password-123", stores=["b", "a", "a"])
    assert store.get("ann").stores == ("a", "b") and store.get("ann").may_see("a")
    assert not store.get("ann").may_see("c")
    with pytest.raises(UserError, match="An owner sees every store"):
        store.set_stores("boss", ["a"])
    with pytest.raises(UserError, match="An owner sees every store"):
        store.add("bob", role="owner", password="bob-password-123", stores=["a"])
    store.set_role("ann", "owner")
    assert store.get("ann").stores == () and store.get("ann").may_see("c")


def test_an_owner_limits_an_analyst_in_settings(viewer):
    at = app("pages/settings.py", user="owner")
    at.run()
    assert not at.exception
    users = next(frame.value for frame in at.dataframe if "Stores" in frame.value.columns)
    assert dict(zip(users["Username"], users["Stores"])) == {
        "analyst": "Every store", "owner": "Every store", "viewer": "Store b"}
    at.selectbox(key="users_change_user").set_value("analyst")
    at.radio(key="users_change_action").set_value("Set stores")
    at.multiselect(key="users_change_stores").set_value(["s"])
    at.checkbox(key="users_change_sure").check()
    at.button(key="FormSubmitter:users_change-Apply").click().run()
    assert not at.exception
    assert any("analyst now sees Store s." in s.value for s in at.success)
    assert UserStore(viewer).get("analyst").stores == ("s",)


def test_the_command_line_limits_an_analyst(viewer, monkeypatch, capsys):
    from auth.__main__ import main

    monkeypatch.setenv("AUTH_CREDENTIALS_FILE", str(viewer))
    assert main(["set-stores", "analyst", "b", "s"]) == 0
    assert "analyst now sees b, s." in capsys.readouterr().out
    assert main(["set-stores", "owner", "b"]) == 2
    assert main(["set-stores", "analyst"]) == 0
    assert UserStore(viewer).get("analyst").stores == ()

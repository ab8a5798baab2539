"""The Settings page under AppTest: setting states, connections tested, saved, overridden and removed against
the WooCommerce emulator, Sync now."""

from __future__ import annotations

import stat
import tomllib

import pytest

from data.warehouse import shared
from tests.app_support import app, app_store, texts  # noqa: F401 - app_store is a fixture
from tests.emulators.woocommerce import WooEmulator
from tests.test_woocommerce import build_store

PLATFORM_SETTINGS = ("SHOPIFY_", "WOOCOMMERCE_", "STRIPE_", "PAYPAL_", "GA4_", "META_")


@pytest.fixture
def no_platform_env(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.startswith(PLATFORM_SETTINGS) or name == "SYNC_INTERVAL_MINUTES":
            monkeypatch.delenv(name)
    # secrets.toml of the machine running the tests is neither read nor written: one of the test's own
    path = tmp_path / ".streamlit" / "secrets.toml"
    monkeypatch.setattr("data.settings.SECRETS_PATH", path)
    return path


@pytest.fixture
def emulator():
    with WooEmulator(timezone="Europe/Berlin", currency="USD", name="Emulated Shop") as emu:
        build_store(emu)
        yield emu


@pytest.fixture
def woo(monkeypatch, no_platform_env, emulator):
    monkeypatch.setenv("WOOCOMMERCE_URL", emulator.url)
    monkeypatch.setenv("WOOCOMMERCE_KEY", emulator.key)
    monkeypatch.setenv("WOOCOMMERCE_SECRET", emulator.secret)
    return emulator


def settings_page():
    at = app("app.py")
    at.run()
    at.switch_page("pages/settings.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def every_text(at) -> str:
    """Text of every element on the page except the inputs' own values."""
    parts = [texts(at)]
    for kind in (at.success, at.error, at.info, at.warning, at.exception, at.caption):
        parts.extend(str(e.value) for e in kind)
    for element in at.text_input:
        parts.append(f"{element.label} {element.placeholder}")
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


def test_renders_with_nothing_configured(app_store, no_platform_env):
    app_store()
    at = settings_page()
    assert at.title[0].value == "Settings"
    page = texts(at)
    assert "**Consumer key**: not set" in page and "**Admin API access token**: not set" in page
    assert "**API version**: not set (default " in page
    # labels in words, the variable in the help
    key_field = at.text_input(key="settings_woocommerce_WOOCOMMERCE_KEY")
    assert key_field.label == "Consumer key" and "`WOOCOMMERCE_KEY`" in key_field.help
    assert "every 15 minutes" in page
    # nothing configured: no Sync now, and the empty status does not ask for a click on it
    assert not _has_button(at, "settings_sync_woocommerce")
    assert ("No store has synced yet: enter a platform's settings above and save them; its Sync now button then "
            "appears.") in page
    assert ("Shopify is not configured: set the store address to the shop's myshopify domain. It syncs once its "
            "settings are saved.") in page
    assert page.count("is not configured") == 2  # once for Shopify, once for WooCommerce: never repeated
    assert not at.error


def _has_button(at, key: str) -> bool:
    return any(b.key == key for b in at.button)


def test_test_connection_and_sync_now(app_store, woo):
    app_store()
    at = settings_page()
    page = texts(at)
    assert "**Consumer key**: ••••cdef — set in the environment (WOOCOMMERCE_KEY)" in page
    assert woo.key not in every_text(at) and woo.secret not in every_text(at)
    assert at.text_input(key="settings_woocommerce_WOOCOMMERCE_KEY").value == ""  # secrets never shown back

    at.button(key="FormSubmitter:settings_form_woocommerce-Test connection").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Connected to Emulated Shop (USD, Europe/Berlin)."]

    at.text_input(key="settings_woocommerce_WOOCOMMERCE_SECRET").input("cs_wrong_secret_value")
    at.button(key="FormSubmitter:settings_form_woocommerce-Test connection").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["The key was refused by the store (401)."]
    assert at.text_input(key="settings_woocommerce_WOOCOMMERCE_SECRET").value == ""
    shown = every_text(at)
    for secret in (woo.key, woo.secret, "cs_wrong_secret_value"):
        assert secret not in shown

    at.button(key="settings_sync_woocommerce").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("WooCommerce synced" in s.value for s in at.success)
    assert shared().scalar("SELECT count(*) FROM orders") > 0
    table = at.dataframe[0].value
    orders = table[table["stream"] == "orders"]
    assert list(orders["status"]) == ["succeeded"]
    assert int(orders["rows_read"].iloc[0]) > 0


# -- saving, overriding and removing a connection ------------------------------------------------

def _fill(at, form: str, **values: str):
    for name, value in values.items():
        at.text_input(key=f"settings_{form}_{name}").input(value)
    return at


def _click(at, key: str):
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_connection_saved_on_the_page_is_masked_and_used_by_the_next_sync(app_store, no_platform_env, emulator):
    secrets = no_platform_env
    secrets.parent.mkdir()
    secrets.write_text('# kept\nAUTH_COOKIE_KEY = "cookie-key-of-the-deployment-0123456789"\n')
    app_store()
    at = settings_page()
    _fill(at, "woocommerce", WOOCOMMERCE_URL=emulator.url, WOOCOMMERCE_KEY=emulator.key,
          WOOCOMMERCE_SECRET=emulator.secret)
    _click(at, "FormSubmitter:settings_form_woocommerce-Save")

    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    saved = tomllib.loads(secrets.read_text())
    assert saved == {"AUTH_COOKIE_KEY": "cookie-key-of-the-deployment-0123456789", "WOOCOMMERCE_URL": emulator.url,
                     "WOOCOMMERCE_KEY": emulator.key, "WOOCOMMERCE_SECRET": emulator.secret}
    assert secrets.read_text().startswith("# kept\n")
    successes = [s.value for s in at.success]
    assert successes[0].startswith("Saved WooCommerce to .streamlit/secrets.toml: site address, consumer key, "
                                   "consumer secret.")
    assert "Connected to Emulated Shop (USD, Europe/Berlin)." in successes  # saved, then tested
    page = every_text(at)
    assert "**Consumer key**: ••••cdef — saved" in page  # the last four of a long key, never the whole
    assert emulator.key not in page and emulator.secret not in page
    assert at.text_input(key="settings_woocommerce_WOOCOMMERCE_SECRET").value == ""

    # the saved settings are what Sync now (and the scheduler) read, with no restart
    from connectors.sync.status import configured_platforms

    assert "woocommerce" in configured_platforms()
    _click(at, "settings_sync_woocommerce")
    assert any("WooCommerce synced" in s.value for s in at.success), [e.value for e in at.error]
    assert shared().scalar("SELECT count(*) FROM orders") > 0


def test_the_environment_wins_and_the_page_says_so(app_store, no_platform_env, emulator, monkeypatch):
    secrets = no_platform_env
    secrets.parent.mkdir()
    secrets.write_text(f'WOOCOMMERCE_URL = "{emulator.url}"\n')
    monkeypatch.setenv("WOOCOMMERCE_URL", "https://from-the-environment.example")
    app_store()
    at = settings_page()
    assert ("**Site address**: https://from-the-environment.example — set in the environment (WOOCOMMERCE_URL), "
            "which wins over the value saved here") in texts(at)
    field = at.text_input(key="settings_woocommerce_WOOCOMMERCE_URL")
    assert field.value == emulator.url  # the saved value, not the environment's, so saving does not copy it
    _fill(at, "woocommerce", WOOCOMMERCE_KEY="ck_typed_and_saved_1234")
    _click(at, "FormSubmitter:settings_form_woocommerce-Save")
    assert ("The environment sets WOOCOMMERCE_URL, which wins over this page: unset it there (and restart) for the "
            "saved value to apply.") in [w.value for w in at.warning]
    assert tomllib.loads(secrets.read_text())["WOOCOMMERCE_KEY"] == "ck_typed_and_saved_1234"


def test_removing_a_connection_keeps_the_other_keys(app_store, no_platform_env, emulator):
    secrets = no_platform_env
    secrets.parent.mkdir()
    secrets.write_text(f'STRIPE_SECRET_KEY = "sk_test_other"\nWOOCOMMERCE_URL = "{emulator.url}"\n'
                       f'WOOCOMMERCE_KEY = "{emulator.key}"\nWOOCOMMERCE_SECRET = "{emulator.secret}"\n')
    app_store()
    at = settings_page()
    assert _has_button(at, "settings_sync_woocommerce")
    _click(at, "settings_remove_woocommerce")
    assert tomllib.loads(secrets.read_text()) == {"STRIPE_SECRET_KEY": "sk_test_other"}
    assert "Removed the saved WooCommerce settings." in [s.value for s in at.success]
    assert not _has_button(at, "settings_sync_woocommerce") and not _has_button(at, "settings_remove_woocommerce")
    assert "**Site address**: not set" in texts(at)
    assert at.text_input(key="settings_woocommerce_WOOCOMMERCE_URL").value == ""


def test_an_analyst_gets_no_settings_at_all(app_store, no_platform_env):
    app_store()
    at = app("pages/settings.py", user="analyst")
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "Only an owner can open Settings. Ask an owner of this app if something needs changing."]
    assert not at.text_input and not at.button and not at.get("file_uploader")

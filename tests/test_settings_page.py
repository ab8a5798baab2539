"""The Settings page under AppTest: setting states, connection tests against the WooCommerce emulator, Sync now."""

from __future__ import annotations

import pytest

from data.warehouse import shared
from tests.app_support import app, app_store, texts  # noqa: F401 - app_store is a fixture
from tests.emulators.woocommerce import WooEmulator
from tests.test_woocommerce import build_store

PLATFORM_SETTINGS = ("SHOPIFY_", "WOOCOMMERCE_", "STRIPE_")


@pytest.fixture
def no_platform_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(PLATFORM_SETTINGS) or name == "SYNC_INTERVAL_MINUTES":
            monkeypatch.delenv(name)
    # secrets.toml of the machine running the tests is not read
    monkeypatch.setattr("data.settings._secrets", lambda: {})


@pytest.fixture
def woo(monkeypatch, no_platform_env):
    with WooEmulator(timezone="Europe/Berlin", currency="USD", name="Emulated Shop") as emu:
        build_store(emu)
        monkeypatch.setenv("WOOCOMMERCE_URL", emu.url)
        monkeypatch.setenv("WOOCOMMERCE_KEY", emu.key)
        monkeypatch.setenv("WOOCOMMERCE_SECRET", emu.secret)
        yield emu


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
    assert "`WOOCOMMERCE_KEY`: not set" in page
    assert "`SHOPIFY_ACCESS_TOKEN`: not set" in page
    assert "every 15 minutes" in page
    assert "No store has synced yet" in page
    assert not _has_button(at, "settings_sync_woocommerce")  # nothing configured: no Sync now
    assert not at.error


def _has_button(at, key: str) -> bool:
    return any(b.key == key for b in at.button)


def test_test_connection_and_sync_now(app_store, woo):
    app_store()
    at = settings_page()
    page = texts(at)
    assert "`WOOCOMMERCE_KEY`: set (from the environment)" in page
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

"""Settings lists Google Analytics 4 and Meta Ads as it lists the stores: their settings, Test connection
against the emulators, Sync now writing the store's traffic and ad spend."""

from __future__ import annotations

import datetime as dt

import pytest
from facebook_business.api import FacebookSession

from connectors.sync.status import test_connection
from data.warehouse import shared
from tests.app_support import app_store, texts  # noqa: F401 - app_store is a fixture
from tests.emulators.ga4 import GA4Emulator, write_service_account_key
from tests.emulators.meta import ACCOUNT, TOKEN, MetaEmulator
from tests.test_settings_page import no_platform_env, settings_page  # noqa: F401 - a fixture


@pytest.fixture
def ga4(monkeypatch, no_platform_env, tmp_path):
    key, public = write_service_account_key(tmp_path / "key.json")
    with GA4Emulator(public, timezone="UTC") as emu:
        emu.put(emu.today, "google", "cpc", "Spring", "mobile", sessions=12, engaged=7)
        monkeypatch.setenv("GA4_PROPERTY_ID", emu.property_id)
        monkeypatch.setenv("GA4_CREDENTIALS_FILE", str(key))
        monkeypatch.setenv("GA4_STORE_ID", "shopify:acme")
        monkeypatch.setenv("GA4_HISTORY_DAYS", "3")
        monkeypatch.setenv("GA4_API_BASE", emu.url)
        yield emu


@pytest.fixture
def meta(monkeypatch, no_platform_env):
    with MetaEmulator() as emu:
        monkeypatch.setattr(FacebookSession, "GRAPH", emu.url + "/class-level-graph")
        emu.put(dt.datetime.now(dt.timezone.utc).date(), "c1", "Prospecting", spend="12.30", impressions=900,
                clicks=30, purchases=1, value="45.00")
        monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
        monkeypatch.setenv("META_AD_ACCOUNT_ID", f"act_{ACCOUNT}")
        monkeypatch.setenv("META_STORE_ID", "shopify:acme")
        monkeypatch.setenv("META_HISTORY_DAYS", "3")
        monkeypatch.setenv("META_API_BASE", emu.url)
        yield emu


def test_both_sources_are_listed_with_their_settings(app_store, no_platform_env):
    app_store()
    page = texts(settings_page())
    assert "Google Analytics 4" in page and "Meta Ads" in page
    assert "**Property id**: not set" in page and "**Access token**: not set" in page
    assert "**Days read again**: not set (default 3)" in page
    assert "The property id is not set" in page and "The access token is not set" in page


def test_ga4_test_connection_and_sync_now(app_store, ga4):
    app_store()
    at = settings_page()
    at.button(key="FormSubmitter:settings_form_ga4-Test connection").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        f"Connected to Google Analytics properties/{ga4.property_id} (USD, UTC)."]
    at.button(key="settings_sync_ga4").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Google Analytics 4 synced" in s.value for s in at.success)
    assert shared().rows("SELECT store_id, sessions, engaged_sessions FROM daily_traffic") == [("shopify:acme", 12, 7)]


def test_meta_test_connection_and_sync_now(app_store, meta):
    app_store()
    at = settings_page()
    at.button(key="FormSubmitter:settings_form_meta-Test connection").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Connected to Meta ad account Emulated ads (USD, UTC)."]
    at.button(key="settings_sync_meta").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert shared().rows("SELECT campaign, purchases FROM ad_spend WHERE platform = 'meta'") == [("Prospecting", 1)]
    assert TOKEN not in texts(at)


def test_a_refused_token_is_said_without_it(meta):
    ok, sentence = test_connection("meta", {"META_ACCESS_TOKEN": "EAAB-not-the-token"})
    assert (ok, sentence) == (False, "Meta refused the access token (error 190): check META_ACCESS_TOKEN; system "
                                     "user tokens do not expire, others do after about 60 days.")

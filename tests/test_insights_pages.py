"""The Insights page, the Explain panel on Sales and the AI insights settings, under AppTest."""

from __future__ import annotations

import json

import pytest

from data.app_settings import get_choice, set_choice
from data.warehouse import close_shared, connect
from tests.app_support import app, app_store, cards, texts  # noqa: F401 - app_store is a fixture
from tests.builders import add_store
from tests.emulators.llm_apis import LlmApis
from tests.insights_store import END, START, build_insights_store

RANGE = {"filters_preset": "custom", "filters_custom": (START, END), "insights_period": "range"}
LLM_SETTINGS = ("OPENAI_", "ANTHROPIC_", "INSIGHTS_")


@pytest.fixture
def llm_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(LLM_SETTINGS):
            monkeypatch.delenv(name)
    monkeypatch.setattr("data.settings._secrets", lambda: {})  # the machine's secrets.toml is not read
    return monkeypatch


def run(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_insights_page_empty_store(app_store, llm_env):
    app_store(lambda wh: add_store(wh, "s"))
    at = run(app("pages/insights.py", **RANGE))
    assert "No orders or refunds in 9–15 Nov 2026 or 2–8 Nov 2026, so there is nothing to summarise." in texts(at)


def test_insights_page_offline_summary(app_store, llm_env):
    app_store(build_insights_store)
    at = run(app("pages/insights.py", **RANGE))
    shown = texts(at)
    # Net sales 75.00 against 40.00 (+87.5 %), 2 orders (+100 %): see tests/test_insights_facts.py.
    assert cards(at)["Net sales"] == ("$75.00", "+87.5%") and cards(at)["Orders"] == ("2", "+100.0%")
    assert r"In 9–15 Nov 2026 the store made \$75.00 of net sales (up 87.5% against 2–8 Nov 2026)" in shown
    assert "Written by Offline writer (rules-v2)" in shown and "numbers checked against the figures" in shown
    # Three points, largest money at stake first: the net sales change, returns, discounts.
    assert r"1. **Net sales rose \$35.00 (up 87.5%) against 2–8 Nov 2026, to \$75.00.**" in shown
    assert not at.warning  # every number grounded, no fallback
    # The store is too new for a weekday baseline (8 weeks mostly empty), and the chart says so.
    (chart,) = at.get("plotly_chart")
    title = json.loads(chart.proto.spec)["layout"]["title"]["text"].replace("<br>", " ")
    assert title == "Net sales by day (too little history for an expected range)"


def test_insights_page_streams_openai_and_flags_an_invented_number(app_store, llm_env):
    app_store(lambda wh: (build_insights_store(wh), set_choice(wh, "insights.provider", "openai")))
    with_server = LlmApis().start()
    try:
        with_server.reply = ["Net sales were $75.00 ", "from 2 orders and 9,999 visits."]
        llm_env.setenv("OPENAI_API_KEY", "sk-page-test")
        llm_env.setenv("OPENAI_BASE_URL", f"{with_server.url}/v1")
        llm_env.setenv("INSIGHTS_MAX_RETRIES", "0")
        at = run(app("pages/insights.py", **RANGE))
        assert "only the figures are sent, never customer names" in texts(at) and with_server.requests == []
        at.button(key="insights_summary_write").click()
        run(at)
    finally:
        with_server.stop()
    assert len(with_server.requests) == 1 and with_server.requests[0]["body"]["model"] == "gpt-5.6"
    shown = texts(at)
    assert r"Net sales were \$75.00 from 2 orders and :red-background[**9,999 ⚠**] visits." in shown
    assert "1 number(s) in this text match no figure the app computed (9,999)" in shown
    assert "Written by OpenAI (gpt-5.6)" in shown
    assert "sk-page-test" not in shown


def test_sales_page_explain_panel_falls_back_without_a_key(app_store, llm_env):
    app_store(lambda wh: (build_insights_store(wh), set_choice(wh, "insights.provider", "anthropic")))
    at = run(app("pages/sales.py", filters_preset="custom", filters_custom=(START, END)))
    assert "written by Anthropic from the figures on this page" in texts(at)
    at.button(key="explain_sales").click()
    run(at)
    shown = texts(at)
    assert ("No Anthropic key is set (ANTHROPIC_API_KEY), so the offline writer wrote this summary from the same "
            "figures.") in shown
    assert r"the store made \$75.00 of net sales" in shown


def test_ai_settings_section(app_store, llm_env):
    url = app_store(lambda wh: add_store(wh, "s"))
    llm_env.setenv("ANTHROPIC_API_KEY", "sk-ant-never-shown")
    at = app("app.py")
    run(at)
    at.switch_page("pages/settings.py")
    run(at)
    shown = texts(at)
    assert "**OpenAI API key**: not set" in shown
    assert "**Anthropic API key**: ••••hown — set in the environment (ANTHROPIC_API_KEY)" in shown
    assert "sk-ant-never-shown" not in shown
    assert at.text_input(key="ai_settings_anthropic_model").value == "claude-opus-5"
    at.radio(key="ai_settings_provider").set_value("anthropic")
    at.text_input(key="ai_settings_anthropic_model").set_value("claude-sonnet-5")
    at.button(key="ai_settings_save").click()
    run(at)
    assert [s.value for s in at.success] == ["Saved: summaries are now written by Anthropic (claude-sonnet-5)."]
    at.radio(key="ai_settings_provider").set_value("offline")
    at.button(key="ai_settings_test").click()
    run(at)
    assert [s.value for s in at.success] == [
        "The offline writer needs no key: it writes from the figures on this machine."]
    close_shared()
    with connect(url) as wh:
        assert get_choice(wh, "insights.provider") == "anthropic"
        assert get_choice(wh, "insights.anthropic_model") == "claude-sonnet-5"

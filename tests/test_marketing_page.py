"""The Marketing page under AppTest on the store of ``tests/marketing_store.py`` (figures in test_marketing.py),
over 1–6 March 2026 against 23–28 February (no sessions, no spend)."""

from __future__ import annotations

from tests.app_support import app, app_store, cards, texts  # noqa: F401 - app_store is a fixture
from tests.marketing_store import build_marketing_store
from tests.sales_store import END, START, build_sales_store

PAGE = "pages/marketing.py"
MARCH = {"filters_preset": "custom", "filters_custom": (START, END)}


def run_page(**state):
    at = app(PAGE, **{**MARCH, **state})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_the_cards_show_the_marketing_figures(app_store):
    app_store(build_marketing_store)
    at = run_page()
    shown = cards(at)
    assert shown["Ad spend"][0] == "$47.50"
    assert shown["Net sales"][0] == "$232.50"
    # 232.50 ÷ 47.50 and 205.00 ÷ 47.50.
    assert shown["MER"][0] == "4.89×"
    assert shown["Blended ROAS"][0] == "4.32×"
    assert (shown["Sessions"][0], shown["Conversion rate"][0]) == ("5", "40.0%")
    assert (shown["New-customer CAC"][0], shown["New-customer ROAS"][0]) == ("$23.75", "2.32×")
    assert shown["Margin after ad spend"][0] == "$65.85"
    # February had no spend: nothing to compare ROAS with; net sales had none either.
    assert shown["MER"][1] is None
    text = texts(at)
    assert "Sessions from the store's own web sessions, data as of 10 Mar 2026" in text
    assert "ad spend as of 7 Mar 2026" in text
    assert "1 ad spend rows in another currency than the store's are left out: there is no exchange rate" in text
    assert "carry no campaign" in text


def test_the_channel_and_traffic_tables(app_store):
    app_store(build_marketing_store)
    at = run_page()
    frames = [d.value for d in at.dataframe]
    channels = next(f for f in frames if "channel" in f.columns and "roas" in f.columns)
    assert list(channels["channel"])[:3] == ["Google", "Meta", "TikTok"]
    # 85 ÷ 30 at 4 places; 120 ÷ 12.50.
    assert list(channels["roas"])[:2] == [2.8333, 9.6]
    traffic = next(f for f in frames if "channel" in f.columns and "purchase_rate" in f.columns)
    assert dict(zip(traffic["channel"], traffic["sessions"])) == {"Google": 2, "Direct": 1, "Meta": 1,
                                                                  "Organic search": 1}


def test_a_store_without_sessions_or_spend_says_how_to_bring_them(app_store):
    app_store(lambda wh: build_sales_store(wh, ads=False))
    at = run_page()
    assert "No sessions or ad spend in 1–6 Mar 2026" in texts(at)
    assert not at.metric

"""The Meta Ads connector: the official facebook-business SDK against the local Graph API emulator,
on DuckDB and PostgreSQL. Every figure is worked out by hand from the rows the tests put."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal

import polars as pl
import pytest
from facebook_business.api import FacebookSession
from facebook_business.crashreporter import CrashReporter

from connectors.meta import MetaApi, MetaSource, source_from_settings
from connectors.meta.api import usage_wait
from connectors.sync.runner import SyncError, run_sync, saved_cursor
from data.settings import overridden
from tests.retry_support import Sleeps, quick_policy
from tests.emulators.meta import ACCOUNT, TOKEN, MetaEmulator

STORE = "shopify:acme"
TODAY = dt.date(2026, 3, 20)
DAY = dt.timedelta(days=1)


@pytest.fixture
def emulator(monkeypatch):
    with MetaEmulator(page_size=2) as emu:
        # Whatever went through the SDK's class-level address would land here, not on the internet.
        monkeypatch.setattr(FacebookSession, "GRAPH", emu.url + "/class-level-graph")
        yield emu
    assert not [p for p in emu.paths() if p.startswith("/class-level-graph")]


def make_source(emulator, *, sleeps=None, token=TOKEN, history_days=40, page_size=2) -> MetaSource:
    policy = quick_policy(sleeps, max_wait=2.0)
    api = MetaApi(token, f"act_{ACCOUNT}", api_base=emulator.url, timeout=5, policy=policy, poll_seconds=0.01)
    return MetaSource(api, store_id=STORE, history_days=history_days, page_size=page_size,
                      clock=lambda: dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.timezone.utc))


def spend(wh) -> pl.DataFrame:
    return wh.query("SELECT spend_date, campaign, campaign_id, spend, currency, impressions, clicks, purchases, "
                    "purchase_value FROM ad_spend WHERE store_id = :s AND platform = 'meta' "
                    "ORDER BY spend_date, campaign", {"s": STORE})


def fill(emulator):
    emulator.put(TODAY - 35 * DAY, "c1", "Prospecting", spend="10.00", impressions=1000, clicks=20)
    emulator.put(TODAY - 2 * DAY, "c1", "Prospecting", spend="25.50", impressions=3000, clicks=60, purchases=2,
                 value="90.00")
    emulator.put(TODAY - 2 * DAY, "c2", "Retargeting", spend="4.25", impressions=500, clicks=9, purchases=1,
                 value="30.10")
    emulator.put(TODAY, "c2", "Retargeting", spend="1.10", impressions=100, clicks=2)


def test_first_sync_runs_an_asynchronous_report_until_job_completed(wh, emulator):
    fill(emulator)
    results = run_sync(wh, make_source(emulator))
    frame = spend(wh)
    assert frame.height == 4 and frame["spend"].sum() == Decimal("40.85")
    prospecting = frame.row(by_predicate=(pl.col("campaign") == "Prospecting") & (pl.col("purchases") > 0),
                            named=True)
    # three action types count the same 2 purchases: 2, not 6
    assert prospecting == {"spend_date": TODAY - 2 * DAY, "campaign": "Prospecting", "campaign_id": "c1",
                           "spend": Decimal("25.5"), "currency": "USD", "impressions": 3000, "clicks": 60,
                           "purchases": 2, "purchase_value": Decimal("90")}
    posts = [(m, p) for m, p, _ in emulator.requests if m == "POST"]
    assert posts == [("POST", f"/v26.0/act_{ACCOUNT}/insights")]  # 40 days: one report run
    run_id = next(iter(emulator.runs))
    polls = [p for m, p, _ in emulator.requests if p.rstrip("/").endswith(run_id)]
    assert len(polls) == 4  # not started, running 40 %, running 100 % (not done yet), completed
    pages = [q for _, p, q in emulator.requests if p.endswith(f"{run_id}/insights")]
    assert len(pages) == 2 and "after" in pages[1]  # 4 rows, 2 a page, by the after cursor
    assert results[0].rows_read == 4 and saved_cursor(wh, STORE, "insights") == TODAY.isoformat()


def test_late_attribution_raises_recent_days_on_the_next_sync(wh, emulator):
    fill(emulator)
    source = make_source(emulator)
    run_sync(wh, source)
    # Purchases arrive for a day already read; a campaign renamed keeps its id; the 35-day-old row changes
    # at the source too, outside the 28 days read again.
    emulator.put(TODAY - 2 * DAY, "c2", "Retargeting", spend="4.25", impressions=500, clicks=9, purchases=3,
                 value="95.30")
    emulator.put(TODAY - 2 * DAY, "c1", "Prospecting - Broad", spend="25.50", impressions=3000, clicks=60,
                 purchases=2, value="90.00")
    emulator.put(TODAY - 35 * DAY, "c1", "Prospecting", spend="99.00", impressions=1000, clicks=20)
    emulator.requests.clear()
    run_sync(wh, source)
    frame = spend(wh)
    since = [q["time_range"] for m, p, q in emulator.requests if p.endswith("/insights")]
    assert since == ['{"since":"2026-02-21","until":"2026-03-20"}'] * 2  # 28 days, synchronous, 2 pages
    assert not [m for m, _, _ in emulator.requests if m == "POST"]
    recent = frame.filter(pl.col("spend_date") == TODAY - 2 * DAY)
    assert recent.select("campaign", "purchases", "purchase_value").rows() == [
        ("Prospecting - Broad", 2, Decimal("90")), ("Retargeting", 3, Decimal("95.3"))]  # the old name is gone
    assert frame.filter(pl.col("spend_date") == TODAY - 35 * DAY)["spend"].to_list() == [Decimal("10")]
    again = spend(wh)
    run_sync(wh, source)
    assert spend(wh).equals(again)


def test_throttling_waits_as_the_usage_header_says(wh, emulator):
    fill(emulator)
    sleeps = Sleeps()
    emulator.throttle(2, code=80000, regain_minutes=1)
    run_sync(wh, make_source(emulator, sleeps=sleeps))
    assert sleeps[:2] == [2.0, 2.0]  # 60 s asked, capped by the policy's longest wait
    assert spend(wh).height == 4


def test_throttling_without_end_fails_with_one_sentence_and_resumes(wh, emulator):
    fill(emulator)
    emulator.throttle(20)
    with pytest.raises(SyncError, match="still rate-limited"):
        run_sync(wh, make_source(emulator))
    assert saved_cursor(wh, STORE, "insights") is None and spend(wh).height == 0
    emulator.throttles.clear()
    run_sync(wh, make_source(emulator))
    assert spend(wh).height == 4


def test_a_refused_token_is_one_sentence_without_the_token(wh, emulator):
    with pytest.raises(SyncError) as caught:
        run_sync(wh, make_source(emulator, token="EAAB-wrong-token-value"))
    assert "refused the access token" in str(caught.value) and "wrong-token" not in str(caught.value)


def test_the_crash_reporter_stays_off(emulator):
    hook = sys.excepthook
    make_source(emulator).probe()
    assert CrashReporter.reporter_instance is None and sys.excepthook is hook


@pytest.mark.parametrize("headers, expected", [
    ({}, (None, 0.0)),
    ({"x-business-use-case-usage": '{"1": [{"call_count": 95, "total_time": 20, "estimated_time_to_regain_access": 3}]}'},
     (180.0, 95.0)),
    ({"X-Ad-Account-Usage": '{"acc_id_util_pct": 9.5, "reset_time_duration": 0}'}, (None, 9.5)),
    ({"x-ad-account-usage": '{"acc_id_util_pct": 100, "reset_time_duration": 45}'}, (45.0, 100.0)),
    ({"x-business-use-case-usage": "not json"}, (None, 0.0)),
], ids=["none", "business-use-case", "account-quiet", "account-full", "unreadable"])
def test_usage_headers(headers, expected):
    assert usage_wait(headers) == expected


@pytest.mark.parametrize("values, sentence", [
    ({}, "META_ACCESS_TOKEN is not set"),
    ({"META_ACCESS_TOKEN": "t"}, "META_AD_ACCOUNT_ID is not set"),
    ({"META_ACCESS_TOKEN": "t", "META_AD_ACCOUNT_ID": "act_12x"}, "the account's number"),
    ({"META_ACCESS_TOKEN": "t", "META_AD_ACCOUNT_ID": "act_12"}, "META_STORE_ID is not set"),
], ids=["no-token", "no-account", "bad-account", "no-store"])
def test_settings_missing_or_wrong(values, sentence):
    blank = {name: "" for name in ("META_ACCESS_TOKEN", "META_AD_ACCOUNT_ID", "META_STORE_ID", "STORE_ID",
                                   "META_API_BASE")}
    with overridden({**blank, **values}):
        with pytest.raises(SyncError, match=sentence):
            source_from_settings()


def test_settings_build_a_source_for_the_store(emulator):
    with overridden({"META_ACCESS_TOKEN": TOKEN, "META_AD_ACCOUNT_ID": ACCOUNT, "META_STORE_ID": "demo",
                     "META_API_BASE": emulator.url}):
        source = source_from_settings()
    assert source.store_id == "demo"
    assert source.probe() == {"name": "Meta ad account Emulated ads", "currency": "USD", "timezone": "UTC"}


def test_the_command_syncs_and_a_missing_setting_exits_2(emulator, tmp_path, monkeypatch, capsys):
    from connectors.__main__ import main

    url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    for name in ("META_ACCESS_TOKEN", "META_AD_ACCOUNT_ID", "META_STORE_ID", "STORE_ID", "META_API_BASE"):
        monkeypatch.setenv(name, "")
    assert main(["sync", "meta", "--db", url]) == 2
    assert "META_ACCESS_TOKEN is not set" in capsys.readouterr().err
    emulator.put(dt.datetime.now(dt.timezone.utc).date(), "c9", "Catalog", spend="3.00", impressions=10, clicks=1)
    for name, value in (("META_ACCESS_TOKEN", TOKEN), ("META_AD_ACCOUNT_ID", ACCOUNT), ("STORE_ID", "demo"),
                        ("META_API_BASE", emulator.url), ("META_HISTORY_DAYS", "2")):
        monkeypatch.setenv(name, value)
    assert main(["sync", "meta", "--db", url]) == 0
    out = capsys.readouterr()
    assert "demo insights: 1 read, 1 written" in out.out and TOKEN not in out.out + out.err

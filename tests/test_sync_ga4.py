"""The Google Analytics 4 connector: the official client against the local Data API emulator,
on DuckDB and PostgreSQL. Every figure is worked out by hand from the rows the tests put."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from connectors.ga4 import GA4Api, GA4Source, load_credentials, source_from_settings
from connectors.sync.runner import SyncError, run_sync, saved_cursor
from data.settings import overridden
from tests.retry_support import Sleeps, quick_policy
from tests.emulators.ga4 import GA4Emulator, write_service_account_key

STORE = "shopify:acme"
TODAY = dt.date(2026, 3, 20)
DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return write_service_account_key(tmp_path_factory.mktemp("ga4") / "service-account.json")


@pytest.fixture
def emulator(key):
    with GA4Emulator(key[1], today=TODAY, timezone="UTC", currency="EUR") as emu:
        yield emu


def make_source(emulator, key, *, sleeps=None, page_size=None, revision_days=3, history_days=10,
                throttled_tries=4) -> GA4Source:
    policy = quick_policy(sleeps, throttled_tries=throttled_tries)
    api = GA4Api(emulator.property_id, load_credentials(str(key[0])), api_base=emulator.url, timeout=5,
                 policy=policy)
    return GA4Source(api, store_id=STORE, revision_days=revision_days, history_days=history_days,
                     page_size=page_size, window_days=4,
                     clock=lambda: dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.timezone.utc))


def sync(wh, source, **kwargs):
    """A sync as of ``TODAY`` (the source's clock and the emulator's today)."""
    return run_sync(wh, source, **kwargs)


def traffic(wh) -> pl.DataFrame:
    return wh.query("SELECT date, source, medium, campaign, device, sessions, engaged_sessions, add_to_carts, "
                    "checkouts, purchases, purchase_revenue, currency FROM daily_traffic WHERE store_id = :s "
                    "ORDER BY date, source, medium, campaign, device", {"s": STORE})


def fill(emulator):
    """Three days: 20 + 7 + 3 sessions, one day with a (not set) source."""
    emulator.put(TODAY - 2 * DAY, "google", "cpc", "Spring", "mobile", sessions=20, engaged=12, carts=5,
                 checkouts=3, purchases=2, revenue="80.50")
    emulator.put(TODAY - 2 * DAY, "(direct)", "(none)", "(not set)", "desktop", sessions=7, engaged=4, carts=1,
                 checkouts=1, purchases=1, revenue="19.99")
    emulator.put(TODAY, "(not set)", "(not set)", "(not set)", "mobile", sessions=3, engaged=1, carts=1,
                 checkouts=0, purchases=0, revenue="0")


def test_first_sync_reads_the_history_in_windows_paged_by_offset(wh, emulator, key):
    fill(emulator)
    results = sync(wh, make_source(emulator, key, page_size=1))
    frame = traffic(wh)
    assert frame.height == 3
    google = frame.row(by_predicate=pl.col("source") == "google", named=True)
    assert google == {"date": TODAY - 2 * DAY, "source": "google", "medium": "cpc", "campaign": "Spring",
                      "device": "mobile", "sessions": 20, "engaged_sessions": 12, "add_to_carts": 5,
                      "checkouts": 3, "purchases": 2, "purchase_revenue": Decimal("80.5"), "currency": "EUR"}
    # 10 days in windows of 4: [03-11..03-14] (empty), [03-15..03-18] (2 rows: 2 pages of 1), [03-19..today].
    ranges = [(r["dateRanges"][0]["startDate"], r["dateRanges"][0]["endDate"], int(r.get("offset") or 0))
              for r in emulator.requests]
    assert ranges == [("2026-03-11", "2026-03-14", 0), ("2026-03-15", "2026-03-18", 0),
                      ("2026-03-15", "2026-03-18", 1), ("2026-03-19", "today", 0)]
    assert all(int(r["limit"]) == 1 for r in emulator.requests)
    assert [d["name"] for d in emulator.requests[0]["dimensions"]] == [
        "date", "sessionSource", "sessionMedium", "sessionCampaignName", "deviceCategory"]
    assert results[0].rows_read == 3 and saved_cursor(wh, STORE, "traffic") == TODAY.isoformat()


def test_a_second_sync_replaces_the_revised_days_and_changes_nothing_else(wh, emulator, key):
    emulator.put(TODAY - 8 * DAY, "google", "organic", "(not set)", "desktop", sessions=50)
    fill(emulator)
    source = make_source(emulator, key)
    sync(wh, source)
    first = traffic(wh)
    # GA4 processes late hits: today's (not set) sessions now belong to the newsletter campaign, and a
    # day outside the trailing window changes at the source too (it is not read again).
    emulator.revise(TODAY, ("(not set)", "(not set)", "(not set)", "mobile"),
                    ("newsletter", "email", "March", "mobile"))
    emulator.put(TODAY - 8 * DAY, "google", "organic", "(not set)", "desktop", sessions=51)
    emulator.requests.clear()
    sync(wh, source)
    after = traffic(wh)
    assert emulator.requests[0]["dateRanges"] == [{"startDate": "2026-03-17", "endDate": "today"}]
    assert after.filter(pl.col("source") == "(not set)").height == 0  # the old row went, not kept beside
    moved = after.row(by_predicate=pl.col("source") == "newsletter", named=True)
    assert (moved["date"], moved["campaign"], moved["sessions"]) == (TODAY, "March", 3)
    assert after.filter(pl.col("medium") == "organic")["sessions"].to_list() == [50]
    assert after["sessions"].sum() == first["sessions"].sum() == 80
    # Nothing changed at the source: a third sync leaves the table as it was.
    sync(wh, source)
    assert traffic(wh).equals(after)


def test_quota_exhausted_waits_and_resumes(wh, emulator, key):
    fill(emulator)
    sleeps = Sleeps()
    emulator.exhaust(2, after=1)  # the second report answers 429 twice, then goes through
    results = sync(wh, make_source(emulator, key, sleeps=sleeps))
    assert len(sleeps) == 2 and traffic(wh)["sessions"].sum() == 30
    assert results[0].status == "succeeded"


def test_quota_exhausted_for_longer_fails_keeping_the_windows_read(wh, emulator, key):
    fill(emulator)
    emulator.exhaust(50, after=2)  # the first two windows come, then the quota is spent for the hour
    with pytest.raises(SyncError, match="still rate-limited"):
        sync(wh, make_source(emulator, key, throttled_tries=3))
    assert saved_cursor(wh, STORE, "traffic") == "2026-03-18"
    assert traffic(wh)["sessions"].sum() == 27  # 03-18's two rows; today's 3 sessions are in the window not read
    emulator.exhaust(0)
    emulator.requests.clear()
    sync(wh, make_source(emulator, key))
    assert emulator.requests[0]["dateRanges"] == [{"startDate": "2026-03-15", "endDate": "2026-03-18"}]
    assert traffic(wh)["sessions"].sum() == 30


@pytest.mark.parametrize("revision_days, first_day", [(0, "2026-03-20"), (3, "2026-03-17"), (7, "2026-03-13")],
                         ids=["none", "default", "a-week"])
def test_the_trailing_window_follows_the_setting(wh, emulator, key, revision_days, first_day):
    source = make_source(emulator, key, revision_days=revision_days)
    sync(wh, source)
    emulator.requests.clear()
    sync(wh, source)
    assert emulator.requests[0]["dateRanges"][0]["startDate"] == first_day


def test_a_key_of_another_account_is_one_sentence(wh, emulator, tmp_path):
    other = write_service_account_key(tmp_path / "other.json")
    with pytest.raises(SyncError, match="refused the service account's key"):
        sync(wh, make_source(emulator, other))


def test_a_property_the_account_cannot_read(wh, emulator, key):
    source = make_source(emulator, key)
    source.api.property = "properties/999"
    with pytest.raises(SyncError, match="may not read this Google Analytics property"):
        sync(wh, source)


@pytest.mark.parametrize("values, sentence", [
    ({}, "GA4_PROPERTY_ID is not set"),
    ({"GA4_PROPERTY_ID": "1"}, "GA4_CREDENTIALS_FILE is not set"),
    ({"GA4_PROPERTY_ID": "1", "GA4_CREDENTIALS_FILE": "/nonexistent/key.json", "GA4_STORE_ID": "demo"},
     "does not exist"),
    ({"GA4_PROPERTY_ID": "1", "GA4_CREDENTIALS_FILE": "KEY"}, "GA4_STORE_ID is not set"),
    ({"GA4_PROPERTY_ID": "1", "GA4_CREDENTIALS_FILE": "KEY", "GA4_STORE_ID": "demo",
      "GA4_REVISION_DAYS": "three"}, "whole number of days"),
    ({"GA4_PROPERTY_ID": "1", "GA4_CREDENTIALS_FILE": "KEY", "GA4_STORE_ID": "demo",
      "GA4_API_BASE": "http://analytics.example"}, "plain http"),
], ids=["no-property", "no-key", "missing-key-file", "no-store", "bad-days", "plain-http-remote"])
def test_settings_missing_or_wrong(values, sentence, key, monkeypatch):
    monkeypatch.delenv("STORE_ID", raising=False)
    values = {k: (str(key[0]) if v == "KEY" else v) for k, v in values.items()}
    blank = {name: "" for name in ("GA4_PROPERTY_ID", "GA4_CREDENTIALS_FILE", "GA4_STORE_ID", "STORE_ID",
                                   "GA4_REVISION_DAYS", "GA4_API_BASE")}
    with overridden({**blank, **values}):
        with pytest.raises(SyncError, match=sentence):
            source_from_settings()


def test_settings_build_a_source_for_the_store(key, emulator):
    with overridden({"GA4_PROPERTY_ID": "properties/123456789", "GA4_CREDENTIALS_FILE": str(key[0]),
                     "GA4_STORE_ID": "", "STORE_ID": "demo", "GA4_API_BASE": emulator.url}):
        source = source_from_settings()
    assert source.store_id == "demo" and source.revision_days == 3
    assert source.probe() == {"name": "Google Analytics properties/123456789", "currency": "EUR",
                              "timezone": "UTC"}


def test_the_command_syncs_and_a_missing_setting_exits_2(key, emulator, tmp_path, monkeypatch, capsys):
    from connectors.__main__ import main

    url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    for name in ("GA4_PROPERTY_ID", "GA4_CREDENTIALS_FILE", "GA4_STORE_ID", "STORE_ID", "GA4_API_BASE"):
        monkeypatch.setenv(name, "")
    assert main(["sync", "ga4", "--db", url]) == 2
    assert "GA4_PROPERTY_ID is not set" in capsys.readouterr().err
    emulator.today = dt.datetime.now(dt.timezone.utc).date()  # the command runs on the real clock
    emulator.put(emulator.today, "google", "cpc", "Spring", "mobile", sessions=4)
    monkeypatch.setenv("GA4_PROPERTY_ID", emulator.property_id)
    monkeypatch.setenv("GA4_CREDENTIALS_FILE", str(key[0]))
    monkeypatch.setenv("GA4_API_BASE", emulator.url)
    monkeypatch.setenv("GA4_HISTORY_DAYS", "2")
    assert main(["sync", "ga4", "--store", "csv:retail", "--db", url]) == 0
    assert "csv:retail traffic: 1 read, 1 written" in capsys.readouterr().out

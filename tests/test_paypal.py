"""The PayPal connector (official paypal-server-sdk) against the local Transaction Search emulator.

Every figure is worked out by hand from the records the tests create. PayPal
signs money from the balance's side: a sale of 30.00 with a fee of -1.35 nets
28.65; a refund of -10.00 that gives back 0.30 of fee nets -9.70 (fee -0.30);
a chargeback of -40.00 with a 20.00 chargeback fee nets -60.00.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import polars as pl
import pytest

from analytics.margin import margin_costs
from connectors.__main__ import main
from connectors.paypal import PayPalApi, PayPalSource, source_from_settings
from connectors.paypal.normalize import parse_time
from connectors.sync.retry import RetryPolicy
from connectors.sync.runner import SyncError, run_sync, saved_cursor
from data.settings import overridden
from tests.builders import add_store
from tests.emulators.paypal import ACCOUNT, CLIENT_ID, CLIENT_SECRET, PayPalEmulator

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(microsecond=0)
T0 = NOW - dt.timedelta(days=60)
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
STORE = f"paypal:{ACCOUNT}"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 0.3))


def make_source(emulator: PayPalEmulator, sleeps: Sleeps | None = None, *, tries: int = 3,
                store_id: str | None = None, history_days: int = 90, secret: str = CLIENT_SECRET) -> PayPalSource:
    policy = RetryPolicy(tries=tries, throttled_tries=4, base_delay=0.01, max_delay=0.05, max_wait=1.0,
                         sleep=sleeps if sleeps is not None else Sleeps())
    api = PayPalApi(CLIENT_ID, secret, api_base=emulator.url, timeout=5.0, policy=policy)
    return PayPalSource(api, store_id=store_id, history=dt.timedelta(days=history_days))


def build_account(emulator: PayPalEmulator) -> dict[str, dict]:
    a = emulator.sale(T0 + HOUR, "30.00", "-1.35", invoice_id="1001")
    b = emulator.sale(T0 + 2 * HOUR, "12.50", "-0.85", custom="shop-2002", code="T0007")
    c = emulator.refund(a, T0 + 2 * DAY, "-10.00", "0.30")  # names no order: takes its sale's
    d = emulator.sale(T0 + 3 * DAY, "40.00", "-1.65", invoice_id="1003")
    w = emulator.add("T0400", T0 + 5 * DAY, "-50.00", "0.00")  # a withdrawal to the bank: not a sale
    e = emulator.chargeback(d, T0 + 40 * DAY, "-40.00", "-20.00", invoice_id="1003")
    p = emulator.sale(T0 + 41 * DAY, "8.00", "-0.52", invoice_id="1005", status="P")
    return {"a": a, "b": b, "c": c, "d": d, "w": w, "e": e, "p": p}


@pytest.fixture
def emulator():
    with PayPalEmulator() as emu:
        yield emu


def rows(wh, store_id: str = STORE) -> dict[str, dict]:
    frame = wh.query("SELECT * FROM transactions WHERE store_id = :s", {"s": store_id})
    return {r["transaction_id"]: r for r in frame.iter_rows(named=True)}


@pytest.mark.parametrize("text, expected", [
    ("2026-07-01T09:15:22-0400", dt.datetime(2026, 7, 1, 13, 15, 22, tzinfo=UTC)),
    ("2026-07-01T09:15:22+0000", dt.datetime(2026, 7, 1, 9, 15, 22, tzinfo=UTC)),
    ("2026-07-01T09:15:22Z", dt.datetime(2026, 7, 1, 9, 15, 22, tzinfo=UTC)),
    ("2026-07-01T09:15:22+05:30", dt.datetime(2026, 7, 1, 3, 45, 22, tzinfo=UTC)),
], ids=["paypal-offset", "paypal-utc", "iso-z", "iso-colon"])
def test_paypal_dates_are_read_in_every_form(text, expected):
    assert parse_time(text) == expected


def test_first_sync_writes_sales_refunds_and_chargebacks_with_exact_fees(wh, emulator):
    rec = build_account(emulator)
    results = run_sync(wh, make_source(emulator))
    assert [r.status for r in results] == ["succeeded"]
    got = rows(wh)
    assert rec["w"]["transaction_id"] not in got  # T0400 withdrawal left out
    assert len(got) == 6
    expect = {  # kind, status, order, amount, fee, net
        "a": ("sale", "success", "1001", "30.00", "1.35", "28.65"),
        "b": ("sale", "success", "shop-2002", "12.50", "0.85", "11.65"),
        "c": ("refund", "success", "1001", "10.00", "-0.30", "-9.70"),
        "d": ("sale", "success", "1003", "40.00", "1.65", "38.35"),
        "e": ("chargeback", "success", "1003", "40.00", "20.00", "-60.00"),
        "p": ("sale", "pending", "1005", "8.00", "0.52", "7.48"),
    }
    for key, (kind, status, order, amount, fee, net) in expect.items():
        row = got[rec[key]["transaction_id"]]
        assert (row["provider"], row["kind"], row["status"], row["order_id"]) == ("paypal", kind, status, order)
        assert (row["amount"], row["fee"], row["net"]) == (Decimal(amount), Decimal(fee), Decimal(net))
        assert row["currency"] == "USD"
    assert got[rec["c"]["transaction_id"]]["parent_id"] == rec["a"]["transaction_id"]
    assert got[rec["a"]["transaction_id"]]["created_at"] == T0 + HOUR  # sent as …-0400, stored in UTC
    # Σ fee 1.35 + 0.85 − 0.30 + 1.65 + 20.00 + 0.52 = 24.07; Σ net 16.43.
    sums = wh.query("SELECT SUM(fee) AS fee, SUM(net) AS net FROM transactions").row(0, named=True)
    assert (sums["fee"], sums["net"]) == (Decimal("24.07"), Decimal("16.43"))
    store = wh.query("SELECT platform, currency, timezone FROM stores WHERE store_id = :s", {"s": STORE})
    assert store.row(0) == ("paypal", "USD", "UTC")


def test_windows_are_31_days_pages_of_500_and_the_token_is_fetched_once(wh, emulator):
    for i in range(501):
        emulator.sale(T0 + i * dt.timedelta(minutes=1), "1.00", "-0.05", invoice_id=f"o{i}")
    run_sync(wh, make_source(emulator))
    searches = emulator.searches()
    assert {q["page_size"] for q in searches} == {"500"}
    spans = [parse_time(q["end_date"]) - parse_time(q["start_date"]) for q in searches]
    assert max(spans) <= dt.timedelta(days=31)
    first = [q for q in searches if parse_time(q["start_date"]) <= T0 < parse_time(q["end_date"])]
    assert [q["page"] for q in first] == ["1", "2"]
    assert wh.scalar("SELECT COUNT(*) FROM transactions") == 501
    assert emulator.tokens_issued == 1


def test_a_window_too_large_is_split_until_each_part_fits(wh, emulator):
    emulator.max_results = 3
    for i in range(8):
        emulator.sale(T0 + i * 6 * HOUR, "5.00", "-0.30", invoice_id=f"s{i}")
    run_sync(wh, make_source(emulator))
    assert wh.scalar("SELECT COUNT(*) FROM transactions") == 8
    assert wh.scalar("SELECT SUM(fee) FROM transactions") == Decimal("2.40")
    spans = [parse_time(q["end_date"]) - parse_time(q["start_date"]) for q in emulator.searches()]
    assert min(spans) < dt.timedelta(days=2)  # 31 days → halves until three or fewer sales each


def test_nothing_past_the_last_refresh_is_read_and_the_next_sync_takes_it(wh, emulator):
    settled = emulator.sale(NOW - 5 * HOUR, "20.00", "-0.88", invoice_id="2001")
    recent = emulator.sale(NOW - HOUR, "9.00", "-0.56", invoice_id="2002")  # inside PayPal's 3-hour lag
    source = make_source(emulator)
    run_sync(wh, source)
    assert set(rows(wh)) == {settled["transaction_id"]}
    cursor = dt.datetime.fromisoformat(saved_cursor(wh, STORE, "transactions"))
    assert cursor <= dt.datetime.now(UTC) - 3 * HOUR
    assert all(parse_time(q["start_date"]) < cursor + dt.timedelta(seconds=1) for q in emulator.searches())
    emulator.lag = dt.timedelta(0)  # the data catches up
    run_sync(wh, source)
    assert set(rows(wh)) == {settled["transaction_id"], recent["transaction_id"]}


def test_syncing_again_adds_no_duplicates_and_takes_updates(wh, emulator):
    build_account(emulator)
    pending = emulator.sale(NOW - 6 * HOUR, "15.00", "-0.74", invoice_id="3001", status="P")
    source = make_source(emulator)
    run_sync(wh, source)
    assert len(rows(wh)) == 7
    emulator.set_status(pending, "S", NOW - 4 * HOUR)
    emulator.requests.clear()
    run_sync(wh, source)
    got = rows(wh)
    assert len(got) == 7 and wh.scalar("SELECT COUNT(*) FROM transactions") == 7
    assert got[pending["transaction_id"]]["status"] == "success"
    # The second sync starts a day (the lookback) before where the first one stopped.
    assert min(parse_time(q["start_date"]) for q in emulator.searches()) > NOW - 2 * DAY


def test_a_failed_sync_keeps_its_windows_and_resumes(wh, emulator):
    rec = build_account(emulator)
    emulator.fail(503, count=3, skip=1)  # the second window fails three times: tries are spent
    with pytest.raises(SyncError, match="HTTP 503"):
        run_sync(wh, make_source(emulator, tries=3))
    kept = rows(wh)
    assert set(kept) == {rec[k]["transaction_id"] for k in "ab"}  # the first 31-day window is in
    cursor = dt.datetime.fromisoformat(saved_cursor(wh, STORE, "transactions"))
    status = wh.query("SELECT status, error FROM sync_runs").row(0, named=True)
    assert status["status"] == "failed" and "503" in status["error"]
    emulator.requests.clear()
    run_sync(wh, make_source(emulator))
    assert len(rows(wh)) == 6
    assert parse_time(emulator.searches()[0]["start_date"]) == cursor - DAY


def test_rate_limits_wait_as_retry_after_says(wh, emulator):
    build_account(emulator)
    sleeps = Sleeps()
    emulator.throttle(2, retry_after="0.2")
    run_sync(wh, make_source(emulator, sleeps))
    assert sleeps == [0.2, 0.2]
    assert len(rows(wh)) == 6


def test_endless_rate_limits_end_the_run_with_one_sentence(wh, emulator):
    emulator.throttle(50)
    with pytest.raises(SyncError, match="still rate-limited after 4 tries"):
        run_sync(wh, make_source(emulator))


def test_a_wrong_secret_is_one_sentence_without_the_secret(emulator):
    with pytest.raises(SyncError) as caught:
        make_source(emulator, secret="not-the-secret-at-all")
    message = str(caught.value)
    assert "refused the client id and secret (HTTP 401, invalid_client)" in message
    assert "PAYPAL_CLIENT_SECRET" in message and "not-the-secret-at-all" not in message


@pytest.mark.parametrize("base, allowed", [
    ("http://127.0.0.1:9", True), ("http://localhost:9", True), ("https://api-m.sandbox.paypal.com", True),
    ("http://api-m.paypal.com", False), ("ftp://127.0.0.1", False),
], ids=["loopback", "localhost", "https", "plain-http-remote", "not-http"])
def test_plain_http_only_for_a_local_address(base, allowed):
    from connectors.paypal.api import check_address

    if allowed:
        assert check_address(base) == base
    else:
        with pytest.raises(SyncError, match="PAYPAL_API_BASE"):
            check_address(base)


def test_settings_name_what_is_missing():
    with overridden({"PAYPAL_CLIENT_ID": "", "PAYPAL_CLIENT_SECRET": "x"}):
        with pytest.raises(SyncError, match="^PAYPAL_CLIENT_ID is not set"):
            source_from_settings()
    with overridden({"PAYPAL_CLIENT_ID": "x", "PAYPAL_CLIENT_SECRET": ""}):
        with pytest.raises(SyncError, match="^PAYPAL_CLIENT_SECRET is not set"):
            source_from_settings()


def test_payments_join_the_shop_store_and_its_margin_counts_paypal_fees(wh, emulator):
    add_store(wh, "woocommerce:shop", timezone="America/New_York")
    build_account(emulator)
    run_sync(wh, make_source(emulator, store_id="woocommerce:shop"))
    assert len(rows(wh, "woocommerce:shop")) == 6
    store = wh.query("SELECT platform, name, timezone FROM stores WHERE store_id = 'woocommerce:shop'")
    assert store.row(0) == ("csv", "Store woocommerce:shop", "America/New_York")  # left as it was
    assert wh.scalar("SELECT COUNT(*) FROM stores") == 1
    costs = margin_costs(wh, "woocommerce:shop", (T0 - DAY).date(), NOW.date())
    assert costs["payment_fees"] == Decimal("24.0700")
    # Only the first three days: 1.35 + 0.85 − 0.30 + 1.65 = 3.55 (New York days; T0 + 1 h … T0 + 3 d).
    first_days = margin_costs(wh, "woocommerce:shop", (T0 - DAY).date(), (T0 + 4 * DAY).date())
    assert first_days["payment_fees"] == Decimal("3.5500")


def test_a_missing_or_demo_store_is_refused_in_one_sentence(wh, emulator):
    build_account(emulator)
    with pytest.raises(SyncError, match="there is no store 'woocommerce:none'"):
        run_sync(wh, make_source(emulator, store_id="woocommerce:none"))
    wh.insert("stores", pl.DataFrame({"store_id": ["demo"], "platform": ["demo"], "name": ["Demo"],
                                      "currency": ["USD"], "timezone": ["UTC"], "created_at": [T0]}))
    with pytest.raises(SyncError, match="is a demo store, whose payments and fees are made up"):
        run_sync(wh, make_source(emulator, store_id="demo"))
    assert wh.scalar("SELECT COUNT(*) FROM transactions") == 0


def test_the_command_syncs_paypal_from_the_settings(duckdb_url, emulator, capsys):
    build_account(emulator)
    with overridden({"PAYPAL_CLIENT_ID": CLIENT_ID, "PAYPAL_CLIENT_SECRET": CLIENT_SECRET,
                     "PAYPAL_API_BASE": emulator.url, "PAYPAL_STORE": ""}):
        assert main(["sync", "paypal", "--db", duckdb_url]) == 0
        emulator.client_secret = "rotated"
        assert main(["sync", "paypal", "--db", duckdb_url]) == 2
    out = capsys.readouterr()
    assert f"{STORE} transactions: 7 read, 6 written" in out.out
    assert "error: PayPal refused the client id and secret" in out.err

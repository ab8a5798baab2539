"""The Stripe connector against the local Stripe emulator, on DuckDB and PostgreSQL.

Every figure below is worked out by hand from the records the tests create.
Stripe amounts are integers in minor units: 1050 USD = 10.50, 500 JPY = 500,
1234 KWD = 1.234.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from decimal import Decimal

import polars as pl
import pytest

from analytics.margin import margin_costs
from connectors.stripe import StripeApi, StripeSource, source_from_settings
from connectors.stripe.money import from_minor_units
from connectors.stripe.source import windows
from connectors.sync.retry import RetryPolicy
from connectors.sync.runner import SyncError, run_sync, saved_cursor
from tests.emulators.stripe import API_KEY, StripeEmulator

UTC = dt.timezone.utc
DAY = 86400
NOW = int(time.time())
T0 = NOW - 20 * DAY  # the account opens; every record is younger than Stripe's 30 days of events
STORE = "stripe:acct_1EmuLat0r"


class Sleeps(list):
    """Records each wait of the retry policy (and waits it, bounded for the suite)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 0.3))


def make_source(emulator: StripeEmulator, sleeps: Sleeps | None = None, *, tries: int = 3,
                timeout: float = 5.0, window_days: int = 30) -> StripeSource:
    policy = RetryPolicy(tries=tries, throttled_tries=4, base_delay=0.01, max_delay=0.05, max_wait=1.0,
                         sleep=sleeps if sleeps is not None else Sleeps())
    api = StripeApi(API_KEY, api_base=emulator.url, timeout=timeout, policy=policy)
    return StripeSource(api, window=dt.timedelta(days=window_days))


def build_account(emulator: StripeEmulator) -> dict[str, dict]:
    """The records of the first sync (USD account, New York time)."""
    day = T0 + DAY
    a = emulator.add_charge(amount=1050, fee=60, created=day + 3600, metadata={"order_id": "1001"},
                            payment_intent="pi_A")
    b = emulator.add_charge(amount=500, currency="jpy", created=day + 7200, fee=18, balance_amount=336,
                            balance_currency="usd", exchange_rate=0.00672,
                            metadata={"woocommerce_order_id": "1002"})
    d = emulator.add_charge(amount=1234, currency="kwd", balance_currency="kwd", fee=45, created=day + 9000)
    e = emulator.add_charge(amount=2000, captured=False, created=day + 10_000)
    f = emulator.add_charge(amount=2500, fee=103, created=day + 11_000, metadata={"shopify_order_id": "5005"})
    refund = emulator.add_refund(a["id"], amount=300, created=day + 2 * DAY)
    dispute = emulator.add_dispute(f["id"], created=day + 3 * DAY, fee=1500)
    payout = emulator.add_payout(amount=12000, created=day + 4 * DAY, arrival_date=day + 6 * DAY)
    customer = emulator.add_customer(email="  Jane@Example.COM ", created=day, country="DE", name="Jane Roe",
                                     phone="+49 30 123456")
    return {"a": a, "b": b, "d": d, "e": e, "f": f, "refund": refund, "dispute": dispute, "payout": payout,
            "customer": customer}


@pytest.fixture
def emulator():
    with StripeEmulator(created=T0) as emu:
        emu.records = build_account(emu)
        yield emu


def transactions(wh) -> dict[str, dict]:
    rows = wh.query("SELECT * FROM transactions WHERE store_id = :s ORDER BY transaction_id", {"s": STORE})
    return {r["transaction_id"]: r for r in rows.iter_rows(named=True)}


def sums_by_currency(wh) -> dict[str, tuple[Decimal, Decimal]]:
    rows = wh.rows("SELECT currency, SUM(fee), SUM(net) FROM transactions WHERE store_id = :s "
                   "GROUP BY currency ORDER BY currency", {"s": STORE})
    return {c: (Decimal(fee), Decimal(net)) for c, fee, net in rows}


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(1050, "usd", "10.50"), (-29, "usd", "-0.29"), (500, "jpy", "500"), (1234, "kwd", "1.234"),
     (5, "bhd", "0.005"), (199, "EUR", "1.99"), (0, "vnd", "0"), (150000, "isk", "1500.00"), (700, "mga", "700")],
    ids=["usd", "usd-negative", "jpy-zero-decimal", "kwd-three-decimals", "bhd", "eur-upper-case", "vnd",
         "isk-two-decimals-on-stripe's-wire", "mga-whole-on-stripe's-wire"],
)
def test_minor_units_become_exact_decimals(amount, currency, expected):
    assert from_minor_units(amount, currency) == Decimal(expected)
    assert str(from_minor_units(amount, currency)) == expected


def test_windows_cover_the_range_oldest_first():
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    got = list(windows(start, start + dt.timedelta(days=2, hours=12), dt.timedelta(days=1)))
    first = int(start.timestamp())
    assert got == [(first, first + DAY), (first + DAY, first + 2 * DAY), (first + 2 * DAY, first + 2 * DAY + DAY // 2)]


def test_first_sync_writes_fees_nets_and_amounts_exactly(wh, emulator):
    results = run_sync(wh, make_source(emulator))
    assert [r.stream for r in results] == ["events", "charges", "refunds", "disputes", "payouts", "customers"]
    assert wh.rows("SELECT store_id, platform, currency, timezone FROM stores") == [
        (STORE, "stripe", "USD", "America/New_York")]
    assert wh.scalar("SELECT count(*) FROM orders") == 0  # Stripe never creates orders

    r, rec = transactions(wh), emulator.records
    a, b, d, e, f = (r[rec[k]["id"]] for k in "abdef")
    # USD sale: 10.50 paid, 0.60 fee, 9.90 net.
    assert (a["kind"], a["status"], a["amount"], a["fee"], a["net"], a["currency"], a["order_id"]) == (
        "sale", "success", Decimal("10.50"), Decimal("0.60"), Decimal("9.90"), "USD", "1001")
    assert a["payment_reference"] == "pi_A"
    # ¥500 settled as 3.36 USD (rate 0.00672): fee 0.18, net 3.18; the buyer's ¥500 kept beside.
    assert (b["amount"], b["fee"], b["net"], b["currency"]) == (Decimal("3.36"), Decimal("0.18"), Decimal("3.18"), "USD")
    assert (b["presentment_amount"], b["presentment_currency"], b["exchange_rate"]) == (
        Decimal("500"), "JPY", Decimal("0.00672"))
    assert b["order_id"] == "1002"
    # 1.234 KWD settled in KWD: fee 0.045, net 1.189 (three decimals).
    assert (d["amount"], d["fee"], d["net"], d["currency"]) == (Decimal("1.234"), Decimal("0.045"),
                                                                 Decimal("1.189"), "KWD")
    # An uncaptured authorization moved nothing yet.
    assert (e["kind"], e["amount"], e["fee"], e["net"]) == ("authorization", Decimal("20.00"), 0, 0)
    # Refund of 3.00 on the first sale: net −3.00, linked to the sale's order.
    refund = r[rec["refund"]["id"]]
    assert (refund["kind"], refund["amount"], refund["fee"], refund["net"], refund["parent_id"], refund["order_id"]) == (
        "refund", Decimal("3.00"), 0, Decimal("-3.00"), a["transaction_id"], "1001")
    # Dispute of 25.00 with a 15.00 fee: net −40.00.
    chargeback = r[rec["dispute"]["id"]]
    assert (chargeback["kind"], chargeback["status"], chargeback["amount"], chargeback["fee"], chargeback["net"],
            chargeback["order_id"]) == ("chargeback", "pending", Decimal("25.00"), Decimal("15.00"),
                                        Decimal("-40.00"), "5005")
    assert wh.rows("SELECT dispute_id, transaction_id, amount, currency, reason, status FROM disputes") == [
        (rec["dispute"]["id"], f["transaction_id"], Decimal("25.00"), "USD", "fraudulent", "needs_response")]

    # Σ fee USD = 0.60 + 0.18 + 0 + 1.03 + 0 + 15.00 = 16.81;
    # Σ net USD = 9.90 + 3.18 + 0 + 23.97 − 3.00 − 40.00 = −5.95.
    assert sums_by_currency(wh) == {"KWD": (Decimal("0.045"), Decimal("1.189")),
                                    "USD": (Decimal("16.81"), Decimal("-5.95"))}

    arrival = dt.datetime.fromtimestamp(rec["payout"]["arrival_date"], UTC).date()
    assert wh.rows("SELECT payout_id, amount, currency, status, arrival_date FROM payouts") == [
        (rec["payout"]["id"], Decimal("120.00"), "USD", "in_transit", arrival)]
    assert wh.rows("SELECT customer_id, email_hash, country FROM customers") == [
        (rec["customer"]["id"], hashlib.sha256(b"jane@example.com").hexdigest(), "DE")]
    assert "jane" not in str(wh.query("SELECT * FROM customers").rows()).lower()
    # The name, address and phone are kept in customer_contacts only.
    assert wh.rows("SELECT customer_id, name, email, phone FROM customer_contacts") == [
        (rec["customer"]["id"], "Jane Roe", "jane@example.com", "+49 30 123456")]


def test_payment_fees_metric_reads_the_stripe_fees(wh, emulator):
    run_sync(wh, make_source(emulator))
    today = dt.date.today()
    costs = margin_costs(wh, STORE, today - dt.timedelta(days=40), today)
    assert costs["payment_fees"] == Decimal("16.8100")  # the USD fees above
    assert costs["left_out_other_currency"] == 1  # the KWD fee


def test_lists_page_with_starting_after_and_filter_on_created(wh, emulator):
    for i in range(150):
        emulator.add_charge(amount=100 + i, fee=3, created=T0 + 5 * DAY + i)
    run_sync(wh, make_source(emulator))
    charges = [params for path, params in emulator.requests if path == "/v1/charges"]
    busy = [p for p in charges if int(p["created"]["gte"]) <= T0 + 5 * DAY < int(p["created"]["lt"])]
    assert [p.get("starting_after") is not None for p in busy] == [False, True]
    assert all(p["limit"] == "100" and "data.balance_transaction" in p["expand"] for p in charges)
    assert wh.scalar("SELECT count(*) FROM transactions WHERE kind = 'sale'") == 4 + 150
    # Σ of the 150: amounts 1.00 … 2.49 → 261.75, fees 150 × 0.03 = 4.50.
    assert wh.rows("SELECT SUM(amount), SUM(fee) FROM transactions WHERE created_at >= :t",
                   {"t": dt.datetime.fromtimestamp(T0 + 5 * DAY, UTC)}) == [(Decimal("261.75"), Decimal("4.50"))]


def test_incremental_sync_takes_new_refunds_and_updates_from_events(wh, emulator):
    source = make_source(emulator)
    run_sync(wh, source)
    rec, changed = emulator.records, int(time.time())  # Stripe dates its events after the first sync
    emulator.requests.clear()
    # Between the syncs: a second, partial refund of 2.00 on the first sale; the authorization is
    # captured (fee 0.88); the dispute is won (15.00 fee returned, 25.00 reinstated); the payout is paid.
    second = emulator.add_refund(rec["a"]["id"], amount=200, created=changed)
    emulator.capture(rec["e"]["id"], at=changed, fee=88)
    emulator.close_dispute(rec["dispute"]["id"], won=True, at=changed)
    emulator.set_payout_status(rec["payout"]["id"], "paid", at=changed)

    results = {r.stream: r for r in run_sync(wh, source)}
    events = [p for path, p in emulator.requests if path == "/v1/events"]
    assert events and all("gte" in p["created"] and "charge.dispute.closed" in p["types"] for p in events)
    assert results["events"].rows_read == 4  # charge.refunded, charge.captured, charge.dispute.closed, payout.paid

    r = transactions(wh)
    assert (r[second["id"]]["amount"], r[second["id"]]["net"], r[second["id"]]["order_id"]) == (
        Decimal("2.00"), Decimal("-2.00"), "1001")
    captured = r[rec["e"]["id"]]
    assert (captured["kind"], captured["amount"], captured["fee"], captured["net"]) == (
        "capture", Decimal("20.00"), Decimal("0.88"), Decimal("19.12"))
    chargeback = r[rec["dispute"]["id"]]
    assert (chargeback["status"], chargeback["fee"], chargeback["net"]) == ("reversed", 0, 0)
    assert wh.scalar("SELECT status FROM disputes") == "won"
    assert wh.scalar("SELECT status FROM payouts") == "paid"
    # USD: fee 16.81 + 0.88 − 15.00 = 2.69; net −5.95 − 2.00 + 19.12 + 40.00 = 51.17.
    assert sums_by_currency(wh)["USD"] == (Decimal("2.69"), Decimal("51.17"))


def test_events_older_than_what_a_list_read_are_not_written(wh, emulator):
    source = make_source(emulator)
    run_sync(wh, source)
    # Read again the events of the last 25 days: the refund and the dispute's creation, both older
    # than the state the lists just gave.
    wh.execute("UPDATE sync_state SET cursor = :c WHERE stream = 'events'",
               {"c": (dt.datetime.now(UTC) - dt.timedelta(days=25)).isoformat()})
    for event in emulator.objects["events"].values():  # make the old states tell apart
        event["data"]["object"]["status"] = "under_review"
    results = {r.stream: r for r in run_sync(wh, source)}
    assert (results["events"].rows_read, results["events"].rows_written) == (2, 0)
    assert wh.scalar("SELECT status FROM disputes") == "needs_response"


def test_reading_again_adds_no_duplicates(wh, emulator):
    source = make_source(emulator)
    run_sync(wh, source)
    before = (wh.query("SELECT * FROM transactions ORDER BY transaction_id").drop("_synced_at", "updated_at"),
              sums_by_currency(wh))
    run_sync(wh, source)  # incremental: the lookback reads the newest again
    run_sync(wh, source, full=True)
    after = (wh.query("SELECT * FROM transactions ORDER BY transaction_id").drop("_synced_at", "updated_at"),
             sums_by_currency(wh))
    assert before[0].equals(after[0]) and before[1] == after[1]
    counts = {t: wh.scalar(f"SELECT count(*) FROM {t}") for t in ("transactions", "disputes", "payouts", "customers")}
    assert counts == {"transactions": 7, "disputes": 1, "payouts": 1, "customers": 1}


def test_an_interrupted_sync_keeps_its_pages_and_resumes(wh, emulator):
    sleeps = Sleeps()
    source = make_source(emulator, sleeps, tries=3, window_days=1)
    # Charges are read day by day; the third day's call answers 503 beyond the three tries.
    emulator.fail(503, count=3, path="/v1/charges", skip=2)
    with pytest.raises(SyncError, match=r"Stripe charges page 1 failed after 3 tries: HTTP 503"):
        run_sync(wh, source)
    assert len(sleeps) == 2  # two waits between the three tries
    # The first two windows (T0 → T0+2 days) are kept with their cursor: the day-2 charges a, b, d, e, f.
    assert wh.scalar("SELECT count(*) FROM transactions") == 5
    cursor = dt.datetime.fromisoformat(saved_cursor(wh, STORE, "charges"))
    assert cursor == dt.datetime.fromtimestamp(T0 + 2 * DAY, UTC)
    assert wh.rows("SELECT status, error FROM sync_runs WHERE stream = 'charges'") == [
        ("failed", "Stripe charges page 1 failed after 3 tries: HTTP 503.")]

    emulator.requests.clear()
    run_sync(wh, source)
    first = next(p for path, p in emulator.requests if path == "/v1/charges")
    assert int(first["created"]["gte"]) == T0 + 2 * DAY - 600  # resumes at the cursor minus the lookback
    assert wh.scalar("SELECT count(*) FROM transactions") == 7
    assert sums_by_currency(wh)["USD"] == (Decimal("16.81"), Decimal("-5.95"))


def test_each_page_commits_before_the_next_is_asked_for(wh, emulator):
    for i in range(150):
        emulator.add_charge(amount=100, fee=3, created=T0 + 5 * DAY + i)
    emulator.fail(503, count=3, path="/v1/charges", skip=1)  # the second page of the window fails
    with pytest.raises(SyncError, match="charges page 2 failed"):
        run_sync(wh, make_source(emulator))
    assert wh.scalar("SELECT count(*) FROM transactions") == 100  # the first page is in
    assert saved_cursor(wh, STORE, "charges") is None  # but its window is not finished
    run_sync(wh, make_source(emulator))
    assert wh.scalar("SELECT count(*) FROM transactions") == 155 + 2  # + the refund and the chargeback


def test_rate_limits_wait_as_retry_after_says(wh, emulator):
    sleeps = Sleeps()
    emulator.throttle(2, retry_after="0.2", path="/v1/refunds")
    run_sync(wh, make_source(emulator, sleeps))
    assert sleeps == [0.2, 0.2]
    assert wh.scalar("SELECT count(*) FROM transactions WHERE kind = 'refund'") == 1


def test_endless_rate_limits_end_the_run_with_one_sentence(wh, emulator):
    emulator.throttle(50, retry_after="0", path="/v1/payouts")
    with pytest.raises(SyncError, match=r"^Stripe payouts page 1 was still rate-limited after 4 tries"):
        run_sync(wh, make_source(emulator))


def test_server_errors_are_retried_with_backoff(wh, emulator):
    sleeps = Sleeps()
    emulator.fail(500, count=2, path="/v1/disputes")
    run_sync(wh, make_source(emulator, sleeps))
    assert len(sleeps) == 2 and all(0 <= s <= 0.05 for s in sleeps)
    assert wh.scalar("SELECT count(*) FROM disputes") == 1


def test_stripe_should_retry_false_is_not_retried(wh, emulator):
    emulator.fail(503, count=5, path="/v1/customers", headers={"Stripe-Should-Retry": "false"})
    with pytest.raises(SyncError, match=r"Stripe refused to send customers page 1 \(HTTP 503"):
        run_sync(wh, make_source(emulator))
    assert len(emulator.paths("/v1/customers")) == 1


def test_stripe_should_retry_true_retries_a_conflict(wh, emulator):
    emulator.fail(400, count=1, path="/v1/customers", headers={"Stripe-Should-Retry": "true"})
    run_sync(wh, make_source(emulator))
    assert len(emulator.paths("/v1/customers")) == 2


def test_a_slow_answer_times_out_and_is_tried_again(wh, emulator):
    emulator.slow(1.0, path="/v1/payouts")
    run_sync(wh, make_source(emulator, timeout=0.3))
    assert len(emulator.paths("/v1/payouts")) == 2
    assert wh.scalar("SELECT count(*) FROM payouts") == 1


def test_a_wrong_key_fails_clearly_without_showing_it(wh, emulator):
    api = StripeApi("sk_test_wrong_secret_value", api_base=emulator.url, policy=RetryPolicy(tries=1))
    with pytest.raises(SyncError) as caught:
        StripeSource(api)
    assert "STRIPE_SECRET_KEY" in str(caught.value) and "wrong_secret" not in str(caught.value)


def test_cursors_older_than_the_events_kept_list_everything_again(wh, emulator):
    source = make_source(emulator)
    run_sync(wh, source)
    stale = (dt.datetime.now(UTC) - dt.timedelta(days=40)).isoformat()
    wh.execute("UPDATE sync_state SET cursor = :c WHERE store_id = :s", {"c": stale, "s": STORE})
    emulator.requests.clear()
    results = {r.stream: r for r in run_sync(wh, source)}
    assert "Stripe keeps events for 30 days" in results["events"].notes[0]
    assert "listed again" in results["charges"].notes[0]
    first = next(p for path, p in emulator.requests if path == "/v1/charges")
    assert int(first["created"]["gte"]) == T0  # from the account's opening, not the stale cursor
    events = next(p for path, p in emulator.requests if path == "/v1/events")
    assert int(events["created"]["gte"]) >= NOW - 30 * DAY
    notes = dict(wh.rows("SELECT stream, note FROM sync_runs WHERE note IS NOT NULL"))
    assert set(notes) == {"events", "charges", "refunds", "disputes", "payouts", "customers"}
    assert wh.scalar("SELECT count(*) FROM transactions") == 7


def test_source_from_settings_names_the_missing_key(monkeypatch):
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.setattr("data.settings._secrets", lambda: {})
    with pytest.raises(SyncError, match="STRIPE_SECRET_KEY"):
        source_from_settings()


def test_source_from_settings_reads_the_key_and_the_api_base(monkeypatch, emulator):
    monkeypatch.setenv("STRIPE_SECRET_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", emulator.url)
    source = source_from_settings()
    assert source.store_id == STORE
    assert source.store_row()["currency"].to_list() == ["USD"]
    assert isinstance(source.store_row(), pl.DataFrame)


def test_requests_beyond_the_rate_limit_get_429_and_the_sync_still_completes(duckdb_url):
    from data.warehouse import connect

    with StripeEmulator(created=T0, rate_limit=4) as emu:
        build_account(emu)
        sleeps = Sleeps()
        policy = RetryPolicy(tries=3, throttled_tries=10, base_delay=0.2, max_delay=1.0, max_wait=2.0, sleep=sleeps)
        source = StripeSource(StripeApi(API_KEY, api_base=emu.url, policy=policy), window=dt.timedelta(days=5))
        wh = connect(duckdb_url)
        try:
            run_sync(wh, source)
            charges = wh.scalar("SELECT count(*) FROM transactions WHERE kind IN ('sale', 'authorization')")
        finally:
            wh.close()
    # Twenty days in 5-day windows, five lists: far more than 4 requests in a second.
    assert emu.limited > 0 and len(sleeps) >= emu.limited
    assert charges == 5  # a, b, d, e (authorized) and f

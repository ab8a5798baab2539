"""Stripe webhooks: signatures and timestamps, then events applied in any order, on both backends."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest

from connectors.stripe import webhook
from connectors.sync.runner import run_sync
from connectors.webhook_errors import WebhookRejected
from tests.emulators.stripe import StripeEmulator
from tests.test_stripe import STORE, T0, build_account, make_source, sums_by_currency, transactions

SECRET = "whsec_test_secret"
NOW = 1_800_000_000


def signed(body: bytes, *, secret: str = SECRET, at: int = NOW, extra: tuple[str, ...] = ()) -> dict[str, str]:
    v1 = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"stripe-signature": ",".join([f"t={at}", *extra, f"v1={v1}"])}


BODY = json.dumps({"id": "evt_1", "type": "charge.updated", "created": NOW, "data": {"object": {}}}).encode()


@pytest.mark.parametrize(
    "headers",
    [signed(BODY), signed(BODY, at=NOW - 299), signed(BODY, at=NOW + 299),
     signed(BODY, extra=("v1=" + "0" * 64, "v0=abc"))],
    ids=["fresh", "almost-5-minutes-old", "almost-5-minutes-ahead", "one-of-several-v1-matches"],
)
def test_a_good_signature_passes(headers):
    webhook.verify(headers, BODY, SECRET, now=NOW)


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        (signed(BODY, secret="whsec_forged"), BODY, "does not match"),
        (signed(BODY), BODY.replace(b"charge.updated", b"charge.refunded"), "does not match"),
        (signed(BODY, at=NOW - 301), BODY, "more than 5 minutes old"),
        (signed(BODY, at=NOW + 301), BODY, "more than 5 minutes ahead"),
        ({}, BODY, "no Stripe-Signature"),
        ({"stripe-signature": f"t={NOW}"}, BODY, "no v1 signature"),
        ({"stripe-signature": "t=soon,v1=ab"}, BODY, "no timestamp"),
    ],
    ids=["forged-secret", "body-changed", "stale", "future", "no-header", "no-v1", "bad-timestamp"],
)
def test_a_bad_delivery_is_rejected(headers, body, reason):
    with pytest.raises(WebhookRejected, match=reason):
        webhook.verify(headers, body, SECRET, now=NOW)


def test_no_secret_rejects_everything():
    with pytest.raises(WebhookRejected, match="STRIPE_WEBHOOK_SECRET"):
        webhook.verify(signed(BODY), BODY, "", now=NOW)


def test_event_id_topic_and_store():
    body = json.dumps({"id": "evt_9", "type": "payout.paid", "account": "acct_X"}).encode()
    assert webhook.event_id({}, body) == "evt_9"
    assert webhook.topic({}, body) == "payout.paid"
    assert webhook.store_id({}, body) == "stripe:acct_X"
    assert webhook.store_id({}, BODY) is None
    assert webhook.SECRET_SETTING == "STRIPE_WEBHOOK_SECRET"


@pytest.fixture
def synced(wh):
    """A synced account, its emulator and source."""
    with StripeEmulator(created=T0) as emu:
        emu.records = build_account(emu)
        source = make_source(emu)
        run_sync(wh, source)
        yield wh, emu, source


def _later() -> int:
    return int(time.time()) + 5  # after the sync's reads


def test_a_refund_arrives_and_its_fee_and_net_are_fetched(synced):
    wh, emu, source = synced
    rec, at = emu.records, _later()
    refund = emu.add_refund(rec["a"]["id"], amount=250, created=at)
    event = next(e for e in emu.objects["events"].values() if e["type"] == "charge.refunded" and e["created"] == at)
    assert event["data"]["object"]["refunds"]["data"] == []  # current API versions do not list refunds
    assert webhook.apply(wh, event["type"], event, source=source) == []  # Stripe rows touch no order
    row = transactions(wh)[refund["id"]]
    assert (row["amount"], row["fee"], row["net"], row["order_id"], row["parent_id"]) == (
        Decimal("2.50"), 0, Decimal("-2.50"), "1001", rec["a"]["id"])
    # USD net −5.95 − 2.50 = −8.45.
    assert sums_by_currency(wh)["USD"] == (Decimal("16.81"), Decimal("-8.45"))


def test_a_capture_fetches_its_balance_transaction(synced):
    wh, emu, source = synced
    emu.capture(emu.records["e"]["id"], at=_later(), fee=88)
    event = max(emu.objects["events"].values(), key=lambda e: e["created"])
    assert isinstance(event["data"]["object"]["balance_transaction"], str)
    webhook.apply(wh, event["type"], event, source=source)
    row = transactions(wh)[emu.records["e"]["id"]]
    assert (row["kind"], row["amount"], row["fee"], row["net"]) == ("capture", Decimal("20.00"), Decimal("0.88"),
                                                                    Decimal("19.12"))


def test_an_older_update_never_overwrites_a_newer_one(synced):
    wh, emu, source = synced
    dispute_id, at = emu.records["dispute"]["id"], _later()
    older = emu.emit("charge.dispute.updated", {**emu.objects["disputes"][dispute_id], "status": "under_review"}, at)
    newer = emu.emit("charge.dispute.closed", emu.close_dispute(dispute_id, won=True, at=at + 10), at + 10)
    webhook.apply(wh, newer["type"], newer, source=source)
    webhook.apply(wh, older["type"], older, source=source)  # delivered late
    assert wh.scalar("SELECT status FROM disputes") == "won"
    chargeback = transactions(wh)[dispute_id]
    assert (chargeback["status"], chargeback["fee"], chargeback["net"]) == ("reversed", 0, 0)


def test_an_older_event_than_the_last_sync_read_is_ignored(synced):
    wh, emu, source = synced
    payout = emu.records["payout"]
    stale = emu.emit("payout.updated", {**payout, "status": "pending"}, T0 + 5 * 86400)
    webhook.apply(wh, stale["type"], stale, source=source)
    assert wh.scalar("SELECT status FROM payouts") == "in_transit"


def test_a_duplicate_delivery_changes_nothing(synced):
    wh, emu, source = synced
    event = emu.emit("payout.paid", {**emu.records["payout"], "status": "paid"}, _later())
    webhook.apply(wh, event["type"], event, source=source)
    first = wh.query("SELECT * FROM payouts").drop("_synced_at")
    webhook.apply(wh, event["type"], copy.deepcopy(event), source=source)
    assert wh.query("SELECT * FROM payouts").drop("_synced_at").equals(first)
    assert first["status"].to_list() == ["paid"]


def test_without_the_api_stored_fees_and_links_are_kept(synced):
    wh, emu, _ = synced
    rec, at = emu.records, _later()
    # A charge update whose balance transaction is only an id: status changes, fee and net stay.
    charge = {**emu.objects["charges"][rec["a"]["id"]], "metadata": {"order_id": "1001"}, "status": "succeeded"}
    event = emu.emit("charge.updated", charge, at)
    webhook.apply(wh, event["type"], event)
    row = transactions(wh)[rec["a"]["id"]]
    assert (row["amount"], row["fee"], row["net"], row["currency"]) == (Decimal("10.50"), Decimal("0.60"),
                                                                        Decimal("9.90"), "USD")
    # A new refund with an unexpanded charge takes its order from the stored charge.
    refund = emu.add_refund(rec["b"]["id"], amount=100, created=at)
    event = emu.emit("charge.refund.updated", refund, at)
    webhook.apply(wh, event["type"], event)
    row = transactions(wh)[refund["id"]]
    assert (row["order_id"], row["amount"], row["currency"], row["fee"]) == ("1002", Decimal("100"), "JPY", None)


def test_a_failed_refund_nets_to_zero(synced):
    wh, emu, source = synced
    refund_id, at = emu.records["refund"]["id"], _later()
    emu.set_refund_status(refund_id, "failed", at=at)
    event = max(emu.objects["events"].values(), key=lambda e: e["created"])
    webhook.apply(wh, event["type"], event, source=source)
    row = transactions(wh)[refund_id]
    assert (row["status"], row["amount"], row["fee"], row["net"]) == ("failure", Decimal("3.00"), 0, 0)


def test_a_connect_event_names_its_store():
    body = json.dumps({"id": "evt_2", "type": "charge.updated", "account": "acct_1EmuLat0r"}).encode()
    assert webhook.store_id({}, body) == STORE

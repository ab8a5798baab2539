"""The webhook receiver (``POST /webhooks/{platform}``) over HTTP, with WooCommerce deliveries."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from connectors.webhooks import webhook_routes
from tests.emulators.woocommerce import WooEmulator, webhook_delivery

SECRET = "whsec-receiver-test"
UTC = dt.timezone.utc


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@pytest.fixture
def emu(monkeypatch):
    with WooEmulator() as emulator:
        emulator.add_product(13, name="Sticker", sku="STICKER", price="10.00", created=utc(2026, 3, 1))
        emulator.add_order(301, created=utc(2026, 3, 10, 14), lines=[
            dict(id=3001, product_id=13, sku="STICKER", quantity=2, subtotal="20.00", total_tax="1.60")])
        emulator.add_refund(301, 3101, created=utc(2026, 3, 10, 18), lines=[(3001, 1, "10.00", "0.80")])
        monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", SECRET)
        monkeypatch.setenv("WOOCOMMERCE_URL", emulator.url)
        monkeypatch.setenv("WOOCOMMERCE_KEY", emulator.key)
        monkeypatch.setenv("WOOCOMMERCE_SECRET", emulator.secret)
        yield emulator


def client_for(wh, **options) -> TestClient:
    return TestClient(Starlette(routes=webhook_routes(lambda: wh, **options)))


def post(client: TestClient, headers: dict[str, str], body: bytes, platform: str = "woocommerce"):
    return client.post(f"/webhooks/{platform}", content=body, headers=headers)


def test_a_signed_delivery_is_stored_and_applied(wh, emu):
    headers, body = webhook_delivery(emu, "order.updated", emu.order_payload(301), SECRET)
    with client_for(wh) as client:
        answer = post(client, headers, body)
    assert (answer.status_code, answer.text) == (200, "applied")
    event = wh.rows("SELECT source, event_id, store_id, topic, status, error, processed_at IS NOT NULL, "
                    "payload_sha256 FROM webhook_events")
    assert len(event) == 1
    assert event[0][:7] == ("woocommerce", "order:301:2026-03-10T18:00:00", f"woocommerce:{emu.host}",
                            "order.updated", "applied", None, True)
    # The refunds came through the API with the configured source; the store row too.
    assert wh.rows("SELECT order_id, financial_status FROM orders") == [("301", "partially_refunded")]
    assert wh.rows("SELECT refund_id, line_id, subtotal FROM refund_lines") == [("3101", "3001", 10)]
    assert wh.scalar("SELECT timezone FROM stores") == "America/New_York"


def test_a_forged_delivery_is_refused_and_nothing_is_stored(wh, emu):
    headers, body = webhook_delivery(emu, "order.updated", emu.order_payload(301), "not-the-secret")
    with client_for(wh) as client:
        assert post(client, headers, body).status_code == 401
        tampered_headers, tampered = webhook_delivery(emu, "order.updated", emu.order_payload(301), SECRET)
        assert post(client, tampered_headers, tampered.replace(b"20.00", b"0.01")).status_code == 401
        unsigned = {k: v for k, v in tampered_headers.items() if k != "x-wc-webhook-signature"}
        assert post(client, unsigned, tampered).status_code == 401
    assert wh.scalar("SELECT count(*) FROM webhook_events") == 0
    assert wh.scalar("SELECT count(*) FROM orders") == 0


def test_a_duplicate_delivery_is_acknowledged_and_not_applied_again(wh, emu):
    headers, body = webhook_delivery(emu, "order.updated", emu.order_payload(301), SECRET, delivery_id=7)
    with client_for(wh) as client:
        assert post(client, headers, body).text == "applied"
        wh.execute("UPDATE orders SET financial_status = 'marker'")
        again = dict(headers, **{"x-wc-webhook-delivery-id": "8"})  # a retry: another delivery id
        answer = post(client, again, body)
    assert (answer.status_code, answer.text) == (200, "duplicate")
    assert wh.scalar("SELECT count(*) FROM webhook_events") == 1
    assert wh.scalar("SELECT financial_status FROM orders") == "marker"


def _signed(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_the_creation_ping_as_woocommerce_sends_it_gets_200_and_stores_nothing(wh, emu):
    # WooCommerce's deliver_ping: a form body, no X-WC-Webhook-* header at all, no signature.
    headers, body = webhook_delivery(emu, "ping", "webhook_id=42", SECRET)
    assert not any(name.startswith("x-wc-") for name in headers)
    with client_for(wh) as client:
        answer = post(client, headers, body)
        bare = post(client, {}, body)  # a sender that sets no content type either
    assert (answer.status_code, answer.text) == (200, "ping")
    assert (bare.status_code, bare.text) == (200, "ping")
    assert wh.scalar("SELECT count(*) FROM webhook_events") == 0
    assert wh.scalar("SELECT count(*) FROM orders") + wh.scalar("SELECT count(*) FROM stores") == 0


@pytest.mark.parametrize("secret, expected", [(SECRET, (200, "applied")), ("not-the-secret", (401, "signature rejected"))],
                         ids=["signed", "wrongly-signed"])
def test_a_ping_that_carries_a_signature_is_checked_like_any_delivery(wh, emu, secret, expected):
    body = b"webhook_id=42"
    headers = {"content-type": "application/x-www-form-urlencoded", "x-wc-webhook-signature": _signed(body, secret)}
    with client_for(wh) as client:
        answer = post(client, headers, body)
    assert (answer.status_code, answer.text) == expected
    stored = [("ping:42", "ping", "applied")] if expected[0] == 200 else []
    assert wh.rows("SELECT event_id, topic, status FROM webhook_events") == stored
    assert wh.scalar("SELECT count(*) FROM orders") + wh.scalar("SELECT count(*) FROM stores") == 0


def test_a_failed_apply_is_kept_and_still_acknowledged(wh, emu):
    payload = dict(emu.order_payload(301), line_items=7)  # not a list: normalizing fails
    headers, body = webhook_delivery(emu, "order.updated", payload, SECRET)
    with client_for(wh) as client:
        answer = post(client, headers, body)
    assert (answer.status_code, answer.text) == (200, "failed")
    status, error = wh.rows("SELECT status, error FROM webhook_events")[0]
    assert status == "failed" and error.startswith("TypeError")
    assert wh.scalar("SELECT count(*) FROM orders") == 0


def test_a_slow_apply_is_answered_in_time_and_finishes_after(wh, emu):
    headers, body = webhook_delivery(emu, "order.updated", emu.order_payload(301), SECRET)
    emu.slow("orders/301/refunds", 1.0)
    with client_for(wh, apply_budget=0.1) as client:
        started = time.monotonic()
        answer = post(client, headers, body)
        assert time.monotonic() - started < 0.9  # not held for the 1 s the store takes
        assert (answer.status_code, answer.text) == (200, "accepted")
        deadline = time.monotonic() + 5
        while wh.scalar("SELECT status FROM webhook_events") != "applied" and time.monotonic() < deadline:
            time.sleep(0.05)
    assert wh.scalar("SELECT status FROM webhook_events") == "applied"
    assert wh.scalar("SELECT count(*) FROM refunds") == 1


def test_no_secret_and_unknown_platforms(wh, emu, monkeypatch):
    headers, body = webhook_delivery(emu, "order.updated", emu.order_payload(301), SECRET)
    with client_for(wh) as client:
        assert post(client, headers, body, platform="magento").status_code == 404
        monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "")
        answer = post(client, headers, body)
        assert answer.status_code == 503 and "WOOCOMMERCE_WEBHOOK_SECRET" in answer.text
        assert client.get("/webhooks/woocommerce").status_code == 405
    assert wh.scalar("SELECT count(*) FROM webhook_events") == 0

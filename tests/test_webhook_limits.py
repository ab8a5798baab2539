"""What the webhook routes refuse before trusting a request: size (413), content type (415), body (400),
and that nothing is stored for a request without a valid signature, on every platform and backend."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from connectors.webhooks import webhook_routes

PLATFORMS = ("shopify", "woocommerce", "stripe")
SECRETS = {"shopify": "shpss_limits", "woocommerce": "wc-limits", "stripe": "whsec_limits"}
SETTINGS = {"shopify": "SHOPIFY_WEBHOOK_SECRET", "woocommerce": "WOOCOMMERCE_WEBHOOK_SECRET",
            "stripe": "STRIPE_WEBHOOK_SECRET"}
LIMIT_MB = "0.01"  # 10,485 bytes
LIMIT = 10_485


@pytest.fixture
def client(wh, monkeypatch):
    for platform, name in SETTINGS.items():
        monkeypatch.setenv(name, SECRETS[platform])
    for name in ("SHOPIFY_STORE", "SHOPIFY_ACCESS_TOKEN", "WOOCOMMERCE_URL", "STRIPE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEBHOOK_MAX_BODY_MB", LIMIT_MB)
    with TestClient(Starlette(routes=webhook_routes(lambda: wh))) as test_client:
        yield test_client


def signed_headers(platform: str, body: bytes, secret: str | None = None) -> dict[str, str]:
    """Headers of a delivery of ``body`` signed as the platform signs it (``secret`` None: its own)."""
    secret = secret or SECRETS[platform]
    digest = hmac.new(secret.encode(), body, hashlib.sha256)
    if platform == "shopify":
        return {"content-type": "application/json", "x-shopify-topic": "customers/update",
                "x-shopify-hmac-sha256": base64.b64encode(digest.digest()).decode(),
                "x-shopify-shop-domain": "apple.myshopify.com", "x-shopify-webhook-id": str(uuid.uuid4())}
    if platform == "woocommerce":
        return {"content-type": "application/json", "x-wc-webhook-topic": "customer.updated",
                "x-wc-webhook-resource": "customer", "x-wc-webhook-signature": base64.b64encode(digest.digest()).decode(),
                "x-wc-webhook-delivery-id": "1", "x-wc-webhook-source": "https://shop.example/"}
    stamp = int(time.time())
    v1 = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json; charset=utf-8", "stripe-signature": f"t={stamp},v1={v1}"}


def event(platform: str, padding: int = 0) -> bytes:
    """A small JSON object the platform's receiver reads (an event id, a record id), padded to size."""
    payload = {"id": "evt_limits" if platform == "stripe" else 501, "type": "customer.updated",
               "created": int(time.time()), "data": {"object": {"id": "cus_1", "object": "customer"}},
               "date_modified_gmt": "2026-03-01T10:00:00", "note": "x" * padding}
    return json.dumps(payload).encode()


def stored(wh) -> int:
    return wh.scalar("SELECT count(*) FROM webhook_events")


def post_in_chunks(app, path: str, headers: dict[str, str], body: bytes, size: int = 1024) -> tuple[int, dict, int]:
    """POST ``body`` to the ASGI ``app`` in ``size``-byte messages: (status, headers, messages the app read).

    The test client buffers a request body before the app sees it; this speaks ASGI directly, so what
    is counted is what the server side asked for.
    """
    chunks = [body[i:i + size] for i in range(0, len(body), size)]
    pulled = 0
    answer: dict = {}

    async def receive():
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    return answer["status"], answer["headers"], pulled


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_signed_body_within_the_limit_is_stored(client, wh, platform):
    body = event(platform, padding=LIMIT - 600)
    assert len(body) <= LIMIT
    answer = client.post(f"/webhooks/{platform}", content=body, headers=signed_headers(platform, body))
    assert answer.status_code == 200, answer.text
    assert stored(wh) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_the_limit_is_refused_while_it_is_read_and_nothing_is_stored(client, wh, platform, framing):
    body = event(platform, padding=20 * LIMIT)  # about 200 KB, signed correctly
    headers = signed_headers(platform, body)
    if framing == "content-length":
        headers["content-length"] = str(len(body))
    status, answer_headers, pulled = post_in_chunks(client.app, f"/webhooks/{platform}", headers, body)
    assert status == 413 and answer_headers["connection"] == "close"
    # A declared length is refused before a byte is read; a chunked body as soon as it passes the limit.
    assert pulled == (0 if framing == "content-length" else LIMIT // 1024 + 1)
    answer = client.post(f"/webhooks/{platform}", content=body, headers=headers)  # through HTTP, the same
    assert answer.status_code == 413 and "WEBHOOK_MAX_BODY_MB" in answer.text
    assert stored(wh) == 0


UNREADABLE = {"text": (b"order 501 was paid", "not JSON"), "json-array": (b'[{"id": 501}]', "an array"),
              "binary": (bytes(range(256)) * 4, "not JSON"), "json-string": (b'"evt_1"', "a string")}
OTHER_TYPES = ("text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
               None)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_signed_body_that_is_not_a_json_object_gets_400_and_is_not_stored(client, wh, platform):
    answers = {kind: client.post(f"/webhooks/{platform}", content=body, headers=signed_headers(platform, body))
               for kind, (body, _) in UNREADABLE.items()}
    assert {kind: (a.status_code, UNREADABLE[kind][1] in a.text) for kind, a in answers.items()} == {
        kind: (400, True) for kind in UNREADABLE}
    assert stored(wh) == 0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_content_type_other_than_json_gets_415_and_is_not_stored(client, wh, platform):
    body = event(platform)
    statuses = {}
    for content_type in OTHER_TYPES:
        headers = {k: v for k, v in signed_headers(platform, body).items() if k != "content-type"}
        if content_type:
            headers["content-type"] = content_type
        statuses[content_type] = client.post(f"/webhooks/{platform}", content=body, headers=headers).status_code
    assert statuses == dict.fromkeys(OTHER_TYPES, 415)
    assert stored(wh) == 0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_nothing_is_stored_for_a_request_without_a_valid_signature(client, wh, platform):
    form = "application/x-www-form-urlencoded"
    requests = {  # kind: (body, content type or a secret that is not the platform's, expected status)
        "json-object": (event(platform), "application/json", 401),
        "json-array": (b"[1, 2]", "application/json", 401),
        "binary": (bytes(range(256)), "application/json", 401),
        "binary-octets": (bytes(range(256)), "application/octet-stream", 415),
        "ping-body": (b"webhook_id=7", form, 200 if platform == "woocommerce" else 415),
        "form": (b"a=1&b=2", form, 415),
        "wrong-secret": (event(platform), "not-the-secret", 401),
        "over-the-limit": (event(platform, padding=3 * LIMIT), "application/json", 413),
    }
    statuses = {}
    for kind, (body, how, _) in requests.items():
        headers = signed_headers(platform, body, secret=how) if kind == "wrong-secret" else {"content-type": how}
        statuses[kind] = client.post(f"/webhooks/{platform}", content=body, headers=headers).status_code
    assert statuses == {kind: expected for kind, (_, _, expected) in requests.items()}
    assert stored(wh) == 0

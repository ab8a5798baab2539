"""Two deliveries of one record posted at the same moment end in the newer state, on every backend.

For each platform, many pairs: an older and a newer delivery of the same
record (different delivery ids: Shopify ``orders/create`` then
``orders/updated``, Stripe ``charge.pending`` then ``charge.succeeded``,
WooCommerce ``order.created`` then ``order.updated``) are POSTed to the real
webhook route from two threads released together by a barrier, the newer one
first in half the pairs. A delivery answered 503 (not applied now) is posted
again, as the platform would. Every record must end in the newer delivery's
state, and the rollups must equal a rebuild from the raw rows.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
import time
import uuid

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from connectors.shopify import webhook as shopify_webhook
from connectors.webhooks import webhook_routes
from data.rollups import refresh_store
from tests.builders import add_store
from tests.emulators.shopify_store import fixture
from tests.emulators.woocommerce import WooEmulator, webhook_delivery
from tests.test_stripe_webhooks import signed

PAIRS = 12
UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ROLLUPS = {"order_facts": "order_id", "refund_facts": "refund_id",
           "variant_daily_sales": "local_date, variant_id, channel"}


def race(client: TestClient, path: str, pairs: list[tuple[tuple[dict, bytes], tuple[dict, bytes]]]) -> list:
    """POST both deliveries of each pair at once; re-POST any answered 503 (as the platform retries).

    Returns every answer's (status code, text)."""
    answers = []
    for n, (older, newer) in enumerate(pairs):
        both = [newer, older] if n % 2 else [older, newer]
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def send(i: int, delivery: tuple[dict, bytes]) -> None:
            barrier.wait(timeout=10)
            for _ in range(10):
                answer = client.post(path, content=delivery[1], headers=delivery[0])
                results[i] = (answer.status_code, answer.text)
                if answer.status_code != 503:
                    return
                time.sleep(0.05)

        threads = [threading.Thread(target=send, args=(i, d)) for i, d in enumerate(both)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a delivery did not finish within 30 s"
        answers += results
    return answers


def rollups(wh, store: str) -> dict:
    return {t: wh.query(f"SELECT * FROM {t} WHERE store_id = :s ORDER BY {k}", {"s": store}).rows()
            for t, k in ROLLUPS.items()}


def assert_rollups_equal_a_rebuild(wh, store: str) -> None:
    kept = rollups(wh, store)
    refresh_store(wh, store)
    assert kept == rollups(wh, store)


def add_platform_store(wh, store: str, platform: str) -> None:
    add_store(wh, store)
    wh.execute("UPDATE stores SET platform = :p WHERE store_id = :s", {"p": platform, "s": store})


def client_for(wh) -> TestClient:
    return TestClient(Starlette(routes=webhook_routes(lambda: wh)))


# -- Shopify -------------------------------------------------------------------------

SHOPIFY_SECRET = "shpss_races"


def shopify_delivery(topic: str, payload: dict) -> tuple[dict, bytes]:
    body = json.dumps(payload).encode()
    return {"x-shopify-topic": topic, "x-shopify-hmac-sha256": shopify_webhook.signature(body, SHOPIFY_SECRET),
            "x-shopify-shop-domain": "apple.myshopify.com", "x-shopify-webhook-id": str(uuid.uuid4()),
            "content-type": "application/json"}, body


def shopify_pair(n: int) -> tuple[tuple[dict, bytes], tuple[dict, bytes]]:
    order = fixture("order")["order"]
    order.pop("refunds", None)
    order.update(id=7_000_000 + n, name=f"#R{n}", created_at=T0.isoformat(), processed_at=T0.isoformat())
    for i, line in enumerate(order["line_items"]):
        line["id"] = 8_000_000 + 10 * n + i
        line["quantity"] = 1
    older = copy.deepcopy(order)
    older.update(financial_status="pending", updated_at=T0.isoformat())
    newer = copy.deepcopy(order)
    newer.update(financial_status="paid", updated_at=(T0 + dt.timedelta(minutes=1)).isoformat())
    newer["line_items"][0]["quantity"] = 3  # the newer order's lines replace the older ones
    return shopify_delivery("orders/create", older), shopify_delivery("orders/updated", newer)


def test_simultaneous_shopify_deliveries_end_in_the_newer_state(wh, monkeypatch):
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET", SHOPIFY_SECRET)
    store = "shopify:apple"
    add_platform_store(wh, store, "shopify")
    with client_for(wh) as client:
        answers = race(client, "/webhooks/shopify", [shopify_pair(n) for n in range(PAIRS)])
    assert all(a == (200, "applied") for a in answers), answers
    rows = wh.rows("SELECT order_id, financial_status FROM orders ORDER BY order_id")
    assert rows == [(str(7_000_000 + n), "paid") for n in range(PAIRS)]
    first_lines = [str(8_000_000 + 10 * n) for n in range(PAIRS)]
    assert wh.rows("SELECT DISTINCT quantity FROM order_lines WHERE line_id IN ("
                   + ", ".join(f"'{i}'" for i in first_lines) + ")") == [(3,)]
    assert wh.scalar("SELECT count(*) FROM webhook_events WHERE status = 'applied'") == 2 * PAIRS
    assert_rollups_equal_a_rebuild(wh, store)


# -- Stripe --------------------------------------------------------------------------

STRIPE_SECRET = "whsec_races"


def stripe_delivery(kind: str, charge: dict, created: int) -> tuple[dict, bytes]:
    event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind, "created": created,
             "data": {"object": charge}}
    body = json.dumps(event).encode()
    return {**signed(body, secret=STRIPE_SECRET, at=int(time.time())), "content-type": "application/json"}, body


def stripe_pair(n: int) -> tuple[tuple[dict, bytes], tuple[dict, bytes]]:
    charge = fixture_charge()
    charge.update(id=f"ch_race{n}", amount=1000 + n, amount_captured=1000 + n, created=int(T0.timestamp()),
                  balance_transaction=None, captured=True, metadata={"order_id": f"{5000 + n}"})
    pending = dict(charge, status="pending", paid=False)
    succeeded = dict(charge, status="succeeded", paid=True)
    at = int(T0.timestamp())
    return stripe_delivery("charge.pending", pending, at), stripe_delivery("charge.succeeded", succeeded, at + 30)


def fixture_charge() -> dict:
    from pathlib import Path

    path = Path(__file__).resolve().parent / "fixtures" / "stripe" / "fixtures3.json"
    return copy.deepcopy(json.loads(path.read_text())["resources"]["charge"])


def test_simultaneous_stripe_deliveries_end_in_the_newer_state(wh, monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)
    for name in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    store = "stripe:acct_races"
    add_platform_store(wh, store, "stripe")
    with client_for(wh) as client:
        answers = race(client, "/webhooks/stripe", [stripe_pair(n) for n in range(PAIRS)])
    assert all(a == (200, "applied") for a in answers), answers
    rows = wh.rows("SELECT transaction_id, status, order_id FROM transactions ORDER BY transaction_id")
    assert rows == sorted((f"ch_race{n}", "success", f"{5000 + n}") for n in range(PAIRS))


# -- WooCommerce ---------------------------------------------------------------------

WOO_SECRET = "woo-races"


@pytest.fixture
def woo(monkeypatch):
    with WooEmulator() as emulator:
        emulator.add_product(13, name="Sticker", sku="STICKER", price="10.00", created=T0 - dt.timedelta(days=9))
        for n in range(PAIRS):
            emulator.add_order(600 + n, created=T0, status="pending", lines=[
                dict(id=6000 + n, product_id=13, sku="STICKER", quantity=1, subtotal="10.00")])
        monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", WOO_SECRET)
        monkeypatch.setenv("WOOCOMMERCE_URL", emulator.url)
        monkeypatch.setenv("WOOCOMMERCE_KEY", emulator.key)
        monkeypatch.setenv("WOOCOMMERCE_SECRET", emulator.secret)
        yield emulator


def woo_pair(emu: WooEmulator, n: int) -> tuple[tuple[dict, bytes], tuple[dict, bytes]]:
    older = emu.order_payload(600 + n)
    newer = emu.update_order(600 + n, modified=T0 + dt.timedelta(minutes=1), status="processing")
    newer = emu.order_payload(600 + n)
    return (webhook_delivery(emu, "order.created", older, WOO_SECRET, delivery_id=2 * n),
            webhook_delivery(emu, "order.updated", newer, WOO_SECRET, delivery_id=2 * n + 1))


def test_simultaneous_woocommerce_deliveries_end_in_the_newer_state(wh, woo):
    pairs = [woo_pair(woo, n) for n in range(PAIRS)]
    with client_for(wh) as client:
        answers = race(client, "/webhooks/woocommerce", pairs)
    assert all(a == (200, "applied") for a in answers), answers
    assert wh.rows("SELECT order_id, financial_status FROM orders ORDER BY order_id") == [
        (str(600 + n), "paid") for n in range(PAIRS)]
    store = wh.scalar("SELECT store_id FROM stores")
    assert wh.scalar("SELECT count(*) FROM order_facts") == PAIRS
    assert_rollups_equal_a_rebuild(wh, store)


# -- a delivery that could not be applied ----------------------------------------------

def test_a_delivery_that_kept_conflicting_is_answered_503_and_its_retry_is_applied(wh, monkeypatch):
    from data import writes

    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET", SHOPIFY_SECRET)
    add_platform_store(wh, "shopify:apple", "shopify")
    real = writes._apply
    calls = {"n": 0}

    def conflicting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= writes.ATTEMPTS:  # every try of the first delivery meets a conflict
            raise _conflict(wh)
        return real(*args, **kwargs)

    monkeypatch.setattr(writes, "_apply", conflicting)
    monkeypatch.setattr(writes, "BACKOFF_SECONDS", 0.001)
    _, newer = shopify_pair(0)
    with client_for(wh) as client:
        first = client.post("/webhooks/shopify", content=newer[1], headers=newer[0])
        assert (first.status_code, wh.scalar("SELECT status FROM webhook_events")) == (503, "retry")
        assert wh.scalar("SELECT processed_at FROM webhook_events") is None
        assert wh.scalar("SELECT count(*) FROM orders") == 0
        again = client.post("/webhooks/shopify", content=newer[1], headers=newer[0])  # the platform's retry
    assert (again.status_code, again.text) == (200, "applied")
    assert calls["n"] == writes.ATTEMPTS + 1
    assert wh.rows("SELECT status, error FROM webhook_events") == [("applied", None)]
    assert wh.scalar("SELECT financial_status FROM orders") == "paid"


def _conflict(wh) -> Exception:
    """The error each backend raises on a write conflict."""
    if wh.dialect == "duckdb":
        import duckdb

        return duckdb.TransactionException("TransactionContext Error: Conflict on update")
    import psycopg

    return psycopg.errors.SerializationFailure("could not serialize access due to concurrent update")

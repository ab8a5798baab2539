"""Shopify webhooks: signatures, delivery ids, and applying REST-shaped payloads (with and without the API)."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal

import polars as pl
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from connectors.shopify import normalize as n
from connectors.shopify import rest
from connectors.shopify import webhook
from connectors.sync.runner import SyncError, run_sync
from connectors.webhook_errors import WebhookRejected
from data.warehouse import connect
from tests.emulators.shopify import ShopifyEmulator
from tests.emulators.shopify_store import fixture, now_rest
from tests.test_shopify import DAY, HAND_WORKED, STORE, assert_hand_worked_figures, make_source, summary

SECRET = "shpss_5f2c0ffee"
REFUND_DAY = dt.date(2026, 11, 5)
D = Decimal
ORDER_TABLES = {"orders": ("order_id",), "order_lines": ("line_id",), "refunds": ("refund_id",),
                "refund_lines": ("refund_id", "line_id")}


def delivery(topic: str, payload: dict, *, secret: str = SECRET, webhook_id: str | None = None):
    body = json.dumps(payload).encode()
    headers = {
        "x-shopify-topic": topic, "x-shopify-hmac-sha256": webhook.signature(body, secret),
        "x-shopify-shop-domain": "apple.myshopify.com", "x-shopify-webhook-id": webhook_id or str(uuid.uuid4()),
        "x-shopify-api-version": "2026-10", "content-type": "application/json",
    }
    return headers, body


@pytest.fixture
def emulator():
    with ShopifyEmulator() as emu:
        yield emu


@pytest.fixture
def shop(wh, emulator):
    """A warehouse that knows the store (its timezone), as after a first sync."""
    wh.upsert("stores", make_source(emulator).store_row())
    return wh


@pytest.fixture
def duck(duckdb_url):
    """A DuckDB warehouse, for tests about the payloads rather than the storage."""
    warehouse = connect(duckdb_url)
    yield warehouse
    warehouse.close()


@pytest.fixture
def duck_shop(duck, emulator):
    duck.upsert("stores", make_source(emulator).store_row())
    return duck


def snapshot(wh, tables=tuple(ORDER_TABLES) + ("transactions", "customers", "products", "variants",
                                               "inventory_levels", "order_facts", "refund_facts")):
    out = {}
    for table in tables:
        frame = wh.query(f"SELECT * FROM {table}")
        out[table] = frame.drop([c for c in frame.columns if c == "_synced_at"]).sort(frame.columns[:2]).rows()
    return out


# -- signatures and headers -----------------------------------------------------------

def test_a_delivery_signed_with_the_secret_is_accepted():
    headers, body = delivery("orders/create", {"id": 1})
    webhook.verify(headers, body, SECRET)


@pytest.mark.parametrize("change", ["other-secret", "tampered-body", "no-header", "no-secret", "garbage"])
def test_a_forged_delivery_is_rejected(change):
    headers, body = delivery("orders/create", {"id": 1})
    secret = SECRET
    if change == "other-secret":
        headers["x-shopify-hmac-sha256"] = webhook.signature(body, "not-the-secret")
    elif change == "tampered-body":
        body = body.replace(b"1", b"2")
    elif change == "no-header":
        del headers["x-shopify-hmac-sha256"]
    elif change == "no-secret":
        secret = ""
    else:
        headers["x-shopify-hmac-sha256"] = "é not base64"
    with pytest.raises(WebhookRejected):
        webhook.verify(headers, body, secret)


def test_headers_name_the_delivery_its_topic_and_store():
    headers, body = delivery("Orders/Updated", {"id": 1}, webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    assert webhook.event_id(headers, body) == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert webhook.topic(headers, body) == "orders/updated"
    assert webhook.store_id(headers, body) == "shopify:apple"
    del headers["x-shopify-webhook-id"]
    assert webhook.event_id(headers, body) == webhook.event_id(dict(headers), body)  # stable without the id


# -- REST payloads ----------------------------------------------------------------------

def _frames(rows: n.Rows) -> dict[str, list]:
    frames = rows.frames()
    return {t: frames[t].drop("_synced_at").sort(list(k)).rows() if t in frames else []
            for t, k in ORDER_TABLES.items()}


def test_rest_payloads_give_the_same_rows_as_the_graphql_api(emulator):
    """The same rows, but for the visits the order came from: only the GraphQL API has its customer journey. A
    payload leaves those columns out (never empty), so a webhook keeps the visits a sync read."""
    source = make_source(emulator)
    journey = {f"{visit}_visit_{part}" for visit in ("first", "last") for part in ("source", "medium", "campaign")}
    for order_id in emulator.store.orders:
        from_payload = n.Rows(STORE)
        rest.add_order(from_payload, emulator.store.rest_order(order_id))
        from_api = source.fetch_order(str(order_id))
        assert not journey & set(from_payload.frames()["orders"].columns)
        assert journey <= set(from_api.frames()["orders"].columns)
        from_api.tables["orders"] = [{k: v for k, v in row.items() if k not in journey}
                                     for row in from_api.tables["orders"]]
        assert _frames(from_payload) == _frames(from_api), order_id


def test_order_payloads_alone_give_the_hand_worked_figures(shop, emulator):
    touched = []
    for order_id in emulator.store.orders:
        headers, body = delivery("orders/create", emulator.store.rest_order(order_id))
        webhook.verify(headers, body, SECRET)
        touched += webhook.apply(shop, webhook.topic(headers, body), json.loads(body))
    assert sorted(touched) == sorted(str(i) for i in emulator.store.orders)
    assert_hand_worked_figures(shop)


def test_a_refund_payload_alone_is_a_return_on_its_day(shop, emulator):
    order = emulator.store.rest_order(450789469)
    refund = order.pop("refunds")[0]
    webhook.apply(shop, "orders/create", order)
    assert summary(shop, REFUND_DAY)["returns"] == 0
    assert webhook.apply(shop, "refunds/create", refund) == ["450789469"]
    assert summary(shop, REFUND_DAY) == HAND_WORKED[REFUND_DAY]
    assert summary(shop, DAY)["gross_sales"] == D("597.00")  # the sale stays on its own day


def test_an_older_update_never_overwrites_a_newer_one(shop, emulator):
    older = emulator.store.rest_order(450789474)
    newer = copy.deepcopy(older)
    newer.update(financial_status="refunded", fulfillment_status="restocked", cancelled_at=now_rest(),
                 updated_at=now_rest())
    newer["line_items"][0]["quantity"] = 5
    webhook.apply(shop, "orders/cancelled", newer)
    assert webhook.apply(shop, "orders/updated", older) == []
    assert shop.rows("SELECT financial_status, fulfillment_status, cancelled_at IS NOT NULL FROM orders") == [
        ("refunded", "restocked", True)]
    assert shop.scalar("SELECT quantity FROM order_lines WHERE line_id = '466157060'") == 5

    customer = fixture("customer")["customer"]
    newer_customer = dict(customer, tags="vip", updated_at="2026-11-20T10:00:00-05:00")
    webhook.apply(shop, "customers/update", newer_customer)
    webhook.apply(shop, "customers/update", customer)
    assert shop.scalar("SELECT tags FROM customers") == "vip"


def test_a_duplicate_delivery_changes_nothing(shop, emulator):
    payload = emulator.store.rest_order(450789469)
    webhook.apply(shop, "orders/updated", payload)
    before = snapshot(shop)
    webhook.apply(shop, "orders/updated", payload)
    assert snapshot(shop) == before


def test_with_the_api_an_order_topic_stores_the_current_order(shop, emulator):
    stale = emulator.store.rest_order(450789470)
    emulator.store.add_refund(450789470, {
        "id": 509562971, "order_id": 450789470, "created_at": now_rest(), "note": None,
        "refund_line_items": [], "transactions": [],
        "order_adjustments": [{"id": 99002, "kind": "refund_discrepancy", "amount": "-5.00", "tax_amount": "0.00"}],
    })
    emulator.store.touch_order(450789470, financial_status="partially_refunded")
    source = make_source(emulator)
    assert webhook.apply(shop, "orders/updated", stale, source=source) == ["450789470"]
    assert shop.scalar("SELECT financial_status FROM orders") == "partially_refunded"
    assert shop.rows("SELECT refund_id FROM refunds") == [("509562971",)]
    # Transactions come with the order read through the API.
    assert shop.scalar("SELECT count(*) FROM transactions") == 1


def test_without_a_stores_row_the_api_supplies_it(duck, emulator):
    source = make_source(emulator)
    webhook.apply(duck, "orders/create", emulator.store.rest_order(450789474), source=source)
    assert duck.rows("SELECT store_id, timezone FROM stores") == [(STORE, "America/New_York")]
    assert duck.scalar("SELECT count(*) FROM order_facts") == 1


def test_the_api_unreachable_falls_back_to_the_payload(duck_shop, emulator):
    source = make_source(emulator)
    emulator.fail(503, times=10)
    assert webhook.apply(duck_shop, "orders/create", emulator.store.rest_order(450789474), source=source) == [
        "450789474"]
    assert duck_shop.scalar("SELECT total_price FROM orders") == D("21.60")


def test_the_fixture_payloads_as_delivered(shop):
    order = fixture("order")["order"]
    assert webhook.apply(shop, "orders/create", order) == ["450789469"]
    assert shop.rows(
        "SELECT financial_status, fulfillment_status, channel, country, subtotal, total_discounts, total_tax, "
        "total_price, discount_codes FROM orders") == [
        ("authorized", "unfulfilled", "online_store", "US", D("597.00"), D("0"), D("11.94"), D("608.94"), "TENOFF")]
    assert shop.scalar("SELECT count(*) FROM order_lines WHERE unit_price = 199") == 3

    refund = fixture("refund")["refund"]
    assert webhook.apply(shop, "refunds/create", refund) == ["450789469"]
    assert shop.rows("SELECT shipping_refunded, tax_refunded, total_refunded, note FROM refunds") == [
        (D("0"), D("7.96"), D("209.00"), "it broke during shipping")]
    assert shop.rows("SELECT line_id, quantity, subtotal, tax, restock FROM refund_lines ORDER BY line_id") == [
        ("466157049", 1, D("199.00"), D("3.98"), True), ("703073504", 1, D("199.00"), D("3.98"), True)]

    webhook.apply(shop, "customers/update", fixture("customer")["customer"])
    assert shop.rows("SELECT customer_id, email_hash, country, accepts_marketing FROM customers") == [
        ("207119551", hashlib.sha256(b"bob.norman@hostmail.com").hexdigest(), "US", False)]

    webhook.apply(shop, "products/update", fixture("product")["product"])
    assert shop.rows("SELECT product_id, title, vendor FROM products") == [("632910392", "IPod Nano - 8GB", "Apple")]
    assert shop.scalar("SELECT count(*) FROM variants WHERE price = 199") == 4

    # An inventory delivery names only the inventory item: without the API its variant is unknown.
    assert webhook.apply(shop, "inventory_levels/update", fixture("inventory_level")["inventory_level"]) == []
    assert shop.scalar("SELECT count(*) FROM inventory_levels") == 0
    assert webhook.apply(shop, "app/uninstalled", {"id": 1}) == []


def test_no_raw_email_reaches_the_warehouse(duck_shop):
    webhook.apply(duck_shop, "customers/update", fixture("customer")["customer"])
    webhook.apply(duck_shop, "orders/create", fixture("order")["order"])
    for table in ("customers", "orders", "order_lines"):
        frame = duck_shop.query(f"SELECT * FROM {table}")
        for column in frame.columns:
            if frame.schema[column] == pl.String:
                assert not any("@" in (v or "") for v in frame[column].to_list()), (table, column)


def test_a_product_payload_keeps_the_synced_unit_cost(duck_shop, emulator):
    run_sync(duck_shop, make_source(emulator), streams=["products", "variants"])
    product = copy.deepcopy(emulator.store.products[632910392])
    product["updated_at"] = now_rest()
    for variant in product["variants"]:
        variant.update(price="179.00", updated_at=now_rest())
    webhook.apply(duck_shop, "products/update", product)
    assert duck_shop.rows("SELECT price, unit_cost FROM variants WHERE variant_id = '808950810'") == [
        (D("179.00"), D("120.00"))]
    # The same product, older: nothing moves back.
    webhook.apply(duck_shop, "products/update", emulator.store.products[632910392])
    assert duck_shop.scalar("SELECT price FROM variants WHERE variant_id = '808950810'") == D("179.00")


def test_an_inventory_payload_with_the_api_finds_its_variant(duck_shop, emulator):
    source = make_source(emulator)
    level = {"inventory_item_id": 7808950810, "location_id": 487838322, "available": 3, "updated_at": now_rest()}
    assert webhook.apply(duck_shop, "inventory_levels/update", level, source=source) == []
    assert duck_shop.rows("SELECT variant_id, location_id, available FROM inventory_levels") == [
        ("808950810", "487838322", 3)]
    older = dict(level, available=7, updated_at="2026-11-01T00:00:00Z")
    webhook.apply(duck_shop, "inventory_levels/update", older, source=source)
    assert duck_shop.scalar("SELECT available FROM inventory_levels") == 3


def test_the_store_must_be_known(duck):
    with pytest.raises(SyncError, match="SHOPIFY_STORE"):
        webhook.apply(duck, "orders/create", fixture("order")["order"])


def test_deliveries_through_the_receiver(duck, emulator, monkeypatch):
    from connectors.webhooks import webhook_routes

    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("SHOPIFY_STORE", emulator.url)
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", emulator.token)
    headers, body = delivery("orders/create", emulator.store.rest_order(450789469))
    with TestClient(Starlette(routes=webhook_routes(lambda: duck))) as client:
        forged = dict(headers, **{"x-shopify-hmac-sha256": webhook.signature(body, "wrong")})
        assert client.post("/webhooks/shopify", content=body, headers=forged).status_code == 401
        assert duck.scalar("SELECT count(*) FROM webhook_events") == 0
        first = client.post("/webhooks/shopify", content=body, headers=headers)
        again = client.post("/webhooks/shopify", content=body, headers=headers)
    assert (first.status_code, first.text) == (200, "applied")
    assert (again.status_code, again.text) == (200, "duplicate")
    # The order was read through the API (the emulator's address names the store).
    assert duck.rows("SELECT store_id, order_id, financial_status FROM orders") == [
        ("shopify:127.0.0.1", "450789469", "partially_refunded")]
    assert duck.scalar("SELECT count(*) FROM refunds") == 1
    assert duck.rows("SELECT source, store_id, topic, status FROM webhook_events") == [
        ("shopify", "shopify:apple", "orders/create", "applied")]

"""The Shopify connector against the local GraphQL emulator (tests/emulators/shopify.py).

The emulator's store (built from the fixtures' shop, product, customer,
locations, order, refund and transaction) trades on 2026-11-03 in New York
(UTC-5). Worked out by hand for that day:

| order | counted | gross | discounts | shipping | tax | units |
| --- | --- | --- | --- | --- | --- | --- |
| A #1001 web: green 199 −10 code, 2 × red 199; shipping 10 + 0.60 tax | yes | 597.00 | 10.00 | 10.00 | 35.82 | 3 |
| B #1002 pos at 23:30 (11-04 in UTC): black 199 −19.90; a 50.00 gift card | yes | 199.00 | 19.90 | 0 | 0 | 1 |
| C #1003 test order | no | | | | | |
| D #1004 cancelled before payment (voided) | no | | | | | |
| F #1006 iPhone: 10 stickers × 2.50, 0.50 off each, 0.16 tax each, free shipping | yes | 25.00 | 5.00 | 0 | 1.60 | 10 |
| E #1005 draft order at 23:59 on 11-02 (11-03 in UTC) | on 11-02 | | | | | |

So 11-03: 3 orders, gross 821.00, discounts 34.90, net 786.10, shipping 10.00,
taxes 37.42, total 833.52, 14 units. On 11-05 A's refund returns one red
iPod (199.00, tax 11.94) and the shipping (10.00 + 0.60 tax): returns 199.00,
shipping −10.00, taxes −12.54, total −221.54.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import shopify
from graphql import parse

from analytics.metrics import sales_summary
from connectors.shopify import ShopifySource, source_from_settings
from connectors.shopify import normalize as n
from connectors.shopify import queries as q
from connectors.shopify.client import ShopAddress, ShopifyGraphQL, estimate_cost, page_size
from connectors.shopify.source import DEFAULT_API_VERSION, reassemble
from connectors.sync.retry import RetryPolicy
from connectors.sync.runner import SyncError, run_sync, saved_cursor
from data.settings import BY_NAME as SETTINGS_BY_NAME
from data.warehouse import connect
from tests.emulators import shopify as emulator_module
from tests.emulators.shopify import SCHEMA_VERSION, ShopifyEmulator, bulk_problems, query_problems, schema
from tests.emulators.shopify_store import money_set, now_rest

STORE = "shopify:apple"
DAY = dt.date(2026, 11, 3)
D = Decimal


class Sleeps:
    """A sleep that sleeps (briefly: the emulator's clock is real) and remembers each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(min(seconds, 1.0))


@pytest.fixture
def emulator():
    with ShopifyEmulator() as emu:
        yield emu


@pytest.fixture
def duck(duckdb_url):
    """A DuckDB warehouse, for tests about the API conversation rather than the storage."""
    warehouse = connect(duckdb_url)
    yield warehouse
    warehouse.close()


def make_source(emu: ShopifyEmulator, **kwargs) -> ShopifySource:
    sleeps = kwargs.pop("sleep", None) or Sleeps()
    options = dict(store_id=STORE, timeout=5.0, sleep=sleeps, bulk_poll_interval=0.01,
                   policy=RetryPolicy(base_delay=0.01, max_delay=0.05, max_wait=1.0, sleep=sleeps))
    options.update(kwargs)
    return ShopifySource(emu.url, emu.token, **options)


def summary(wh, day: dt.date) -> dict:
    figures = sales_summary(wh, STORE, day, day)
    keys = ("orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "total_sales",
            "units_sold", "units_returned")
    return {k: figures[k] for k in keys}


HAND_WORKED = {
    DAY: {"orders": 3, "gross_sales": D("821.00"), "discounts": D("34.90"), "returns": D("0"),
          "net_sales": D("786.10"), "shipping": D("10.00"), "taxes": D("37.42"), "total_sales": D("833.52"),
          "units_sold": 14, "units_returned": 0},
    dt.date(2026, 11, 2): {"orders": 1, "gross_sales": D("199.00"), "discounts": D("0"), "returns": D("0"),
                           "net_sales": D("199.00"), "shipping": D("5.00"), "taxes": D("0"),
                           "total_sales": D("204.00"), "units_sold": 1, "units_returned": 0},
    dt.date(2026, 11, 5): {"orders": 0, "gross_sales": D("0"), "discounts": D("0"), "returns": D("199.00"),
                           "net_sales": D("-199.00"), "shipping": D("-10.00"), "taxes": D("-12.54"),
                           "total_sales": D("-221.54"), "units_sold": 0, "units_returned": 1},
}


def assert_hand_worked_figures(wh) -> None:
    for day, expected in HAND_WORKED.items():
        assert summary(wh, day) == expected, day


# -- queries and schema ----------------------------------------------------------------

def test_queries_are_checked_against_the_schema_of_the_default_api_version():
    # Moving to the next version: its introspection in tests/fixtures/shopify, then the default.
    assert SCHEMA_VERSION == DEFAULT_API_VERSION == SETTINGS_BY_NAME["SHOPIFY_API_VERSION"].default
    assert "bulkOperations" in schema().query_type.fields


@pytest.mark.parametrize("name", sorted(q.ALL))
def test_every_query_validates_and_uses_no_deprecated_field(name):
    assert query_problems(q.ALL[name]) == []


@pytest.mark.parametrize("query, problem", [
    ("{ location(id: \"gid://shopify/Location/1\") { inventoryLevels(first: 1) { nodes { available } } } }",
     "Cannot query field 'available' on type 'InventoryLevel'"),
    ("{ orders(first: 1) { nodes { totalPrice } } }", "Order.totalPrice"),
    ("{ customers(first: 1) { nodes { email } } }", "Customer.email"),
    ("{ inventoryItem(id: \"gid://shopify/InventoryItem/1\") { variant { id } } }", "InventoryItem.variant"),
    ("{ currentBulkOperation { id } }", "QueryRoot.currentBulkOperation"),
    ("{ orders(first: 1) { nodes { noSuchField } } }", "Cannot query field 'noSuchField'"),
], ids=["inventory-available", "order-total-price", "customer-email", "inventory-item-variant",
        "current-bulk-operation", "unknown-field"])
def test_the_schema_check_catches_deprecated_and_unknown_fields(query, problem):
    problems = query_problems(query)
    assert problems and problem in problems[0]


def test_the_bulk_query_meets_shopifys_bulk_restrictions():
    assert bulk_problems(q.BULK_ORDERS) == []
    in_a_list = "{ orders { edges { node { id refunds { refundLineItems { edges { node { quantity } } } } } } } }"
    assert "connection field within a list" in " ".join(bulk_problems(in_a_list))


def test_page_sizes_keep_every_query_under_the_cost_limit():
    for name in ("ORDERS", "CUSTOMERS", "PRODUCTS", "VARIANTS", "LOCATIONS", "INVENTORY_LEVELS",
                 "ORDER_LINE_ITEMS_PAGE", "REFUND_LINE_ITEMS_PAGE"):
        query = getattr(q, name)
        first = page_size(query)
        cost = estimate_cost(query, {"first": first})
        assert 1 <= first <= 250 and cost <= 1000, name
        assert first == 250 or estimate_cost(query, {"first": first + 1}) > 1000, name
        # The connector's estimate is what the server charges.
        assert cost == emulator_module.requested_cost(parse(query), {"first": first}), name


# -- the library's endpoint -----------------------------------------------------------

@pytest.mark.parametrize("store, endpoint, name", [
    ("acme.myshopify.com", "https://acme.myshopify.com/admin/api/2026-10/graphql.json", "acme"),
    ("acme", "https://acme.myshopify.com/admin/api/2026-10/graphql.json", "acme"),
    ("https://acme.myshopify.com/", "https://acme.myshopify.com/admin/api/2026-10/graphql.json", "acme"),
    ("http://127.0.0.1:8123", "http://127.0.0.1:8123/admin/api/2026-10/graphql.json", "127.0.0.1"),
    ("https://proxy.example/shop", "https://proxy.example/shop/admin/api/2026-10/graphql.json", "proxy.example"),
], ids=["domain", "bare-name", "https-url", "local-emulator", "proxy-with-path"])
def test_the_library_builds_the_endpoint(store, endpoint, name):
    address = ShopAddress.parse(store)
    graphql = ShopifyGraphQL(address, "shpat_secret", "2026-10")
    assert address.name == name
    assert graphql.endpoint == endpoint
    assert graphql.headers["X-Shopify-Access-Token"] == "shpat_secret"
    # No session is left active in the library for other code to pick up.
    assert shopify.ShopifyResource.site is None
    assert "X-Shopify-Access-Token" not in shopify.ShopifyResource.headers


def test_settings_missing_or_wrong_are_named(monkeypatch):
    for name in ("SHOPIFY_STORE", "SHOPIFY_ACCESS_TOKEN", "SHOPIFY_API_VERSION", "SHOPIFY_BULK_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("data.settings._secrets", lambda: {})
    with pytest.raises(SyncError, match="SHOPIFY_STORE"):
        source_from_settings()
    monkeypatch.setenv("SHOPIFY_STORE", "acme.myshopify.com")
    with pytest.raises(SyncError, match="SHOPIFY_ACCESS_TOKEN"):
        source_from_settings()
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_secret")
    monkeypatch.setenv("SHOPIFY_API_VERSION", "latest")
    with pytest.raises(SyncError, match="SHOPIFY_API_VERSION"):
        source_from_settings()
    monkeypatch.setenv("SHOPIFY_API_VERSION", "2025-10")
    with pytest.raises(SyncError, match="SHOPIFY_API_VERSION 2025-10 is too old: the connector needs 2026-01"):
        source_from_settings()
    monkeypatch.setenv("SHOPIFY_API_VERSION", "2026-01")
    monkeypatch.setenv("SHOPIFY_BULK_THRESHOLD", "lots")
    with pytest.raises(SyncError, match="SHOPIFY_BULK_THRESHOLD"):
        source_from_settings()
    monkeypatch.setenv("SHOPIFY_BULK_THRESHOLD", "500")
    source = source_from_settings()
    assert (source.store_id, source.api_version, source.bulk_threshold) == ("shopify:acme", "2026-01", 500)
    assert "shpat_secret" not in repr(source)
    assert source_from_settings(store_id="shopify:main").store_id == "shopify:main"


# -- a full sync, by pages -------------------------------------------------------------

def test_a_first_sync_writes_the_hand_worked_figures(wh, emulator):
    source = make_source(emulator)
    results = run_sync(wh, source)
    assert source.orders_read_with == "pages"
    assert {r.stream: r.rows_read for r in results}["orders"] == 6
    assert_hand_worked_figures(wh)

    # Every query the connector sent was valid, cost at most 1000 points, and was costed as the server does.
    assert all(r["status"] == 200 for r in emulator.requests)
    for request in emulator.requests:
        assert request["cost"] == estimate_cost(request["query"], request["variables"]) <= 1000
    assert {r["version"] for r in emulator.requests} == {"2026-10"}

    assert wh.rows("SELECT store_id, platform, name, currency, timezone FROM stores") == [
        (STORE, "shopify", "Apple Computers", "USD", "America/New_York")]
    # The order's journey: first a Google ad's visit, last an Instagram post's; the others have none.
    assert wh.rows("SELECT order_id, first_visit_source, first_visit_medium, first_visit_campaign, "
                   "last_visit_source, last_visit_medium, last_visit_campaign FROM orders "
                   "WHERE first_visit_source IS NOT NULL OR last_visit_source IS NOT NULL") == [
        ("450789469", "google", "cpc", "Fall Sale", "instagram", "post", None)]
    orders = {r[0]: r[1:] for r in wh.rows(
        "SELECT order_id, channel, source_name, financial_status, fulfillment_status, country, currency, "
        "presentment_currency, presentment_total_price, total_price, is_test, cancelled_at IS NOT NULL FROM orders")}
    assert orders == {
        "450789469": ("online_store", "web", "partially_refunded", "fulfilled", "US", "USD", "USD", D("632.82"),
                      D("632.82"), False, False),
        "450789470": ("pos", "pos", "paid", "fulfilled", "DE", "USD", "EUR", D("210.77"), D("229.10"), False,
                      False),
        "450789471": ("online_store", "web", "paid", "fulfilled", "US", "USD", "USD", D("210.94"), D("210.94"),
                      True, False),
        "450789472": ("online_store", "web", "voided", "unfulfilled", "US", "USD", "USD", D("199.00"),
                      D("199.00"), False, True),
        "450789473": ("other", "shopify_draft_order", "paid", "fulfilled", "US", "USD", "USD", D("204.00"),
                      D("204.00"), False, False),
        "450789474": ("online_store", "iphone", "paid", "fulfilled", "US", "USD", "USD", D("21.60"), D("21.60"),
                      False, False),
    }
    assert wh.rows("SELECT subtotal, total_discounts, total_shipping, total_tax, total_price FROM orders "
                   "WHERE order_id = '450789469'") == [(D("587.00"), D("10.00"), D("10.00"), D("35.82"),
                                                        D("632.82"))]
    # More lines than the first page holds, and five transactions, were read with follow-up queries.
    assert wh.scalar("SELECT count(*) FROM order_lines WHERE order_id = '450789474'") == 10
    assert emulator.queries("OrderLineItems") and emulator.queries("OrderRefundsAndTransactions")
    assert wh.rows("SELECT line_id, unit_price, discount, tax, is_gift_card FROM order_lines "
                   "WHERE order_id = '450789470' ORDER BY line_id") == [
        ("466157050", D("199.00"), D("19.90"), D("0"), False), ("466157051", D("50.00"), D("0"), D("0"), True)]
    assert wh.rows("SELECT refund_id, order_id, shipping_refunded, tax_refunded, total_refunded FROM refunds") == [
        ("509562969", "450789469", D("10.00"), D("12.54"), D("221.54"))]
    assert wh.rows("SELECT line_id, quantity, subtotal, tax, restock FROM refund_lines") == [
        ("518995019", 1, D("199.00"), D("11.94"), True)]
    assert wh.rows("SELECT kind, status, provider, amount, fee, net FROM transactions "
                   "WHERE order_id = '450789473' ORDER BY transaction_id") == [
        ("sale", "failure", "shopify_payments", D("204.00"), None, None),
        ("sale", "failure", "shopify_payments", D("204.00"), None, None),
        ("authorization", "success", "shopify_payments", D("204.00"), None, None),
        ("capture", "success", "shopify_payments", D("100.00"), D("3.20"), D("96.80")),
        ("capture", "success", "shopify_payments", D("104.00"), D("3.32"), D("100.68")),
    ]
    # Customers keep only a hash of the trimmed, lower-cased email.
    alice = wh.rows("SELECT email_hash, country, accepts_marketing, tags FROM customers "
                    "WHERE customer_id = '207119552'")
    assert alice == [(hashlib.sha256(b"alice.smith@example.com").hexdigest(), "DE", True, "vip, wholesale")]
    assert not wh.scalar("SELECT count(*) FROM customers WHERE email_hash LIKE '%@%' OR tags LIKE '%@%'")
    # The name and address are kept in customer_contacts only (the fixture's customers have no phone).
    assert wh.rows("SELECT customer_id, name, email, phone FROM customer_contacts ORDER BY customer_id") == [
        ("207119551", "Bob Norman", "bob.norman@hostmail.com", None),
        ("207119552", "Alice Smith", "alice.smith@example.com", None)]
    assert wh.rows("SELECT variant_id, product_id, sku, price, unit_cost FROM variants ORDER BY variant_id") == [
        ("39072856", "632910392", "IPOD2008GREEN", D("199.00"), D("122.00")),
        ("457924702", "632910392", "IPOD2008BLACK", D("199.00"), D("123.00")),
        ("49148385", "632910392", "IPOD2008RED", D("199.00"), D("121.00")),
        ("808950810", "632910392", "IPOD2008PINK", D("199.00"), D("120.00")),
        ("808950811", "632910393", "STICKER-ROUND", D("2.50"), D("0.40")),
        ("900000011", "900000001", "GIFT50", D("50.00"), None),
    ]
    assert wh.rows("SELECT location_id, name, country FROM locations ORDER BY location_id") == [
        ("1034478814", "Berlin Store", "DE"), ("487838322", "Fifth Avenue AppleStore", "US")]
    assert wh.rows("SELECT variant_id, location_id, available FROM inventory_levels "
                   "WHERE variant_id = '808950810' ORDER BY location_id") == [
        ("808950810", "1034478814", 1), ("808950810", "487838322", 9)]
    assert wh.scalar("SELECT count(*) FROM inventory_snapshots") == 7
    # Time cursors are the newest updatedAt read.
    assert saved_cursor(wh, STORE, "orders") == "2026-11-05T14:00:00+00:00"
    assert saved_cursor(wh, STORE, "inventory_levels") == "2026-11-03T13:00:00+00:00"


def test_an_incremental_sync_reads_changes_only_and_writes_no_duplicates(wh, emulator):
    source = make_source(emulator)
    run_sync(wh, source)
    counts = {t: wh.scalar(f"SELECT count(*) FROM {t}") for t in ("orders", "order_lines", "refunds",
                                                                   "transactions", "customers", "variants")}
    store = emulator.store
    # Between two syncs: order B is returned in part, Bob changes, a price moves, stock is counted.
    refund = {
        "id": 509562970, "order_id": 450789470, "created_at": now_rest(), "note": "wrong colour",
        "refund_line_items": [{"id": 104689540, "quantity": 1, "line_item_id": 466157050,
                               "line_item": store.orders[450789470]["line_items"][0], "restock_type": "return",
                               "subtotal": "179.10", "subtotal_set": money_set("179.10"),
                               "total_tax": "0.00", "total_tax_set": money_set("0.00")}],
        "order_adjustments": [],
        "transactions": [{"id": 179259970, "kind": "refund", "status": "success", "amount": "179.10",
                          "currency": "USD", "gateway": "cash", "created_at": now_rest()}],
    }
    store.add_refund(450789470, refund)
    store.touch_order(450789470, financial_status="partially_refunded")
    store.customers[207119551].update(tags="returning", updated_at=now_rest())
    variant, product = store.variant(49148385)
    variant.update(price="189.00", updated_at=now_rest())
    product["updated_at"] = now_rest()
    store.set_available(808950810, 487838322, 4)
    emulator.requests.clear()

    run_sync(wh, source)
    # The orders query asked only for what changed since the saved cursor, less the 10-minute lookback.
    order_queries = emulator.queries("Orders")
    assert [r["variables"]["query"] for r in order_queries] == ["updated_at:>='2026-11-05T13:50:00Z'"]
    assert not emulator.queries("OrdersCount")  # there is a cursor: no bulk decision to make
    assert counts["refunds"] + 1 == wh.scalar("SELECT count(*) FROM refunds")
    for table in ("orders", "order_lines", "customers", "variants"):
        assert wh.scalar(f"SELECT count(*) FROM {table}") == counts[table], table
    assert wh.scalar("SELECT financial_status FROM orders WHERE order_id = '450789470'") == "partially_refunded"
    assert wh.scalar("SELECT tags FROM customers WHERE customer_id = '207119551'") == "returning"
    assert wh.scalar("SELECT price FROM variants WHERE variant_id = '49148385'") == D("189.00")
    assert wh.scalar("SELECT available FROM inventory_levels WHERE variant_id = '808950810' "
                     "AND location_id = '487838322'") == 4
    today = dt.datetime.now(ZoneInfo("America/New_York")).date()
    assert summary(wh, today)["returns"] == D("179.10")
    assert_hand_worked_figures(wh)  # the earlier days are unchanged

    # Reading everything again changes no count.
    tables = ("orders", "order_lines", "refunds", "refund_lines", "transactions", "customers", "products",
              "variants", "inventory_levels")
    before = {t: wh.scalar(f"SELECT count(*) FROM {t}") for t in tables}
    run_sync(wh, source, full=True)
    assert {t: wh.scalar(f"SELECT count(*) FROM {t}") for t in tables} == before


# -- bulk operations ---------------------------------------------------------------------

def test_a_first_sync_of_a_large_store_uses_a_bulk_operation(wh, emulator):
    emulator.fail(503, match="GET /bulk/")  # the file's first download fails once
    source = make_source(emulator, bulk_threshold=3)
    run_sync(wh, source)
    assert emulator.faults[0].times == 0
    assert source.orders_read_with == "bulk"
    assert not emulator.queries("Orders")
    [operation] = emulator.bulk_operations
    assert operation["status"] == "COMPLETED" and operation["query"] == q.BULK_ORDERS
    assert emulator.queries("OrdersCount")[0]["variables"] == {"limit": 4}
    # Refund lines are not in the bulk file (no connection inside a list): they come by refund id.
    assert emulator.queries("RefundDetails")
    assert_hand_worked_figures(wh)
    assert wh.scalar("SELECT count(*) FROM order_lines") == 17
    assert saved_cursor(wh, STORE, "orders") == "2026-11-05T14:00:00+00:00"

    # The next sync has a cursor: pages, whatever the store's size.
    run_sync(wh, source)
    assert source.orders_read_with == "pages"
    assert len(emulator.bulk_operations) == 1
    # --full reads everything again in bulk, and still nothing is duplicated.
    run_sync(wh, source, full=True)
    assert source.orders_read_with == "bulk" and len(emulator.bulk_operations) == 2
    assert wh.scalar("SELECT count(*) FROM order_lines") == 17
    assert_hand_worked_figures(wh)


def test_a_small_store_is_read_by_pages_even_on_a_first_sync(duck, emulator):
    source = make_source(emulator, bulk_threshold=6)
    run_sync(duck, source, streams=["orders"])
    assert source.orders_read_with == "pages" and not emulator.bulk_operations


def test_a_bulk_operation_left_running_is_picked_up(duck, emulator):
    started = emulator.start_bulk(q.BULK_ORDERS)["bulkOperation"]
    source = make_source(emulator, bulk_threshold=3)
    run_sync(duck, source, streams=["orders"])
    assert [op["id"] for op in emulator.bulk_operations] == [started["id"]]
    assert duck.scalar("SELECT count(*) FROM orders") == 6


def test_someone_elses_running_bulk_operation_is_one_clear_sentence(duck, emulator):
    emulator.start_bulk("{ products { edges { node { id } } } }")
    source = make_source(emulator, bulk_threshold=3)
    with pytest.raises(SyncError, match="Another bulk operation is running"):
        run_sync(duck, source, streams=["orders"])


def test_bulk_lines_are_reassembled_by_parent_id_in_any_order():
    lines = [
        '{"id":"gid://shopify/LineItem/2","quantity":1,"__parentId":"gid://shopify/Order/1"}',
        '{"id":"gid://shopify/Order/1","updatedAt":"2026-11-03T10:00:00Z","refunds":[]}',
        '{"id":"gid://shopify/LineItem/3","quantity":2,"__parentId":"gid://shopify/Order/1"}',
        '{"id":"gid://shopify/ShippingLine/4","title":"Standard","__parentId":"gid://shopify/Order/1"}',
        "",
        '{"id":"gid://shopify/Order/5","updatedAt":"2026-11-03T11:00:00Z"}',
    ]
    orders = reassemble(line.encode() for line in lines)
    assert [i["id"] for i in orders["gid://shopify/Order/1"]["lineItems"]["nodes"]] == [
        "gid://shopify/LineItem/2", "gid://shopify/LineItem/3"]
    assert orders["gid://shopify/Order/1"]["shippingLines"]["nodes"][0]["title"] == "Standard"
    assert orders["gid://shopify/Order/5"]["lineItems"] == {"nodes": []}


def test_a_failed_bulk_operation_is_one_clear_sentence(duck, emulator, monkeypatch):
    monkeypatch.setattr(emulator, "complete_bulk", lambda op: op.update(status="FAILED", errorCode="TIMEOUT"))
    source = make_source(emulator, bulk_threshold=3)
    with pytest.raises(SyncError, match=r"bulk export of orders failed \(TIMEOUT\)"):
        run_sync(duck, source, streams=["orders"])


# -- rate limits, errors, interruptions ------------------------------------------------

def test_the_cost_bucket_is_obeyed_before_queries(duck):
    with ShopifyEmulator(restore_rate=8000.0) as emu:
        sleeps = Sleeps()
        source = make_source(emu, sleep=sleeps)
        run_sync(duck, source)
        # The client waited for the bucket to refill instead of being throttled,
        # briefly each time (a wall-clock bound would measure the machine's load instead).
        assert source.client.waits and all(0 < w <= 0.13 for w in source.client.waits)
        assert all(r["status"] == 200 for r in emu.requests)
        assert sum(source.client.waits) < 10
    assert_hand_worked_figures(duck)


def test_a_throttled_answer_waits_and_tries_again(duck, emulator):
    emulator.throttle(times=2, match="query Orders(")
    source = make_source(emulator)
    run_sync(duck, source)
    statuses = [r["status"] for r in emulator.queries("Orders")]
    assert statuses[:3] == ["throttled", "throttled", 200]
    assert len(source.client.waits) >= 2
    assert_hand_worked_figures(duck)


def test_http_429_waits_as_retry_after_says(duck, emulator):
    emulator.fail(429, retry_after=0.3, match="query Customers(")
    sleeps = Sleeps()
    source = make_source(emulator, sleep=sleeps)
    run_sync(duck, source, streams=["customers"])
    assert 0.3 in sleeps.waits
    assert [r["status"] for r in emulator.queries("Customers")] == [429, 200]
    assert duck.scalar("SELECT count(*) FROM customers") == 2


def test_server_errors_and_a_slow_answer_are_retried(duck, emulator):
    emulator.fail(502, times=2, match="query Products(")
    emulator.slow(1.0, match="query Locations(")
    source = make_source(emulator, timeout=0.5)
    run_sync(duck, source, streams=["locations", "products"])
    assert [r["status"] for r in emulator.queries("Products")] == [502, 502, 200]
    assert len(emulator.queries("Locations")) == 2  # the first timed out
    assert duck.scalar("SELECT count(*) FROM products") == 3
    assert duck.scalar("SELECT count(*) FROM locations") == 2


def test_an_interrupted_sync_keeps_its_pages_and_resumes(wh, emulator):
    emulator.fail(503, times=5, match="query Orders(", skip=1)
    source = make_source(emulator)
    with pytest.raises(SyncError, match="Shopify orders page 2 failed after 5 tries: HTTP 503"):
        run_sync(wh, source, streams=["orders"])
    # The first page (five orders, oldest updates first) was committed with its cursor.
    assert sorted(r[0] for r in wh.rows("SELECT order_id FROM orders")) == [
        "450789470", "450789471", "450789472", "450789473", "450789474"]
    assert saved_cursor(wh, STORE, "orders") == "2026-11-04T04:30:00+00:00"
    [(status, error)] = wh.rows("SELECT status, error FROM sync_runs WHERE stream = 'orders'")
    assert status == "failed" and emulator.token not in error

    emulator.requests.clear()
    run_sync(wh, source, streams=["orders"])
    assert [r["variables"]["query"] for r in emulator.queries("Orders")] == ["updated_at:>='2026-11-04T04:20:00Z'"]
    assert wh.scalar("SELECT count(*) FROM orders") == 6
    assert_hand_worked_figures(wh)


def test_a_wrong_token_is_one_clear_sentence_without_the_token(duck, emulator):
    source = ShopifySource(emulator.url, "shpat_wrong_token", store_id=STORE)
    with pytest.raises(SyncError) as caught:
        run_sync(duck, source)
    assert "SHOPIFY_ACCESS_TOKEN" in str(caught.value) and "shpat_wrong_token" not in str(caught.value)


def test_the_emulator_refuses_a_deprecated_field(emulator):
    source = make_source(emulator)
    query = "query Old { inventoryItem(id: \"gid://shopify/InventoryItem/808950810\") { variant { id } } }"
    with pytest.raises(SyncError, match="InventoryItem.variant"):
        source.client.execute(query, what="old inventory")


# -- normalized values ---------------------------------------------------------------------

@pytest.mark.parametrize("source_name, channel", [
    ("web", "online_store"), ("pos", "pos"), ("shopify_draft_order", "other"), ("iphone", "online_store"),
    ("android", "online_store"), ("instagram", "social"), ("amazon", "marketplace"), ("580111", "other"),
    (None, "other"),
], ids=lambda v: str(v))
def test_source_names_map_to_channels(source_name, channel):
    assert n.channel(source_name) == channel


@pytest.mark.parametrize("raw, financial", [
    ("PAID", "paid"), ("PARTIALLY_REFUNDED", "partially_refunded"), ("AUTHORIZED", "authorized"),
    ("EXPIRED", "voided"), ("voided", "voided"), ("pending", "pending"), (None, None),
], ids=lambda v: str(v))
def test_financial_statuses_are_normalized(raw, financial):
    assert n.financial_status(raw) == financial


@pytest.mark.parametrize("raw, fulfillment", [
    ("FULFILLED", "fulfilled"), ("PARTIALLY_FULFILLED", "partial"), ("partial", "partial"),
    ("RESTOCKED", "restocked"), ("ON_HOLD", "unfulfilled"), (None, "unfulfilled"),
], ids=lambda v: str(v))
def test_fulfillment_statuses_are_normalized(raw, fulfillment):
    assert n.fulfillment_status(raw) == fulfillment

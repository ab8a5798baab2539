"""The WooCommerce connector against the local WooCommerce emulator, on DuckDB and PostgreSQL.

The store (New York time, USD) and every figure below are worked out by hand.
On 2026-03-10 New York is on EDT (UTC-4).

order  created (local)  status, via, customer      lines: qty × price (discount; tax)          total
101    03-10 10:00      processing, checkout, c7   2×20.00 (4.00; 2.88), 1×25.00 (2.50; 1.80)  68.58
                        coupon SAVE10, shipping 5.00 (tax 0.40)
102    03-10 12:00      completed, checkout, guest 1×100.00 (tax 8.00), fee Gift wrap 3.00     111.24
                        (tax 0.24)
103    03-10 13:00      cancelled, never paid      1×50.00: voided, left out                   50.00
104    03-10 23:30      processing, pos, c7        3×10.00                                     30.00
105    03-11 00:30      processing, checkout, c8   1×20.00, fee Loyalty −2.00 -> its discount  18.00
106    03-10 14:00      failed                     1×10.00: voided, left out                   10.00

refund  order  at (local)     goods                 shipping         tax    amount
2001    101    03-10 16:00    1×TEE 18.00           5.00             1.84   24.84
2002    102    03-11 11:00    1×JACKET 100.00       –                8.00   108.00
2003    104    03-10 23:45    – (amount only)       –                –      5.00

2026-03-10: orders 101, 102, 104 -> gross 40+25 + 100+3 + 30 = 198.00, discounts 6.50, returns 18.00,
net 173.50, shipping 5.00 − 5.00 = 0, taxes (5.08 + 8.24) − 1.84 = 11.48, total 184.98, units 3+2+3 = 8.
2026-03-11: order 105 -> gross 20.00, discounts 2.00, returns 100.00, net −82.00, taxes −8.00, total −90.00.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from decimal import Decimal

import pytest
import requests

from analytics.metrics import sales_summary
from connectors.sync.retry import RetryPolicy
from connectors.sync.runner import SyncError, run_sync, saved_cursor
from connectors.woocommerce import WooCommerceSource, source_from_settings
from connectors.woocommerce import normalize as N  # noqa: N812 - the short name every WooCommerce module uses
from connectors.woocommerce import webhook
from connectors.woocommerce.client import store_id_for
from connectors.woocommerce.source import site_timezone
from connectors.webhook_errors import WebhookRejected
from tests.emulators.woocommerce import WooEmulator, webhook_delivery

UTC = dt.timezone.utc
D = Decimal
MAR10, MAR11 = dt.date(2026, 3, 10), dt.date(2026, 3, 11)
CATALOGUE_AT = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
WEBHOOK_SECRET = "whsec-woo-test"


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def guest_id(email: str) -> str:
    return "guest:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


class Sleeps(list):
    """Records each wait the retry policy asks for, and waits at most 0.2 s of it."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 0.2))


def make_source(emu: WooEmulator, *, per_page: int = 2, tries: int = 3, timeout: float = 5.0,
                sleeps: Sleeps | None = None, secret: str | None = None) -> WooCommerceSource:
    policy = RetryPolicy(tries=tries, throttled_tries=4, base_delay=0.01, max_delay=0.05, max_wait=2.0,
                         sleep=sleeps if sleeps is not None else Sleeps())
    return WooCommerceSource(emu.url, emu.key, secret or emu.secret, per_page=per_page, timeout=timeout,
                             retry=policy)


def build_store(emu: WooEmulator) -> None:
    at = CATALOGUE_AT
    emu.add_product(11, name="Tee", sku="TEE", price="20.00", stock=15, created=at, meta={"_wc_cog_cost": "8.50"})
    emu.add_product(12, name="Jacket", sku="JACKET", price="100.00", stock=4, created=at,
                    meta={"_alg_wc_cog_cost": "40"})
    emu.add_product(13, name="Sticker", sku="STICKER", price="10.00", created=at, cost="0.75")
    emu.add_product(14, name="Mug", sku="MUG", price="20.00", stock=9, created=at, category="Home")
    emu.add_product(20, name="Hoodie", type="variable", created=at)
    emu.add_variation(20, 21, sku="HOOD-M", price="25.00", option="M", stock=7, created=at,
                      meta={"_wc_cog_cost": "10.00"})
    emu.add_variation(20, 22, sku="HOOD-L", price="25.00", option="L", manage_stock="parent", created=at)
    emu.add_customer(7, email=" Ann@Example.com", created=utc(2026, 2, 1, 9))
    emu.add_customer(8, email="bob@example.com", created=utc(2026, 2, 2, 9), country="CA")

    emu.add_order(101, created=utc(2026, 3, 10, 14), customer_id=7, email="ann@example.com", lines=[
        dict(id=1001, product_id=11, sku="TEE", name="Tee", quantity=2, subtotal="40.00", total="36.00",
             total_tax="2.88"),
        dict(id=1002, product_id=20, variation_id=21, sku="HOOD-M", name="Hoodie - M", quantity=1,
             subtotal="25.00", total="22.50", total_tax="1.80"),
    ], shipping=[dict(id=1003, total="5.00", total_tax="0.40")],
        coupons=[dict(id=1004, code="SAVE10", discount="6.50")])
    emu.add_refund(101, 2001, created=utc(2026, 3, 10, 20), lines=[(1001, 1, "18.00", "1.44")],
                   shipping=[(1003, "5.00", "0.40")], reason="Too small")
    emu.add_order(102, created=utc(2026, 3, 10, 16), status="completed", completed=utc(2026, 3, 10, 18),
                  email="Guest@Example.com", country="GB", lines=[
                      dict(id=1011, product_id=12, sku="JACKET", quantity=1, subtotal="100.00", total_tax="8.00")],
                  fees=[dict(id=1012, name="Gift wrap", total="3.00", total_tax="0.24")])
    emu.add_refund(102, 2002, created=utc(2026, 3, 11, 15), lines=[(1011, 1, "100.00", "8.00")])
    emu.add_order(103, created=utc(2026, 3, 10, 17), status="cancelled", paid=None, customer_id=8,
                  lines=[dict(id=1021, product_id=13, quantity=1, subtotal="50.00")])
    emu.add_order(104, created=utc(2026, 3, 11, 3, 30), created_via="pos-rest-api", customer_id=7,
                  email="ann@example.com",
                  lines=[dict(id=1031, product_id=13, sku="STICKER", quantity=3, subtotal="30.00")])
    emu.add_refund(104, 2003, created=utc(2026, 3, 11, 3, 45), amount="5.00", reason="Goodwill")
    emu.add_order(105, created=utc(2026, 3, 11, 4, 30), customer_id=8, email="bob@example.com",
                  lines=[dict(id=1041, product_id=14, sku="MUG", quantity=1, subtotal="20.00")],
                  fees=[dict(id=1042, name="Loyalty discount", total="-2.00")])
    emu.add_order(106, created=utc(2026, 3, 10, 18), status="failed", paid=None,
                  lines=[dict(id=1051, product_id=13, quantity=1, subtotal="10.00")])


@pytest.fixture
def emu():
    with WooEmulator(timezone="America/New_York") as emulator:
        build_store(emulator)
        yield emulator


def _counts(wh) -> dict[str, int]:
    tables = ("orders", "order_lines", "refunds", "refund_lines", "customers", "products", "variants",
              "inventory_levels", "order_facts", "refund_facts")
    return {t: wh.scalar(f"SELECT count(*) FROM {t}") for t in tables}


# -- a first sync ---------------------------------------------------------------

def test_first_sync_gives_the_hand_worked_sales(wh, emu):
    source = make_source(emu)
    results = run_sync(wh, source)
    assert [r.stream for r in results] == ["products", "variations", "customers", "orders", "trashed_orders"]
    store = source.store_id
    assert store == f"woocommerce:{emu.host}"
    assert wh.rows("SELECT platform, name, currency, timezone FROM stores") == [
        ("woocommerce", "Emulated Shop", "USD", "America/New_York")]

    day = sales_summary(wh, store, MAR10, MAR10)
    assert (day["orders"], day["gross_sales"], day["discounts"], day["returns"]) == (3, D("198"), D("6.5"), D("18"))
    assert (day["net_sales"], day["shipping"], day["taxes"], day["total_sales"]) == (
        D("173.5"), D("0"), D("11.48"), D("184.98"))
    assert (day["units_sold"], day["units_returned"], day["customers"], day["new_customers"],
            day["repeat_customers"]) == (8, 1, 2, 2, 1)
    assert day["aov"] == D("63.8333")
    next_day = sales_summary(wh, store, MAR11, MAR11)
    assert (next_day["orders"], next_day["gross_sales"], next_day["discounts"], next_day["returns"]) == (
        1, D("20"), D("2"), D("100"))
    assert (next_day["net_sales"], next_day["taxes"], next_day["total_sales"]) == (D("-82"), D("-8"), D("-90"))


def test_orders_lines_and_refunds_are_normalized(wh, emu):
    source = make_source(emu)
    run_sync(wh, source)
    orders = {r[0]: r[1:] for r in wh.rows(
        "SELECT order_id, financial_status, fulfillment_status, channel, source_name, subtotal, total_discounts, "
        "total_shipping, total_tax, total_price, customer_id, country, discount_codes FROM orders")}
    assert orders["101"] == ("partially_refunded", "unfulfilled", "online_store", "checkout", D("58.5"), D("6.5"),
                             D("5"), D("5.08"), D("68.58"), "7", "US", "SAVE10")
    assert orders["102"] == ("partially_refunded", "fulfilled", "online_store", "checkout", D("103"), D("0"),
                             D("0"), D("8.24"), D("111.24"), guest_id("guest@example.com"), "GB", None)
    assert orders["103"][:3] == ("voided", "unfulfilled", "online_store")
    assert orders["104"][:4] == ("partially_refunded", "unfulfilled", "pos", "pos-rest-api")
    assert orders["105"][:1] + orders["105"][4:9] == ("paid", D("18"), D("2"), D("0"), D("0"), D("18"))
    assert orders["106"][0] == "voided"
    # total_price = subtotal + shipping + tax for every order
    assert wh.scalar("SELECT count(*) FROM orders WHERE total_price <> subtotal + total_shipping + total_tax") == 0
    assert wh.scalar("SELECT cancelled_at FROM orders WHERE order_id = '103'") is not None

    lines = {r[0]: r[1:] for r in wh.rows(
        "SELECT line_id, product_id, variant_id, sku, quantity, unit_price, discount, tax FROM order_lines")}
    assert lines["1001"] == ("11", "11", "TEE", 2, D("20"), D("4"), D("2.88"))
    assert lines["1002"] == ("20", "21", "HOOD-M", 1, D("25"), D("2.5"), D("1.8"))
    assert lines["1012"] == (None, None, None, 1, D("3"), D("0"), D("0.24"))  # the gift wrap fee
    assert lines["1041"][4:6] == (D("20"), D("2"))  # the negative fee became this line's discount
    assert "1042" not in lines

    refunds = {r[0]: r[1:] for r in wh.rows(
        "SELECT refund_id, order_id, shipping_refunded, tax_refunded, total_refunded, note FROM refunds")}
    assert refunds == {
        "2001": ("101", D("5"), D("1.84"), D("24.84"), "Too small"),
        "2002": ("102", D("0"), D("8"), D("108"), None),
        "2003": ("104", D("0"), D("0"), D("5"), "Goodwill"),
    }
    assert sorted(wh.rows("SELECT refund_id, line_id, quantity, subtotal, tax FROM refund_lines")) == [
        ("2001", "1001", 1, D("18"), D("1.44")), ("2002", "1011", 1, D("100"), D("8"))]

    # Customers: hashed emails only, guests keyed by that hash.
    customers = dict(wh.rows("SELECT customer_id, email_hash FROM customers"))
    assert customers["7"] == hashlib.sha256(b"ann@example.com").hexdigest()
    assert customers[guest_id("guest@example.com")] == guest_id("guest@example.com")[6:]
    dump = str(wh.rows("SELECT * FROM customers")) + str(wh.rows("SELECT * FROM orders"))
    assert "@" not in dump
    # Names and addresses go to customer_contacts only: the registered customer's account (the fixture's
    # John Doe), the guest's billing details of order 102.
    contacts = {c: (n, e) for c, n, e in wh.rows("SELECT customer_id, name, email FROM customer_contacts")}
    assert contacts["7"] == ("John Doe", "ann@example.com")
    assert contacts[guest_id("guest@example.com")][1] == "guest@example.com"


def test_catalogue_costs_and_stock(wh, emu):
    run_sync(wh, make_source(emu))
    variants = {r[0]: r[1:] for r in wh.rows(
        "SELECT variant_id, product_id, sku, title, price, unit_cost FROM variants")}
    assert variants == {
        "11": ("11", "TEE", "Tee", D("20"), D("8.5")),
        "12": ("12", "JACKET", "Jacket", D("100"), D("40")),
        "13": ("13", "STICKER", "Sticker", D("10"), D("0.75")),
        "14": ("14", "MUG", "Mug", D("20"), None),
        "21": ("20", "HOOD-M", "M", D("25"), D("10")),
        "22": ("20", "HOOD-L", "L", D("25"), None),
    }
    assert sorted(wh.rows("SELECT variant_id, location_id, available FROM inventory_levels")) == [
        ("11", "default", 15), ("12", "default", 4), ("14", "default", 9), ("21", "default", 7)]
    assert wh.rows("SELECT location_id, name, country FROM locations") == [("default", "Default", "US")]
    assert wh.scalar("SELECT count(*) FROM inventory_snapshots") == 4
    assert dict(wh.rows("SELECT product_id, product_type FROM products"))["14"] == "Home"


def test_requests_follow_the_api_rules(wh, emu):
    run_sync(wh, make_source(emu))
    api_calls = [r for r in emu.requests if r.path != "/wp-json/"]
    assert api_calls and {r.auth for r in api_calls} == {"oauth"}  # plain http: OAuth 1.0a query signing
    orders = emu.calls("orders")
    listing = [r for r in orders if r.path == "orders" and r.query.get("orderby") == "modified"]
    assert listing and all(r.query["dates_are_gmt"] == "true" and r.query["order"] == "asc" for r in listing)
    assert [r.query["page"] for r in listing] == ["1", "2", "3"]  # 6 orders, 2 a page
    refund_calls = {r.path for r in orders if r.path.endswith("/refunds")}
    assert refund_calls == {"orders/101/refunds", "orders/102/refunds", "orders/104/refunds"}
    assert all(int(r.query.get("per_page", 10)) <= 100 for r in emu.requests if r.query.get("per_page"))


# -- later syncs ------------------------------------------------------------------

def test_resync_writes_no_duplicates(wh, emu):
    source = make_source(emu)
    run_sync(wh, source)
    before = _counts(wh)
    summary = sales_summary(wh, source.store_id, MAR10, MAR11)
    run_sync(wh, source)
    run_sync(wh, source, full=True)
    assert _counts(wh) == before
    assert sales_summary(wh, source.store_id, MAR10, MAR11) == summary


def test_incremental_sync_picks_up_changed_records(wh, emu):
    source = make_source(emu)
    run_sync(wh, source)
    cursor = saved_cursor(wh, source.store_id, "orders")
    assert cursor == utc(2026, 3, 11, 15).isoformat()  # order 102's refund was its last change

    changed = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(seconds=30)
    # Order 105 edited: its mug line replaced by two mugs (a new line), then completed.
    order = emu.orders[105]
    mug = dict(order["line_items"][0], id=1043, quantity=2, subtotal="40.00", total="40.00")
    emu.update_order(105, modified=changed, status="completed", line_items=[mug], fee_lines=[],
                     total="40.00", discount_total="0.00")
    emu.update_variation(20, 21, modified=changed, stock_quantity=5)  # a sale moved the stock
    emu.update_product(14, modified=changed, price="22.00")
    mark = len(emu.requests)
    results = {r.stream: r for r in run_sync(wh, source)}

    assert results["orders"].rows_read == 2  # order 105, and 102 again inside the lookback
    listing = [r for r in emu.requests[mark:] if r.path == "orders" and "modified_after" in r.query]
    assert listing[0].query["modified_after"] == "2026-03-11T14:50:00"  # the cursor minus the 10-minute lookback
    assert wh.rows("SELECT line_id, quantity FROM order_lines WHERE order_id = '105'") == [("1043", 2)]
    assert wh.rows("SELECT financial_status, fulfillment_status, subtotal, total_discounts FROM orders "
                   "WHERE order_id = '105'") == [("paid", "fulfilled", D("40"), D("0"))]
    day = sales_summary(wh, source.store_id, MAR11, MAR11)
    assert (day["gross_sales"], day["discounts"], day["units_sold"]) == (D("40"), D("0"), 2)
    assert wh.scalar("SELECT available FROM inventory_levels WHERE variant_id = '21'") == 5
    assert wh.scalar("SELECT price FROM variants WHERE variant_id = '14'") == D("22")
    assert saved_cursor(wh, source.store_id, "orders") == changed.isoformat()


def test_a_record_changed_while_pages_are_walked_is_not_skipped(wh, emu):
    """Order 103 (page 1) changes while page 2 is asked for: it leaves the window and the pages move up
    by one, so order 101 (first on page 2 before) would be skipped; the walk starts again just before
    the last change read."""
    done = []

    def change_order_103(request):
        if request.path == "orders" and request.query.get("page") == "2" and not done:
            done.append(True)
            emu.update_order(103, modified=dt.datetime.now(UTC), customer_note="call first")

    emu.hooks.append(change_order_103)
    run_sync(wh, make_source(emu))
    assert wh.scalar("SELECT count(*) FROM orders") == 6
    starts = [r for r in emu.calls("orders") if r.path == "orders" and r.query.get("page") == "1"
              and r.query.get("orderby") == "modified"]
    assert len(starts) == 2


# -- failures ----------------------------------------------------------------------

def test_429_and_503_wait_as_told_and_the_sync_completes(wh, emu):
    sleeps = Sleeps()
    emu.fail("orders", 429, retry_after="1", page=2)
    emu.fail("customers", 503, times=2, retry_after="0")
    run_sync(wh, make_source(emu, sleeps=sleeps))
    assert 1.0 in sleeps  # Retry-After: 1 honoured
    assert len(sleeps) == 3
    assert len([r for r in emu.calls("orders") if r.path == "orders" and r.query.get("page") == "2"]) == 2
    assert wh.scalar("SELECT count(*) FROM orders") == 6


def test_a_slow_answer_times_out_and_is_tried_again(wh, emu):
    emu.slow("customers", 1.0)
    started = time.monotonic()
    run_sync(wh, make_source(emu, timeout=0.5))
    assert time.monotonic() - started < 10
    assert len(emu.calls("customers")) >= 2  # the first gave up after 0.5 s
    assert wh.scalar("SELECT count(*) FROM customers WHERE customer_id IN ('7', '8')") == 2


def test_an_interrupted_sync_keeps_its_pages_and_resumes(wh, emu):
    emu.fail("orders", 503, times=None, page=2)
    source = make_source(emu, tries=3)
    with pytest.raises(SyncError) as failure:
        run_sync(wh, source)
    assert str(failure.value) == "WooCommerce orders page 2 failed after 3 tries: HTTP 503."
    # Page 1 (orders 103 and 106, the oldest changes) is kept with its cursor.
    assert sorted(r[0] for r in wh.rows("SELECT order_id FROM orders")) == ["103", "106"]
    assert saved_cursor(wh, source.store_id, "orders") == utc(2026, 3, 10, 18).isoformat()
    assert wh.rows("SELECT status FROM sync_runs WHERE stream = 'orders'") == [("failed",)]

    emu.faults.clear()
    mark = len(emu.requests)
    run_sync(wh, source)
    resumed = [r for r in emu.requests[mark:] if r.path == "orders" and r.query.get("orderby") == "modified"]
    assert resumed[0].query["modified_after"] == "2026-03-10T17:50:00"
    assert wh.scalar("SELECT count(*) FROM orders") == 6
    assert sales_summary(wh, source.store_id, MAR10, MAR10)["total_sales"] == D("184.98")


def test_pages_are_walked_when_a_cache_drops_the_total_headers(wh, emu):
    emu.send_totals = False
    run_sync(wh, make_source(emu))
    assert wh.scalar("SELECT count(*) FROM orders") == 6
    listing = [r for r in emu.calls("orders") if r.path == "orders" and r.query.get("orderby") == "modified"]
    assert [r.query["page"] for r in listing] == ["1", "2", "3", "4"]  # the 4th is past the end (HTTP 400)


def test_an_unreachable_store_is_one_clear_sentence(wh):
    with WooEmulator() as gone:
        url, key = gone.url, gone.key
    source = WooCommerceSource(url, key, "cs_secret_value", retry=RetryPolicy(tries=2, sleep=lambda s: None))
    with pytest.raises(SyncError) as failure:
        run_sync(wh, source)
    assert str(failure.value) == "WordPress site index failed after 2 tries: the connection failed (ConnectionError)."


def test_a_refused_key_is_one_clear_sentence_without_the_secret(wh, emu):
    with pytest.raises(SyncError) as failure:
        run_sync(wh, make_source(emu, secret="cs_wrong_secret_value"))
    message = str(failure.value)
    assert "refused the API key" in message and "WOOCOMMERCE_SECRET" in message
    assert "cs_wrong_secret_value" not in message and emu.key not in message


def test_source_from_settings_names_what_is_missing(monkeypatch):
    for name in ("WOOCOMMERCE_URL", "WOOCOMMERCE_KEY", "WOOCOMMERCE_SECRET"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("WOOCOMMERCE_URL", "shop.example")
    with pytest.raises(SyncError, match="WOOCOMMERCE_KEY, WOOCOMMERCE_SECRET"):
        source_from_settings()
    monkeypatch.setenv("WOOCOMMERCE_KEY", "ck_x")
    monkeypatch.setenv("WOOCOMMERCE_SECRET", "cs_x")
    assert source_from_settings().store_id == "woocommerce:shop.example"


def test_the_emulator_checks_every_auth_form(emu):
    url = f"{emu.url}/wp-json/wc/v3/customers"
    assert requests.get(url, auth=(emu.key, emu.secret), timeout=5).status_code == 200
    refused = requests.get(url, auth=(emu.key, "nope"), timeout=5)
    assert refused.status_code == 401 and refused.json()["code"] == "woocommerce_rest_authentication_error"
    assert requests.get(url, params={"consumer_key": emu.key, "consumer_secret": emu.secret}, timeout=5).ok
    assert requests.get(url, timeout=5).status_code == 401
    signed = make_source(emu).client.api.get("customers", params={"per_page": "1"})
    assert signed.status_code == 200
    assert requests.get(signed.url, timeout=5).status_code == 401  # a nonce is good once
    forged = signed.url.replace("per_page=1", "per_page=2")
    assert requests.get(forged, timeout=5).status_code == 401


# -- values ------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("https://Shop.Example/", "woocommerce:shop.example"),
    ("shop.example", "woocommerce:shop.example"),
    ("http://127.0.0.1:8080", "woocommerce:127.0.0.1:8080"),
    ("https://shop.example:443/blog/wp-json/wc/v3", "woocommerce:shop.example/blog"),
])
def test_store_id(url, expected):
    assert store_id_for(url) == expected


@pytest.mark.parametrize("index, expected", [
    ({"timezone_string": "Europe/Berlin", "gmt_offset": 1}, "Europe/Berlin"),
    ({"timezone_string": "", "gmt_offset": 0}, "UTC"),
    ({"timezone_string": "", "gmt_offset": -3}, "Etc/GMT+3"),
    ({"timezone_string": "", "gmt_offset": "5.5"}, "Asia/Kolkata"),
])
def test_site_timezone(index, expected):
    assert site_timezone(index) == expected


@pytest.mark.parametrize("status, paid, refunded, expected", [
    ("pending", None, "0", "pending"), ("on-hold", None, "0", "pending"), ("processing", "x", "0", "paid"),
    ("completed", None, "0", "paid"), ("completed", "x", "10", "partially_refunded"),
    ("completed", "x", "50", "refunded"), ("cancelled", None, "0", "voided"), ("cancelled", "x", "0", "paid"),
    ("refunded", "x", "50", "refunded"), ("failed", None, "0", "voided"),
])
def test_financial_status(status, paid, refunded, expected):
    order = {"status": status, "date_paid_gmt": paid, "total": "50.00"}
    assert N.financial_status(order, D(refunded)) == expected


@pytest.mark.parametrize("created_via, expected", [
    ("checkout", "online_store"), ("store-api", "online_store"), ("admin", "other"), ("rest-api", "other"),
    ("pos-rest-api", "pos"), ("woocommerce-pos", "pos"), ("", "other"), ("amazon", "marketplace"),
])
def test_channel(created_via, expected):
    assert N.channel(created_via) == expected


# -- webhooks -----------------------------------------------------------------------

def test_webhook_signature_ping_and_ids(emu):
    payload = emu.order_payload(105)
    headers, body = webhook_delivery(emu, "order.updated", payload, WEBHOOK_SECRET)
    webhook.verify(headers, body, WEBHOOK_SECRET)
    with pytest.raises(WebhookRejected):
        webhook.verify(headers, body, "another-secret")
    with pytest.raises(WebhookRejected):
        webhook.verify(headers, body.replace(b"20.00", b"2.00"), WEBHOOK_SECRET)
    with pytest.raises(WebhookRejected):
        webhook.verify({k: v for k, v in headers.items() if k != "x-wc-webhook-signature"}, body, WEBHOOK_SECRET)
    assert webhook.topic(headers, body) == "order.updated"
    assert webhook.event_id(headers, body) == f"order:105:{payload['date_modified_gmt']}"
    assert webhook.store_id(headers, body) == f"woocommerce:{emu.host}"

    # The ping WooCommerce sends when a webhook is created is an unsigned form body: recognised as a ping
    # (answered without being stored), never taken as a signed delivery.
    ping_headers, ping = webhook_delivery(emu, "ping", "webhook_id=12", WEBHOOK_SECRET)
    assert webhook.is_ping(ping_headers, ping)
    with pytest.raises(WebhookRejected):
        webhook.verify(ping_headers, ping, WEBHOOK_SECRET)
    assert not webhook.is_ping(headers, body)
    assert (webhook.topic(ping_headers, ping), webhook.event_id(ping_headers, ping)) == ("ping", "ping:12")
    assert webhook.apply(None, "ping", {}) == []


def test_webhook_apply_keeps_the_newest_state(wh, emu):
    source = make_source(emu)
    wh.upsert("stores", source.store_row())
    first = emu.order_payload(105)
    assert webhook.apply(wh, "order.created", first, source=source) == ["105"]
    assert wh.scalar("SELECT financial_status FROM orders WHERE order_id = '105'") == "paid"

    later = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(seconds=10)
    emu.update_order(105, modified=later, status="completed")
    newer = emu.order_payload(105)
    assert webhook.apply(wh, "order.updated", newer, source=source) == ["105"]
    assert wh.scalar("SELECT fulfillment_status FROM orders WHERE order_id = '105'") == "fulfilled"
    # The older delivery arriving late, and the same delivery again, change nothing.
    assert webhook.apply(wh, "order.updated", first, source=source) == []
    assert webhook.apply(wh, "order.updated", newer, source=source) == []
    assert wh.scalar("SELECT fulfillment_status FROM orders WHERE order_id = '105'") == "fulfilled"
    assert wh.scalar("SELECT count(*) FROM order_lines WHERE order_id = '105'") == 1


def test_webhook_order_update_reads_its_refunds(wh, emu):
    source = make_source(emu)
    wh.upsert("stores", source.store_row())
    webhook.apply(wh, "order.updated", emu.order_payload(101), source=source)
    assert wh.rows("SELECT refund_id, total_refunded FROM refunds") == [("2001", D("24.84"))]
    assert wh.rows("SELECT line_id, subtotal FROM refund_lines") == [("1001", D("18"))]
    assert wh.scalar("SELECT returns FROM refund_facts WHERE refund_id = '2001'") == D("18")

    # A refund deleted at the source is dropped with the next update of its order.
    later = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(seconds=10)
    emu.refunds[101].clear()
    emu.update_order(101, modified=later)
    webhook.apply(wh, "order.updated", emu.order_payload(101), source=source)
    assert wh.scalar("SELECT count(*) FROM refunds") == 0
    assert wh.scalar("SELECT count(*) FROM refund_lines") == 0
    assert wh.scalar("SELECT financial_status FROM orders WHERE order_id = '101'") == "paid"

    assert webhook.apply(wh, "order.deleted", {"id": 101}, source=source) == ["101"]
    assert wh.scalar("SELECT count(*) FROM orders") == 0
    assert wh.scalar("SELECT count(*) FROM order_facts") == 0


def test_webhook_product_and_customer_updates(wh, emu):
    source = make_source(emu)
    wh.upsert("stores", source.store_row())
    later = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(seconds=10)
    webhook.apply(wh, "product.updated", emu.products[20], source=source)  # variable: variations read
    assert sorted(wh.rows("SELECT variant_id, available FROM inventory_levels")) == [("21", 7)]
    emu.update_product(11, modified=later, stock_quantity=3)
    webhook.apply(wh, "product.updated", emu.products[11], source=source)
    assert wh.scalar("SELECT available FROM inventory_levels WHERE variant_id = '11'") == 3
    webhook.apply(wh, "customer.updated", emu.customers[8])
    assert wh.scalar("SELECT country FROM customers WHERE customer_id = '8'") == "CA"
    webhook.apply(wh, "product.deleted", {"id": 11}, source=source)
    assert wh.scalar("SELECT count(*) FROM variants WHERE variant_id = '11'") == 0


def _attributed(**fields):
    return {"meta_data": [{"id": i, "key": f"_wc_order_attribution_{k}", "value": v}
                          for i, (k, v) in enumerate(fields.items())]}


@pytest.mark.parametrize("order, expected", [
    pytest.param(_attributed(source_type="utm", utm_source="Google", utm_medium="cpc", utm_campaign="Fall Sale"),
                 ("google", "cpc", "Fall Sale"), id="utm"),
    pytest.param(_attributed(source_type="organic", utm_source="google"), ("google", "organic", None), id="organic"),
    pytest.param(_attributed(source_type="referral", utm_source="blog.example"), ("blog.example", "referral", None),
                 id="referral"),
    pytest.param(_attributed(source_type="typein", utm_source=""), ("(direct)", "(none)", None), id="typed-in"),
    pytest.param(_attributed(source_type="admin"), (None, None, None), id="admin"),
    pytest.param({"meta_data": []}, (None, None, None), id="no-attribution"),
])
def test_order_attribution_is_the_last_visit(order, expected):
    fields = N.attribution(order)
    assert (fields["last_visit_source"], fields["last_visit_medium"], fields["last_visit_campaign"]) == expected

"""One customer per person within a store: a guest order with a registered customer's email is theirs.

On every way orders arrive (a WooCommerce sync and webhook, a Shopify webhook,
the CSV import), whether the account or the guest order comes first. Counts
are worked out by hand: a person with an account and a guest order is one
customer with two orders, the second of them a returning one.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import textwrap

import pytest

from connectors.csv_import import import_csv
from connectors.shopify import webhook as shopify_webhook
from connectors.sync.runner import run_sync
from connectors.woocommerce import webhook as woo_webhook
from data.identity import guest_customer_id
from tests.emulators.shopify import ShopifyEmulator
from tests.emulators.shopify_store import fixture
from tests.emulators.woocommerce import WooEmulator
from tests.test_shopify import make_source as shopify_source
from tests.test_woocommerce import make_source as woo_source

UTC = dt.timezone.utc


def hashed(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def customers_of_orders(wh, store_id: str) -> dict[str, str | None]:
    return dict(wh.rows("SELECT order_id, customer_id FROM orders WHERE store_id = :s", {"s": store_id}))


def ranks(wh, store_id: str) -> dict[str, tuple[str | None, int | None]]:
    """Each counted order's customer and rank among that customer's orders (1 = new, 2+ = returning)."""
    return {o: (c, i) for o, c, i in wh.rows(
        "SELECT order_id, customer_id, customer_order_index FROM order_facts WHERE store_id = :s", {"s": store_id})}


def customer_ids(wh, store_id: str) -> set[str]:
    return {r[0] for r in wh.rows("SELECT customer_id FROM customers WHERE store_id = :s", {"s": store_id})}


def line(line_id: int, subtotal: str = "20.00") -> dict:
    return dict(id=line_id, product_id=11, sku="TEE", name="Tee", quantity=1, subtotal=subtotal)


def test_guest_id_is_the_email_hash():
    assert guest_customer_id(hashed(" Ann@Example.com")) == "guest:" + hashed("ann@example.com")
    assert guest_customer_id(None) is None


@pytest.fixture
def woo():
    with WooEmulator(timezone="UTC") as emulator:
        emulator.add_product(11, name="Tee", sku="TEE", price="20.00", created=dt.datetime(2026, 1, 1, tzinfo=UTC))
        yield emulator


def test_woocommerce_guest_orders_of_a_registered_email_are_the_customers(wh, woo):
    woo.add_customer(7, email="ann@example.com", created=dt.datetime(2026, 2, 1, 9, tzinfo=UTC))
    woo.add_order(301, created=dt.datetime(2026, 3, 1, 10, tzinfo=UTC), customer_id=7, email="ann@example.com",
                  lines=[line(3011)])
    woo.add_order(302, created=dt.datetime(2026, 3, 2, 10, tzinfo=UTC), email=" ANN@example.com",
                  lines=[line(3021)])
    woo.add_order(303, created=dt.datetime(2026, 3, 3, 10, tzinfo=UTC), email="zoe@example.com",
                  lines=[line(3031)])
    run_sync(wh, source := woo_source(woo))
    store = source.store_id
    zoe = guest_customer_id(hashed("zoe@example.com"))
    assert customers_of_orders(wh, store) == {"301": "7", "302": "7", "303": zoe}
    assert customer_ids(wh, store) == {"7", zoe}  # no guest row for Ann
    assert ranks(wh, store) == {"301": ("7", 1), "302": ("7", 2), "303": (zoe, 1)}


def test_woocommerce_an_account_made_after_guest_orders_takes_them(wh, woo):
    first = dt.datetime(2026, 3, 1, 10, tzinfo=UTC)
    woo.add_order(401, created=first, email="kim@example.com", lines=[line(4011)])
    woo.add_order(402, created=first + dt.timedelta(days=1), email="kim@example.com", lines=[line(4021)])
    source = woo_source(woo)
    run_sync(wh, source)
    kim = guest_customer_id(hashed("kim@example.com"))
    assert customers_of_orders(wh, source.store_id) == {"401": kim, "402": kim}
    # Kim opens an account; the next sync reads it (and a customer.created webhook would do the same).
    woo.add_customer(9, email="Kim@Example.com", created=dt.datetime.now(UTC) - dt.timedelta(minutes=1))
    run_sync(wh, source)
    assert customers_of_orders(wh, source.store_id) == {"401": "9", "402": "9"}
    assert customer_ids(wh, source.store_id) == {"9"}
    assert ranks(wh, source.store_id) == {"401": ("9", 1), "402": ("9", 2)}


def test_woocommerce_webhooks_follow_the_same_rule(wh, woo):
    source = woo_source(woo)
    run_sync(wh, source)  # the store, empty
    store = source.store_id
    woo.add_order(501, created=dt.datetime(2026, 3, 1, 10, tzinfo=UTC), email="lea@example.com",
                  lines=[line(5011)])
    woo_webhook.apply(wh, "order.created", woo.order_payload(501), source=source)
    assert customers_of_orders(wh, store) == {"501": guest_customer_id(hashed("lea@example.com"))}
    customer = woo.add_customer(12, email="lea@example.com", created=dt.datetime(2026, 3, 5, tzinfo=UTC))
    woo_webhook.apply(wh, "customer.created", copy.deepcopy(customer), source=source)
    assert customers_of_orders(wh, store) == {"501": "12"}
    assert customer_ids(wh, store) == {"12"}
    # The guest's contact row went with the guest; Lea is named by her account's.
    assert [r[0] for r in wh.rows("SELECT customer_id FROM customer_contacts WHERE store_id = :s", {"s": store})] == [
        "12"]
    assert ranks(wh, store)["501"] == ("12", 1)


@pytest.fixture
def shop(wh):
    with ShopifyEmulator() as emulator:
        wh.upsert("stores", shopify_source(emulator).store_row())
        yield wh, emulator


def test_shopify_orders_without_a_customer_belong_to_the_registered_email(shop):
    wh, emulator = shop
    bob = fixture("customer")["customer"]  # id 207119551, bob.norman@hostmail.com
    shopify_webhook.apply(wh, "customers/update", bob)
    guest = emulator.store.rest_order(450789469)
    guest.update(customer=None, email="  Bob.Norman@HOSTMAIL.com")
    stranger = copy.deepcopy(emulator.store.rest_order(450789474))
    stranger.update(customer=None, email="eve@example.com")
    shopify_webhook.apply(wh, "orders/create", guest)
    shopify_webhook.apply(wh, "orders/create", stranger)
    store = wh.scalar("SELECT store_id FROM stores")
    eve = guest_customer_id(hashed("eve@example.com"))
    assert customers_of_orders(wh, store) == {"450789469": "207119551", "450789474": eve}
    assert customer_ids(wh, store) == {"207119551", eve}


def test_shopify_a_customer_arriving_after_its_guest_order_takes_it(shop):
    wh, emulator = shop
    guest = emulator.store.rest_order(450789469)
    guest.update(customer=None, email="bob.norman@hostmail.com")
    shopify_webhook.apply(wh, "orders/create", guest)
    store = wh.scalar("SELECT store_id FROM stores")
    assert customers_of_orders(wh, store) == {"450789469": guest_customer_id(hashed("bob.norman@hostmail.com"))}
    shopify_webhook.apply(wh, "customers/create", fixture("customer")["customer"])
    assert customers_of_orders(wh, store) == {"450789469": "207119551"}
    assert customer_ids(wh, store) == {"207119551"}
    assert ranks(wh, store)["450789469"] == ("207119551", 1)


CSV = """\
    order_id,created_at,sku,quantity,unit_price,customer_id,email
    A1,2026-03-01 10:00,TEE,1,20.00,C1,ann@example.com
    A2,2026-03-02 10:00,TEE,1,20.00,,Ann@Example.com
    A3,2026-03-03 10:00,TEE,2,20.00,,zoe@example.com
    A4,2026-03-04 10:00,TEE,1,20.00,,
    """


def test_csv_rows_with_an_email_but_no_customer_id_are_that_customers(wh, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(textwrap.dedent(CSV))
    import_csv(wh, path, store_id="csv:shop", timezone="UTC")
    zoe = "email:" + hashed("zoe@example.com")  # the import's own guest id
    assert customers_of_orders(wh, "csv:shop") == {"A1": "C1", "A2": "C1", "A3": zoe, "A4": None}
    assert customer_ids(wh, "csv:shop") == {"C1", zoe}
    contacts = {r[0] for r in wh.rows("SELECT customer_id FROM customer_contacts WHERE store_id = 'csv:shop'")}
    assert contacts <= {"C1", zoe} and "C1" in contacts
    assert ranks(wh, "csv:shop") == {"A1": ("C1", 1), "A2": ("C1", 2), "A3": (zoe, 1), "A4": (None, None)}


def test_a_later_csv_naming_the_customer_takes_the_earlier_guest_rows(wh, tmp_path):
    first = tmp_path / "first.csv"
    first.write_text("order_id,created_at,sku,quantity,unit_price,email\nB1,2026-03-01 10:00,TEE,1,20.00,kim@x.org\n")
    import_csv(wh, first, store_id="csv:shop", timezone="UTC")
    second = tmp_path / "second.csv"
    second.write_text("order_id,created_at,sku,quantity,unit_price,customer_id,email\n"
                      "B2,2026-03-05 10:00,TEE,1,20.00,K9,kim@x.org\n")
    import_csv(wh, second, store_id="csv:shop", timezone="UTC")
    assert customers_of_orders(wh, "csv:shop") == {"B1": "K9", "B2": "K9"}
    assert customer_ids(wh, "csv:shop") == {"K9"}
    assert ranks(wh, "csv:shop") == {"B1": ("K9", 1), "B2": ("K9", 2)}

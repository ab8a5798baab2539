"""Customer contacts: names and emails from every source into customer_contacts, shown on Orders and
Customers, left out by STORE_CUSTOMER_CONTACTS=off, erased by ``python -m data erase-customer``."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from analytics.customers.views import customer_table
from analytics.orders import OrderQuery, order_detail, order_page
from connectors.csv_import import import_csv
from connectors.shopify import normalize as shopify
from connectors.shopify import rest as shopify_rest
from connectors.stripe import normalize as stripe
from connectors.woocommerce import normalize as woo
from data.contacts import contact_row, contacts_frame, erase_customer
from data.warehouse import connect
from tests.app_support import app_store  # noqa: F401 - a fixture
from tests.builders import add_order, add_store, local
from tests.test_settings_page import no_platform_env  # noqa: F401 - a fixture

FIXTURES = Path("/work/shared/fixtures")
ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.timezone.utc)
TZ = "America/New_York"


def fixture(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text())


def sha(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


# -- the sources ------------------------------------------------------------------------------

def test_shopify_customer_gives_its_name_email_and_phone():
    rows = shopify.Rows("s", NOW)
    shopify.add_customer(rows, {
        "id": "gid://shopify/Customer/207119551", "createdAt": "2015-05-27T18:11:24-04:00",
        "updatedAt": "2026-10-01T09:00:00-04:00", "tags": [], "firstName": " Bob ", "lastName": "Norman",
        "defaultEmailAddress": {"emailAddress": " Bob.Norman@Hostmail.com ", "marketingState": "SUBSCRIBED"},
        "defaultPhoneNumber": {"phoneNumber": "+16136120707"}, "defaultAddress": {"countryCodeV2": "US"}})
    frames = rows.frames()
    assert frames["customers"]["email_hash"].to_list() == [sha("bob.norman@hostmail.com")]
    assert frames["customer_contacts"].select("customer_id", "name", "email", "phone").rows() == [
        ("207119551", "Bob Norman", "bob.norman@hostmail.com", "+16136120707")]


def test_shopify_webhook_customer_payload_gives_its_name():
    rows = shopify.Rows("s", NOW)
    shopify_rest.add_customer(rows, fixture("shopify/customer.json")["customer"])
    assert rows.frames()["customer_contacts"].select("customer_id", "name", "email").rows() == [
        ("207119551", "Bob Norman", "bob.norman@hostmail.com")]


def test_a_customer_without_name_email_or_phone_has_no_contact_row():
    rows = shopify.Rows("s", NOW)
    shopify.add_customer(rows, {"id": "gid://shopify/Customer/1", "tags": []})
    assert "customer_contacts" not in rows.frames()


def test_woocommerce_registered_customer_and_guest_order():
    customer = fixture("woocommerce/customers__retrieve_a_customer.json")
    customer = customer.get("response", customer) if isinstance(customer, dict) else customer
    contact = woo.customer_contact("s", customer, NOW)
    assert (contact["customer_id"], contact["name"], contact["email"], contact["phone"]) == (
        str(customer["id"]), "John Doe", "john.doe@example.com", "(555) 555-5555")
    order = copy.deepcopy(fixture("woocommerce/orders__retrieve_an_order.json"))
    order = order.get("response", order)
    order["customer_id"] = 0
    order["billing"].update({"first_name": "Ana", "last_name": "Lima", "email": "Ana@Example.org", "phone": ""})
    tables = woo.order_tables("s", order, [], NOW)
    guest = f"guest:{sha('ana@example.org')}"
    assert tables["orders"][0]["customer_id"] == guest
    assert [(c["customer_id"], c["name"], c["email"], c["phone"]) for c in tables["customer_contacts"]] == [
        (guest, "Ana Lima", "ana@example.org", None)]


def test_stripe_customer_name_email_and_phone():
    customer = dict(fixture("stripe/fixtures3.json")["resources"]["customer"], name="Mia Wong",
                    email="mia@example.net", phone="+65 6123 4567")
    rows = stripe.customer_rows(customer, "s", NOW)
    (contact,) = rows["customer_contacts"]
    assert (contact["customer_id"], contact["name"], contact["email"], contact["phone"]) == (
        "cus_QXg1o8vcGmoR32", "Mia Wong", "mia@example.net", "+65 6123 4567")
    # The fixture as it is (no name, email or phone): no contact row.
    assert "customer_contacts" not in stripe.customer_rows(fixture("stripe/fixtures3.json")["resources"]["customer"],
                                                           "s", NOW)


GENERIC = """\
order_id,created_at,sku,quantity,unit_price,customer_id,email,customer_name
A1,2026-03-02 10:00:00,TEE,1,20.00,C1,, Jane  Doe
A2,2026-03-03 10:00:00,MUG,1,10.00,,Bob@Example.COM,
A3,2026-03-04 10:00:00,MUG,1,10.00,C1,jane@example.com,
"""


def test_csv_import_keeps_the_name_and_email_and_a_later_file_adds_to_them(wh, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(GENERIC)
    import_csv(wh, path, store_id="csv:shop", timezone="UTC", currency="USD")
    rows = wh.rows("SELECT customer_id, name, email FROM customer_contacts ORDER BY customer_id")
    # C1: the name of A1 and the address of A3; Bob: his address only, under the id derived from its hash.
    assert rows == [("C1", "Jane Doe", "jane@example.com"), (f"email:{sha('bob@example.com')}", None,
                                                              "bob@example.com")]
    later = tmp_path / "later.csv"
    later.write_text("order_id,created_at,sku,quantity,unit_price,customer_id,email,customer_name\n"
                     "A4,2026-03-05 10:00:00,TEE,1,20.00,C1,,\n")
    import_csv(wh, later, store_id="csv:shop", timezone="UTC", currency="USD")
    assert wh.rows("SELECT name, email FROM customer_contacts WHERE customer_id = 'C1'") == [
        ("Jane Doe", "jane@example.com")]


def test_shopify_export_billing_name(wh, tmp_path):
    path = tmp_path / "orders_export_1.csv"
    path.write_text("Name,Email,Financial Status,Currency,Created at,Lineitem quantity,Lineitem name,"
                    "Lineitem price,Lineitem sku,Billing Name\n"
                    "#1001,Jane.Doe@example.com,paid,USD,2026-03-01 18:04:11 -0500,1,Tee,25.00,TEE,Jane Doe\n")
    import_csv(wh, path, store_id="csv:shopify")
    assert wh.rows("SELECT customer_id, name, email FROM customer_contacts") == [
        (f"email:{sha('jane.doe@example.com')}", "Jane Doe", "jane.doe@example.com")]


# -- the setting, and erasure ---------------------------------------------------------------------

def _contacts(store_id: str = "s") -> pl.DataFrame:
    return contacts_frame([
        contact_row(store_id, "c1", name="Ana Lima", email="ana@example.org", phone="555-0101"),
        contact_row(store_id, "c2", name="Bob Ng", email="bob@example.org"),
    ])


def test_with_the_setting_off_nothing_is_written(wh, monkeypatch):
    monkeypatch.setenv("STORE_CUSTOMER_CONTACTS", "off")
    assert wh.upsert("customer_contacts", _contacts()) == 0
    assert wh.insert("customer_contacts", _contacts()) == 0
    assert wh.scalar("SELECT COUNT(*) FROM customer_contacts") == 0
    monkeypatch.setenv("STORE_CUSTOMER_CONTACTS", "on")
    assert wh.upsert("customer_contacts", _contacts()) == 2


def _store_with_people(wh) -> None:
    add_store(wh, "s", timezone=TZ)
    add_order(wh, "o1", local(TZ, 2026, 3, 2, 10), [(1, "20.00", "0")], customer="c1")
    add_order(wh, "o2", local(TZ, 2026, 3, 3, 10), [(2, "15.00", "0")], customer="c2")
    add_order(wh, "o3", local(TZ, 2026, 3, 4, 10), [(1, "9.00", "0")], customer=None)
    wh.upsert("customers", pl.DataFrame({"store_id": ["s", "s"], "customer_id": ["c1", "c2"],
                                         "email_hash": [sha("ana@example.org"), sha("bob@example.org")]}))
    wh.upsert("customer_contacts", _contacts())


@pytest.mark.parametrize("who, erased", [
    ({"customer_id": "c1"}, ["c1"]),
    ({"email": " ANA@example.org "}, ["c1"]),
    ({"email": "nobody@example.org"}, []),
], ids=["by id", "by email, any case", "an unknown address"])
def test_erase_customer(wh, who, erased):
    _store_with_people(wh)
    assert erase_customer(wh, "s", **who) == erased
    left = {r[0] for r in wh.rows("SELECT customer_id FROM customer_contacts")}
    assert left == {"c1", "c2"} - set(erased)
    hashes = dict(wh.rows("SELECT customer_id, email_hash FROM customers"))
    assert [c for c, h in hashes.items() if h is None] == erased
    # Orders keep the customer's id: sales still add up.
    assert wh.scalar("SELECT COUNT(*) FROM orders WHERE customer_id = 'c1'") == 1


def test_an_erasure_changes_the_data_version_so_no_cached_page_shows_the_name(wh):
    from analytics.store_state import data_version
    from data.rollups import refresh_store

    _store_with_people(wh)
    refresh_store(wh, "s")
    before = data_version(wh, "s")
    assert before.contacts[0] == "2"
    erase_customer(wh, "s", customer_id="c1")
    after = data_version(wh, "s")
    assert after.contacts[0] == "1" and after.everything != before.everything and after.history != before.history
    assert after.orders == before.orders == 3


def test_erase_customer_command(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with connect(url) as wh:
        _store_with_people(wh)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "data", "erase-customer", *args, "--db", url],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)

    done = run("--store", "s", "--email", "bob@example.org")
    assert done.returncode == 0 and "customer c2" in done.stdout and "bob@" not in done.stdout
    assert run("--store", "s", "--customer", "c9").returncode == 1
    missing = run("--store", "nope", "--customer", "c1")
    assert missing.returncode == 2 and "no store 'nope'" in missing.stderr
    assert run("--store", "s", "--all").returncode == 0
    with connect(url) as wh:
        assert wh.scalar("SELECT COUNT(*) FROM customer_contacts") == 0


# -- where they are shown ---------------------------------------------------------------------

def test_orders_show_the_name_and_email_and_search_finds_them(wh):
    _store_with_people(wh)
    query = OrderQuery(store_id="s", start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), timezone=TZ)
    rows = order_page(wh, query).rows
    assert rows.select("order_id", "customer_name", "customer_email").rows() == [
        ("o3", None, None), ("o2", "Bob Ng", "bob@example.org"), ("o1", "Ana Lima", "ana@example.org")]
    for text in ("lima", "ANA@example.org"):
        found = order_page(wh, OrderQuery(store_id="s", start=query.start, end=query.end, timezone=TZ,
                                          search=text)).rows
        assert found["order_id"].to_list() == ["o1"], text
    detail = order_detail(wh, "s", "o2", TZ)
    assert (detail.order["customer_name"], detail.order["customer_email"]) == ("Bob Ng", "bob@example.org")


def test_customer_lists_and_segment_export_carry_names(wh):
    _store_with_people(wh)
    as_of = dt.date(2026, 3, 31)
    wh.insert("customer_scores", pl.DataFrame({
        "store_id": ["s", "s"], "customer_id": ["c1", "c2"], "as_of": [as_of, as_of],
        "rfm_segment": ["Champions", "At risk"]}))
    table = customer_table(wh, "s", as_of)
    assert table.select("customer_id", "customer_name", "customer_email").rows() == [
        ("c1", "Ana Lima", "ana@example.org"), ("c2", "Bob Ng", "bob@example.org")]
    assert customer_table(wh, "s", as_of, "At risk")["customer_name"].to_list() == ["Bob Ng"]


def test_settings_erases_a_person_from_the_running_app(app_store, no_platform_env):
    from data.warehouse import shared
    from tests.test_settings_page import settings_page

    app_store(_store_with_people)
    at = settings_page()
    assert "Names, emails and phones from the stores and imports are kept" in " ".join(c.value for c in at.caption)
    at.form_submit_button[[b.label for b in at.form_submit_button].index("Erase their contact details")].click()
    at.run()
    assert [e.value for e in at.error] == ["Type the customer's id or email address first."]
    at.text_input(key="privacy_who").input("Ana@Example.org")
    at.form_submit_button[[b.label for b in at.form_submit_button].index("Erase their contact details")].click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success][-1].startswith("Erased the name, email, phone and email hash of customer c1.")
    wh = shared()
    assert wh.rows("SELECT customer_id FROM customer_contacts") == [("c2",)]
    at.text_input(key="privacy_who").input("c9")
    at.form_submit_button[[b.label for b in at.form_submit_button].index("Erase their contact details")].click()
    at.run()
    assert [w.value for w in at.warning][-1] == "No customer of this store has that id or address; nothing was changed."

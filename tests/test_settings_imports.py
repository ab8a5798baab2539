"""Settings' Import data and Run now sections under AppTest: the uploads go through the all-or-nothing importers,
and the refresh, the digest and the report work from the page while the app holds the embedded file."""

from __future__ import annotations

import io
import tomllib
import zipfile
from decimal import Decimal


from data.warehouse import shared
from tests.app_support import app, app_store, texts  # noqa: F401 - app_store is a fixture
from tests.inventory_store import build_inventory_store
from tests.test_csv_import import SHOPIFY_HEADER, SHOPIFY_ROWS, TWO_ORDERS
from tests.test_inventory_alerts import http_sink  # noqa: F401 - a fixture
from tests.test_settings_page import no_platform_env, settings_page  # noqa: F401 - no_platform_env is a fixture


def _upload(at, key: str, name: str, text: str):
    at.file_uploader(key=key).set_value((name, text.encode(), "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _click(at, key: str):
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shopify_csv() -> str:
    import csv

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SHOPIFY_HEADER, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(SHOPIFY_ROWS)
    return buffer.getvalue()


GENERIC = "\n".join(line.strip() for line in TWO_ORDERS.splitlines()) + "\n"


def test_an_orders_csv_uploaded_in_settings_is_imported(app_store, no_platform_env):
    app_store()
    at = settings_page()
    _upload(at, "upload_orders_csv", "march.csv", GENERIC)
    at.text_input(key="upload_orders_store").input("csv:shop")
    at.text_input(key="upload_orders_timezone").input("America/New_York")
    _click(at, "upload_orders_import")
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success][-1].startswith(
        "Imported 2 orders (3 lines, 0 refunds, 2 customers, 2 products) into store csv:shop from a generic CSV in ")
    wh = shared()
    # A1: 2 x 19.99 + 12.50 - 4.00 + 5.00 shipping + 4.28 tax = 57.76; A2: 3 x 12.50 = 37.50
    assert wh.rows("SELECT order_id, total_price FROM orders ORDER BY order_id") == [
        ("A1", Decimal("57.76")), ("A2", Decimal("37.50"))]
    assert wh.rows("SELECT store_id, timezone FROM stores") == [("csv:shop", "America/New_York")]


def test_a_shopify_export_uploaded_in_settings_is_imported(app_store, no_platform_env):
    app_store()
    at = settings_page()
    _upload(at, "upload_orders_csv", "orders_export_1.csv", _shopify_csv())
    at.text_input(key="upload_orders_timezone").input("America/New_York")
    _click(at, "upload_orders_import")
    assert not at.error, [e.value for e in at.error]
    assert "from a shopify CSV" in at.success[-1].value
    assert shared().scalar("SELECT count(*) FROM orders WHERE store_id = 'csv:import'") == 4


def test_a_bad_orders_csv_gets_one_sentence_and_writes_nothing(app_store, no_platform_env):
    app_store()
    at = settings_page()
    bad = "order_id,created_at,sku,quantity,unit_price\n1,2026-03-01,A,1,5.00\n1,2026-03-02,B,-1,5.00\n"
    _upload(at, "upload_orders_csv", "orders.csv", bad)
    _click(at, "upload_orders_import")
    assert [e.value for e in at.error] == ['row 3, column sku: order 1 has no sale of sku "B" to return']
    assert not at.success
    wh = shared()
    assert wh.scalar("SELECT count(*) FROM stores") == 0 and wh.scalar("SELECT count(*) FROM orders") == 0


def test_supplier_items_uploaded_in_settings_all_or_nothing(app_store, no_platform_env):
    app_store(build_inventory_store)
    at = settings_page()
    assert at.selectbox(key="upload_supplier_store").value == "s"
    _upload(at, "upload_supplier_items_csv", "items.csv", "supplier,sku,unit_cost\nAcme,SKU-v3,1.20\nNobody,SKU-v4,2\n")
    _click(at, "upload_supplier_items_import")
    assert [e.value for e in at.error] == ["Nothing was imported: Line 3: there is no supplier 'Nobody': add it first."]
    assert shared().scalar("SELECT count(*) FROM supplier_items") == 2  # as the store was built
    _upload(at, "upload_supplier_items_csv", "items.csv", "supplier,sku,unit_cost\nAcme,SKU-v3,1.20\nBolt,SKU-v4,2\n")
    _click(at, "upload_supplier_items_import")
    assert "Imported 2 supplier items." in [s.value for s in at.success]
    assert shared().rows("SELECT supplier_id, variant_id, unit_cost FROM supplier_items ORDER BY 1, 2") == [
        ("sup-1", "v1", Decimal("4.0000")), ("sup-1", "v3", Decimal("1.2000")),
        ("sup-2", "v2", Decimal("7.5000")), ("sup-2", "v4", Decimal("2.0000"))]


def test_refresh_digest_and_report_run_from_the_page(app_store, no_platform_env, http_sink):
    url, posts = http_sink
    app_store(build_inventory_store)
    at = settings_page()
    assert "The stock-alert digest is off" in texts(at)
    assert not any(b.key == "actions_digest" for b in at.button)

    # the digest's webhook saved on the page, then the digest sent from it
    at.text_input(key="settings_digest_DIGEST_WEBHOOK_URL").input(url)
    _click(at, "FormSubmitter:settings_form_digest-Save")
    assert tomllib.loads(no_platform_env.read_text()) == {"DIGEST_WEBHOOK_URL": url}
    _click(at, "actions_digest")
    sent = [s.value for s in at.success if s.value.startswith("Sent today's digest")]
    assert len(sent) == 1 and sent[0].endswith("by webhook."), [e.value for e in at.error]
    assert len(posts) == 1 and "Stock alerts" in posts[0][1]["text"]
    _click(at, "actions_digest")
    assert "Today's digest was already sent; the next one goes out tomorrow." in [i.value for i in at.info]
    assert len(posts) == 1

    # the refresh: scores and forecasts written by the app's own process
    _click(at, "actions_refresh")
    assert not at.error, [e.value for e in at.error]
    assert "Refreshed Store s: the pages show the new figures." in [s.value for s in at.success]
    kinds = {k for (k,) in shared().rows("SELECT DISTINCT kind FROM model_runs WHERE status = 'succeeded'")}
    assert {"rfm", "clv", "forecast"} <= kinds

    # the report folder as a zip (no charts: no Chromium needed)
    import datetime as dt

    at.date_input(key="actions_report_range").set_value((dt.date(2026, 3, 1), dt.date(2026, 3, 31)))
    at.checkbox(key="actions_report_charts").uncheck()
    at.run()
    _click(at, "actions_report_build")
    assert not at.error, [e.value for e in at.error]
    store_id, start, end, data, result = at.session_state["_report_archive"]
    assert (store_id, start, end) == ("s", dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    folder = "report-s-2026-03-01-2026-03-31"
    assert f"{folder}/index.html" in names and len(names) == len(result.files) + (0 if "index.html" in result.files
                                                                                  else 1)
    assert all(name.startswith(folder + "/") for name in names)


def test_on_an_empty_warehouse_the_demo_store_is_built_from_the_page(app_store, no_platform_env, monkeypatch):
    monkeypatch.setenv("DEMO_ORDERS", "60")
    app_store()
    at = settings_page()
    assert at.button(key="actions_demo").label == "Build the demo store (60 orders)"
    _click(at, "actions_demo")
    assert shared().rows("SELECT store_id FROM stores") == [("demo",)]
    assert 40 <= shared().scalar("SELECT count(*) FROM orders") <= 80  # about 60
    assert not any(b.key == "actions_demo" for b in at.button)

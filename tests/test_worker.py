"""The PostgreSQL worker: webhooks and a health check in a process of their own."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from connectors.worker import worker_app
from data.warehouse import connect
from tests.emulators.woocommerce import WooEmulator, webhook_delivery

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec-worker-test"
UTC = dt.timezone.utc


def test_worker_stores_and_applies_a_signed_delivery_and_refuses_a_forged_one(pg_url, monkeypatch):
    wh = connect(pg_url)
    with WooEmulator() as emu:
        emu.add_product(13, name="Sticker", sku="STICKER", price="10.00", created=dt.datetime(2026, 3, 1, tzinfo=UTC))
        emu.add_order(301, created=dt.datetime(2026, 3, 10, 14, tzinfo=UTC), lines=[
            dict(id=3001, product_id=13, sku="STICKER", quantity=2, subtotal="20.00")])
        for name, value in (("WOOCOMMERCE_WEBHOOK_SECRET", SECRET), ("WOOCOMMERCE_URL", emu.url),
                            ("WOOCOMMERCE_KEY", emu.key), ("WOOCOMMERCE_SECRET", emu.secret),
                            ("SYNC_INTERVAL_MINUTES", "0")):
            monkeypatch.setenv(name, value)
        headers, body = webhook_delivery(emu, "order.created", emu.order_payload(301), SECRET)
        forged_headers, forged_body = webhook_delivery(emu, "order.created", emu.order_payload(301), "wrong")
        with TestClient(worker_app(wh)) as client:
            assert client.get("/health").json()["status"] == "ready"
            assert client.post("/webhooks/woocommerce", content=forged_body, headers=forged_headers).status_code == 401
            answer = client.post("/webhooks/woocommerce", content=body, headers=headers)
    assert (answer.status_code, answer.text) == (200, "applied")
    # 2 stickers at 10.00: the order and its rollup are there, the forged delivery left nothing.
    assert wh.rows("SELECT order_id, subtotal FROM orders") == [("301", 20)]
    assert wh.scalar("SELECT gross_sales FROM order_facts") == 20
    assert wh.scalar("SELECT count(*) FROM webhook_events") == 1
    wh.close()


@pytest.mark.parametrize("url", ["duckdb:///tmp/not-created.duckdb"], ids=["embedded-duckdb"])
def test_worker_refuses_the_embedded_file_with_one_sentence(url):
    proc = subprocess.run([sys.executable, "-m", "connectors", "worker", "--db", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "only with PostgreSQL" in proc.stderr
    assert "Traceback" not in proc.stderr

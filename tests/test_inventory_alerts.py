"""The daily stock-alert digest, sent to a local SMTP server (aiosmtpd) and a local HTTP server."""

from __future__ import annotations

import email
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import polars as pl
import pytest

from analytics.inventory.alerts import DigestConfig, alerts_from_health, digest_text, send_daily_digest
from analytics.inventory.choices import InventoryChoices
from analytics.inventory.stock import stock_health
from analytics.store_state import list_stores
from tests.builders import utc
from tests.inventory_store import AS_OF, build_inventory_store

# 31 March 2026 13:00 UTC is 09:00 in New York (the store's day 31 March); 1 April 03:00 UTC is still 31 March
# there (23:00); 1 April 05:00 UTC is 1 April.
MORNING, LATE, NEXT_DAY = utc(2026, 3, 31, 13), utc(2026, 4, 1, 3), utc(2026, 4, 1, 5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler hook
            self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
            return "250 OK"

    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler.messages
    controller.stop()


@pytest.fixture
def http_sink():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Content-Type"], json.loads(body)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def store(wh):
    build_inventory_store(wh)
    return list_stores(wh)[0]


def fixed_health(wh):
    return lambda: stock_health(wh, "s", AS_OF, InventoryChoices())


def test_the_alert_lists(wh, store):
    alerts = alerts_from_health(fixed_health(wh)())
    assert alerts.select("kind", "variant_id").rows() == [
        ("stockout", "v4"), ("stockout_risk", "v2"),
        ("reorder", "v1"), ("reorder", "v2"), ("reorder", "v4"),   # by net sales over 90 days: 1,800, 300, 30
        ("dead_stock", "v3")]
    text = digest_text(store, AS_OF, alerts)
    assert "Out of stock (1)\n- SKU-v4 Product v4: 0 available" in text
    assert "- SKU-v1 Product v1: order 24 from Acme" in text
    assert "Will run out before a reorder arrives (1)\n- SKU-v2 Product v2: 5 available, 5 days of cover" in text


def test_email_and_webhook_once_a_day(wh, store, smtp_sink, http_sink):
    controller, messages = smtp_sink
    url, posts = http_sink
    config = DigestConfig(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_security="none",
                          smtp_from="stock@shop.test", email_to=("owner@shop.test", "buyer@shop.test"),
                          webhook_url=url)
    outcome = send_daily_digest(wh, store, MORNING, config=config, health=fixed_health(wh))
    assert (outcome.status, outcome.channels, outcome.alerts) == ("sent", ("email", "webhook"), 6)
    [(recipients, message)] = messages
    assert recipients == ["owner@shop.test", "buyer@shop.test"]
    assert message["Subject"] == "Stock alerts for Store s: 6 to act on"
    assert "Reorder now (3)" in message.get_payload()
    [(content_type, body)] = posts
    assert content_type == "application/json" and body["text"].startswith("Stock alerts for Store s, 31 Mar 2026")

    # Later the same store-local day: nothing more is sent.
    again = send_daily_digest(wh, store, LATE, config=config, health=fixed_health(wh))
    assert again.status == "already_sent" and len(messages) == 1 and len(posts) == 1
    # The next day: a new digest.
    assert send_daily_digest(wh, store, NEXT_DAY, config=config, health=fixed_health(wh)).status == "sent"
    assert len(messages) == 2 and len(posts) == 2
    assert wh.rows("SELECT CAST(digest_date AS TEXT), channels, alerts FROM inventory_digests ORDER BY 1") == [
        ("2026-03-31", "email,webhook", 6), ("2026-04-01", "email,webhook", 6)]


def test_nothing_configured_or_unreachable_is_not_recorded(wh, store):
    assert send_daily_digest(wh, store, MORNING, config=DigestConfig()).status == "not_configured"
    dead = DigestConfig(webhook_url=f"http://127.0.0.1:{free_port()}/hook")
    failed = send_daily_digest(wh, store, MORNING, config=dead, health=fixed_health(wh))
    assert failed.status == "failed" and failed.message.startswith("webhook: ")
    assert wh.scalar("SELECT COUNT(*) FROM inventory_digests") == 0


def test_an_empty_store_says_so(wh, store):
    empty = alerts_from_health(fixed_health(wh)().filter(pl.lit(False)))
    assert digest_text(store, AS_OF, empty) == "Stock alerts for Store s, 31 Mar 2026: nothing to act on."

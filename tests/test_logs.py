"""The one logging configuration (data/logs.py): LOG_LEVEL, one line per event, and no secret in any line.

The secrets are set to known values; the app's code then syncs against the emulators (one
connection that works, one whose token is wrong), a forged webhook arrives, and a command runs
in a process of its own. Every line the configured handler wrote is searched for the values.
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from data.logs import CHATTY, REDACTED, configure_logging, log_level, redact
from data.settings import overridden
from tests.app_support import ROOT

WOO_KEY = "ck_known-key-7c1d-never-logged"
WOO_SECRET = "cs_known-secret-2b9e-never-logged"
SHOPIFY_TOKEN = "shpat_known-token-5a3f-never-logged"
SHOPIFY_WEBHOOK_SECRET = "shpss_known-webhook-9d4c-never-logged"
DB_PASSWORD = "pw-known-8e2a/never"
SECRETS = (WOO_KEY, WOO_SECRET, SHOPIFY_TOKEN, SHOPIFY_WEBHOOK_SECRET, DB_PASSWORD)
# time level logger: message
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: \S")


@pytest.fixture
def logs(monkeypatch):
    """The app's logging configuration writing into a buffer; the root logger as it was afterwards."""
    monkeypatch.setattr("data.settings._secrets", lambda: {})
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    buffer = io.StringIO()

    def configure(level: str = "DEBUG") -> io.StringIO:
        configure_logging(level, stream=buffer)
        return buffer

    yield configure
    for handler in list(root.handlers):
        if handler not in before[1]:
            root.removeHandler(handler)
    root.setLevel(before[0])
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET)


def lines_of(buffer: io.StringIO) -> list[str]:
    return buffer.getvalue().splitlines()


# -- the shape of a line --------------------------------------------------------------

def test_a_line_has_the_time_the_level_and_the_logger(logs):
    buffer = logs("INFO")
    logging.getLogger("connectors.sync.runner").info("sync of %s/%s: %d records read", "shop", "orders", 3)
    logging.getLogger("connectors.sync.runner").debug("not at INFO")
    (line,) = lines_of(buffer)
    assert LINE.match(line)
    assert line.endswith(" INFO connectors.sync.runner: sync of shop/orders: 3 records read")


def test_an_exception_is_one_line_below_debug_and_a_traceback_at_debug(logs):
    log = logging.getLogger("connectors.sync.scheduler")
    buffer = logs("INFO")
    try:
        raise ValueError("the answer was not JSON\nat all")
    except ValueError:
        log.exception("automatic shopify sync failed")
    (line,) = lines_of(buffer)
    assert LINE.match(line)
    assert re.search(r"automatic shopify sync failed \[ValueError: the answer was not JSON\\nat all "
                     r"at test_logs\.py:\d+\]$", line)

    buffer = logs("DEBUG")
    buffer.truncate(0), buffer.seek(0)
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("automatic shopify sync failed")
    first, *rest = lines_of(buffer)
    assert re.search(r"automatic shopify sync failed \[ValueError: boom at test_logs\.py:\d+\]$", first)
    assert rest[0] == "    Traceback (most recent call last):" and rest[-1] == "    ValueError: boom"
    assert all(part.startswith("    ") for part in rest)


@pytest.mark.parametrize("value, level, problem", [
    (None, logging.INFO, None),
    ("debug", logging.DEBUG, None),
    (" Warning ", logging.WARNING, None),
    ("warn", logging.WARNING, None),
    ("ERROR", logging.ERROR, None),
    ("loud", logging.INFO, "LOG_LEVEL 'loud' is not one of DEBUG, INFO, WARNING, ERROR; logging at INFO."),
], ids=["default", "lower-case", "spaces", "warn", "error", "unknown"])
def test_log_level_names(value, level, problem, monkeypatch):
    monkeypatch.setattr("data.settings._secrets", lambda: {})
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    assert log_level(value) == (level, problem)


def test_an_unknown_level_is_said_once_and_info_is_used(logs):
    buffer = logs("loud")
    logging.getLogger("x").debug("hidden")
    logging.getLogger("x").info("shown")
    assert [line.split(" ", 3)[3] for line in lines_of(buffer)] == [
        "data.logs: LOG_LEVEL 'loud' is not one of DEBUG, INFO, WARNING, ERROR; logging at INFO.", "x: shown"]


def test_requests_of_http_libraries_are_heard_at_debug_only(logs):
    buffer = logs("INFO")
    logging.getLogger("urllib3.connectionpool").debug("GET /orders")
    logging.getLogger("httpx").info("HTTP Request: POST /v1/responses")
    assert lines_of(buffer) == []
    buffer = logs("DEBUG")
    logging.getLogger("httpx").info("HTTP Request: POST /v1/responses")
    assert len(lines_of(buffer)) == 1


# -- redaction ------------------------------------------------------------------------

def test_secret_values_are_redacted_wherever_they_are(logs, monkeypatch):
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", SHOPIFY_TOKEN)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:{DB_PASSWORD.replace('/', '%2F')}@db:5432/shop")
    buffer = logs("DEBUG")
    log = logging.getLogger("tests.logs")
    log.info("token %s in an argument", SHOPIFY_TOKEN)
    log.info(f"password {DB_PASSWORD} decoded, {DB_PASSWORD.replace('/', '%2F')} as in the URL")
    try:
        raise RuntimeError(f"answer mentions {SHOPIFY_TOKEN}")
    except RuntimeError:
        log.exception("failed")
    # A value tried before it is saved (a connection test) is a secret on that thread too.
    with overridden({"WOOCOMMERCE_SECRET": WOO_SECRET}):
        log.warning("tried %s", WOO_SECRET)
    text = buffer.getvalue()
    assert not [s for s in SECRETS if s in text]
    # the argument; both forms of the password; the exception on the line and its traceback's last line;
    # the value tried
    assert text.count(REDACTED) == 1 + 2 + 2 + 1
    assert redact("short: on", ["on"]) == "short: [redacted]"


# -- the app's code, with the secrets set ---------------------------------------------

def test_no_line_holds_a_secret_through_syncs_failures_and_a_forged_webhook(logs, monkeypatch, tmp_path):
    from connectors.sync.status import sync_platform, test_connection
    from connectors.webhooks import webhook_routes
    from data.warehouse import connect
    from tests.emulators.shopify import ShopifyEmulator
    from tests.emulators.woocommerce import WooEmulator
    from tests.test_shopify_webhooks import delivery
    from tests.test_woocommerce import build_store

    buffer = logs("DEBUG")
    raw: list[str] = []  # what the records said before the configured handler redacted them

    class Raw(logging.Handler):
        def emit(self, record):
            raw.append(record.getMessage())

    catcher = Raw(logging.DEBUG)
    logging.getLogger().handlers.insert(0, catcher)  # before the configured handler redacts the record
    wh = connect(f"duckdb:///{tmp_path / 'w.duckdb'}")
    try:
        with WooEmulator(key=WOO_KEY, secret=WOO_SECRET) as woo, ShopifyEmulator() as shop:
            build_store(woo)
            shop.token = SHOPIFY_TOKEN
            for name, value in (("WOOCOMMERCE_URL", woo.url), ("WOOCOMMERCE_KEY", WOO_KEY),
                                ("WOOCOMMERCE_SECRET", WOO_SECRET), ("SHOPIFY_STORE", shop.url),
                                ("SHOPIFY_ACCESS_TOKEN", SHOPIFY_TOKEN),
                                ("SHOPIFY_WEBHOOK_SECRET", SHOPIFY_WEBHOOK_SECRET)):
                monkeypatch.setenv(name, value)
            assert sum(r.rows_read for r in sync_platform(wh, "woocommerce")) > 0
            ok, _ = test_connection("shopify", {"SHOPIFY_ACCESS_TOKEN": SHOPIFY_TOKEN + "-wrong"})
            assert not ok
            headers, body = delivery("orders/create", {"id": 1}, secret="forged-" + SHOPIFY_WEBHOOK_SECRET)
            with TestClient(Starlette(routes=webhook_routes(lambda: wh))) as client:
                assert client.post("/webhooks/shopify", content=body, headers=headers).status_code == 401
    finally:
        logging.getLogger().removeHandler(catcher)
        wh.close()

    lines = lines_of(buffer)
    assert not [line for line in lines for s in SECRETS if s in line]
    # What the lines tell: the sync, the retries' requests, the refused webhook.
    assert any("sync of woocommerce:" in line and "records read" in line for line in lines)
    assert any("shopify webhook from testclient refused: the X-Shopify-Hmac-Sha256 signature does not match"
               in line for line in lines)
    # The WooCommerce library's requests carry the consumer key in their URL (urllib3 logs it at DEBUG):
    # the redaction is what kept it out of the lines.
    assert any(WOO_KEY in message for message in raw)
    assert any(REDACTED in line and "urllib3" in line for line in lines)
    assert all(LINE.match(line) or line.startswith("    ") for line in lines)


def test_a_command_logs_through_the_same_configuration_without_secrets(tmp_path):
    from tests.emulators.shopify import ShopifyEmulator

    with ShopifyEmulator(token=SHOPIFY_TOKEN) as shop:
        shop.fail(503, times=1, retry_after=0.1)
        env = {**os.environ, "SHOPIFY_STORE": shop.url, "SHOPIFY_ACCESS_TOKEN": SHOPIFY_TOKEN,
               "LOG_LEVEL": "DEBUG", "DATABASE_URL": f"duckdb:///{tmp_path / 'w.duckdb'}"}
        done = subprocess.run([sys.executable, "-m", "connectors", "sync", "shopify"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert SHOPIFY_TOKEN not in done.stderr + done.stdout
    logged = [line for line in done.stderr.splitlines() if LINE.match(line)]
    assert any(re.search(r" INFO connectors\.sync\.retry: Shopify shop: HTTP 503; trying again in [\d.]+ s$", line)
               for line in logged)
    assert any(" INFO connectors.sync.runner: sync of shopify:127.0.0.1/orders: 6 records read" in line
               for line in logged)
    assert "Traceback" not in done.stderr

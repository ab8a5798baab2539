"""The webhook routes and the readiness route of the app as ``streamlit run server.py`` serves them.

- Memory stays flat under large unsigned bodies: four concurrent 128 MB POSTs (two with a
  Content-Length, two chunked) are each answered 413 once the limit is passed, and the server
  process's peak resident memory (``VmHWM`` in ``/proc/<pid>/status``, reset just before through
  ``clear_refs``) grows by far less than one body.
- With the warehouse unreachable, ``/_stcore/health`` still says Streamlit is up, but
  ``/health/ready`` answers 503 naming the warehouse, and a signed delivery gets 503 with one line
  in the server's log and no traceback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import select
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.app_server import serve_app
from tests.app_support import TEST_COOKIE_KEY, write_test_users

BODY_MB = 128
CHUNK = b"x" * (1024 * 1024)
SECRETS = {"SHOPIFY_WEBHOOK_SECRET": "shpss_served", "WOOCOMMERCE_WEBHOOK_SECRET": "wc-served",
           "STRIPE_WEBHOOK_SECRET": "whsec_served"}
QUIET = {"DEMO_FEED": "off", "SYNC_INTERVAL_MINUTES": "0", "REFRESH_INTERVAL_HOURS": "0", **SECRETS}


def memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0])
    return fields


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM starts again from the current VmRSS


def post_large(port: int, platform: str, chunked: bool, results: dict, key: str) -> None:
    """POST BODY_MB of unsigned bytes, stopping as soon as the server answers; records (status, MB sent)."""
    sent = 0
    status = None
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BODY_MB * len(CHUNK)}"
        sock.sendall((f"POST /webhooks/{platform} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Content-Type: application/json\r\n{framing}\r\n\r\n").encode())
        answer = b""
        for _ in range(BODY_MB):
            if select.select([sock], [], [], 0)[0]:
                break
            piece = (b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n") if chunked else CHUNK
            try:
                sock.sendall(piece)
            except OSError:  # the server closed the connection after answering
                break
            sent += len(CHUNK)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")  # the whole body went: its last chunk
        deadline = time.monotonic() + 20
        while b"\r\n" not in answer and time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            answer += data
        if answer.startswith(b"HTTP/1.1 "):
            status = int(answer.split()[1])
    finally:
        sock.close()
    results[key] = (status, sent // len(CHUNK))


@pytest.fixture
def users(tmp_path):
    return write_test_users(tmp_path / "credentials.yaml")


def test_memory_stays_flat_under_concurrent_large_unsigned_bodies(tmp_path, users):
    db_url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    with serve_app(db_url, users, TEST_COOKIE_KEY, tmp_path / "server.log", **QUIET) as (url, pid):
        port = int(url.rsplit(":", 1)[1])
        with urllib.request.urlopen(f"{url}/health/ready", timeout=10) as ready:
            assert json.loads(ready.read())["status"] == "ready"
        for platform in ("shopify", "woocommerce", "stripe"):  # each receiver's module imported before measuring
            warm_up = urllib.request.Request(f"{url}/webhooks/{platform}", data=b"{}", method="POST",
                                             headers={"Content-Type": "application/json"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(warm_up, timeout=20)
            assert refused.value.code == 401
        before = memory_kb(pid)
        reset_peak(pid)
        results: dict = {}
        senders = [threading.Thread(target=post_large, args=(port, platform, chunked, results, f"{platform}-{chunked}"))
                   for platform, chunked in (("shopify", False), ("woocommerce", True), ("stripe", False),
                                             ("shopify", True))]
        started = time.monotonic()
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=60)
        took = time.monotonic() - started
        after = memory_kb(pid)
    growth_mb = (after["VmHWM"] - before["VmRSS"]) / 1024
    print(f"\n4 concurrent unsigned {BODY_MB} MB bodies: answers {results}, peak RSS growth {growth_mb:.1f} MB "
          f"(RSS before {before['VmRSS'] / 1024:.0f} MB), {took:.1f} s")
    assert {key: status for key, (status, _) in results.items()} == dict.fromkeys(results, 413) and len(results) == 4
    assert all(mb < BODY_MB for _, mb in results.values())  # none of them had to send its whole body
    assert growth_mb < 64, f"peak RSS grew by {growth_mb:.0f} MB"


def test_with_the_warehouse_unreachable_readiness_and_webhooks_say_so_in_one_line(tmp_path, users):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    log_path = tmp_path / "server.log"
    db_url = f"postgresql://postgres@127.0.0.1:{closed}/analytics"
    body = json.dumps({"id": 301, "date_modified_gmt": "2026-03-10T18:00:00"}).encode()
    signature = base64.b64encode(hmac.new(SECRETS["WOOCOMMERCE_WEBHOOK_SECRET"].encode(), body,
                                          hashlib.sha256).digest()).decode()
    with serve_app(db_url, users, TEST_COOKIE_KEY, log_path, **QUIET) as (url, _pid):
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as up:
            assert up.read() == b"ok"  # Streamlit is up; that is all this one says
        with pytest.raises(urllib.error.HTTPError) as ready:
            urllib.request.urlopen(f"{url}/health/ready", timeout=10)
        assert ready.value.code == 503
        answer = json.loads(ready.value.read())
        assert answer["failed"] == ["warehouse"] and str(closed) in answer["checks"]["warehouse"]["detail"]
        request = urllib.request.Request(f"{url}/webhooks/woocommerce", data=body, method="POST", headers={
            "Content-Type": "application/json", "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": signature, "X-WC-Webhook-Source": "https://shop.example/"})
        with pytest.raises(urllib.error.HTTPError) as delivery:
            urllib.request.urlopen(request, timeout=20)
        assert delivery.value.code == 503
        time.sleep(0.5)
        log = log_path.read_text()
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if "webhook" in line]
    assert len(lines) == 1 and "unreachable" in lines[0], log[-2000:]

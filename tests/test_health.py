"""Health that tells the truth: the readiness routes check the warehouse, and the webhook routes answer
503 with one log line while it cannot be reached, on DuckDB and on PostgreSQL.

PostgreSQL is "stopped" by a TCP relay in front of the suite's server that the test closes and opens
again (the server itself keeps running for everyone else); DuckDB is unreachable when another process
holds its file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from connectors.readiness import readiness_route
from connectors.webhooks import webhook_routes
from connectors.worker import worker_app
from data.warehouse import connect

SECRET = "wc-health"
LOCAL = ("127.0.0.1", 50000)  # the test client's address: this machine, as the container's health check is
ORDER = json.dumps({"id": 301, "date_modified_gmt": "2026-03-10T18:00:00", "line_items": []}).encode()


def woo_headers(body: bytes) -> dict[str, str]:
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return {"content-type": "application/json", "x-wc-webhook-topic": "order.updated",
            "x-wc-webhook-resource": "order", "x-wc-webhook-signature": signature,
            "x-wc-webhook-delivery-id": "1", "x-wc-webhook-source": "https://shop.example/"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nobody listens there once the socket is closed


class Relay:
    """A TCP relay from a local port to the suite's PostgreSQL that can be stopped and started again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = closed_port()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a server that went away does."""
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way (Linux)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        for sock in self._open:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._listener is not listener:
                client.close()
                return
            server = socket.create_connection(self.target, timeout=5)
            server.settimeout(None)
            self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def relayed_pg(pg_url):
    """(a warehouse opened through a relay to the suite's PostgreSQL, the relay)."""
    parts = urlsplit(pg_url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    relay.start()
    url = pg_url.replace(f"{parts.hostname}:{parts.port or 5432}", f"127.0.0.1:{relay.port}", 1)
    wh = connect(url)
    yield wh, relay
    relay.stop()
    wh.close()


@pytest.fixture
def held_duckdb(tmp_path):
    """The URL of a DuckDB file that another process holds open for writing (so this one cannot open it)."""
    path = tmp_path / "held.duckdb"
    connect(f"duckdb:///{path}").close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); sys.stdin.read()", str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    yield f"duckdb:///{path}"
    holder.stdin.close()
    holder.wait(timeout=10)


@pytest.fixture
def unreachable_url(request, tmp_path):
    if request.param == "postgres-closed-port":
        return f"postgresql://postgres@127.0.0.1:{closed_port()}/analytics"
    return request.getfixturevalue("held_duckdb")


def webhook_log(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("connectors") and r.levelno >= logging.WARNING]


def test_ready_when_the_warehouse_answers_and_its_schema_is_current(wh):
    route = readiness_route("/health/ready", lambda: wh, {"users": lambda: (True, "1 user(s) can log in.")})
    with TestClient(Starlette(routes=[route]), client=LOCAL) as client:
        answer = client.get("/health/ready")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["failed"]) == ("ready", [])
    assert {name: part["ok"] for name, part in body["checks"].items()} == {"warehouse": True, "schema": True,
                                                                          "users": True}


def test_a_schema_behind_the_code_and_a_failing_part_are_named(wh):
    wh.execute("DELETE FROM schema_migrations WHERE name = '0015_customer_history.sql'")
    route = readiness_route("/ready", lambda: wh, {"users": lambda: (False, "No user can log in.")})
    with TestClient(Starlette(routes=[route]), client=LOCAL) as client:
        answer = client.get("/ready")
    with TestClient(Starlette(routes=[route]), client=("203.0.113.7", 40000)) as client:
        remote = client.get("/ready")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failed"] == ["schema", "users"]
    assert "0015_customer_history.sql" in body["checks"]["schema"]["detail"]
    # From elsewhere: the same parts and states, without the sentences (they name internal things).
    assert remote.status_code == 503 and remote.json()["failed"] == ["schema", "users"]
    assert {part["detail"] for part in remote.json()["checks"].values()} == {"Details are in the server's log."}


@pytest.mark.parametrize("unreachable_url", ["postgres-closed-port", "duckdb-held-by-another-process"],
                         indirect=True)
def test_an_unreachable_warehouse_fails_readiness_and_webhooks_get_503_with_one_log_line(
        unreachable_url, monkeypatch, caplog):
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("WOOCOMMERCE_URL", raising=False)
    opened = lambda: connect(unreachable_url)  # noqa: E731 - what shared() does on each try
    routes = [readiness_route("/health/ready", opened), *webhook_routes(opened)]
    caplog.set_level(logging.INFO)
    with TestClient(Starlette(routes=routes), client=LOCAL) as client:
        started = time.monotonic()
        ready = client.get("/health/ready")
        caplog.clear()
        delivery = client.post("/webhooks/woocommerce", content=ORDER, headers=woo_headers(ORDER))
        took = time.monotonic() - started
    assert ready.status_code == 503
    body = ready.json()
    assert body["failed"] == ["warehouse"] and body["checks"]["schema"]["ok"] is None
    assert "does not answer" in body["checks"]["warehouse"]["detail"]
    assert (delivery.status_code, delivery.headers["retry-after"]) == (503, "60")
    (line,) = webhook_log(caplog)
    assert line.exc_info is None and "unreachable" in line.getMessage() and "\n" not in line.getMessage()
    assert took < 15


def test_the_worker_tells_the_truth_while_postgres_goes_away_and_comes_back(relayed_pg, monkeypatch, caplog):
    wh, relay = relayed_pg
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("WOOCOMMERCE_URL", raising=False)
    caplog.set_level(logging.INFO)
    with TestClient(worker_app(wh, schedule=False), client=LOCAL) as client:
        assert client.get("/health").json()["status"] == "ready"
        relay.stop()
        down = client.get("/health")
        caplog.clear()
        delivery = client.post("/webhooks/woocommerce", content=ORDER, headers=woo_headers(ORDER))
        lines = webhook_log(caplog)
        relay.start()
        deadline = time.monotonic() + 10
        while (up := client.get("/health")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
    assert down.status_code == 503 and down.json()["failed"] == ["warehouse"]
    assert delivery.status_code == 503
    assert len(lines) == 1 and lines[0].exc_info is None and re.search(r"woocommerce webhook .* unreachable",
                                                                        lines[0].getMessage())
    assert up.status_code == 200  # the pool reconnects once the server is back
    assert wh.scalar("SELECT count(*) FROM webhook_events") == 0


def test_the_container_health_check_script_reads_the_worker_readiness(pg_url, tmp_path):
    from tests.app_server import free_port

    port = free_port()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "WORKER_PORT": str(port), "SYNC_INTERVAL_MINUTES": "0"}
    worker = subprocess.Popen([sys.executable, "-m", "connectors", "worker", "--port", str(port), "--db", pg_url],
                              cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            check = subprocess.run([sys.executable, "scripts/healthcheck.py", "worker"], cwd=root, env=env,
                                   capture_output=True, text=True, timeout=20)
            if check.returncode == 0 or time.monotonic() > deadline or worker.poll() is not None:
                break
            time.sleep(0.3)
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    assert check.returncode == 0, check.stdout
    assert json.loads(check.stdout)["status"] == "ready"
    gone = subprocess.run([sys.executable, "scripts/healthcheck.py", "worker"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=20)
    assert gone.returncode == 1 and gone.stdout.startswith(f"http://127.0.0.1:{port}/health does not answer")

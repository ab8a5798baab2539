"""The HTTP server under an emulator: threads on 127.0.0.1, a free port, JSON answers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable

from tests.emulators.served import Served


class LocalServer(Served):
    """Serve ``handle(handler)`` for every GET and POST; ``with`` starts and stops it."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.faults, self.lock = [], threading.RLock()
        self._serve(lambda request, method: handle(request), ("GET", "POST"))


def send_json(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    raw = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=UTF-8")
    handler.send_header("Content-Length", str(len(raw)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    try:
        handler.wfile.write(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass

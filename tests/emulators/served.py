"""What the JSON API emulators share: a local HTTP server on a thread, queued faults, JSON answers."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Fault:
    """Answer the next ``count`` requests (whose path starts with ``path``) after skipping ``skip`` of them."""

    status: int | None = 503
    count: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    path: str = "/v1/"
    skip: int = 0


class Served:
    """A ``ThreadingHTTPServer`` on a free port of 127.0.0.1, serving while the emulator is open (``with``).

    Subclasses call :meth:`_serve` with their request handler (``handle(request, method)``),
    keep ``self.faults`` and ``self.lock``, and answer with :meth:`_send`.
    """

    faults: list[Fault]
    lock: threading.RLock

    def _serve(self, handle: Callable[[BaseHTTPRequestHandler, str], None], methods: tuple[str, ...] = ("GET",)) -> None:
        def handler_for(method: str):
            return lambda request: handle(request, method)

        attributes = {f"do_{m}": handler_for(m) for m in methods}
        attributes["log_message"] = lambda request, *args: None
        handler = type("Handler", (BaseHTTPRequestHandler,), attributes)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.count <= 0 or not path.startswith(fault.path):
                    continue
                if fault.skip:
                    fault.skip -= 1
                    return None
                fault.count -= 1
                return fault
        return None

    @staticmethod
    def _send_json(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str]) -> None:
        raw = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        try:
            handler.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass

"""Local stand-ins for the OpenAI Responses API and the Anthropic Messages API, over real HTTP.

One server answers both ``POST /v1/responses`` (OpenAI; point
``OPENAI_BASE_URL`` at ``<url>/v1``) and ``POST /v1/messages`` (Anthropic;
point ``ANTHROPIC_BASE_URL`` at ``<url>``). It records every request (path,
headers, JSON body) and streams the reply as server-sent events in each
API's published event format, one event per write and flush:

- OpenAI: ``response.created``, ``response.in_progress``,
  ``response.output_item.added``, ``response.content_part.added``,
  ``response.output_text.delta`` × n, ``response.output_text.done``,
  ``response.content_part.done``, ``response.output_item.done``,
  ``response.completed``;
- Anthropic: ``message_start``, ``content_block_start``, ``ping``,
  ``content_block_delta`` (``text_delta``) × n, ``content_block_stop``,
  ``message_delta``, ``message_stop``.

Faults on demand (``server.faults``, consumed one per request): an HTTP
status with the API's error body (401, 429 with ``retry-after-ms``, 500,
529), or ``"slow"``: no answer for ``slow_seconds`` (a client timeout).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERROR_TYPES = {
    401: ("invalid_request_error", "authentication_error", "Incorrect API key provided."),
    429: ("rate_limit_exceeded", "rate_limit_error", "Rate limit reached for requests."),
    500: ("server_error", "api_error", "The server had an error while processing your request."),
    529: ("server_error", "overloaded_error", "Overloaded."),
}


class LlmApis:
    """The running server: ``url``, ``requests`` (what arrived), ``reply`` pieces and ``faults``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply: list[str] = ["Hello."]
        self.faults: list[int | str] = []
        self.slow_seconds = 1.5
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"apis": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "LlmApis":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_fault(self) -> int | str | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None


class _Handler(BaseHTTPRequestHandler):
    apis: LlmApis
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass

    def do_POST(self) -> None:  # the http.server name
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.apis.requests.append({"path": self.path, "headers": headers, "body": body, "raw": json.dumps(body)})
        openai = self.path.endswith("/responses")
        if not openai and not self.path.endswith("/messages"):
            self._json(404, {"error": {"message": "not found"}})
            return
        fault = self.apis.next_fault()
        if fault == "slow":
            time.sleep(self.apis.slow_seconds)
            self.close_connection = True
            return
        if isinstance(fault, int):
            code, kind, message = ERROR_TYPES[fault]
            error = ({"error": {"message": message, "type": kind if fault != 401 else "invalid_request_error",
                                "param": None, "code": code}} if openai
                     else {"type": "error", "error": {"type": kind, "message": message}})
            self._json(fault, error, {"retry-after-ms": "10"} if fault == 429 else None)
            return
        events = _openai_events(body, self.apis.reply) if openai else _anthropic_events(body, self.apis.reply)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        for name, data in events:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _openai_events(body: dict, pieces: list[str]) -> list[tuple[str, dict]]:
    text = "".join(pieces)
    base = {"id": "resp_test", "object": "response", "created_at": 1764115200, "model": body.get("model"),
            "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "temperature": 1.0, "top_p": 1.0,
            "error": None, "incomplete_details": None, "metadata": {}}
    item = {"id": "msg_test", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    part = {"type": "output_text", "text": "", "annotations": []}
    done_part = {**part, "text": text}
    done_item = {**item, "status": "completed", "content": [done_part]}
    events = [
        ("response.created", {"response": {**base, "status": "in_progress", "output": []}}),
        ("response.in_progress", {"response": {**base, "status": "in_progress", "output": []}}),
        ("response.output_item.added", {"output_index": 0, "item": item}),
        ("response.content_part.added", {"item_id": "msg_test", "output_index": 0, "content_index": 0,
                                         "part": part}),
        *[("response.output_text.delta", {"item_id": "msg_test", "output_index": 0, "content_index": 0,
                                          "delta": piece, "logprobs": []}) for piece in pieces],
        ("response.output_text.done", {"item_id": "msg_test", "output_index": 0, "content_index": 0,
                                       "text": text, "logprobs": []}),
        ("response.content_part.done", {"item_id": "msg_test", "output_index": 0, "content_index": 0,
                                        "part": done_part}),
        ("response.output_item.done", {"output_index": 0, "item": done_item}),
        ("response.completed", {"response": {**base, "status": "completed", "output": [done_item],
                                             "usage": {"input_tokens": 900, "output_tokens": 120,
                                                       "total_tokens": 1020,
                                                       "input_tokens_details": {"cached_tokens": 0},
                                                       "output_tokens_details": {"reasoning_tokens": 0}}}}),
    ]
    return [(name, {"type": name, "sequence_number": i, **data}) for i, (name, data) in enumerate(events)]


def _anthropic_events(body: dict, pieces: list[str]) -> list[tuple[str, dict]]:
    events = [
        ("message_start", {"message": {"id": "msg_test", "type": "message", "role": "assistant", "content": [],
                                       "model": body.get("model"), "stop_reason": None, "stop_sequence": None,
                                       "usage": {"input_tokens": 900, "output_tokens": 1}}}),
        ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("ping", {}),
        *[("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}}) for piece in pieces],
        ("content_block_stop", {"index": 0}),
        ("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 120}}),
        ("message_stop", {}),
    ]
    return [(name, {"type": name, **data}) for name, data in events]

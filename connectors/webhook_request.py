"""What a webhook request must be before anything in it is trusted: its size, its content type, its body.

- **Size**: at most ``WEBHOOK_MAX_BODY_MB`` (5 MB by default; the platforms'
  deliveries are a few KB). A ``Content-Length`` above the limit is answered
  413 before a byte of the body is read; a body without one (chunked) is
  counted as it streams in and answered 413 as soon as the count passes the
  limit. The 413 closes the connection, so the rest is never read, and
  nothing beyond the limit is ever held: the signature, which needs the
  whole body, is checked only after this.
- **Content type**: JSON (``application/json`` or a ``+json`` type, any
  charset). Anything else is 415, except a platform's ping (WooCommerce's
  form body ``webhook_id=N``, sent once when a webhook is created). A type
  that cannot be JSON is refused before the body is read.
- **Body**: a signed delivery whose body is not a JSON object (not JSON, a
  JSON array, binary) is 400: it is neither stored nor applied.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Mapping

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from data.settings import byte_limit

LIMIT_SETTING = "WEBHOOK_MAX_BODY_MB"
FORM = "application/x-www-form-urlencoded"


class Refused(Exception):
    """A request answered with ``status`` and a one-line ``reason``; nothing of it is stored."""

    def __init__(self, status: int, reason: str, *, close: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.close = close

    def response(self) -> PlainTextResponse:
        headers = {"connection": "close"} if self.close else None
        return PlainTextResponse(self.reason, status_code=self.status, headers=headers)


def body_limit() -> int:
    """``WEBHOOK_MAX_BODY_MB`` in bytes."""
    return byte_limit(LIMIT_SETTING)


def media_type(headers: Mapping[str, str]) -> str:
    """The request's media type, lower case, without parameters (``""`` when there is none)."""
    return (headers.get("content-type") or "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def check_media_type(media: str) -> None:
    """Refuse (415) a content type that is neither JSON nor the form type a ping comes as."""
    if not is_json(media) and media not in (FORM, ""):
        raise Refused(415, f"content type {media!r} is not accepted: deliveries are application/json")


def _too_large(limit: int) -> Refused:
    return Refused(413, f"the body is larger than {limit:,} bytes ({LIMIT_SETTING})", close=True)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, or :class:`Refused` (413) as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_delivery(request: Request, module: ModuleType, headers: Mapping[str, str]) -> tuple[bytes, bool]:
    """(the raw body, whether it is the platform's ping: ``module.is_ping``), or :class:`Refused` (413, 415)."""
    media = media_type(headers)
    check_media_type(media)
    body = await read_body(request, body_limit())
    is_ping = getattr(module, "is_ping", None)
    ping = not is_json(media) and is_ping is not None and is_ping(headers, body)
    if not is_json(media) and not ping:
        raise Refused(415, f"content type {media or 'none'!r} is not accepted: deliveries are application/json")
    return body, ping


def json_object_or_refuse(body: bytes) -> dict:
    """The body as a JSON object, or :class:`Refused` (400) saying what it is instead."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(data), "a number")
        raise Refused(400, f"the body is {kind} in JSON, not an object")
    return data

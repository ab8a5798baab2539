"""The webhook receiver: ``POST /webhooks/{platform}`` for Shopify, WooCommerce and Stripe.

Mounted in the app's own server (Starlette), beside the pages::

    from connectors.webhooks import webhook_routes
    from data.warehouse import shared
    app = st.App("app.py", routes=webhook_routes(shared), lifespan=...)

Each platform provides ``connectors/<platform>/webhook.py`` (``SECRET_SETTING``,
``SIGNATURE_HEADER``, ``verify``, ``event_id``, ``topic``, ``store_id``, ``apply``,
and ``is_ping`` where the platform pings), imported on the first delivery.
For every delivery:

1. no secret configured -> 503 and a one-line reason (the platform retries);
2. the raw body is read as sent (signatures are over those exact bytes), within
   ``WEBHOOK_MAX_BODY_MB`` (413 as soon as it is passed) and as JSON (415
   otherwise): see :mod:`connectors.webhook_request`;
3. a ping without a signature (WooCommerce's, when a webhook is created) -> 200
   ``ping``, nothing stored; ``verify`` raises -> 401, nothing stored; a signed
   body that is not a JSON object -> 400, nothing stored; a signed ping is
   stored like any delivery and applying it does nothing;
4. the delivery goes into ``webhook_events`` keyed by (platform, event id);
   a key already there is a duplicate delivery -> 200 ``duplicate``, nothing applied;
5. ``apply`` runs in a worker thread (the event loop is never blocked) with the
   platform's source when its settings are there (to read what a payload
   lacks), through the one write path (:func:`data.writes.write`: serialized
   per store, retried on a conflict), then ``processed_at`` and ``status``
   (``applied``, or ``failed`` with the error kept) are written;
6. the answer is 200 once the delivery is applied, or stored with a payload
   that could not be applied (a platform that keeps seeing errors disables
   the webhook: WooCommerce after 5, Shopify after retries; a later sync
   repairs the record). A delivery whose write still met conflicting writes
   after its retries (or whose outcome could not be recorded) was not
   applied: it is answered 503, so the platform delivers it again, and kept
   with ``status`` ``retry`` (not processed), so that retry is applied and
   not dropped as a duplicate. Applying gets ``apply_budget`` seconds
   (Shopify gives up after 5 s); past that the answer is ``accepted`` and the
   work finishes in the background;
7. a warehouse that cannot be reached -> 503 (the platform retries) and one line
   in the log, nothing else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import importlib
import json
import logging
from types import ModuleType
from typing import Any, Callable, Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors.webhook_errors import WebhookRejected
from connectors.webhook_request import Refused, json_object_or_refuse, read_delivery
from data.health import unreachable
from data.settings import setting
from data.warehouse import Warehouse
from data.writes import WriteConflict

log = logging.getLogger(__name__)

PLATFORMS = ("shopify", "woocommerce", "stripe")
APPLY_BUDGET = 4.0
UTC = dt.timezone.utc

_background: set[asyncio.Task] = set()


def webhook_module(platform: str) -> ModuleType | None:
    """``connectors.<platform>.webhook``, or None when that connector (or its webhooks) is not installed."""
    if platform not in PLATFORMS:
        return None
    name = f"connectors.{platform}.webhook"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name in (f"connectors.{platform}", name):
            return None
        raise


def platform_source(platform: str) -> Any | None:
    """The platform's configured source (to read through its API), or None when not configured."""
    try:
        package = importlib.import_module(f"connectors.{platform}")
        return package.source_from_settings()
    except Exception as exc:  # noqa: BLE001 - not configured: apply works from the payload alone
        log.debug("no %s source for webhooks: %s", platform, exc.__class__.__name__)
        return None


def json_object(body: bytes) -> dict:
    """The delivery's body as a JSON object, ``{}`` when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def store_delivery(wh: Warehouse, platform: str, event_id: str, store_id: str | None, topic: str,
                   body: bytes) -> bool:
    """Insert the delivery into ``webhook_events``; False when that event is already there."""
    params = {
        "source": platform, "event_id": event_id, "store_id": store_id, "topic": topic,
        "received_at": dt.datetime.now(UTC), "sha": hashlib.sha256(body).hexdigest(),
        "payload": body.decode("utf-8", errors="replace"),
    }
    sql = (
        "INSERT INTO webhook_events (source, event_id, store_id, topic, received_at, payload_sha256, payload, status) "
        "VALUES (:source, :event_id, :store_id, :topic, :received_at, :sha, :payload, 'received') "
        "ON CONFLICT (source, event_id) DO NOTHING RETURNING event_id"
    )
    try:
        if wh.rows(sql, params):
            return True
        # A delivery that could not be applied earlier (answered 503) is the platform's retry: take it again.
        return bool(wh.rows(
            "UPDATE webhook_events SET status = 'received', received_at = :received_at, error = NULL "
            "WHERE source = :source AND event_id = :event_id AND status = 'retry' RETURNING event_id",
            {k: params[k] for k in ("source", "event_id", "received_at")}))
    except Exception:
        # Two deliveries of one event at the same instant: the loser of the race sees a conflict.
        if wh.scalar("SELECT count(*) FROM webhook_events WHERE source = :s AND event_id = :e",
                     {"s": platform, "e": event_id}):
            return False
        raise


def apply_delivery(wh: Warehouse, module: ModuleType, platform: str, event_id: str, topic: str,
                   payload: dict) -> str:
    """Apply a stored delivery and record the outcome; returns ``applied``, ``failed`` or ``retry``.

    ``retry``: the write kept meeting conflicting writes (:class:`~data.writes.WriteConflict`),
    so nothing was written; the event is not recorded as processed, and the
    platform's retry of it is applied rather than dropped as a duplicate.
    """
    error = None
    processed: dt.datetime | None = dt.datetime.now(UTC)
    try:
        source = platform_source(platform) if topic != "ping" else None
        module.apply(wh, topic, payload, source=source)
        status = "applied"
        log.info("%s webhook %s (%s) applied", platform, event_id, topic)
    except WriteConflict as exc:
        status, processed = "retry", None
        error = f"{exc.__class__.__name__}: {exc}"[:1000]
        log.warning("%s webhook %s (%s) could not be applied now; the platform will retry it: %s",
                    platform, event_id, topic, exc)
    except Exception as exc:  # noqa: BLE001 - kept on the event; the delivery is still acknowledged
        status = "failed"
        error = f"{exc.__class__.__name__}: {exc}"[:1000]
        log.warning("applying %s webhook %s (%s) failed: %s", platform, event_id, topic, error)
    wh.execute(
        "UPDATE webhook_events SET processed_at = :t, status = :status, error = :error "
        "WHERE source = :s AND event_id = :e",
        {"t": processed, "status": status, "error": error, "s": platform, "e": event_id},
    )
    return status


def webhook_routes(
    get_warehouse: Callable[[], Warehouse], *, apply_budget: float = APPLY_BUDGET
) -> list[Route]:
    """The ``POST /webhooks/{platform}`` route, writing to the warehouse ``get_warehouse()`` returns."""

    async def receive(request: Request) -> PlainTextResponse:
        platform = request.path_params["platform"]
        module = webhook_module(platform)
        if module is None:
            return PlainTextResponse(f"no webhooks for {platform}", status_code=404)
        secret = setting(module.SECRET_SETTING)
        if not secret:
            log.warning("%s webhook refused: %s is not set", platform, module.SECRET_SETTING)
            return PlainTextResponse(
                f"{platform} webhooks are not configured: set {module.SECRET_SETTING}", status_code=503)
        headers: Mapping[str, str] = {k.lower(): v for k, v in request.headers.items()}
        try:
            body, ping = await read_delivery(request, module, headers)
        except Refused as refused:
            log.info("%s webhook refused (%d): %s", platform, refused.status, refused.reason)
            return refused.response()
        if ping and module.SIGNATURE_HEADER not in headers:
            log.info("%s ping answered; nothing stored", platform)
            return PlainTextResponse("ping")
        try:
            module.verify(headers, body, secret)
        except Exception as exc:  # noqa: BLE001 - WebhookRejected or any failure to check: refused
            # Our own sentences (WebhookRejected) say why; anything else only by its class.
            why = str(exc) if isinstance(exc, WebhookRejected) else exc.__class__.__name__
            log.warning("%s webhook from %s refused: %s", platform,
                        request.client.host if request.client else "an unknown address", why)
            return PlainTextResponse("signature rejected", status_code=401)
        if not ping:
            try:
                json_object_or_refuse(body)
            except Refused as refused:
                log.warning("%s webhook signed but unreadable: %s", platform, refused.reason)
                return refused.response()
        try:
            event_id = module.event_id(headers, body)
            topic = module.topic(headers, body)
            store_id = module.store_id(headers, body)
        except Exception as exc:  # noqa: BLE001
            log.warning("%s webhook unreadable: %s", platform, exc)
            return PlainTextResponse("unreadable delivery", status_code=400)
        try:
            wh = get_warehouse()
            fresh = await run_in_threadpool(store_delivery, wh, platform, event_id, store_id, topic, body)
        except Exception as exc:
            reason = unreachable(exc)
            if reason is None:
                raise
            log.warning("%s webhook %s not stored, the warehouse is unreachable: %s", platform, event_id, reason)
            return PlainTextResponse("the warehouse is unreachable; retry later", status_code=503,
                                     headers={"retry-after": "60"})
        if not fresh:
            log.info("%s webhook %s (%s) is a duplicate: already received", platform, event_id, topic)
            return PlainTextResponse("duplicate")
        task = asyncio.ensure_future(
            run_in_threadpool(apply_delivery, wh, module, platform, event_id, topic, json_object(body)))
        _background.add(task)
        task.add_done_callback(_background.discard)
        done, _ = await asyncio.wait({task}, timeout=apply_budget)
        if task not in done:
            return PlainTextResponse("accepted")
        try:
            outcome = task.result()
        except Exception as exc:  # noqa: BLE001 - applied or not, the outcome could not be recorded
            log.warning("%s webhook %s stored but not recorded as processed: %s", platform, event_id, exc)
            return PlainTextResponse("not applied now: retry", status_code=503)
        if outcome == "retry":
            return PlainTextResponse("not applied now: retry", status_code=503)
        return PlainTextResponse(outcome)

    return [Route("/webhooks/{platform}", receive, methods=["POST"])]

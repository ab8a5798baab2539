"""The readiness route the app (``/health/ready``) and the worker (``/health``) serve.

``GET`` answers 200 with ``{"status": "ready", ...}`` when every part is
ok, else 503 with ``"failed"`` naming the parts that are not and, for each,
a sentence saying why (see :func:`data.health.readiness`). The sentences
name internal hosts and files, so only a request from this machine (the
container's own health check, an operator on the host) gets them; anyone
else gets the parts and their state, and the sentences are in the log. A
warehouse that
takes longer than ``TIMEOUT`` seconds to answer fails the check, so the
answer always comes within a container health check's time. A change of
state is one line in the log; steady polling adds nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Callable, Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from data.health import Part, readiness
from data.warehouse import Warehouse

log = logging.getLogger(__name__)
TIMEOUT = 4.0


def _local(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def readiness_route(path: str, get_warehouse: Callable[[], Warehouse], more: Mapping[str, Part] | None = None,
                    *, timeout: float = TIMEOUT) -> Route:
    last = {"ready": True}

    async def ready(request: Request) -> JSONResponse:
        try:
            is_ready, answer = await asyncio.wait_for(run_in_threadpool(readiness, get_warehouse, more), timeout)
        except asyncio.TimeoutError:
            is_ready, answer = False, {"status": "not ready", "failed": ["warehouse"], "checks": {"warehouse": {
                "ok": False, "detail": f"The warehouse did not answer within {timeout:g} s."}}}
        if is_ready != last["ready"]:
            last["ready"] = is_ready
            if is_ready:
                log.info("ready again")
            else:
                log.warning("not ready: %s", "; ".join(answer["checks"][name]["detail"] for name in answer["failed"]))
        if not _local(request):
            answer = {**answer, "checks": {name: {"ok": part["ok"], "detail": "Details are in the server's log."}
                                           for name, part in answer["checks"].items()}}
        return JSONResponse(answer, status_code=200 if is_ready else 503, headers={"cache-control": "no-store"})

    return Route(path, ready, methods=["GET"])

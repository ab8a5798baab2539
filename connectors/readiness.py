"""The readiness route the app (``/health/ready``) and the worker (``/health``) serve.

``GET`` answers 200 with ``{"status": "ready", ...}`` when every part is
ok, else 503 with ``"failed"`` naming the parts that are not and, for each,
a sentence saying why (see :func:`data.health.readiness`). A warehouse that
takes longer than ``TIMEOUT`` seconds to answer fails the check, so the
answer always comes within a container health check's time. A change of
state is one line in the log; steady polling adds nothing.
"""

from __future__ import annotations

import asyncio
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


def readiness_route(path: str, get_warehouse: Callable[[], Warehouse], more: Mapping[str, Part] | None = None,
                    *, timeout: float = TIMEOUT) -> Route:
    last = {"ready": True}

    async def ready(_request: Request) -> JSONResponse:
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
        return JSONResponse(answer, status_code=200 if is_ready else 503, headers={"cache-control": "no-store"})

    return Route(path, ready, methods=["GET"])

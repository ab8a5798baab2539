"""The background worker for PostgreSQL deployments.

With the embedded DuckDB file, the app's own process receives webhooks and
runs the scheduled syncs (DuckDB allows one writing process). With
PostgreSQL these can run in a process of their own, beside any number of app
replicas: ``python -m connectors worker`` serves ``POST /webhooks/<platform>``
and ``GET /health`` (the warehouse answers and its schema is current: JSON, 503
naming what failed; connectors/readiness.py), and syncs the connected
stores every ``SYNC_INTERVAL_MINUTES``.
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from connectors.readiness import readiness_route
from connectors.sync.scheduler import interval_minutes, run_scheduler
from connectors.webhooks import webhook_routes
from data.warehouse import Warehouse


def worker_app(wh: Warehouse, *, schedule: bool = True) -> Starlette:
    """An ASGI app: the webhook routes, a health check, and the sync scheduler."""

    @asynccontextmanager
    async def lifespan(_app):
        stop = threading.Event()
        thread = None
        if schedule:
            thread = threading.Thread(target=run_scheduler, args=(wh, stop, interval_minutes),
                                      name="sync-scheduler", daemon=True)
            thread.start()
        try:
            yield
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=15)

    routes = [readiness_route("/health", lambda: wh), *webhook_routes(lambda: wh)]
    return Starlette(routes=routes, lifespan=lifespan)

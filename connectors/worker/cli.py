"""``python -m connectors worker [--host H] [--port P] [--db URL]``."""

from __future__ import annotations

import argparse
import logging
import sys

from data.warehouse import connect, default_url, redact_url

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "worker", help="receive webhooks and run scheduled syncs in a process of their own (PostgreSQL only)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8502, help="port to listen on (default 8502)")
    parser.add_argument("--db", help="warehouse URL (default: DATABASE_URL)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    url = args.db or default_url()
    if url.startswith("duckdb://"):
        print(
            "error: the worker runs beside the app only with PostgreSQL; with the embedded DuckDB file the app "
            "itself receives webhooks and syncs (set DATABASE_URL=postgresql://... to use a worker).",
            file=sys.stderr,
        )
        return 2
    import uvicorn

    from connectors.worker import worker_app

    wh = connect(url)
    log.info("worker on http://%s:%s for %s", args.host, args.port, redact_url(url))
    # log_config=None: uvicorn's records go through the one logging configuration (data/logs.py).
    uvicorn.run(worker_app(wh), host=args.host, port=args.port, log_config=None)
    return 0

"""``python -m connectors sync [shopify|woocommerce|stripe|paypal|ga4|meta|all] [--full] [--store ID] [--db URL]``."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from connectors.sync.runner import SyncError, run_sync
from data.warehouse import connect

# Each platform's package offers ``source_from_settings(store_id=None) -> Source``;
# it raises SyncError naming the missing setting when credentials are absent.
PLATFORMS = {
    "shopify": "connectors.shopify",
    "woocommerce": "connectors.woocommerce",
    "stripe": "connectors.stripe",
    "paypal": "connectors.paypal",
    "ga4": "connectors.ga4",
    "meta": "connectors.meta",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sync", help="read new and changed records from connected stores")
    parser.add_argument("platform", nargs="?", default="all", choices=[*PLATFORMS, "all"])
    parser.add_argument("--full", action="store_true", help="read everything again, ignoring saved cursors")
    parser.add_argument("--store", help="store id to write (default: derived from the platform settings)")
    parser.add_argument("--db", help="warehouse URL (default: DATABASE_URL or the embedded file)")
    parser.set_defaults(func=run)


def _sources(platform: str, store_id: str | None) -> list:
    names = list(PLATFORMS) if platform == "all" else [platform]
    sources, missing = [], []
    for name in names:
        try:
            module = importlib.import_module(PLATFORMS[name])
        except ModuleNotFoundError:
            missing.append(f"{name} (connector not installed)")
            continue
        try:
            sources.append(module.source_from_settings(store_id=store_id))
        except SyncError as exc:
            if platform != "all":
                raise
            missing.append(f"{name} ({exc})")
    if not sources:
        raise SyncError("no store is configured: " + "; ".join(missing))
    return sources


class _Progress:
    """Records read so far, on a terminal only. The line ends in ``\r``: the next count, or the
    next log line, writes over it."""

    def __init__(self) -> None:
        self.last = 0.0
        self.shown = sys.stderr.isatty()

    def __call__(self, stream: str, rows: int) -> None:
        now = time.monotonic()
        if self.shown and now - self.last > 0.2:
            print(f"  {stream}: {rows:,} records\r", end="", file=sys.stderr, flush=True)
            self.last = now


def run(args: argparse.Namespace) -> int:
    try:
        sources = _sources(args.platform, args.store)
    except SyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    wh = connect(args.db)
    status = 0
    for source in sources:
        print(f"{source.store_id}: syncing", file=sys.stderr)
        try:
            results = run_sync(wh, source, full=args.full, progress=_Progress())
        except SyncError as exc:
            print(f"error: {exc} (what was read before is kept; run the sync again to resume)", file=sys.stderr)
            status = 1
            continue
        for r in results:
            print(f"{r.store_id} {r.stream}: {r.rows_read:,} read, {r.rows_written:,} written")
            for note in r.notes:
                print(f"  note: {note}")
    return status

"""``python -m connectors demo``: build the demo store into the warehouse.

    python -m connectors demo [--orders N] [--days D] [--seed S] [--end YYYY-MM-DD]
                              [--db URL] [--store ID] [--currency CUR] [--timezone TZ] [--if-empty]

Shows a progress bar on stderr and a summary (rows per table, time) on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.demo.clock import TIMEZONE
from data.warehouse import connect, redact_url

MAX_DAYS = 3650
STORE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


def _default_orders() -> int:
    from data.settings import setting

    try:
        return int(setting("DEMO_ORDERS") or 30000)
    except ValueError:
        return 30000


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {text!r}") from None


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="build the demo store (two years of a generated shop, replacing a previous demo store)",
        description="Build the demo store: catalogue, customers, orders, refunds, payments, stock, purchase "
                    "orders, web sessions and ad spend, all consistent with one another.",
    )
    parser.add_argument("--orders", type=int, default=None,
                        help="about how many orders to generate (default: DEMO_ORDERS, 30000)")
    parser.add_argument("--days", type=int, default=730, help="days of history (default: 730)")
    parser.add_argument("--seed", type=int, default=7, help="random seed: the same seed builds the same store")
    parser.add_argument("--end", type=_date, default=None,
                        help="last day of the history, YYYY-MM-DD (default: today, up to now)")
    parser.add_argument("--db", default=None, help="warehouse URL (default: DATABASE_URL or the embedded file)")
    parser.add_argument("--store", default="demo", help="store id to build (default: demo); another id adds a "
                        "store beside the others")
    parser.add_argument("--currency", default="USD", help="the store's currency, ISO 4217 (default: USD)")
    parser.add_argument("--timezone", default=TIMEZONE, help=f"the store's timezone (default: {TIMEZONE})")
    parser.add_argument("--if-empty", action="store_true",
                        help="build only when the warehouse holds no store yet")
    parser.set_defaults(func=run)


def _problem(args) -> str | None:
    """One sentence about the first bad argument, or None."""
    if args.orders is not None and args.orders < 1:
        return f"--orders must be a whole number of at least 1, not {args.orders}."
    if not 1 <= args.days <= MAX_DAYS:
        return f"--days must be between 1 and {MAX_DAYS}, not {args.days}."
    if args.seed < 0:
        return f"--seed must be zero or a positive whole number, not {args.seed}."
    if not re.fullmatch(r"[A-Za-z]{3}", args.currency or ""):
        return f"--currency must be an ISO 4217 code such as USD, EUR or JPY, not {args.currency!r}."
    try:
        ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"--timezone must be a timezone name such as Europe/Paris or Asia/Tokyo, not {args.timezone!r}."
    if not STORE_ID.fullmatch(args.store):
        return (f"--store must start with a letter or digit and use only letters, digits and _ . : - "
                f"(64 at most), not {args.store!r}.")
    return None


class TextProgress:
    """A one-line progress bar on stderr (a line per step when stderr is not a terminal)."""

    def __init__(self, stream=None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.perf_counter()
        self.shown = -1.0

    def __call__(self, step: str, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        elapsed = time.perf_counter() - self.started
        if self.tty:
            done = int(round(fraction * self.width))
            bar = "#" * done + "-" * (self.width - done)
            self.stream.write(f"\r[{bar}] {fraction:4.0%} {elapsed:5.1f}s {step:<32.32}")
        elif fraction >= 1.0 or fraction - self.shown >= 0.1:
            self.shown = fraction
            self.stream.write(f"{fraction:4.0%} {elapsed:6.1f}s {step}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def run(args) -> int:
    problem = _problem(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    orders = args.orders if args.orders is not None else _default_orders()
    wh = connect(args.db)
    where = redact_url(wh.url)
    try:
        if args.if_empty:
            stores = wh.scalar("SELECT count(*) FROM stores")
            if stores:
                print(f"The warehouse already holds {stores} store(s): nothing built "
                      "(run without --if-empty to rebuild the demo store).")
                return 0
        from connectors.demo.build import build_demo

        progress = TextProgress()
        try:
            summary = build_demo(wh, orders=orders, days=args.days, seed=args.seed, store_id=args.store,
                                 end=args.end, progress=progress, currency=args.currency.upper(),
                                 timezone=args.timezone)
        finally:
            progress.close()
    finally:
        wh.close()
    print(summary_text(summary, where))
    return 0


def summary_text(summary: dict, where: str) -> str:
    counts = summary["counts"]
    head = (f"Built store {summary['store_id']!r} in {where}: {counts.get('orders', 0):,} orders up to "
            f"{summary['end']} in {summary['seconds']:.1f} s (web events cover the last {summary['web_days']} days).")
    width = max(len(t) for t in counts)
    rows = [f"  {table:<{width}}  {n:>12,}" for table, n in sorted(counts.items())]
    return "\n".join([head, *rows])

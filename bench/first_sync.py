"""First sync of a large store against each platform's emulator, held to the platform's rate limit.

    python -m bench.first_sync --orders 2000 [--platforms shopify,woocommerce,stripe]
        [--shopify-mode bulk|pages] [--stripe-limit 25]

Each platform's emulator (``tests/emulators``, real HTTP on 127.0.0.1, read
through the official clients) is filled with ``--orders`` orders and a
connector runs a whole first sync (``run_sync``) into an empty DuckDB file.
The emulators enforce the documented limits:

- Shopify GraphQL Admin: a cost bucket of 1,000 points restored at 100
  points/s (standard plans; Plus restores 1,000/s), ``THROTTLED`` when short.
  A first sync of more orders than ``SHOPIFY_BULK_THRESHOLD`` runs a bulk
  operation (``--shopify-mode bulk``); ``pages`` forces 250-order pages, to see
  the bucket's pace. Reported: points charged per second ÷ the restore rate
  (the bucket's first 1,000 points are free, so short runs can exceed 1).
- WooCommerce: no rate limit of its own (a host may add one); none is
  enforced, 100 orders a page, and requests/s is what the emulator served.
- Stripe: 25 read requests/s (test mode; live mode allows 100,
  ``--stripe-limit 100``), 429 beyond in any one-second window. Orders are
  charges. Reported: requests/s ÷ the limit, and 429s seen.

The time includes writing to the warehouse (rollups included), so a figure
below the limit means the sync spent the rest elsewhere (the emulator building
its answers in Python, the writer). The emulators rebuild their answers from
every record of the store on each request, so their own time grows with the
store: a few thousand orders keep a run to minutes.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import tempfile
import time
from pathlib import Path

from bench.common import emit, fail

UTC = dt.timezone.utc
START = dt.datetime(2025, 11, 1, tzinfo=UTC)


def _spread(n: int, orders: int) -> dt.datetime:
    """Order ``n``'s time: the orders spread over the year before the emulated store's day."""
    return START + dt.timedelta(seconds=int(n * 365 * 86400 / max(orders, 1)))


def _warehouse(tmp: str):
    from data.warehouse import connect

    return connect(f"duckdb:///{Path(tmp) / 'first_sync.duckdb'}")


def _timed_sync(source) -> tuple[float, int, int]:
    """Run a whole first sync into an empty warehouse: seconds, orders and order lines written."""
    from connectors.sync.runner import run_sync

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        wh = _warehouse(tmp)
        started = time.perf_counter()
        run_sync(wh, source)
        seconds = time.perf_counter() - started
        orders = wh.scalar("SELECT count(*) FROM orders")
        lines = wh.scalar("SELECT count(*) FROM order_lines")
        wh.close()
    return seconds, orders, lines


def shopify(orders: int, mode: str, restore_rate: float, bucket: int) -> None:
    from connectors.shopify.source import ShopifySource
    from tests.emulators.shopify import ShopifyEmulator
    from tests.emulators.shopify_store import build_store, iso

    store = build_store()
    templates = [o for o in store.orders.values() if not o.get("refunds") and not o.get("test")]
    store.orders.clear()
    for n in range(orders):
        order = copy.deepcopy(templates[n % len(templates)])
        order_id = 5_000_000_000 + n
        at = iso(_spread(n, orders))
        order.update(id=order_id, name=f"#{10_000 + n}", order_number=10_000 + n, created_at=at,
                     processed_at=at, updated_at=at)
        for i, line in enumerate(order["line_items"]):
            line["id"] = order_id * 100 + i
        for i, line in enumerate(order.get("shipping_lines") or []):
            line["id"] = order_id * 100 + 50 + i
        for i, record in enumerate(order.get("_transactions") or []):
            record.update(id=order_id * 100 + 80 + i, order_id=order_id, created_at=at)
        store.orders[order_id] = order
    with ShopifyEmulator(store, restore_rate=restore_rate, max_available=bucket, cache_nodes=True) as emu:
        source = ShopifySource(emu.url, emu.token, store_id="shopify:bench", bulk_poll_interval=0.2,
                               bulk_threshold=orders - 1 if mode == "bulk" else orders * 10)
        seconds, written, lines = _timed_sync(source)
        served = [r for r in emu.requests if r.get("status") == 200]
        points = sum(r.get("cost") or 0 for r in served)
        throttled = sum(1 for r in emu.requests if r.get("status") == "throttled")
    emit(bench="first_sync", platform="shopify", mode=source.orders_read_with, orders=written, order_lines=lines,
         seconds=round(seconds, 1), orders_per_s=round(written / seconds), requests=len(emu.requests),
         points=points, points_per_s=round(points / seconds, 1), restore_rate=restore_rate, bucket=bucket,
         share_of_limit=round(points / seconds / restore_rate, 2), throttled=throttled, http_429=0)


def woocommerce(orders: int) -> None:
    from connectors.woocommerce.source import WooCommerceSource
    from tests.emulators.woocommerce import WooEmulator

    with WooEmulator(timezone="Europe/Berlin") as emu:
        for p in range(1, 21):
            emu.add_product(p, name=f"Item {p}", sku=f"SKU-{p}", price=f"{p * 5}.00", stock=500, created=START)
        for c in range(1, 201):
            emu.add_customer(c, email=f"buyer{c}@example.com", created=START)
        for n in range(orders):
            product = n % 20 + 1
            lines = [dict(id=10_000_000 + n * 3 + k, product_id=(product + k) % 20 + 1, sku=f"SKU-{(product + k) % 20 + 1}",
                          quantity=k + 1, subtotal=f"{(k + 1) * ((product + k) % 20 + 1) * 5}.00")
                     for k in range(1 + n % 3)]
            emu.add_order(100_000 + n, created=_spread(n, orders), customer_id=n % 200 + 1,
                          email=f"buyer{n % 200 + 1}@example.com", lines=lines)
        source = WooCommerceSource(emu.url, emu.key, emu.secret, per_page=100)
        seconds, written, lines = _timed_sync(source)
        requests = len(emu.requests)
        limited = sum(1 for r in emu.requests if getattr(r, "status", 200) == 429)
    emit(bench="first_sync", platform="woocommerce", orders=written, order_lines=lines, seconds=round(seconds, 1),
         orders_per_s=round(written / seconds), requests=requests, requests_per_s=round(requests / seconds, 1),
         limit="none", http_429=limited)


def stripe(orders: int, limit: float) -> None:
    from connectors.stripe.api import StripeApi
    from connectors.stripe.source import StripeSource
    from tests.emulators.stripe import API_KEY, StripeEmulator

    with StripeEmulator(rate_limit=limit, created=int(START.timestamp()) - 86400) as emu:
        customers = [emu.add_customer(email=f"buyer{c}@example.com", created=int(START.timestamp()) + c)["id"]
                     for c in range(max(1, orders // 10))]
        for n in range(orders):
            created = int(_spread(n, orders).timestamp())
            emu.add_charge(amount=1000 + n % 9000, created=created, fee=59 + n % 300,
                           customer=customers[n % len(customers)])
        source = StripeSource(StripeApi(API_KEY, api_base=emu.url))
        seconds, _, _ = _timed_sync(source)
        served = sum(1 for path, _ in emu.requests) - emu.limited
        written = orders
    emit(bench="first_sync", platform="stripe", charges=written, seconds=round(seconds, 1),
         charges_per_s=round(written / seconds), requests=served, requests_per_s=round(served / seconds, 1),
         limit=limit, share_of_limit=round(served / seconds / limit, 2), http_429=emu.limited)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_sync")
    parser.add_argument("--orders", type=int, default=2_000)
    parser.add_argument("--platforms", default="shopify,woocommerce,stripe")
    parser.add_argument("--shopify-mode", choices=["bulk", "pages"], default="bulk")
    parser.add_argument("--shopify-restore", type=float, default=100.0, help="points/s (standard plans: 100)")
    parser.add_argument("--shopify-bucket", type=int, default=1000)
    parser.add_argument("--stripe-limit", type=float, default=25.0, help="reads/s (test mode 25, live 100)")
    args = parser.parse_args(argv)
    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    unknown = set(platforms) - {"shopify", "woocommerce", "stripe"}
    if unknown or args.orders < 1:
        fail(f"unknown platform {sorted(unknown)[0]}" if unknown else "--orders must be at least 1")
    if "shopify" in platforms:
        shopify(args.orders, args.shopify_mode, args.shopify_restore, args.shopify_bucket)
    if "woocommerce" in platforms:
        woocommerce(args.orders)
    if "stripe" in platforms:
        stripe(args.orders, args.stripe_limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

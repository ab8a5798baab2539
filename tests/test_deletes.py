"""Records deleted at the source: WooCommerce orders in the bin, Stripe customers deleted,
and what deleting an order through the sync runner takes with it."""

from __future__ import annotations

import datetime as dt
import time

import polars as pl

from analytics.metrics import sales_summary
from connectors.stripe import webhook as stripe_webhook
from connectors.sync.runner import Batch, run_sync, write_batches
from data.rollups import refresh_store
from tests.builders import add_order, add_refund, add_store, utc
from tests.emulators.stripe import StripeEmulator
from tests.emulators.woocommerce import WooEmulator
from tests.test_stripe import make_source as stripe_source
from tests.test_woocommerce import MAR10, build_store
from tests.test_woocommerce import make_source as woo_source

DAY = 86400


def _order_rows(wh, table: str, order_id: str) -> int:
    return wh.scalar(f"SELECT count(*) FROM {table} WHERE order_id = :o", {"o": order_id})


def test_deleting_an_order_takes_its_lines_refunds_and_rollups(wh):
    add_store(wh)
    add_order(wh, "o1", utc(2026, 3, 2, 15), [(2, "10.00", "0"), (1, "5.00", "0")])
    add_refund(wh, "r1", "o1", utc(2026, 3, 3, 15), {1: (1, "10.00")})
    add_order(wh, "o2", utc(2026, 3, 2, 16), [(1, "7.00", "0")])
    refresh_store(wh, "s")
    assert sales_summary(wh, "s", dt.date(2026, 3, 2), dt.date(2026, 3, 2))["orders"] == 2

    write_batches(wh, "s", "orders", [Batch(deletes={"orders": pl.DataFrame({"store_id": ["s"], "order_id": ["o1"]})})],
                  None)

    for table in ("orders", "order_lines", "refunds", "order_facts", "refund_facts"):
        assert _order_rows(wh, table, "o1") == 0, table
    assert wh.scalar("SELECT count(*) FROM refund_lines") == 0
    # o2 is untouched: 1 x 7.00 on 2 March (store time, New York).
    day = sales_summary(wh, "s", dt.date(2026, 3, 2), dt.date(2026, 3, 2))
    assert (day["orders"], day["gross_sales"]) == (1, 7)
    assert sales_summary(wh, "s", dt.date(2026, 3, 3), dt.date(2026, 3, 3))["returns"] == 0


def test_a_woocommerce_order_moved_to_the_bin_leaves_at_the_next_sync(wh):
    with WooEmulator(timezone="America/New_York") as emu:
        build_store(emu)
        source = woo_source(emu)
        run_sync(wh, source)
        store = source.store_id
        before = sales_summary(wh, store, MAR10, MAR10)["orders"]
        assert _order_rows(wh, "refunds", "101") == 1

        emu.update_order(101, modified=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5), status="trash")
        results = run_sync(wh, source)

    assert [r.stream for r in results][-1] == "trashed_orders"
    for table in ("orders", "order_lines", "refunds", "order_facts", "refund_facts"):
        assert _order_rows(wh, table, "101") == 0, table
    assert wh.scalar("SELECT count(*) FROM refund_lines WHERE refund_id = '2001'") == 0
    # Order 101 was one of 10 March's counted orders; the others stay.
    assert sales_summary(wh, store, MAR10, MAR10)["orders"] == before - 1
    assert _order_rows(wh, "orders", "102") == 1


def test_a_deleted_stripe_customer_is_removed_by_the_events_sync_and_charges_stay(wh):
    now = int(time.time())
    with StripeEmulator(created=now - 20 * DAY) as emu:
        kept = emu.add_customer(email="kept@example.com", created=now - 10 * DAY, country="DE")
        gone = emu.add_customer(email="gone@example.com", created=now - 9 * DAY, country="FR")
        emu.add_charge(amount=1000, fee=59, created=now - 8 * DAY, customer=gone["id"])
        source = stripe_source(emu)
        run_sync(wh, source)
        assert wh.scalar("SELECT count(*) FROM customers") == 2
        charges = wh.scalar("SELECT count(*) FROM transactions")

        emu.delete_customer(gone["id"], at=now - 2)
        run_sync(wh, source)

    assert wh.rows("SELECT customer_id FROM customers") == [(kept["id"],)]
    assert wh.rows("SELECT customer_id FROM customer_contacts") == [(kept["id"],)]  # their email too
    assert wh.scalar("SELECT count(*) FROM transactions") == charges == 1


def test_a_customer_deleted_webhook_removes_the_customer(wh):
    now = int(time.time())
    with StripeEmulator(created=now - 20 * DAY) as emu:
        kept = emu.add_customer(email="kept@example.com", created=now - 10 * DAY)
        gone = emu.add_customer(email="gone@example.com", created=now - 9 * DAY)
        source = stripe_source(emu)
        run_sync(wh, source)
        event = emu.delete_customer(gone["id"], at=now)
    assert stripe_webhook.apply(wh, event["type"], event) == []
    assert wh.rows("SELECT customer_id FROM customers") == [(kept["id"],)]
    assert wh.rows("SELECT customer_id FROM customer_contacts") == [(kept["id"],)]

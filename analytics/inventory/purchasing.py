"""Purchase orders: drafts from the reorder suggestions, edits, sent, received, cancelled, CSV.

A purchase order moves ``draft`` → ``sent`` → ``received`` (or ``cancelled``
from draft or sent). Only a draft's lines can be edited. Stock on order is
what ``sent`` orders have not yet delivered. Receiving an order, in one
transaction of the write path (:func:`data.writes.write`, serialized with the
store's other writers), sets each line's ``received_quantity`` and adds the units
received to ``inventory_levels.available`` at the order's ``location_id``;
an order without one is received at the location holding most of that
variant (else the store's first location by id, else ``default``). A
connected store's next sync replaces stock with the platform's own figure.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Mapping

import polars as pl

from data.warehouse import Warehouse
from data.writes import Changes, write

UTC = dt.timezone.utc
STATUSES = ("draft", "sent", "received", "cancelled")


class PurchaseOrderError(ValueError):
    """An edit that cannot be made: one sentence saying why."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(UTC)).astimezone(UTC)


def draft_purchase_orders(wh: Warehouse, store_id: str, health: pl.DataFrame, currency: str,
                          now: dt.datetime | None = None) -> list[str]:
    """One draft per supplier holding the suggested lines of ``health`` (``suggested_order_qty`` > 0, with a
    supplier), leaving out variants already on an open (draft or sent) order. Returns the new po_ids."""
    now = _now(now)
    open_variants = {r[0] for r in wh.rows(
        "SELECT DISTINCT l.variant_id FROM purchase_order_lines l JOIN purchase_orders o ON o.po_id = l.po_id "
        "WHERE l.store_id = :s AND o.status IN ('draft', 'sent')", {"s": store_id})}
    wanted = health.filter((pl.col("suggested_order_qty") > 0) & pl.col("supplier_id").is_not_null()
                           & ~pl.col("variant_id").is_in(list(open_variants)))
    created: list[str] = []
    with wh.transaction():
        for (supplier_id,), lines in wanted.sort("supplier_id", "variant_id").group_by("supplier_id",
                                                                                          maintain_order=True):
            lead = int(lines["lead_time_days"].max() or 0)
            po_id = f"{store_id}-po-{now:%Y%m%d}-{uuid.uuid4().hex[:6]}"
            wh.execute(
                "INSERT INTO purchase_orders (po_id, supplier_id, store_id, status, created_at, expected_at, "
                "currency) VALUES (:po, :sup, :s, 'draft', :at, :expected, :cur)",
                {"po": po_id, "sup": supplier_id, "s": store_id, "at": now,
                 "expected": now + dt.timedelta(days=lead), "cur": currency})
            wh.insert("purchase_order_lines", pl.DataFrame({
                "po_id": [po_id] * lines.height, "store_id": [store_id] * lines.height,
                "variant_id": lines["variant_id"], "quantity": lines["suggested_order_qty"].cast(pl.Int32),
                "unit_cost": lines["supplier_unit_cost"].cast(pl.Decimal(18, 4)),
                "received_quantity": pl.Series([0] * lines.height, dtype=pl.Int32),
            }))
            created.append(po_id)
    return created


def purchase_orders(wh: Warehouse, store_id: str) -> pl.DataFrame:
    """Every order of the store, newest first: ``po_id, supplier_id, supplier_name, status, created_at,
    expected_at, sent_at, received_at, currency, lines, units, units_received, total`` (total exact)."""
    return wh.query(
        "SELECT o.po_id, o.supplier_id, s.name AS supplier_name, o.status, o.created_at, o.expected_at, "
        "o.sent_at, o.received_at, o.currency, CAST(COUNT(l.variant_id) AS BIGINT) AS lines, "
        "CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) AS units, "
        "CAST(COALESCE(SUM(l.received_quantity), 0) AS BIGINT) AS units_received, "
        "CAST(COALESCE(SUM(l.quantity * l.unit_cost), 0) AS DECIMAL(18,4)) AS total "
        "FROM purchase_orders o LEFT JOIN suppliers s ON s.supplier_id = o.supplier_id "
        "LEFT JOIN purchase_order_lines l ON l.po_id = o.po_id "
        "WHERE o.store_id = :s GROUP BY o.po_id, o.supplier_id, s.name, o.status, o.created_at, o.expected_at, "
        "o.sent_at, o.received_at, o.currency ORDER BY o.created_at DESC, o.po_id", {"s": store_id})


def purchase_order_lines(wh: Warehouse, po_id: str) -> pl.DataFrame:
    """``variant_id, sku, supplier_sku, quantity, unit_cost, line_total, received_quantity`` of one order."""
    return wh.query(
        "SELECT l.variant_id, v.sku, i.supplier_sku, l.quantity, l.unit_cost, "
        "CAST(l.quantity * l.unit_cost AS DECIMAL(18,4)) AS line_total, l.received_quantity "
        "FROM purchase_order_lines l JOIN purchase_orders o ON o.po_id = l.po_id "
        "LEFT JOIN variants v ON v.store_id = l.store_id AND v.variant_id = l.variant_id "
        "LEFT JOIN supplier_items i ON i.supplier_id = o.supplier_id AND i.store_id = l.store_id "
        "AND i.variant_id = l.variant_id WHERE l.po_id = :po ORDER BY v.sku, l.variant_id", {"po": po_id})


def _status(wh: Warehouse, po_id: str) -> str:
    status = wh.scalar("SELECT status FROM purchase_orders WHERE po_id = :po", {"po": po_id})
    if status is None:
        raise PurchaseOrderError(f"There is no purchase order {po_id}.")
    return str(status)


def update_lines(wh: Warehouse, po_id: str, quantities: Mapping[str, int],
                 unit_costs: Mapping[str, Decimal] | None = None) -> None:
    """Set a draft's line quantities (0 removes the line) and optionally unit costs, in one transaction."""
    with wh.transaction():
        if _status(wh, po_id) != "draft":
            raise PurchaseOrderError(f"Purchase order {po_id} was already sent: only a draft can be edited.")
        for variant_id, quantity in quantities.items():
            if int(quantity) != quantity or quantity < 0:
                raise PurchaseOrderError(f"The quantity of {variant_id} must be a whole number of at least 0.")
            if quantity == 0:
                wh.execute("DELETE FROM purchase_order_lines WHERE po_id = :po AND variant_id = :v",
                           {"po": po_id, "v": variant_id})
            else:
                wh.execute("UPDATE purchase_order_lines SET quantity = :q WHERE po_id = :po AND variant_id = :v",
                           {"q": int(quantity), "po": po_id, "v": variant_id})
        for variant_id, cost in (unit_costs or {}).items():
            if cost is None or Decimal(cost) < 0:
                raise PurchaseOrderError(f"The unit cost of {variant_id} must be 0 or more.")
            wh.execute("UPDATE purchase_order_lines SET unit_cost = :c WHERE po_id = :po AND variant_id = :v",
                       {"c": Decimal(cost), "po": po_id, "v": variant_id})


def mark_sent(wh: Warehouse, po_id: str, now: dt.datetime | None = None) -> None:
    with wh.transaction():
        if _status(wh, po_id) != "draft":
            raise PurchaseOrderError(f"Purchase order {po_id} is not a draft, so it cannot be sent.")
        if not wh.scalar("SELECT COUNT(*) FROM purchase_order_lines WHERE po_id = :po", {"po": po_id}):
            raise PurchaseOrderError(f"Purchase order {po_id} has no lines: add a quantity first.")
        wh.execute("UPDATE purchase_orders SET status = 'sent', sent_at = :at WHERE po_id = :po",
                   {"at": _now(now), "po": po_id})


def cancel(wh: Warehouse, po_id: str) -> None:
    with wh.transaction():
        if _status(wh, po_id) not in ("draft", "sent"):
            raise PurchaseOrderError(f"Purchase order {po_id} was already received or cancelled.")
        wh.execute("UPDATE purchase_orders SET status = 'cancelled' WHERE po_id = :po", {"po": po_id})


def _receiving_location(wh: Warehouse, store_id: str, variant_id: str, po_location: str | None) -> str:
    if po_location:
        return po_location
    best = wh.scalar("SELECT location_id FROM inventory_levels WHERE store_id = :s AND variant_id = :v "
                     "ORDER BY available DESC, location_id LIMIT 1", {"s": store_id, "v": variant_id})
    if best is None:
        best = wh.scalar("SELECT MIN(location_id) FROM locations WHERE store_id = :s", {"s": store_id})
    return str(best) if best is not None else "default"


def mark_received(wh: Warehouse, po_id: str, received: Mapping[str, int] | None = None,
                  now: dt.datetime | None = None) -> dict[str, int]:
    """Receive a sent order: ``received`` maps variant → units that arrived (default: every line in full).
    Stock goes up by the units received; returns variant → units added."""
    now = _now(now)
    store_id = wh.scalar("SELECT store_id FROM purchase_orders WHERE po_id = :po", {"po": po_id})
    if store_id is None:
        raise PurchaseOrderError(f"There is no purchase order {po_id}.")
    added: dict[str, int] = {}

    def changes(current: Warehouse) -> Changes:
        # Read again inside the write's transaction, under the store's lock: a receipt counted once.
        added.clear()
        if _status(current, po_id) != "sent":
            raise PurchaseOrderError(f"Purchase order {po_id} is not sent, so it cannot be received.")
        location = current.scalar("SELECT location_id FROM purchase_orders WHERE po_id = :po", {"po": po_id})
        out = Changes()
        for variant_id, quantity, already in current.rows(
                "SELECT variant_id, quantity, received_quantity FROM purchase_order_lines WHERE po_id = :po "
                "ORDER BY variant_id", {"po": po_id}):
            total = int(received[variant_id]) if received and variant_id in received else int(quantity)
            if total < 0:
                raise PurchaseOrderError(f"The units received of {variant_id} cannot be negative.")
            delta = total - int(already)
            out.execute("UPDATE purchase_order_lines SET received_quantity = :r WHERE po_id = :po AND variant_id = :v",
                        {"r": total, "po": po_id, "v": variant_id})
            if delta:
                where = _receiving_location(current, store_id, variant_id, location)
                out.execute(
                    "INSERT INTO inventory_levels (store_id, variant_id, location_id, available, updated_at) "
                    "VALUES (:s, :v, :l, :d, :at) ON CONFLICT (store_id, variant_id, location_id) DO UPDATE SET "
                    "available = inventory_levels.available + excluded.available, updated_at = excluded.updated_at",
                    {"s": store_id, "v": variant_id, "l": where, "d": delta, "at": now})
            added[variant_id] = delta
        return out.execute("UPDATE purchase_orders SET status = 'received', received_at = :at WHERE po_id = :po",
                           {"at": now, "po": po_id})

    write(wh, str(store_id), changes)
    return added


def purchase_order_csv(wh: Warehouse, po_id: str) -> pl.DataFrame:
    """The order as a supplier reads it: ``po_id, supplier, sku, supplier_sku, quantity, unit_cost,
    line_total, currency`` (money exact)."""
    head = wh.rows("SELECT o.po_id, COALESCE(s.name, o.supplier_id), o.currency FROM purchase_orders o "
                   "LEFT JOIN suppliers s ON s.supplier_id = o.supplier_id WHERE o.po_id = :po", {"po": po_id})
    if not head:
        raise PurchaseOrderError(f"There is no purchase order {po_id}.")
    _, supplier, currency = head[0]
    lines = purchase_order_lines(wh, po_id)
    return lines.select(
        pl.lit(po_id).alias("po_id"), pl.lit(supplier).alias("supplier"), "sku", "supplier_sku", "quantity",
        "unit_cost", "line_total", pl.lit(currency).alias("currency"))

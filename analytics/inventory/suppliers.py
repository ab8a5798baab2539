"""Suppliers and their items: validated edits and a CSV import of supplier items.

A supplier has a name, an email, a currency and a usual lead time; a supplier
item ties a supplier to one variant of a store with the supplier's SKU, unit
cost, MOQ, pack size and, optionally, a lead time of its own.

The CSV import reads one item per row (header row, UTF-8, comma-separated):
``supplier`` (the supplier's id or exact name), ``sku`` or ``variant_id``,
and optionally ``supplier_sku``, ``unit_cost``, ``moq``, ``pack_size``,
``lead_time_days``. Every row is checked first; when any row is wrong,
nothing is written and every problem is listed with its line number.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from data.warehouse import Warehouse

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
MAX_LEAD_DAYS = 365


class SupplierError(ValueError):
    """Input that cannot be saved; ``problems`` lists every one (one sentence each)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Supplier:
    name: str
    email: str | None = None
    currency: str | None = None
    lead_time_days: int | None = None
    notes: str | None = None
    supplier_id: str | None = None


@dataclass(frozen=True)
class SupplierItem:
    supplier_id: str
    variant_id: str
    supplier_sku: str | None = None
    unit_cost: Decimal | None = None
    moq: int | None = None
    pack_size: int | None = None
    lead_time_days: int | None = None


def _decimal(value: Any, label: str, problems: list[str]) -> Decimal | None:
    """``value`` as a finite Decimal; ``None`` when empty, or when not a number (a problem is noted)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        problems.append(f"{label} {value!r} is not a number.")
        return None
    return number


def _whole(value: Any, label: str, low: int, high: int, problems: list[str]) -> int | None:
    number = _decimal(value, label, problems)
    if number is None:
        return None
    if number != number.to_integral_value() or not low <= number <= high:
        problems.append(f"{label} must be a whole number from {low} to {high}, not {value}.")
        return None
    return int(number)


def _money(value: Any, label: str, problems: list[str]) -> Decimal | None:
    amount = _decimal(value, label, problems)
    if amount is None:
        return None
    if amount < 0:
        problems.append(f"{label} must be 0 or more, not {value}.")
        return None
    return amount.quantize(Decimal("0.0001"))


def check_supplier(supplier: Supplier) -> list[str]:
    problems = []
    if not (supplier.name or "").strip():
        problems.append("A supplier needs a name.")
    if supplier.email and not _EMAIL.fullmatch(supplier.email.strip()):
        problems.append(f"{supplier.email!r} is not an email address.")
    if supplier.currency and not _CURRENCY.fullmatch(supplier.currency.strip().upper()):
        problems.append(f"{supplier.currency!r} is not a three-letter currency code (USD, EUR, ...).")
    _whole(supplier.lead_time_days, "The lead time", 0, MAX_LEAD_DAYS, problems)
    return problems


def save_supplier(wh: Warehouse, supplier: Supplier) -> str:
    """Add (no ``supplier_id``) or update a supplier; returns its id. :class:`SupplierError` when invalid."""
    problems = check_supplier(supplier)
    if problems:
        raise SupplierError(problems)
    supplier_id = supplier.supplier_id or f"sup-{uuid.uuid4().hex[:8]}"
    wh.upsert("suppliers", pl.DataFrame({
        "supplier_id": [supplier_id], "name": [supplier.name.strip()],
        "email": [supplier.email.strip() if supplier.email else None],
        "currency": [supplier.currency.strip().upper() if supplier.currency else None],
        "lead_time_days": [supplier.lead_time_days], "notes": [supplier.notes or None],
    }, schema_overrides={"email": pl.String, "currency": pl.String, "lead_time_days": pl.Int32,
                         "notes": pl.String}))
    return supplier_id


def list_suppliers(wh: Warehouse, store_id: str) -> pl.DataFrame:
    """Every supplier with the number of this store's variants it supplies."""
    return wh.query(
        "SELECT s.supplier_id, s.name, s.email, s.currency, s.lead_time_days, s.notes, "
        "CAST(COUNT(i.variant_id) AS BIGINT) AS items FROM suppliers s "
        "LEFT JOIN supplier_items i ON i.supplier_id = s.supplier_id AND i.store_id = :s "
        "GROUP BY s.supplier_id, s.name, s.email, s.currency, s.lead_time_days, s.notes ORDER BY s.name",
        {"s": store_id})


def supplier_items(wh: Warehouse, store_id: str, supplier_id: str) -> pl.DataFrame:
    return wh.query(
        "SELECT i.variant_id, v.sku, i.supplier_sku, i.unit_cost, i.moq, i.pack_size, i.lead_time_days "
        "FROM supplier_items i LEFT JOIN variants v ON v.store_id = i.store_id AND v.variant_id = i.variant_id "
        "WHERE i.store_id = :s AND i.supplier_id = :sup ORDER BY v.sku, i.variant_id",
        {"s": store_id, "sup": supplier_id})


def _item_row(raw: dict[str, Any], label: str, problems: list[str]) -> dict[str, Any]:
    moq = _whole(raw.get("moq"), f"{label}: the MOQ", 1, 1_000_000, problems)
    pack = _whole(raw.get("pack_size"), f"{label}: the pack size", 1, 1_000_000, problems)
    return {
        "supplier_sku": (str(raw.get("supplier_sku") or "").strip() or None),
        "unit_cost": _money(raw.get("unit_cost"), f"{label}: the unit cost", problems),
        "moq": moq, "pack_size": pack,
        "lead_time_days": _whole(raw.get("lead_time_days"), f"{label}: the lead time", 0, MAX_LEAD_DAYS, problems),
    }


def _write_items(wh: Warehouse, rows: list[dict[str, Any]]) -> int:
    frame = pl.DataFrame(rows, schema={
        "supplier_id": pl.String, "store_id": pl.String, "variant_id": pl.String, "supplier_sku": pl.String,
        "unit_cost": pl.Decimal(18, 4), "moq": pl.Int32, "pack_size": pl.Int32, "lead_time_days": pl.Int32,
    })
    return wh.upsert("supplier_items", frame)


def save_supplier_items(wh: Warehouse, store_id: str, items: list[SupplierItem]) -> int:
    """Add or replace items (all or none). :class:`SupplierError` lists every problem."""
    problems: list[str] = []
    known = {r[0] for r in wh.rows("SELECT variant_id FROM variants WHERE store_id = :s", {"s": store_id})}
    suppliers = {r[0] for r in wh.rows("SELECT supplier_id FROM suppliers")}
    rows = []
    for item in items:
        label = f"Item {item.variant_id}"
        if item.variant_id not in known:
            problems.append(f"{label}: there is no such variant in this store.")
        if item.supplier_id not in suppliers:
            problems.append(f"{label}: there is no supplier {item.supplier_id}.")
        row = _item_row(vars(item), label, problems)
        rows.append({"supplier_id": item.supplier_id, "store_id": store_id, "variant_id": item.variant_id, **row})
    if problems:
        raise SupplierError(problems)
    with wh.transaction():
        return _write_items(wh, rows)


def delete_supplier_item(wh: Warehouse, store_id: str, supplier_id: str, variant_id: str) -> None:
    wh.execute("DELETE FROM supplier_items WHERE supplier_id = :sup AND store_id = :s AND variant_id = :v",
               {"sup": supplier_id, "s": store_id, "v": variant_id})


def import_supplier_items(wh: Warehouse, store_id: str, data: bytes | str) -> int:
    """Import supplier items from CSV (see the module docstring); returns the rows written."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    problems: list[str] = []
    if "supplier" not in header:
        problems.append("The CSV needs a supplier column (the supplier's id or name).")
    if "sku" not in header and "variant_id" not in header:
        problems.append("The CSV needs a sku or a variant_id column.")
    if problems:
        raise SupplierError(problems)
    suppliers = wh.rows("SELECT supplier_id, name FROM suppliers")
    by_id = {sid: sid for sid, _ in suppliers}
    by_name = {str(name).strip().lower(): sid for sid, name in suppliers}
    variants = wh.rows("SELECT variant_id, sku FROM variants WHERE store_id = :s", {"s": store_id})
    ids = {v for v, _ in variants}
    by_sku = {str(sku).strip(): v for v, sku in variants if sku}
    rows, seen = [], set()
    for number, raw in enumerate(reader, start=2):
        raw = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        label = f"Line {number}"
        supplier = raw.get("supplier", "")
        supplier_id = by_id.get(supplier) or by_name.get(supplier.lower())
        if not supplier_id:
            problems.append(f"{label}: there is no supplier {supplier!r}: add it first.")
        variant_id = raw.get("variant_id") or by_sku.get(raw.get("sku", ""))
        if not variant_id or variant_id not in ids:
            problems.append(f"{label}: no variant of this store has "
                            f"{'variant_id ' + repr(raw.get('variant_id')) if raw.get('variant_id') else 'sku ' + repr(raw.get('sku', ''))}.")
        if (supplier_id, variant_id) in seen:
            problems.append(f"{label}: the same supplier and variant appear twice.")
        seen.add((supplier_id, variant_id))
        rows.append({"supplier_id": supplier_id, "store_id": store_id, "variant_id": variant_id,
                     **_item_row(raw, label, problems)})
    if not rows and not problems:
        problems.append("The CSV holds no rows under its header.")
    if problems:
        raise SupplierError(problems)
    with wh.transaction():
        return _write_items(wh, rows)

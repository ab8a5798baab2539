"""A small store for the inventory tests, worked out by hand (store ``s``, as of 31 March 2026).

Sales go straight into the ``variant_daily_sales`` rollup (what the inventory code reads).

| variant | price | cost | sold | available | supplier (lead, MOQ, pack, cost) |
| --- | --- | --- | --- | --- | --- |
| v1 | 10 | 4 | 2 a day, 1 Jan–31 Mar (90 days) | 20 at a + 10 at b | sup-1: item lead 10 (supplier 12), MOQ 20, pack 6, 4.00 |
| v2 | 10 | 8 | 1 a day, 2–31 Mar (30 days) | 5 at a | sup-2: lead 14 (the supplier's), 7.50 |
| v3 | 5 | 2 | 4 on 1 Dec 2025 | 50 at a | none |
| v4 | 10 | 3 | 3 on 20 Mar | 0 at a | none |

v1 also has a forecast of 2.0 a day for 28 days by SES (σ of its error 1.0, MASE 0.8, mean absolute error
1.2 units against seasonal naive's 1.5 on the same 28 backtest days, bias +5 % on the 56 units sold, 25 of the
28 days inside the interval) and 6 units on order (a sent purchase order of 10 with 4 received).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from tests.builders import add_store, utc

AS_OF = dt.date(2026, 3, 31)
GENERATED = utc(2026, 3, 31, 12)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def add_sales(wh, variant_id: str, days: list[dt.date], units: int, price: str, store_id: str = "s") -> None:
    n = len(days)
    wh.insert("variant_daily_sales", pl.DataFrame({
        "store_id": [store_id] * n, "local_date": days, "variant_id": [variant_id] * n, "channel": ["online_store"] * n,
        "product_id": [f"p-{variant_id}"] * n, "units_sold": [units] * n,
        "gross_sales": [Decimal(price) * units] * n, "discounts": [Decimal(0)] * n, "units_returned": [0] * n,
        "returns": [Decimal(0)] * n,
    }, schema_overrides={"gross_sales": pl.Decimal(18, 4), "discounts": pl.Decimal(18, 4),
                         "returns": pl.Decimal(18, 4), "units_sold": pl.Int64, "units_returned": pl.Int64}))


def add_variants(wh, rows: list[tuple[str, str, str]], store_id: str = "s") -> None:
    """``(variant_id, price, unit_cost)``; sku ``SKU-<id>``, product ``p-<id>``."""
    wh.insert("products", pl.DataFrame({
        "store_id": [store_id] * len(rows), "product_id": [f"p-{v}" for v, _, _ in rows],
        "title": [f"Product {v}" for v, _, _ in rows]}))
    wh.insert("variants", pl.DataFrame({
        "store_id": [store_id] * len(rows), "variant_id": [v for v, _, _ in rows],
        "product_id": [f"p-{v}" for v, _, _ in rows], "sku": [f"SKU-{v}" for v, _, _ in rows],
        "title": ["Default Title"] * len(rows), "price": [Decimal(p) for _, p, _ in rows],
        "unit_cost": [Decimal(c) for _, _, c in rows],
    }, schema_overrides={"price": pl.Decimal(18, 4), "unit_cost": pl.Decimal(18, 4)}))


def add_levels(wh, rows: list[tuple[str, str, int]], store_id: str = "s") -> None:
    wh.insert("inventory_levels", pl.DataFrame({
        "store_id": [store_id] * len(rows), "variant_id": [v for v, _, _ in rows],
        "location_id": [loc for _, loc, _ in rows], "available": [a for _, _, a in rows],
        "updated_at": [utc(2026, 3, 31, 6)] * len(rows)}, schema_overrides={"available": pl.Int32}))


def build_inventory_store(wh) -> None:
    add_store(wh, "s")
    wh.insert("locations", pl.DataFrame({"store_id": ["s", "s"], "location_id": ["a", "b"],
                                         "name": ["Warehouse A", "Shop B"], "country": ["US", "US"]}))
    add_variants(wh, [("v1", "10", "4"), ("v2", "10", "8"), ("v3", "5", "2"), ("v4", "10", "3")])
    add_sales(wh, "v1", _days(dt.date(2026, 1, 1), AS_OF), 2, "10")
    add_sales(wh, "v2", _days(dt.date(2026, 3, 2), AS_OF), 1, "10")
    add_sales(wh, "v3", [dt.date(2025, 12, 1)], 4, "5")
    add_sales(wh, "v4", [dt.date(2026, 3, 20)], 3, "10")
    add_levels(wh, [("v1", "a", 20), ("v1", "b", 10), ("v2", "a", 5), ("v3", "a", 50), ("v4", "a", 0)])
    wh.insert("suppliers", pl.DataFrame({
        "supplier_id": ["sup-1", "sup-2"], "name": ["Acme", "Bolt"], "email": ["a@acme.test", "b@bolt.test"],
        "currency": ["USD", "USD"], "lead_time_days": [12, 14], "notes": [None, None]},
        schema_overrides={"lead_time_days": pl.Int32, "notes": pl.String}))
    wh.insert("supplier_items", pl.DataFrame({
        "supplier_id": ["sup-1", "sup-2"], "store_id": ["s", "s"], "variant_id": ["v1", "v2"],
        "supplier_sku": ["A-1", "B-2"], "unit_cost": [Decimal("4.00"), Decimal("7.50")], "moq": [20, None],
        "pack_size": [6, None], "lead_time_days": [10, None]},
        schema_overrides={"unit_cost": pl.Decimal(18, 4), "moq": pl.Int32, "pack_size": pl.Int32,
                          "lead_time_days": pl.Int32}))
    wh.execute("INSERT INTO purchase_orders (po_id, supplier_id, store_id, status, created_at, currency) "
               "VALUES ('po-1', 'sup-1', 's', 'sent', :at, 'USD')", {"at": utc(2026, 3, 25)})
    wh.execute("INSERT INTO purchase_order_lines (po_id, store_id, variant_id, quantity, unit_cost, "
               "received_quantity) VALUES ('po-1', 's', 'v1', 10, 4, 4)")
    days = _days(dt.date(2026, 4, 1), dt.date(2026, 4, 28))
    wh.insert("forecasts", pl.DataFrame({
        "store_id": ["s"] * 28, "variant_id": ["v1"] * 28, "ds": days, "model": ["SES"] * 28,
        "yhat": [2.0] * 28, "yhat_lo": [0.355] * 28, "yhat_hi": [3.645] * 28, "level": [90] * 28,
        "generated_at": [GENERATED] * 28}, schema_overrides={"level": pl.Int32}))
    wh.insert("forecast_accuracy", pl.DataFrame({
        "store_id": ["s"] * 2, "variant_id": ["v1"] * 2, "model": ["SES", "SeasonalNaive"],
        "generated_at": [GENERATED] * 2, "mase": [0.8, 1.0], "bias": [0.05, -0.1], "horizon": [28] * 2,
        "chosen": [True, False], "error_sd": [1.0, 1.4], "scored_days": [28] * 2, "series_kind": ["smooth"] * 2,
        "mae": [1.2, 1.5], "actual_units": [56.0] * 2, "coverage": [25 / 28, 26 / 28]},
        schema_overrides={"horizon": pl.Int32, "scored_days": pl.Int32}))

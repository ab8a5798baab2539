"""Stock health per variant (METRICS.md, Inventory), with its reorder suggestion.

One row per variant that has stock recorded, sold in the last 90 days or has
a forecast. Stock is today's (``inventory_levels`` summed over locations);
sales are store-local days up to ``as_of`` from ``variant_daily_sales``.

- ``daily_demand``, ``days_of_cover``, ``status``, ``low_stock`` and
  ``reorder_due``: the one definition of each, :mod:`analytics.inventory.figures`
  (``demand_source`` says whether demand is the forecast's or the trailing 30
  days');
- ``inventory_value`` = available × unit cost (exact; ``None`` when the cost
  is unknown, 0 when nothing is available);
- ``abc_class``: variants ranked by net sales (gross − discounts − returns)
  over the 90 days up to ``as_of``; a variant is A while the cumulative
  share of the variants ranked above it is below 80 %, B below 95 %, else C
  (so the variant that crosses 80 % is still A); no net sales: C;
- the supplier of a variant is its supplier item of lowest unit cost (then
  supplier id); its lead time is the item's, else the supplier's, else the
  store's default (``lead_time_source`` says which);
- ``on_order`` = Σ (quantity − received) over lines of ``sent`` purchase orders;
- safety stock, reorder point and suggested order: :mod:`analytics.inventory.reorder`,
  σ the chosen forecast model's backtest error (without one, √ daily demand,
  the spread of Poisson demand).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import polars as pl

from analytics.inventory.choices import InventoryChoices
from analytics.inventory.figures import (
    FORECAST_DAYS,
    STOCK_DEFINITIONS,
    daily_demand,
    days_of_cover,
    is_low_stock,
    reorder_due_expr,
    stock_counts,
    stock_status,
    trailing_demand,
)
from analytics.inventory.reorder import demand_over, reorder_point, safety_stock, service_z, suggested_order
from data.warehouse import Warehouse

ABC_WINDOW_DAYS = 90
# The help texts beside the inventory figures: the stock figures' own (one source with their rules,
# analytics.inventory.figures) and the forecasts' accuracy.
INVENTORY_DEFINITIONS = {
    **STOCK_DEFINITIONS,
    "vs_naive": "The chosen model's mean absolute error on the backtest ÷ the naive forecast's (the same "
                "weekday last week) on the same days, − 1: −25 % is a quarter less error than the naive forecast.",
    "coverage": "Share of the backtest days whose units sold fell inside the 90 % prediction interval.",
    "backtest": "The backtest: the last 28 days (two origins 14 days apart) and, with more than a year of "
                "history, the 28 days after the same day last year, so the choice of model saw last year's "
                "season and peaks.",
}


def _vs_naive(acc: dict) -> float | None:
    """The chosen model's backtest error ÷ seasonal naive's on the same days, − 1 (None without both)."""
    mase, naive = acc.get("mase"), acc.get("naive_mase")
    return float(mase) / float(naive) - 1 if mase is not None and naive else None


_CATALOGUE_SQL = """
SELECT v.variant_id, v.sku, p.title AS product_title, v.title AS variant_title, v.price, v.unit_cost
FROM variants v LEFT JOIN products p ON p.store_id = v.store_id AND p.product_id = v.product_id
WHERE v.store_id = :store_id
"""
_SALES_SQL = """
SELECT variant_id,
       CAST(SUM(CASE WHEN local_date >= :abc_start THEN units_sold ELSE 0 END) AS BIGINT) AS units_90d,
       CAST(SUM(CASE WHEN local_date >= :abc_start THEN gross_sales - discounts - returns ELSE 0 END)
            AS DECIMAL(18,4)) AS net_sales_90d,
       MAX(CASE WHEN units_sold > 0 THEN local_date END) AS last_sold
FROM variant_daily_sales
WHERE store_id = :store_id AND local_date <= :as_of AND variant_id IS NOT NULL
GROUP BY variant_id
"""
# The days after ``as_of`` of the newest forecast (a forecast older than its horizon gives none).
_FORECAST_SQL = """
SELECT f.variant_id, f.ds, f.yhat FROM forecasts f
WHERE f.store_id = :store_id AND f.ds > :as_of AND f.ds <= :horizon_end ORDER BY f.variant_id, f.ds
"""
_ACCURACY_SQL = """
SELECT a.variant_id, a.model, a.mase, a.bias, a.error_sd, a.series_kind, a.generated_at, a.coverage,
       n.mase AS naive_mase
FROM forecast_accuracy a
LEFT JOIN forecast_accuracy n ON n.store_id = a.store_id AND n.variant_id = a.variant_id
  AND n.generated_at = a.generated_at AND n.model = 'SeasonalNaive'
WHERE a.store_id = :store_id AND a.chosen
  AND a.generated_at = (SELECT MAX(generated_at) FROM forecast_accuracy WHERE store_id = :store_id)
"""
_SUPPLIER_SQL = """
SELECT i.variant_id, i.supplier_id, s.name AS supplier_name, i.unit_cost AS supplier_unit_cost, i.moq,
       i.pack_size, i.lead_time_days AS item_lead, s.lead_time_days AS supplier_lead
FROM supplier_items i JOIN suppliers s ON s.supplier_id = i.supplier_id
WHERE i.store_id = :store_id
"""
_ON_ORDER_SQL = """
SELECT l.variant_id, CAST(SUM(GREATEST(l.quantity - l.received_quantity, 0)) AS BIGINT) AS on_order
FROM purchase_order_lines l JOIN purchase_orders o ON o.po_id = l.po_id
WHERE l.store_id = :store_id AND o.status = 'sent'
GROUP BY l.variant_id
"""

HEALTH_SCHEMA: dict[str, Any] = {
    "variant_id": pl.String, "sku": pl.String, "product_title": pl.String, "variant_title": pl.String,
    "name": pl.String, "price": pl.Decimal(18, 4), "unit_cost": pl.Decimal(18, 4), "available": pl.Int64,
    "inventory_value": pl.Decimal(38, 4), "units_90d": pl.Int64, "net_sales_90d": pl.Decimal(38, 4),
    "last_sold": pl.Date, "daily_demand": pl.Float64, "demand_source": pl.String, "forecast_model": pl.String,
    "series_kind": pl.String, "mase": pl.Float64, "bias": pl.Float64, "vs_naive": pl.Float64,
    "coverage": pl.Float64, "error_sd": pl.Float64,
    "days_of_cover": pl.Float64, "abc_class": pl.String, "supplier_id": pl.String, "supplier_name": pl.String,
    "lead_time_days": pl.Int64, "lead_time_source": pl.String, "moq": pl.Int64, "pack_size": pl.Int64,
    "supplier_unit_cost": pl.Decimal(18, 4), "on_order": pl.Int64, "safety_stock": pl.Int64,
    "reorder_point": pl.Int64, "suggested_order_qty": pl.Int64, "order_value": pl.Decimal(38, 4),
    "status": pl.String, "low_stock": pl.Boolean, "reorder_due": pl.Boolean,
}


def _by_variant(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["variant_id"]: row for row in frame.iter_rows(named=True)}


def abc_classes(net_sales: dict[str, Decimal]) -> dict[str, str]:
    """A/B/C per variant from its net sales (see the module docstring); ties ranked by variant id."""
    ranked = sorted(net_sales.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum((v for _, v in ranked if v > 0), Decimal(0))
    classes: dict[str, str] = {}
    before = Decimal(0)
    for variant_id, value in ranked:
        if value <= 0 or total <= 0:
            classes[variant_id] = "C"
            continue
        share = before / total
        classes[variant_id] = "A" if share < Decimal("0.80") else "B" if share < Decimal("0.95") else "C"
        before += value
    return classes


def _supplier_of(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not rows:
        return None
    cost = lambda r: r["supplier_unit_cost"] if r["supplier_unit_cost"] is not None else Decimal("Infinity")  # noqa: E731
    return min(rows, key=lambda r: (cost(r), r["supplier_id"]))


def stock_health(wh: Warehouse, store_id: str, as_of: dt.date, choices: InventoryChoices) -> pl.DataFrame:
    """One row per variant: stock, demand, cover, class, supplier, reorder suggestion and status."""
    params = {"store_id": store_id, "as_of": as_of,
              "abc_start": as_of - dt.timedelta(days=ABC_WINDOW_DAYS - 1)}
    catalogue = _by_variant(wh.query(_CATALOGUE_SQL, {"store_id": store_id}))
    sales = _by_variant(wh.query(_SALES_SQL, params))
    trailing = trailing_demand(wh, store_id, as_of)
    accuracy = _by_variant(wh.query(_ACCURACY_SQL, {"store_id": store_id}))
    forecasts: dict[str, list[float]] = {}
    horizon = {"store_id": store_id, "as_of": as_of, "horizon_end": as_of + dt.timedelta(days=FORECAST_DAYS)}
    for variant_id, _, yhat in wh.query(_FORECAST_SQL, horizon).iter_rows():
        forecasts.setdefault(variant_id, []).append(float(yhat or 0.0))
    suppliers: dict[str, list[dict[str, Any]]] = {}
    for row in wh.query(_SUPPLIER_SQL, {"store_id": store_id}).iter_rows(named=True):
        suppliers.setdefault(row["variant_id"], []).append(row)
    on_order = {v: int(q) for v, q in wh.query(_ON_ORDER_SQL, {"store_id": store_id}).iter_rows()}
    levels = {v: int(a) for v, a in wh.query(
        "SELECT variant_id, CAST(SUM(available) AS BIGINT) FROM inventory_levels WHERE store_id = :store_id "
        "GROUP BY variant_id", {"store_id": store_id}).iter_rows()}

    recent = {v for v, r in sales.items() if (r["units_90d"] or 0) > 0}
    variant_ids = sorted(set(levels) | recent | set(forecasts))
    classes = abc_classes({v: Decimal(sales[v]["net_sales_90d"] or 0) if v in sales else Decimal(0)
                           for v in variant_ids})
    z = service_z(choices.service_level)
    rows = []
    for v in variant_ids:
        cat = catalogue.get(v, {})
        sold = sales.get(v, {})
        available = levels.get(v)
        stock = available if available is not None else 0
        fc = forecasts.get(v)
        acc = accuracy.get(v, {})
        demand, source = daily_demand(fc, trailing.get(v, {}).get("daily_demand"))
        cover = days_of_cover(available, demand, v in recent)
        supplier = _supplier_of(suppliers.get(v, []))
        if supplier and supplier["item_lead"] is not None:
            lead, lead_source = int(supplier["item_lead"]), "supplier item"
        elif supplier and supplier["supplier_lead"] is not None:
            lead, lead_source = int(supplier["supplier_lead"]), "supplier"
        else:
            lead, lead_source = choices.default_lead_days, "default"
        error_sd = acc.get("error_sd")
        sigma = float(error_sd) if error_sd is not None and not math.isnan(error_sd) else \
            (math.sqrt(demand) if demand else 0.0)
        daily = fc if fc else ([demand] if demand else [])
        safety = safety_stock(z, sigma, lead)
        rop = reorder_point(demand_over(daily, lead), safety) if demand else 0
        incoming = on_order.get(v, 0)
        pack = supplier["pack_size"] if supplier else None
        moq = supplier["moq"] if supplier else None
        suggested = suggested_order(rop, demand_over(daily, lead + choices.review_days) - demand_over(daily, lead),
                                    stock, incoming, pack, moq) if demand else 0
        unit_cost = cat.get("unit_cost")
        buy_cost = supplier["supplier_unit_cost"] if supplier and supplier["supplier_unit_cost"] is not None \
            else unit_cost
        last_sold = sold.get("last_sold")
        status = stock_status(available, cover, lead, sold.get("last_sold"), v in recent, as_of=as_of,
                              dead_stock_days=choices.dead_stock_days, overstock_days=choices.overstock_days)
        product, title = cat.get("product_title"), cat.get("variant_title")
        name = " – ".join(p for p in (product, title) if p and p != "Default Title") or cat.get("sku") or v
        rows.append({
            "variant_id": v, "sku": cat.get("sku"), "product_title": product, "variant_title": title,
            "name": name, "price": cat.get("price"), "unit_cost": unit_cost, "available": available,
            "inventory_value": (Decimal(max(stock, 0)) * unit_cost) if unit_cost is not None else None,
            "units_90d": int(sold.get("units_90d") or 0), "net_sales_90d": sold.get("net_sales_90d") or Decimal(0),
            "last_sold": last_sold, "daily_demand": demand, "demand_source": source,
            "forecast_model": acc.get("model") if fc else None, "series_kind": acc.get("series_kind") if fc else None,
            "mase": acc.get("mase") if fc else None, "bias": acc.get("bias") if fc else None,
            "vs_naive": _vs_naive(acc) if fc else None, "coverage": acc.get("coverage") if fc else None,
            "error_sd": sigma if demand else None, "days_of_cover": cover, "abc_class": classes[v],
            "supplier_id": supplier["supplier_id"] if supplier else None,
            "supplier_name": supplier["supplier_name"] if supplier else None,
            "lead_time_days": lead, "lead_time_source": lead_source, "moq": moq, "pack_size": pack,
            "supplier_unit_cost": buy_cost, "on_order": incoming, "safety_stock": safety if demand else 0,
            "reorder_point": rop, "suggested_order_qty": suggested,
            "order_value": Decimal(suggested) * buy_cost if buy_cost is not None else None,
            "status": status, "low_stock": is_low_stock(status), "reorder_due": suggested > 0,
        })
    return pl.DataFrame(rows, schema=HEALTH_SCHEMA, orient="row") if rows else pl.DataFrame(schema=HEALTH_SCHEMA)


def health_summary(health: pl.DataFrame) -> dict[str, Any]:
    """The page's cards: counts per status, low stock and to reorder (:func:`stock_counts`), inventory
    value (exact; with how many variants lack a cost), units available and the reorder's order value."""
    valued = health.filter(pl.col("inventory_value").is_not_null())
    missing_cost = health.filter(pl.col("inventory_value").is_null() & (pl.col("available").fill_null(0) > 0))
    reorder = health.filter(reorder_due_expr())
    return {
        "variants": health.height,
        "inventory_value": sum(valued["inventory_value"].to_list(), Decimal(0)),
        "variants_without_cost": missing_cost.height,
        "units_available": int(health["available"].fill_null(0).clip(lower_bound=0).sum()) if health.height else 0,
        **stock_counts(health),
        "reorder_value": sum((v for v in reorder["order_value"].to_list() if v is not None), Decimal(0)),
    }


def levels_by_location(wh: Warehouse, store_id: str) -> pl.DataFrame:
    """``variant_id, sku, location_id, location, available, updated_at`` of every recorded level."""
    return wh.query(
        "SELECT l.variant_id, v.sku, l.location_id, COALESCE(o.name, l.location_id) AS location, l.available, "
        "l.updated_at FROM inventory_levels l "
        "LEFT JOIN variants v ON v.store_id = l.store_id AND v.variant_id = l.variant_id "
        "LEFT JOIN locations o ON o.store_id = l.store_id AND o.location_id = l.location_id "
        "WHERE l.store_id = :store_id ORDER BY l.variant_id, l.location_id", {"store_id": store_id})


def sell_through(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """``variant_id, units_sold, available_end, sell_through`` over the inclusive range: units sold ÷ (units
    sold + available at the end), the end's stock from that day's snapshots, else today's levels."""
    frame = wh.query(
        "WITH sold AS (SELECT variant_id, SUM(units_sold) AS units_sold FROM variant_daily_sales "
        "  WHERE store_id = :s AND local_date BETWEEN :start AND :end GROUP BY variant_id), "
        "snap AS (SELECT variant_id, available FROM daily_stock WHERE store_id = :s AND day = :end), "
        "lvl AS (SELECT variant_id, SUM(available) AS available FROM inventory_levels WHERE store_id = :s "
        "  GROUP BY variant_id) "
        "SELECT sold.variant_id, CAST(sold.units_sold AS BIGINT) AS units_sold, "
        "CAST(COALESCE(snap.available, lvl.available, 0) AS BIGINT) AS available_end FROM sold "
        "LEFT JOIN snap ON snap.variant_id = sold.variant_id LEFT JOIN lvl ON lvl.variant_id = sold.variant_id",
        {"s": store_id, "start": start, "end": end})
    if frame.height == 0:
        return pl.DataFrame(schema={"variant_id": pl.String, "units_sold": pl.Int64, "available_end": pl.Int64,
                                    "sell_through": pl.Float64})
    denominator = pl.col("units_sold") + pl.col("available_end").clip(lower_bound=0)
    return frame.with_columns(
        pl.when(denominator > 0).then(pl.col("units_sold") / denominator).otherwise(None).alias("sell_through"))


def lost_sales(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """``variant_id, stockout_days, lost_units, lost_sales``: per variant with stockout days in the range, the
    expected units of those days (the censored-day demand of :func:`build_series`) and × its price."""
    from analytics.inventory.refresh_step import demand_series

    days = (end - start).days + 1 + 28
    series = demand_series(wh, store_id, end, history_days=days)
    lost = (series.filter(pl.col("censored") & pl.col("ds").is_between(start, end))
            .group_by("unique_id").agg(pl.len().cast(pl.Int64).alias("stockout_days"),
                                       pl.col("y").sum().alias("lost_units"))
            .rename({"unique_id": "variant_id"}))
    prices = {v: p for v, p in wh.query("SELECT variant_id, price FROM variants WHERE store_id = :s",
                                        {"s": store_id}).iter_rows()}
    values = [None if prices.get(v) is None else
              (Decimal(str(round(units, 4))) * prices[v]).quantize(Decimal("0.0001"))
              for v, units in lost.select("variant_id", "lost_units").iter_rows()]
    return lost.with_columns(pl.Series("lost_sales", values, dtype=pl.Decimal(38, 4))).sort("variant_id")


def inventory_version(wh: Warehouse, store_id: str) -> tuple:
    """A cheap fingerprint of what :func:`stock_health` reads besides sales (stock levels, forecasts,
    suppliers, purchase orders): cache keys include it, so a receipt or a refresh shows at once."""
    return tuple(wh.rows(
        "SELECT (SELECT COUNT(*) FROM inventory_levels WHERE store_id = :s), "
        "(SELECT SUM(available) FROM inventory_levels WHERE store_id = :s), "
        "(SELECT MAX(updated_at) FROM inventory_levels WHERE store_id = :s), "
        "(SELECT MAX(generated_at) FROM forecasts WHERE store_id = :s), "
        "(SELECT COUNT(*) FROM supplier_items WHERE store_id = :s), "
        "(SELECT SUM(COALESCE(moq, 0) + COALESCE(pack_size, 0) + COALESCE(lead_time_days, 0)) "
        "   FROM supplier_items WHERE store_id = :s), "
        "(SELECT SUM(COALESCE(unit_cost, 0)) FROM supplier_items WHERE store_id = :s), "
        "(SELECT SUM(COALESCE(lead_time_days, 0)) FROM suppliers), "
        "(SELECT COUNT(*) FROM purchase_orders WHERE store_id = :s), "
        "(SELECT COUNT(*) FROM purchase_orders WHERE store_id = :s AND status = 'sent'), "
        "(SELECT SUM(quantity - received_quantity) FROM purchase_order_lines WHERE store_id = :s)",
        {"s": store_id})[0])

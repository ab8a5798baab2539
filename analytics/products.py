"""Product performance: what each product and variant sold, kept, earned, and has left.

Sales figures come from the ``variant_daily_sales`` rollup, so they follow
the metric layer's rules (store-local days, test orders and orders never paid
left out, gift cards left out, a return on its refund's day), over inclusive
store-local dates and, optionally, channels (an order without a channel is in
``other``). Per variant, and per product as the sum of its variants:

- ``units_sold``: Σ quantity sold; ``units_returned``: Σ quantity refunded in the range;
  ``net_units`` = units sold − units returned;
- ``gross_sales``, ``discounts``, ``returns`` and ``net_sales`` = gross − discounts − returns
  (METRICS.md), exact ``Decimal`` in the store currency;
- ``return_rate`` = units returned ÷ units sold (``None`` without units sold;
  above 1 when the range's refunds are for earlier sales);
- ``cost_of_goods`` = ``variants.unit_cost`` × net units, and ``margin`` =
  net sales − cost of goods; both ``None`` ("cost unknown") when a variant
  with net units has no unit cost;
- ``trend``: units sold per bucket over the range, oldest first (see
  :func:`trend_grain`), for a sparkline.

Stock does not depend on the range or the channels; it is today's, from
:func:`analytics.inventory.stock.stock_health` (the one definition of each
stock figure, :mod:`analytics.inventory.figures`):

- ``available``: Σ ``inventory_levels.available`` over locations (``None``
  when the variant's stock is not tracked);
- ``daily_demand`` and ``days_of_cover``: the forecast's rate, else the last
  30 days' in-stock rate; cover capped at 365, 0 for a stockout;
- ``low_stock``: a stockout or a stockout risk (fewer days of cover than the
  lead time).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Iterable

import polars as pl

from analytics.inventory.choices import load_choices
from analytics.inventory.figures import DEMAND_PLACES, STOCK_DEFINITIONS, days_of_cover
from analytics.inventory.stock import stock_health
from analytics.metrics import filter_params
from analytics.periods import bucket_starts, check_range, range_days
from analytics.sales_breakdowns import sales_by_variant, variant_label
from data.warehouse import Warehouse

__all__ = [
    "PRODUCT_DEFINITIONS",
    "low_stock",
    "product_performance",
    "trend_grain",
    "unit_return_rate",
    "variant_performance",
]

RATIO_PLACES = Decimal("0.0001")
COVER_PLACES = Decimal("0.1")

PRODUCT_DEFINITIONS: dict[str, str] = {
    "units_sold": "Sum of the quantities sold in the range, gift cards excluded.",
    "units_returned": "Sum of the quantities on refunds made in the range.",
    "net_sales": "Gross sales − discounts − returns.",
    "return_rate": "Units returned ÷ units sold, in the range.",
    "margin": "Net sales − unit cost × units (net of returns). Cost unknown when a variant has no unit cost.",
    "trend": "Units sold per week over the range (per day when the range is four weeks or shorter).",
    **{name: STOCK_DEFINITIONS[name] for name in ("available", "daily_demand", "days_of_cover", "low_stock")},
}

# Every variant's names and cost (variants without a row here are named from the sales rows).
_CATALOGUE_SQL = """
SELECT v.variant_id, v.product_id, p.title AS product_title, v.title AS variant_title, v.sku,
       CAST(v.unit_cost AS DECIMAL(38,4)) AS unit_cost
FROM variants v LEFT JOIN products p ON p.store_id = v.store_id AND p.product_id = v.product_id
WHERE v.store_id = :store_id
"""

_DAILY_UNITS_SQL = """
SELECT variant_id, local_date, CAST(SUM(units_sold) AS BIGINT) AS units_sold
FROM variant_daily_sales
WHERE store_id = :store_id AND local_date BETWEEN :start_date AND :end_date AND units_sold <> 0 {segment}
GROUP BY variant_id, local_date
"""

def _ratio(numerator: Any, denominator: Any, places: Decimal = RATIO_PLACES) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_EVEN)


def unit_return_rate(units_returned: int, units_sold: int) -> Decimal:
    """Units returned ÷ units sold at 4 places (0 without units sold), as in ``return_rate``."""
    return _ratio(units_returned, units_sold) or Decimal("0.0000")


def trend_grain(start: dt.date, end: dt.date) -> str:
    """``day`` for a range of four weeks or less, else ``week``: a sparkline needs a few points."""
    return "day" if range_days(start, end) <= 28 else "week"


def _cover(available: int | None, demand: Decimal | None) -> Decimal | None:
    """A product's cover from its variants' sums, by the rule of :func:`analytics.inventory.figures.days_of_cover`."""
    cover = days_of_cover(available, float(demand) if demand else None, False)
    return None if cover is None else Decimal(str(cover)).quantize(COVER_PLACES, rounding=ROUND_HALF_EVEN)


def _decimal(value: float | None, places: Decimal) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(places, rounding=ROUND_HALF_EVEN)


# -- stock -----------------------------------------------------------------------------

def stock_columns(wh: Warehouse, store_id: str, as_of: dt.date, health: pl.DataFrame | None = None) -> pl.DataFrame:
    """``variant_id, product_id, available, daily_demand, days_of_cover, low_stock`` of every variant of
    :func:`stock_health` (pass its frame as ``health`` to reuse it), demand and cover as exact decimals."""
    if health is None:
        health = stock_health(wh, store_id, as_of, load_choices(wh, store_id))
    rows = [{"variant_id": r["variant_id"], "available": r["available"],
             "daily_demand": _decimal(r["daily_demand"], DEMAND_PLACES),
             "days_of_cover": _decimal(r["days_of_cover"], COVER_PLACES), "low_stock": r["low_stock"],
             "status": r["status"]}
            for r in health.iter_rows(named=True)]
    return pl.DataFrame(rows, schema={"variant_id": pl.String, "available": pl.Int64,
                                      "daily_demand": pl.Decimal(38, 4), "days_of_cover": pl.Decimal(38, 1),
                                      "low_stock": pl.Boolean, "status": pl.String})


def low_stock(wh: Warehouse, store_id: str, as_of: dt.date, health: pl.DataFrame | None = None) -> pl.DataFrame:
    """The variants low on stock (a stockout or a stockout risk), fewest days of cover first.

    Columns: ``variant`` (how a person names it), ``product_title, variant_title, sku, available,
    daily_demand, days_of_cover, status, variant_id``.
    """
    flagged = stock_columns(wh, store_id, as_of, health).filter(pl.col("low_stock"))
    named = (
        flagged.join(_catalogue(wh, store_id), on="variant_id", how="left")
        .with_columns(pl.col("product_title").fill_null(pl.col("product_id")).fill_null(pl.col("variant_id")))
        .sort(["days_of_cover", "daily_demand", "variant_id"], descending=[False, True, False], nulls_last=True)
    )
    labels = [variant_label(r["product_title"], r["variant_title"], r["sku"], r["variant_id"])
              for r in named.iter_rows(named=True)]
    return named.with_columns(pl.Series("variant", labels, dtype=pl.String)).select(
        "variant", "product_title", "variant_title", "sku", "available", "daily_demand", "days_of_cover", "status",
        "variant_id")


# -- sales -----------------------------------------------------------------------------

def _catalogue(wh: Warehouse, store_id: str) -> pl.DataFrame:
    frame = wh.query(_CATALOGUE_SQL, {"store_id": store_id})
    if frame.height == 0:
        return pl.DataFrame(schema={"variant_id": pl.String, "product_id": pl.String, "product_title": pl.String,
                                    "variant_title": pl.String, "sku": pl.String, "unit_cost": pl.Decimal(38, 4)})
    return frame


def _trend_long(wh: Warehouse, params: dict[str, Any], segment: str, grain: str) -> pl.DataFrame:
    """``variant_id, period, units_sold``: units per trend bucket (buckets with sales only)."""
    daily = wh.query(_DAILY_UNITS_SQL.format(segment=segment), params)
    if daily.height == 0:
        return pl.DataFrame(schema={"variant_id": pl.String, "period": pl.Date, "units_sold": pl.Int64})
    period = pl.col("local_date") if grain == "day" else pl.col("local_date").dt.truncate("1w")
    return (
        daily.with_columns(period.alias("period"))
        .group_by("variant_id", "period")
        .agg(pl.col("units_sold").sum().cast(pl.Int64))
    )


def _trend_lists(long: pl.DataFrame, key: str, labels: list[dt.date]) -> pl.DataFrame:
    """``key, trend``: one list of units per key, a value for every label (0 where nothing sold)."""
    by_key: dict[str, dict[dt.date, int]] = {}
    for key_value, period, units in long.select(key, "period", "units_sold").iter_rows():
        points = by_key.setdefault(key_value, {})
        points[period] = points.get(period, 0) + units
    return pl.DataFrame(
        {key: list(by_key), "trend": [[points.get(label, 0) for label in labels] for points in by_key.values()]},
        schema={key: pl.String, "trend": pl.List(pl.Int64)},
    )


VARIANT_COLUMNS = (
    "product_id", "product_title", "variant_id", "variant", "variant_title", "sku", "units_sold", "units_returned",
    "net_units", "gross_sales", "discounts", "returns", "net_sales", "return_rate", "unit_cost",
    "cost_of_goods", "margin", "trend", "available", "daily_demand", "days_of_cover", "low_stock",
)


def variant_performance(
    wh: Warehouse,
    store_id: str,
    start: dt.date,
    end: dt.date,
    *,
    as_of: dt.date,
    channels: Iterable[str] | None = None,
    health: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per variant sold or returned in the range, highest net sales first.

    Columns :data:`VARIANT_COLUMNS`, defined in the module's docstring; stock
    columns are as of ``as_of`` (the store's today), whatever the range.
    """
    start, end = check_range(start, end)
    sales = sales_by_variant(wh, store_id, start, end, channels=channels)
    if sales.height == 0:
        return _empty_variants()
    params, segment = filter_params(store_id, start, end, channels, None)
    grain = trend_grain(start, end)
    labels = bucket_starts(start, end, grain)
    trends = _trend_lists(_trend_long(wh, params, segment, grain), "variant_id", labels)
    stock = stock_columns(wh, store_id, as_of, health)
    catalogue = _catalogue(wh, store_id).select("variant_id", "product_title", "variant_title", "unit_cost")
    frame = (
        sales.join(catalogue, on="variant_id", how="left")
        .join(trends, on="variant_id", how="left")
        .join(stock.select("variant_id", "available", "daily_demand", "days_of_cover", "low_stock"),
              on="variant_id", how="left")
        .with_columns(
            pl.col("product_title").fill_null(pl.col("product_id")).fill_null(pl.lit("Unknown product")),
            pl.col("trend").fill_null(pl.lit([0] * len(labels), dtype=pl.List(pl.Int64))),
            pl.col("low_stock").fill_null(False),
        )
    )
    rows = frame.to_dicts()
    for row in rows:
        row["net_units"] = row["units_sold"] - row["units_returned"]
        row["return_rate"] = _ratio(row["units_returned"], row["units_sold"])
        if row["net_units"] == 0:
            row["cost_of_goods"] = Decimal("0.0000")
        elif row["unit_cost"] is None:
            row["cost_of_goods"] = None
        else:
            row["cost_of_goods"] = row["unit_cost"] * row["net_units"]
        row["margin"] = None if row["cost_of_goods"] is None else row["net_sales"] - row["cost_of_goods"]
    out = pl.DataFrame(rows, schema=_VARIANT_SCHEMA).select(VARIANT_COLUMNS)
    return out.sort(["net_sales", "units_sold", "variant_id"], descending=[True, True, False], nulls_last=True)


_VARIANT_SCHEMA = {
    "product_id": pl.String, "product_title": pl.String, "variant_id": pl.String, "variant": pl.String,
    "variant_title": pl.String, "sku": pl.String, "units_sold": pl.Int64, "units_returned": pl.Int64,
    "net_units": pl.Int64,
    "gross_sales": pl.Decimal(38, 4), "discounts": pl.Decimal(38, 4), "returns": pl.Decimal(38, 4),
    "net_sales": pl.Decimal(38, 4), "return_rate": pl.Decimal(38, 4), "unit_cost": pl.Decimal(38, 4),
    "cost_of_goods": pl.Decimal(38, 4), "margin": pl.Decimal(38, 4), "trend": pl.List(pl.Int64),
    "available": pl.Int64, "daily_demand": pl.Decimal(38, 4), "days_of_cover": pl.Decimal(38, 1),
    "low_stock": pl.Boolean,
}


def _empty_variants() -> pl.DataFrame:
    return pl.DataFrame(schema=_VARIANT_SCHEMA).select(VARIANT_COLUMNS)


PRODUCT_COLUMNS = (
    "product_id", "product_title", "variants", "units_sold", "units_returned", "net_units", "gross_sales",
    "discounts", "returns", "net_sales", "return_rate", "cost_of_goods", "margin", "trend", "available",
    "daily_demand", "days_of_cover", "low_stock", "low_stock_variants",
)


def product_performance(
    wh: Warehouse,
    store_id: str,
    start: dt.date,
    end: dt.date,
    *,
    as_of: dt.date,
    channels: Iterable[str] | None = None,
    variants: pl.DataFrame | None = None,
    health: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per product sold or returned in the range, highest net sales first.

    Sales columns are sums over the product's variants in
    :func:`variant_performance` (pass its frame as ``variants`` to skip
    computing it again); ``return_rate`` is worked out again from the sums;
    ``cost_of_goods`` and ``margin`` are ``None`` when any variant's cost is
    unknown; ``trend`` adds the variants' points. Stock columns cover every
    variant of the product, sold in the range or not: ``available`` (``None``
    when no variant's stock is tracked), ``daily_demand`` (their sum),
    ``days_of_cover`` from those sums, ``low_stock_variants`` (how many are
    low) and ``low_stock`` (any is).
    """
    if health is None:
        health = stock_health(wh, store_id, as_of, load_choices(wh, store_id))
    if variants is None:
        variants = variant_performance(wh, store_id, start, end, as_of=as_of, channels=channels, health=health)
    if variants.height == 0:
        return pl.DataFrame(schema=_PRODUCT_SCHEMA).select(PRODUCT_COLUMNS)
    sales = (
        variants.with_columns(pl.col("product_id").fill_null(pl.col("variant_id")))
        .group_by("product_id")
        .agg(
            pl.col("product_title").first(),
            pl.len().cast(pl.Int64).alias("variants"),
            *[pl.col(c).sum() for c in ("units_sold", "units_returned", "net_units", "gross_sales", "discounts",
                                        "returns", "net_sales")],
            pl.when(pl.col("cost_of_goods").null_count() == 0).then(pl.col("cost_of_goods").sum())
            .alias("cost_of_goods"),
            pl.col("trend"),
        )
    )
    stock = (
        stock_columns(wh, store_id, as_of, health)
        .join(_catalogue(wh, store_id).select("variant_id", "product_id"), on="variant_id", how="left")
        .with_columns(pl.col("product_id").fill_null(pl.col("variant_id")))
        .group_by("product_id")
        .agg(
            pl.when(pl.col("available").is_not_null().any()).then(pl.col("available").sum()).alias("available"),
            pl.col("daily_demand").sum(),
            pl.col("low_stock").sum().cast(pl.Int64).alias("low_stock_variants"),
        )
    )
    rows = sales.join(stock, on="product_id", how="left").to_dicts()
    for row in rows:
        row["return_rate"] = _ratio(row["units_returned"], row["units_sold"])
        row["margin"] = None if row["cost_of_goods"] is None else row["net_sales"] - row["cost_of_goods"]
        row["trend"] = [sum(points) for points in zip(*row["trend"])]
        row["daily_demand"] = row["daily_demand"] or None
        row["days_of_cover"] = _cover(row["available"], row["daily_demand"])
        row["low_stock_variants"] = row["low_stock_variants"] or 0
        row["low_stock"] = row["low_stock_variants"] > 0
    out = pl.DataFrame(rows, schema=_PRODUCT_SCHEMA).select(PRODUCT_COLUMNS)
    return out.sort(["net_sales", "units_sold", "product_id"], descending=[True, True, False], nulls_last=True)


_PRODUCT_SCHEMA = {
    **{name: dtype for name, dtype in _VARIANT_SCHEMA.items() if name in PRODUCT_COLUMNS},
    "variants": pl.Int64,
    "low_stock_variants": pl.Int64,
}

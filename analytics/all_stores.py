"""Sales of several stores together, in one reporting currency (METRICS.md, "All stores").

Each store's figures are computed as for that store alone, over the same
dates read as that store's own local days (each store's timezone decides its
days), converted to ``currency`` day by day by :func:`analytics.fx.convert`
(a store already in ``currency`` is not converted), then added up. Ratios
(average order value, returning customer rate, repeat purchase rate, refund
rate) are worked out again from the sums, never averaged. Customers are
counted per store: one person who bought in two stores counts twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Sequence

import polars as pl

from analytics import fx
from analytics.metrics import SALES_OVER_TIME_COLUMNS, sales_figures, sales_over_time, sales_summary
from data.warehouse import Warehouse

# The figures that add up across stores; the others are ratios of these.
ADDED = ("gross_sales", "discounts", "returns", "shipping", "taxes", "duties", "orders", "units_sold",
         "units_returned", "customers", "new_customers", "returning_customers", "repeat_customers")


def _as_sums(figures: dict[str, Any]) -> dict[str, Any]:
    """A store's figures as the sums :func:`analytics.metrics.sales_figures` starts from."""
    sums = {name: figures[name] for name in ADDED if name in figures}
    sums["shipping_charged"] = sums.pop("shipping")
    sums["taxes_charged"] = sums.pop("taxes")
    return sums


def sales_summary_all(
    wh: Warehouse, stores: Sequence[str], start: dt.date, end: dt.date, *, currency: str,
    channels: Iterable[str] | None = None, until: dt.datetime | None = None,
) -> dict[str, Any]:
    """The :func:`analytics.metrics.sales_summary` figures of ``stores`` added up, money in ``currency``
    (``until``: only what happened up to that moment, as there)."""
    channels = tuple(channels) if channels else None
    each = [sales_summary(wh, store, start, end, channels=channels, currency=currency, until=until)
            for store in stores]
    return sales_figures(fx.add_up(_as_sums(f) for f in each), places=fx.PLACES)


def sales_over_time_all(
    wh: Warehouse, stores: Sequence[str], start: dt.date, end: dt.date, grain: str = "day", *, currency: str,
    channels: Iterable[str] | None = None,
) -> pl.DataFrame:
    """:func:`analytics.metrics.sales_over_time` of ``stores`` added up bucket by bucket, money in ``currency``
    as ``Decimal(38, 10)``."""
    channels = tuple(channels) if channels else None
    frames = [sales_over_time(wh, store, start, end, grain, channels=channels, currency=currency) for store in stores]
    periods = frames[0]["period"].to_list() if frames else []
    rows = []
    for i, period in enumerate(periods):
        summed = fx.add_up(_as_sums(frame.row(i, named=True)) for frame in frames)
        rows.append({"period": period, **sales_figures(summed, places=fx.PLACES)})
    counts = {name for name, kind in frames[0].schema.items() if kind.is_integer()} if frames else set()
    schema = {name: pl.Date if name == "period" else pl.Int64 if name in counts else pl.Decimal(38, 10)
              for name in SALES_OVER_TIME_COLUMNS}
    return pl.DataFrame({name: [row[name] for row in rows] for name in SALES_OVER_TIME_COLUMNS}, schema=schema)

"""The sales figures of one store-local day hour by hour: what the Sales page draws for a single day.

Each hour holds the orders created in it and the refunds made in it (store time), with the
definitions of :func:`analytics.metrics.sales_summary`; with ``until`` only what happened up to
that moment counts (today so far, or the same weekday last week up to the same time of day).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import polars as pl

from analytics import fx
from analytics.metrics import MONEY_PLACES, MONEY_SUMS, converting, filter_params, sales_figures
from analytics.sales_breakdowns import _ORDER_SUMS, _ORDERS_BY, _RANGE, store_timezone
from data.warehouse import Warehouse

__all__ = ["HOURLY_COLUMNS", "sales_by_hour"]

HOURLY_COLUMNS = ("period", "orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes",
                  "duties", "total_sales", "units_sold", "units_returned", "aov")

# The order sums of the breakdowns, grouped by the hour of the order instead.
_ORDERS = _ORDERS_BY.format(day="", dimension="local_hour", group="local_hour", range="{range}", segment="{segment}")

# Refunds carry their store-local day but not their hour: it comes from the refund's time in the
# store's timezone.
_REFUNDS = """
SELECT CAST(EXTRACT(HOUR FROM local_ts) AS INTEGER) AS hour,
       CAST(COALESCE(SUM(returns), 0) AS DECIMAL(38,4)),
       CAST(COALESCE(SUM(units_returned), 0) AS BIGINT),
       CAST(COALESCE(SUM(shipping_refunded), 0) AS DECIMAL(38,4)),
       CAST(COALESCE(SUM(tax_refunded), 0) AS DECIMAL(38,4))
FROM (SELECT f.store_id, f.local_date, f.channel, f.country, f.created_at, f.returns, f.units_returned,
             f.shipping_refunded, f.tax_refunded, CAST(f.created_at AT TIME ZONE s.timezone AS TIMESTAMP) AS local_ts
      FROM refund_facts f JOIN stores s ON s.store_id = f.store_id) AS refunds
WHERE {range} {segment}
GROUP BY CAST(EXTRACT(HOUR FROM local_ts) AS INTEGER)
"""
_REFUND_FIELDS = ("returns", "units_returned", "shipping_refunded", "tax_refunded")


def sales_by_hour(wh: Warehouse, store_id: str, day: dt.date, *, channels: Iterable[str] | None = None,
                  until: dt.datetime | None = None, currency: str | None = None) -> pl.DataFrame:
    """24 rows, one per hour of the store-local ``day`` (``period``: the hour's start as a naive
    store-local datetime), with the figures of :data:`HOURLY_COLUMNS`; hours without sales are zeros.
    With ``until`` (aware), the hours after it are left out and only what happened up to it counts.
    With ``currency`` (another than the store's), money is converted at the day's rate, as
    ``Decimal(38, 10)``."""
    params, segment = filter_params(store_id, day, day, channels, None)
    if until is not None:
        if until.tzinfo is None:
            raise ValueError("until must be an aware datetime")
        params["until"] = until.astimezone(dt.timezone.utc)
        segment += " AND created_at <= :until"
    hours: dict[int, dict[str, Any]] = {hour: {} for hour in range(24)}
    for sql, fields in ((_ORDERS, _ORDER_SUMS), (_REFUNDS, _REFUND_FIELDS)):
        for row in wh.rows(sql.format(range=_RANGE, segment=segment), params):
            hours[int(row[0])].update(zip(fields, row[1:]))
    last = 23
    if until is not None:
        local = until.astimezone(ZoneInfo(store_timezone(wh, store_id)))
        last = -1 if local.date() < day else 23 if local.date() > day else local.hour
    into = converting(wh, store_id, currency)
    places, money = MONEY_PLACES, pl.Decimal(38, 4)
    if into:
        rates = fx.load_rates(wh, into, day, day)
        hours = {hour: fx.convert_days({day: values}, MONEY_SUMS, *into, rates)[day] for hour, values in hours.items()}
        places, money = fx.PLACES, pl.Decimal(38, 10)
    rows = [{"period": dt.datetime.combine(day, dt.time(hour)), **sales_figures(values, places=places)}
            for hour, values in hours.items() if hour <= last]
    schema = {name: pl.Datetime("us") if name == "period" else
              pl.Int64 if name in ("orders", "units_sold", "units_returned") else money
              for name in HOURLY_COLUMNS}
    return pl.DataFrame({name: [row[name] for row in rows] for name in HOURLY_COLUMNS}, schema=schema)

"""One definition per stock figure (docs/METRICS.md, Inventory), and the words shown beside them.

Every page, the report, the written summaries and the alert digest take these
figures from :func:`analytics.inventory.stock.stock_health`, which works each
variant out with the functions here; the help texts beside the figures are
:data:`STOCK_DEFINITIONS`, written from the same constants.

- **daily demand**: the forecast's mean over its first :data:`FORECAST_DAYS`
  days where the last refresh made one; else units sold in the
  :data:`DEMAND_WINDOW_DAYS` days up to the as-of day (every channel) ÷ the
  days of those the variant was in stock (:func:`trailing_demand`); none
  (no demand) when that is 0;
- **days of cover** = available ÷ daily demand, capped at
  :data:`MAX_COVER_DAYS`; 0 when nothing is available and the variant sold in
  the last :data:`STOCKOUT_WINDOW_DAYS` days; none without demand otherwise,
  and none when the variant's stock is not tracked;
- **status**, the first that applies: ``stockout`` (available ≤ 0, sold in the
  last 90 days), ``stockout_risk`` (units in stock, days of cover < lead
  time), ``dead_stock`` (units in stock, no sale in the last dead-stock days),
  ``overstock`` (days of cover > the overstock threshold), else ``ok``;
- **low stock**: a stockout or a stockout risk, the variants that run out
  before a reorder can arrive;
- **reorder due**: a suggested order quantity above 0
  (:mod:`analytics.inventory.reorder`).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Sequence

import polars as pl

from data.warehouse import Warehouse

DEMAND_WINDOW_DAYS = 30
STOCKOUT_WINDOW_DAYS = 90
FORECAST_DAYS = 28
MAX_COVER_DAYS = 365

STATUSES = {
    "stockout": "Stockout",
    "stockout_risk": "Stockout risk",
    "dead_stock": "Dead stock",
    "overstock": "Overstock",
    "ok": "OK",
}
LOW_STOCK_STATUSES = ("stockout", "stockout_risk")
DEMAND_SOURCES = {"forecast": "Forecast", "trailing 30 days": "Last 30 days' sales"}

_DEMAND = (f"Forecast mean units per day over the next {FORECAST_DAYS} days; without a forecast, units sold "
           f"in the last {DEMAND_WINDOW_DAYS} days ÷ the days of those the variant was in stock.")
_COVER = (f"Units available ÷ daily demand (the forecast for the next {FORECAST_DAYS} days, else the last "
          f"{DEMAND_WINDOW_DAYS} days' rate of sale on in-stock days); 0 when sold out; none without demand; "
          f"capped at {MAX_COVER_DAYS}.")

STOCK_DEFINITIONS: dict[str, str] = {
    "available": "Units available now, summed over every location.",
    "inventory_value": "Available × unit cost, in the store currency (unknown when the unit cost is missing).",
    "daily_demand": _DEMAND,
    "days_of_cover": _COVER,
    "stockout": f"Nothing available (0 or less) for a variant that sold in the last {STOCKOUT_WINDOW_DAYS} days.",
    "stockout_risk": "Units in stock, but fewer days of cover than the supplier's lead time: it runs out before "
                     "a reorder placed today arrives.",
    "overstock": "Days of cover above the overstock threshold you set on the Inventory page.",
    "dead_stock": "Units in stock and no sale for the number of days you set on the Inventory page.",
    "low_stock": "Out of stock, or at risk of running out before a reorder arrives (fewer days of cover than "
                 "the lead time).",
    "reorder_due": "A suggested order above 0: stock and units on order fall below the reorder point plus the "
                   "review period's demand.",
    "lead_time_days": "The supplier item's lead time, else its supplier's, else the default set on the "
                      "Inventory page.",
    "sell_through": "Units sold in the range ÷ (units sold in the range + available at its end).",
    "abc_class": "Variants ranked by net sales over the last 90 days: A up to 80 % of cumulative net sales, "
                 "B up to 95 %, C the rest.",
    "lost_sales": "Forecast demand on stockout days × unit price: the expected units of each day the variant "
                  "was out of stock (mean of its in-stock days in the 28 days before) × its price.",
    "reorder_point": "Forecast demand over the lead time + safety stock.",
    "safety_stock": "z(service level) × σ of daily forecast error × √(lead time in days).",
    "suggested_order_qty": "max(0, reorder point + demand over the review period − available − on order), "
                           "rounded up to the pack size, at least the MOQ.",
    "on_order": "Units on sent purchase orders not yet received.",
    "mase": "Mean absolute error of the backtest ÷ the mean absolute error of a naive same-weekday-last-week "
            "forecast in the history: below 1 beats the naive forecast.",
    "bias": "Σ(forecast − actual) ÷ Σ actual over the backtest days: positive means the forecast ran high.",
}


# -- the rules ----------------------------------------------------------------------------------

def daily_demand(forecast: Sequence[float] | None, trailing: Decimal | float | None) -> tuple[float | None, str | None]:
    """``(units a day, source)``: the forecast's mean over its first :data:`FORECAST_DAYS` days, else the
    trailing in-stock rate; ``(None, None)`` when neither is above 0."""
    if forecast:
        head = forecast[:FORECAST_DAYS]
        demand, source = sum(head) / len(head), "forecast"
    elif trailing is not None:
        demand, source = float(trailing), "trailing 30 days"
    else:
        return None, None
    return (demand, source) if demand > 0 else (None, None)


def days_of_cover(available: int | None, demand: float | None, sold_recently: bool) -> float | None:
    """Available ÷ demand, capped; 0 when sold out (with demand, or with sales in the last 90 days); none
    when the stock is not tracked."""
    if available is None:
        return None
    if demand:
        return 0.0 if available <= 0 else min(float(MAX_COVER_DAYS), available / demand)
    return 0.0 if available <= 0 and sold_recently else None


def stock_status(available: int | None, cover: float | None, lead_days: int, last_sold: dt.date | None,
                 sold_recently: bool, *, as_of: dt.date, dead_stock_days: int, overstock_days: int) -> str:
    """The first status that applies (see the module docstring)."""
    stock = available if available is not None else 0
    if available is not None and stock <= 0 and sold_recently:
        return "stockout"
    if stock > 0 and cover is not None and cover < lead_days:
        return "stockout_risk"
    if stock > 0 and (last_sold is None or last_sold <= as_of - dt.timedelta(days=dead_stock_days)):
        return "dead_stock"
    if cover is not None and cover > overstock_days:
        return "overstock"
    return "ok"


def is_low_stock(status: str) -> bool:
    return status in LOW_STOCK_STATUSES


def low_stock_expr() -> pl.Expr:
    """The low-stock rule on a :func:`stock_health` frame."""
    return pl.col("status").is_in(LOW_STOCK_STATUSES)


def reorder_due_expr() -> pl.Expr:
    """The reorder-due rule on a :func:`stock_health` frame."""
    return pl.col("suggested_order_qty") > 0


def stock_counts(health: pl.DataFrame) -> dict[str, int]:
    """Variants per status, ``low_stock`` and ``to_reorder``: the counts every page, the report, the
    summaries and the digest show."""
    statuses = dict(health.group_by("status").len().iter_rows()) if health.height else {}
    return {
        **{status: int(statuses.get(status, 0)) for status in STATUSES},
        "low_stock": health.filter(low_stock_expr()).height if health.height else 0,
        "to_reorder": health.filter(reorder_due_expr()).height if health.height else 0,
    }


def cover_words(days: float | Decimal | None) -> str:
    """Days of cover as a merchant reads them: ``Sold out``, ``12 days``, ``365+ days``, ``–``."""
    if days is None:
        return "–"
    days = float(days)
    if days <= 0:
        return "Sold out"
    if days >= MAX_COVER_DAYS:
        return f"{MAX_COVER_DAYS}+ days"
    return f"{days:,.0f} day{'s' if round(days) != 1 else ''}" if days >= 1 else "Under a day"


# -- the trailing in-stock rate ---------------------------------------------------------------------

_TRAILING_SQL = """
WITH sold AS (
    SELECT variant_id, local_date, SUM(units_sold) AS units_sold
    FROM variant_daily_sales
    WHERE store_id = :store_id AND local_date BETWEEN :window_start AND :as_of
    GROUP BY variant_id, local_date
),
stocked AS (
    SELECT variant_id, day AS local_date, available
    FROM daily_stock
    WHERE store_id = :store_id AND day BETWEEN :window_start AND :as_of
),
days AS (
    SELECT COALESCE(s.variant_id, k.variant_id) AS variant_id,
           COALESCE(s.units_sold, 0) AS units_sold,
           CASE WHEN k.available <= 0 AND COALESCE(s.units_sold, 0) = 0 THEN 1 ELSE 0 END AS out_of_stock
    FROM sold s FULL OUTER JOIN stocked k ON k.variant_id = s.variant_id AND k.local_date = s.local_date
)
SELECT variant_id, CAST(SUM(units_sold) AS BIGINT) AS units_30d,
       CAST(SUM(out_of_stock) AS BIGINT) AS out_of_stock_days
FROM days GROUP BY variant_id
"""
DEMAND_PLACES = Decimal("0.0001")


def trailing_demand(wh: Warehouse, store_id: str, as_of: dt.date) -> dict[str, dict[str, Any]]:
    """Per variant with sales or snapshots in the 30 days up to ``as_of``: ``units_30d``,
    ``in_stock_days`` and ``daily_demand`` (units ÷ in-stock days at 4 places, ``None`` without units).

    A day counts as out of stock when its inventory snapshot shows nothing available and nothing sold;
    without snapshots every day counts."""
    params = {"store_id": store_id, "as_of": as_of,
              "window_start": as_of - dt.timedelta(days=DEMAND_WINDOW_DAYS - 1)}
    out = {}
    for variant_id, units, out_days in wh.query(_TRAILING_SQL, params).iter_rows():
        in_stock = DEMAND_WINDOW_DAYS - int(out_days)
        demand = (Decimal(units) / Decimal(in_stock)).quantize(DEMAND_PLACES, rounding=ROUND_HALF_EVEN) \
            if units > 0 and in_stock > 0 else None
        out[variant_id] = {"units_30d": int(units), "in_stock_days": in_stock, "daily_demand": demand}
    return out

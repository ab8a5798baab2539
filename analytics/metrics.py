"""The sales metrics: the one place that computes them, by METRICS.md.

Figures are read from the rollups (``order_facts`` and ``refund_facts``,
see ``data/rollups.py``; in TimescaleDB mode the order sums per day from the
continuous aggregate behind ``daily_sales``), never from raw order lines, so
they follow the rollups' rules:

- a sale falls on the store-local day its order was created; a return, a
  refunded shipping charge and refunded tax fall on the store-local day of the
  refund, whatever the order's day;
- test orders are left out, and so are orders cancelled before any payment
  was captured; a cancelled order that was paid is a sale on its day and a
  return on its refund's day;
- gift-card lines are not sales (no gross sales, discounts or units).

Money is exact ``Decimal`` in the store currency (the shop money of each
order, never the presentment currency the buyer saw), at 4 decimal places;
rounding to the currency's minor unit is for display only. Counts are ``int``.
Ratios are ``Decimal`` quantized to 4 places with ROUND_HALF_EVEN, and 0 when
their denominator is 0 (an empty period gives zeros, not errors).

Ranges are inclusive store-local dates. The optional ``channels`` and
``countries`` filters keep the orders (and the refunds of the orders) whose
``orders.channel`` / ``orders.country`` is one of the values given (an order
without a channel is in ``other``); ``None`` or an empty list means no filter.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Iterable, Mapping

import polars as pl

from analytics import fx
from analytics.periods import (
    bucket_start,
    bucket_starts,
    check_grain,
    check_range,
    previous_period,
    same_period_last_year,
)
from data.timescale import reads_aggregates
from data.warehouse import Warehouse

__all__ = [
    "METRIC_DEFINITIONS",
    "LOWER_IS_BETTER",
    "SALES_OVER_TIME_COLUMNS",
    "sales_summary",
    "sales_over_time",
    "previous_period",
    "same_period_last_year",
    "with_change",
    "filter_params",
    "sales_figures",
]

MONEY_PLACES = Decimal("0.0001")
RATIO_PLACES = Decimal("0.0001")
ZERO = Decimal("0.0000")

METRIC_DEFINITIONS: dict[str, str] = {
    "gross_sales": "Unit price × quantity summed over the order lines of the period's orders, gift cards excluded.",
    "discounts": "Line discounts plus the share of order-level discounts allocated to each line, gift cards excluded.",
    "returns": "Value of the goods refunded (refund line subtotals, before tax), counted on the refund's day.",
    "net_sales": "Gross sales − discounts − returns.",
    "shipping": "Shipping charged on the period's orders − shipping refunded in the period.",
    "taxes": "Tax charged on the period's orders − tax refunded in the period.",
    "duties": "Import duties charged on the period's orders.",
    "total_sales": "Net sales + shipping + taxes + duties.",
    "orders": "Count of orders placed in the period (test orders and orders cancelled before payment left out).",
    "aov": "Average order value: (gross sales − discounts) ÷ orders.",
    "units_sold": "Sum of the quantities of the order lines, gift cards excluded.",
    "units_returned": "Sum of the quantities on refund lines, counted on the refund's day.",
    "customers": "Customers who placed at least one order in the period.",
    "new_customers": "Customers whose first order ever falls in the period.",
    "returning_customers": (
        "Customers who ordered in the period and have placed more than one order ever "
        "(earlier orders outside the period count)."
    ),
    "returning_customer_rate": (
        "Of the customers who ordered in the period, the share who have placed more than one order ever "
        "(earlier orders outside the period count)."
    ),
    "repeat_customers": "Customers with two or more orders inside the period.",
    "repeat_purchase_rate": "Of the customers who ordered in the period, the share with two or more orders inside the period.",
    "refund_rate": "Returns ÷ gross sales.",
}

# Figures where a rise is bad news (coloured red when they go up).
LOWER_IS_BETTER = frozenset({"returns", "units_returned", "refund_rate"})

SALES_OVER_TIME_COLUMNS = (
    "period", "orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "duties",
    "total_sales", "units_sold", "units_returned", "aov", "new_customers", "returning_customers", "customers",
)

# Bucket expressions by grain, over a DATE column; both engines truncate to the
# ISO week's Monday. Only these fixed strings enter SQL text.
_BUCKETS = {
    "day": "local_date",
    "week": "CAST(date_trunc('week', CAST(local_date AS TIMESTAMP)) AS DATE)",
    "month": "CAST(date_trunc('month', CAST(local_date AS TIMESTAMP)) AS DATE)",
}

# An order without a channel is in "other", as in variant_daily_sales.
_FILTER_COLUMNS = {"channel": "COALESCE(channel, 'other')", "country": "country"}

_RANGE = "store_id = :store_id AND local_date BETWEEN :start_date AND :end_date"

# The order sums, the same over order_facts (one row per order) and over
# daily_sales (one row per day × channel × country).
_ORDER_SUMS = """
       CAST(COALESCE(SUM(gross_sales), 0) AS DECIMAL(38,4)) AS gross_sales,
       CAST(COALESCE(SUM(discounts), 0) AS DECIMAL(38,4)) AS discounts,
       CAST(COALESCE(SUM(units_sold), 0) AS BIGINT) AS units_sold,
       CAST(COALESCE(SUM(shipping), 0) AS DECIMAL(38,4)) AS shipping_charged,
       CAST(COALESCE(SUM(taxes), 0) AS DECIMAL(38,4)) AS taxes_charged,
       CAST(COALESCE(SUM(duties), 0) AS DECIMAL(38,4)) AS duties"""

_ORDERS_SQL = """
SELECT {period}
       COUNT(*) AS orders,""" + _ORDER_SUMS + """
FROM order_facts
WHERE {range} {segment}
{group_by}
"""

# In TimescaleDB mode the same sums come from the continuous aggregate behind
# ``daily_sales``; its ``day`` is renamed so the range, segment and bucket
# expressions stay the same.
_DAILY_ORDERS_SQL = """
SELECT {period}
       CAST(COALESCE(SUM(orders), 0) AS BIGINT) AS orders,""" + _ORDER_SUMS + """
FROM (SELECT store_id, day AS local_date, channel, country, orders, gross_sales, discounts, units_sold,
             shipping, taxes, duties
      FROM daily_sales) AS order_days
WHERE {range} {segment}
{group_by}
"""

_REFUNDS_SQL = """
SELECT {period}
       CAST(COALESCE(SUM(returns), 0) AS DECIMAL(38,4)) AS returns,
       CAST(COALESCE(SUM(units_returned), 0) AS BIGINT) AS units_returned,
       CAST(COALESCE(SUM(shipping_refunded), 0) AS DECIMAL(38,4)) AS shipping_refunded,
       CAST(COALESCE(SUM(tax_refunded), 0) AS DECIMAL(38,4)) AS tax_refunded
FROM refund_facts
WHERE {range} {segment}
{group_by}
"""

# One row per customer (and bucket) first, then counted: the lowest rank of a
# customer's orders in the bucket is 1 when their first order ever is there,
# the highest is 2 or more when they had ordered before (or order again there).
_CUSTOMERS_SQL = """
SELECT {outer_period}
       CAST(COUNT(*) AS BIGINT) AS customers,
       CAST(COALESCE(SUM(CASE WHEN first_index = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS new_customers,
       CAST(COALESCE(SUM(CASE WHEN last_index >= 2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS returning_customers,
       CAST(COALESCE(SUM(CASE WHEN orders_in_bucket >= 2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS repeat_customers
FROM (
    SELECT {period}
           customer_id,
           MIN(customer_order_index) AS first_index,
           MAX(customer_order_index) AS last_index,
           COUNT(*) AS orders_in_bucket
    FROM order_facts
    WHERE {range} AND customer_id IS NOT NULL {segment}
    GROUP BY {inner_group} customer_id
) per_customer
{outer_group}
"""

_ORDER_FIELDS = ("orders", "gross_sales", "discounts", "units_sold", "shipping_charged", "taxes_charged", "duties")
_REFUND_FIELDS = ("returns", "units_returned", "shipping_refunded", "tax_refunded")
_CUSTOMER_FIELDS = ("customers", "new_customers", "returning_customers", "repeat_customers")
_COUNT_FIELDS = {"orders", "units_sold", "units_returned", *_CUSTOMER_FIELDS}
MONEY_SUMS = ("gross_sales", "discounts", "shipping_charged", "taxes_charged", "duties", "returns",
               "shipping_refunded", "tax_refunded")


# -- the public API -----------------------------------------------------------

def sales_summary(
    wh: Warehouse,
    store_id: str,
    start: dt.date,
    end: dt.date,
    *,
    channels: Iterable[str] | None = None,
    countries: Iterable[str] | None = None,
    until: dt.datetime | None = None,
    currency: str | None = None,
) -> dict[str, Decimal | int]:
    """The sales figures of one store over the inclusive store-local dates ``start``–``end``.

    With ``until`` (an aware datetime), only the orders created and the refunds made up to that
    moment count: "today so far", or the same weekday last week up to the same time of day.

    Returns a dict with (money: ``Decimal`` in the store currency, 4 places;
    counts: ``int``; ratios: ``Decimal`` fractions, 4 places, 0.1234 = 12.34 %):

    - ``gross_sales``: Σ unit price × quantity over order lines, gift cards excluded;
    - ``discounts``: Σ line discounts, order-level discounts allocated to lines;
    - ``returns``: Σ refund line subtotals (goods, before tax), on the refund's day;
    - ``net_sales``: gross sales − discounts − returns (negative when returns outweigh sales);
    - ``shipping``: shipping charged − shipping refunded;
    - ``taxes``: tax charged − tax refunded;
    - ``duties``: duties charged;
    - ``total_sales``: net sales + shipping + taxes + duties;
    - ``orders``: count of orders;
    - ``aov``: (gross sales − discounts) ÷ orders, money at 4 places, 0 without orders;
    - ``units_sold``: Σ quantity; ``units_returned``: Σ refund line quantities;
    - ``customers``: customers with an order in the period;
    - ``new_customers``: customers whose first order ever falls in the period;
    - ``returning_customers``: customers who ordered in the period and have more
      than one order up to its end (earlier orders outside the period count);
    - ``returning_customer_rate``: returning customers ÷ customers;
    - ``repeat_customers``: customers with two or more orders inside the period;
    - ``repeat_purchase_rate``: repeat customers ÷ customers;
    - ``refund_rate``: returns ÷ gross sales (0 without gross sales; can exceed
      1 when the period's refunds are for earlier sales).

    With a channel or country filter, the customer figures count only the
    customers' orders in that segment: a customer is new when their first
    order ever is in the period and in the segment.
    """
    start, end = check_range(start, end)
    params, segment = filter_params(store_id, start, end, channels, countries)
    orders_sql = _orders_sql(wh)
    if until is not None:
        if until.tzinfo is None:
            raise ValueError("until must be an aware datetime")
        # The daily aggregate has no time of day: cut orders on the rollup of each order.
        params["until"] = until.astimezone(dt.timezone.utc)
        segment += " AND created_at <= :until"
        orders_sql = _ORDERS_SQL
    customers = _one_row(wh, _CUSTOMERS_SQL, segment, params, _CUSTOMER_FIELDS)
    into = converting(wh, store_id, currency)
    if into is None:
        orders = _one_row(wh, orders_sql, segment, params, _ORDER_FIELDS)
        refunds = _one_row(wh, _REFUNDS_SQL, segment, params, _REFUND_FIELDS)
        return sales_figures({**orders, **refunds, **customers})
    days = _converted_days(wh, orders_sql, segment, params, into, start, end)
    return sales_figures({**fx.add_up(days.values()), **customers}, places=fx.PLACES)


def sales_over_time(
    wh: Warehouse,
    store_id: str,
    start: dt.date,
    end: dt.date,
    grain: str = "day",
    *,
    channels: Iterable[str] | None = None,
    countries: Iterable[str] | None = None,
    currency: str | None = None,
) -> pl.DataFrame:
    """The sales figures of one store per day, ISO week or month over ``start``–``end``.

    One row per bucket overlapping the inclusive store-local range, in order,
    buckets without sales included as zeros. ``period`` (``Date``) is the day,
    the Monday of the ISO week, or the 1st of the month; the first and last
    buckets count only the days inside the range. The other columns are those
    of :func:`sales_summary` for the bucket, with the same definitions and
    units: money as ``Decimal(38, 4)`` in the store currency
    (``gross_sales``, ``discounts``, ``returns``, ``net_sales``, ``shipping``,
    ``taxes``, ``duties``, ``total_sales``, ``aov``), counts as ``Int64``
    (``orders``, ``units_sold``, ``units_returned``, ``new_customers``,
    ``returning_customers``, ``customers``). Customer counts are distinct
    within a bucket, so they do not add up across buckets; use
    :func:`sales_summary` for the period's figure.

    With ``currency`` (another than the store's), money is converted as in
    :func:`sales_summary` (day by day, then added up per bucket), as
    ``Decimal(38, 10)``.
    """
    start, end = check_range(start, end)
    grain = check_grain(grain)
    params, segment = filter_params(store_id, start, end, channels, countries)
    bucket = _BUCKETS[grain]
    rows: dict[dt.date, dict[str, Any]] = {label: {} for label in bucket_starts(start, end, grain)}
    into = converting(wh, store_id, currency)
    queries = [(_CUSTOMERS_SQL, _CUSTOMER_FIELDS)]
    if into is None:
        queries += [(_orders_sql(wh), _ORDER_FIELDS), (_REFUNDS_SQL, _REFUND_FIELDS)]
    else:
        days = _converted_days(wh, _orders_sql(wh), segment, params, into, start, end)
        by_bucket: dict[dt.date, list[dict[str, Any]]] = {}
        for day, sums in days.items():
            by_bucket.setdefault(bucket_start(day, grain), []).append(sums)
        for label, sums in by_bucket.items():
            rows[label] = fx.add_up(sums)
    for sql, fields in queries:
        for period, values in _bucket_rows(wh, sql, segment, bucket, params, fields).items():
            rows[period].update(values)
    places = MONEY_PLACES if into is None else fx.PLACES
    figures = [{"period": period, **sales_figures(values, places=places)} for period, values in rows.items()]
    money_type = pl.Decimal(38, 4) if into is None else pl.Decimal(38, 10)
    schema = {
        name: pl.Date if name == "period" else pl.Int64 if name in _COUNT_FIELDS else money_type
        for name in SALES_OVER_TIME_COLUMNS
    }
    return pl.DataFrame(
        {name: [row[name] for row in figures] for name in SALES_OVER_TIME_COLUMNS}, schema=schema
    )


def with_change(
    current: Mapping[str, Any], previous: Mapping[str, Any]
) -> dict[str, dict[str, Decimal | int | None]]:
    """Each figure of ``current`` beside ``previous``, with its change.

    For every numeric key present in both: ``{"current", "previous",
    "change", "relative_change"}``. ``change`` is current − previous in the
    figure's own unit (for a ratio, points of the fraction: 0.05 = 5 percentage
    points). ``relative_change`` is change ÷ |previous| as a ``Decimal``
    fraction quantized to 4 places (0.125 = +12.5 %, the sign shows the
    direction even for a negative base), or ``None`` when the previous figure
    is 0.
    """
    changes: dict[str, dict[str, Decimal | int | None]] = {}
    for name, now in current.items():
        before = previous.get(name)
        if not (_is_number(now) and _is_number(before)):
            continue
        change = now - before
        relative = None if before == 0 else _ratio(Decimal(change), abs(Decimal(before)))
        changes[name] = {"current": now, "previous": before, "change": change, "relative_change": relative}
    return changes


# -- building blocks shared with the breakdowns, margin and products ------------

def filter_params(
    store_id: str,
    start: dt.date,
    end: dt.date,
    channels: Iterable[str] | None,
    countries: Iterable[str] | None,
) -> tuple[dict[str, Any], str]:
    """Bound parameters and the ``AND column IN (...)`` clauses of the filters.

    Filter values only ever travel as bound parameters; the SQL text holds
    parameter names made here (``channel_0``, ``channel_1``, ...).
    """
    params: dict[str, Any] = {"store_id": store_id, "start_date": start, "end_date": end}
    clauses = []
    for column, values in (("channel", channels), ("country", countries)):
        expression = _FILTER_COLUMNS[column]
        if values is None:
            continue
        if isinstance(values, str):
            values = [values]
        values = list(dict.fromkeys(values))
        if not values:
            continue
        for value in values:
            if not isinstance(value, str):
                raise ValueError(f"{column} filter values must be text, not {type(value).__name__}")
        names = [f"{column}_{i}" for i in range(len(values))]
        params.update(zip(names, values))
        clauses.append(f"AND {expression} IN ({', '.join(':' + n for n in names)})")
    return params, " ".join(clauses)


def store_currency(wh: Warehouse, store_id: str) -> str | None:
    """The store's currency (None for a store the warehouse does not hold)."""
    return wh.scalar("SELECT currency FROM stores WHERE store_id = :s", {"s": store_id})


def converting(wh: Warehouse, store_id: str, currency: str | None) -> tuple[str, str] | None:
    # Shared with the breakdowns and margin.
    """``(store currency, reporting currency)`` when figures must be converted, else None."""
    if not currency:
        return None
    own = store_currency(wh, store_id)
    if own is None or own.upper() == currency.upper():
        return None
    return own.upper(), currency.upper()


def _converted_days(wh: Warehouse, orders_sql: str, segment: str, params: dict[str, Any],
                    into: tuple[str, str], start: dt.date, end: dt.date) -> dict[dt.date, dict[str, Any]]:
    """The order and refund sums of each day, money converted at the day's rate."""
    own, to = into
    days: dict[dt.date, dict[str, Any]] = {}
    for sql, fields in ((orders_sql, _ORDER_FIELDS), (_REFUNDS_SQL, _REFUND_FIELDS)):
        for day, values in _bucket_rows(wh, sql, segment, "local_date", params, fields).items():
            days.setdefault(day, {}).update(values)
    rates = fx.load_rates(wh, [own, to], start, end)
    return fx.convert_days(days, MONEY_SUMS, own, to, rates)


def _orders_sql(wh: Warehouse) -> str:
    return _DAILY_ORDERS_SQL if reads_aggregates(wh) else _ORDERS_SQL


def _render(sql: str, segment: str, bucket: str | None) -> str:
    if bucket is None:
        return sql.format(range=_RANGE, segment=segment, period="", group_by="",
                          outer_period="", inner_group="", outer_group="")
    return sql.format(
        range=_RANGE,
        segment=segment,
        period=f"{bucket} AS period,",
        group_by=f"GROUP BY {bucket}",
        outer_period="period,",
        inner_group=f"{bucket},",
        outer_group="GROUP BY period",
    )


def _one_row(wh: Warehouse, sql: str, segment: str, params: dict[str, Any],
             fields: tuple[str, ...]) -> dict[str, Any]:
    rows = wh.rows(_render(sql, segment, None), params)
    return dict(zip(fields, rows[0])) if rows else {}


def _bucket_rows(wh: Warehouse, sql: str, segment: str, bucket: str, params: dict[str, Any],
                 fields: tuple[str, ...]) -> dict[dt.date, dict[str, Any]]:
    rows = wh.rows(_render(sql, segment, bucket), params)
    return {_as_date(row[0]): dict(zip(fields, row[1:])) for row in rows}


def sales_figures(raw: Mapping[str, Any], *, places: Decimal = MONEY_PLACES) -> dict[str, Decimal | int]:
    """The metrics from one bucket's sums (missing sums are zero); money at ``places``."""

    def money(name: str) -> Decimal:
        value = raw.get(name)
        return ZERO.quantize(places) if value is None else Decimal(value).quantize(places)

    def count(name: str) -> int:
        value = raw.get(name)
        return 0 if value is None else int(value)

    gross_sales = money("gross_sales")
    discounts = money("discounts")
    returns = money("returns")
    net_sales = gross_sales - discounts - returns
    shipping = money("shipping_charged") - money("shipping_refunded")
    taxes = money("taxes_charged") - money("tax_refunded")
    duties = money("duties")
    orders = count("orders")
    customers = count("customers")
    returning = count("returning_customers")
    repeat = count("repeat_customers")
    return {
        "gross_sales": gross_sales,
        "discounts": discounts,
        "returns": returns,
        "net_sales": net_sales,
        "shipping": shipping,
        "taxes": taxes,
        "duties": duties,
        "total_sales": net_sales + shipping + taxes + duties,
        "orders": orders,
        "aov": _ratio(gross_sales - discounts, orders, places),
        "units_sold": count("units_sold"),
        "units_returned": count("units_returned"),
        "customers": customers,
        "new_customers": count("new_customers"),
        "returning_customers": returning,
        "returning_customer_rate": _ratio(returning, customers),
        "repeat_customers": repeat,
        "repeat_purchase_rate": _ratio(repeat, customers),
        "refund_rate": _ratio(returns, gross_sales),
    }


def _ratio(numerator: Decimal | int, denominator: Decimal | int, places: Decimal = RATIO_PLACES) -> Decimal:
    """numerator ÷ denominator at ``places`` (ROUND_HALF_EVEN); 0 when the denominator is 0."""
    if denominator == 0:
        return ZERO.quantize(places)
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_EVEN)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value

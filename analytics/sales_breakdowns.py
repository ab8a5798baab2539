"""Sales broken down: by channel, country, product and variant; by hour of the
day and weekday; today so far against the same weekday last week; the latest
orders.

Everything is read from the rollups (``order_facts``, ``refund_facts``,
``variant_daily_sales``) and follows the metric layer's rules
(``analytics/metrics.py``, METRICS.md): a sale falls on the store-local day its
order was created, a return on the store-local day of its refund; test orders
and orders cancelled before payment are left out; gift cards are not sales.
So the rows of each breakdown add up to the figures of ``sales_summary`` for
the same range and filter.

Money is exact ``Decimal`` in the store currency at 4 places; counts are
``int``. The optional ``channels`` filter keeps the orders (and the refunds of
the orders) whose channel is one of those given (an order without a channel
is in ``other``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import polars as pl

from analytics import fx
from analytics.metrics import MONEY_SUMS, converting, filter_params, sales_figures, sales_summary
from analytics.periods import check_range
from data.warehouse import Warehouse

MONEY = pl.Decimal(38, 4)
MONEY_CONVERTED = pl.Decimal(38, 10)  # money converted to a reporting currency (analytics.fx.PLACES)
ZERO = Decimal("0.0000")

# The figures each breakdown row carries, in this order, with their types.
BREAKDOWN_FIGURES = {
    "orders": pl.Int64, "units_sold": pl.Int64, "units_returned": pl.Int64,
    "gross_sales": MONEY, "discounts": MONEY, "returns": MONEY, "net_sales": MONEY,
    "shipping": MONEY, "taxes": MONEY, "duties": MONEY, "total_sales": MONEY,
}
ITEM_FIGURES = {
    "units_sold": pl.Int64, "units_returned": pl.Int64,
    "gross_sales": MONEY, "discounts": MONEY, "returns": MONEY, "net_sales": MONEY,
}
LIVE_FIGURES = ("orders", "units_sold", "gross_sales", "discounts", "returns", "net_sales", "shipping",
                "taxes", "duties", "total_sales", "aov")

# The order-level dimensions a breakdown may group by: only these fixed
# expressions enter SQL text.
DIMENSIONS = {
    "channel": "COALESCE(channel, 'other')",
    "country": "COALESCE(country, 'unknown')",
    # Who placed the order: a customer's first order ever (new), a later one (returning), or a guest's.
    "customer_group": ("CASE WHEN customer_id IS NULL THEN 'guest' WHEN customer_order_index = 1 THEN 'new' "
                       "ELSE 'returning' END"),
}
# A refund counts in its order's value; refund_facts carries channel and country, not the order's place
# in the customer's history.
REFUND_DIMENSIONS = {
    **DIMENSIONS,
    "customer_group": ("COALESCE((SELECT CASE WHEN o.customer_id IS NULL THEN 'guest' WHEN o.customer_order_index "
                       "= 1 THEN 'new' ELSE 'returning' END FROM order_facts o WHERE o.store_id = "
                       "refund_facts.store_id AND o.order_id = refund_facts.order_id), 'guest')"),
}

_RANGE = "store_id = :store_id AND local_date BETWEEN :start_date AND :end_date"

_ORDERS_BY = """
SELECT {day}{dimension} AS label, COUNT(*),
       CAST(COALESCE(SUM(gross_sales), 0) AS DECIMAL(38,4)),
       CAST(COALESCE(SUM(discounts), 0) AS DECIMAL(38,4)),
       CAST(COALESCE(SUM(units_sold), 0) AS BIGINT),
       CAST(COALESCE(SUM(shipping), 0) AS DECIMAL(38,4)),
       CAST(COALESCE(SUM(taxes), 0) AS DECIMAL(38,4)),
       CAST(COALESCE(SUM(duties), 0) AS DECIMAL(38,4))
FROM order_facts WHERE {range} {segment}
GROUP BY {group}
"""

_REFUNDS_BY = """
SELECT {day}{dimension} AS label,
       CAST(COALESCE(SUM(returns), 0) AS DECIMAL(38,4)),
       CAST(COALESCE(SUM(units_returned), 0) AS BIGINT),
       CAST(COALESCE(SUM(shipping_refunded), 0) AS DECIMAL(38,4)),
       CAST(COALESCE(SUM(tax_refunded), 0) AS DECIMAL(38,4))
FROM refund_facts WHERE {range} {segment}
GROUP BY {group}
"""
_ORDER_SUMS = ("orders", "gross_sales", "discounts", "units_sold", "shipping_charged", "taxes_charged", "duties")
_REFUND_SUMS = ("returns", "units_returned", "shipping_refunded", "tax_refunded")

# Items: aggregated on the rollup first, then named (titles may be missing).
_PRODUCTS = """
WITH sold AS (
    SELECT COALESCE(product_id, '') AS product_key,
           SUM(units_sold) AS units_sold, SUM(units_returned) AS units_returned,
           SUM(gross_sales) AS gross_sales, SUM(discounts) AS discounts, SUM(returns) AS returns
    FROM variant_daily_sales
    WHERE {range} {segment}
    GROUP BY COALESCE(product_id, '')
)
SELECT s.product_key, p.title,
       CAST(s.units_sold AS BIGINT), CAST(s.units_returned AS BIGINT),
       CAST(s.gross_sales AS DECIMAL(38,4)), CAST(s.discounts AS DECIMAL(38,4)), CAST(s.returns AS DECIMAL(38,4))
FROM sold s
LEFT JOIN products p ON p.store_id = :store_id AND p.product_id = s.product_key
"""

_VARIANTS = """
WITH sold AS (
    SELECT variant_id, MAX(product_id) AS product_id,
           SUM(units_sold) AS units_sold, SUM(units_returned) AS units_returned,
           SUM(gross_sales) AS gross_sales, SUM(discounts) AS discounts, SUM(returns) AS returns
    FROM variant_daily_sales
    WHERE {range} {segment}
    GROUP BY variant_id
)
SELECT s.variant_id, s.product_id, p.title, v.title, v.sku,
       CAST(s.units_sold AS BIGINT), CAST(s.units_returned AS BIGINT),
       CAST(s.gross_sales AS DECIMAL(38,4)), CAST(s.discounts AS DECIMAL(38,4)), CAST(s.returns AS DECIMAL(38,4))
FROM sold s
LEFT JOIN variants v ON v.store_id = :store_id AND v.variant_id = s.variant_id
LEFT JOIN products p ON p.store_id = :store_id AND p.product_id = s.product_id
"""

_HEATMAP = """
SELECT local_isodow, local_hour, COUNT(*),
       CAST(COALESCE(SUM(gross_sales - discounts), 0) AS DECIMAL(38,4))
FROM order_facts WHERE {range} {segment}
GROUP BY local_isodow, local_hour
"""

_LATEST = """
SELECT o.order_number, o.order_id, f.created_at, f.channel, f.units_sold, o.total_price
FROM (
    SELECT order_id, created_at, COALESCE(channel, 'other') AS channel, units_sold
    FROM order_facts
    WHERE store_id = :store_id {segment}
    ORDER BY created_at DESC, order_id DESC
    LIMIT {limit}
) f
JOIN orders o ON o.store_id = :store_id AND o.order_id = f.order_id
ORDER BY f.created_at DESC, f.order_id DESC
"""


# -- order-level breakdowns ------------------------------------------------------

def sales_by_channel(
    wh: Warehouse, store_id: str, start: dt.date, end: dt.date, *, channels: Iterable[str] | None = None,
    currency: str | None = None,
) -> pl.DataFrame:
    """Sales per sales channel over the inclusive store-local range (see :func:`sales_by_dimension`)."""
    return sales_by_dimension(wh, store_id, start, end, "channel", channels=channels, currency=currency)


def sales_by_country(
    wh: Warehouse, store_id: str, start: dt.date, end: dt.date, *, channels: Iterable[str] | None = None,
    currency: str | None = None,
) -> pl.DataFrame:
    """Sales per shipping country of the order (``unknown`` without one; see :func:`sales_by_dimension`)."""
    return sales_by_dimension(wh, store_id, start, end, "country", channels=channels, currency=currency)


def sales_by_dimension(
    wh: Warehouse,
    store_id: str,
    start: dt.date,
    end: dt.date,
    dimension: str,
    *,
    channels: Iterable[str] | None = None,
    currency: str | None = None,
) -> pl.DataFrame:
    """Sales per value of an order dimension (``channel``, ``country`` or ``customer_group``: ``new``,
    ``returning`` or ``guest``).

    One row per value with any order or refund in the range; the first column
    is named after the dimension, then the figures of ``BREAKDOWN_FIGURES``
    with the definitions of ``sales_summary``: a refund counts in the
    dimension value of its order, on the refund's day. Rows are sorted by net
    sales, largest first, then by value; their sums equal the range's
    ``sales_summary`` figures. With ``currency`` (another than the store's),
    money is converted day by day as in ``sales_summary``, as
    ``Decimal(38, 10)``.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}, not {dimension!r}")
    start, end = check_range(start, end)
    params, segment = filter_params(store_id, start, end, channels, None)
    into = converting(wh, store_id, currency)
    days: dict[str, dict[Any, dict[str, Any]]] = {}
    for sql, fields, expressions in ((_ORDERS_BY, _ORDER_SUMS, DIMENSIONS), (_REFUNDS_BY, _REFUND_SUMS,
                                                                             REFUND_DIMENSIONS)):
        text = sql.format(dimension=expressions[dimension], range=_RANGE, segment=segment,
                          day="local_date, " if into else "", group="1, 2" if into else "1")
        for row in wh.rows(text, params):
            day, row = (row[0], row[1:]) if into else (None, row)
            days.setdefault(str(row[0]), {}).setdefault(day, {}).update(zip(fields, row[1:]))
    places, money = (fx.PLACES, MONEY_CONVERTED) if into else (ZERO, MONEY)
    if into:
        rates = fx.load_rates(wh, into, start, end)
        days = {label: fx.convert_days(by_day, MONEY_SUMS, *into, rates) for label, by_day in days.items()}
    rows = [{dimension: label, **_pick(sales_figures(fx.add_up(by_day.values()), places=places), BREAKDOWN_FIGURES)}
            for label, by_day in days.items()]
    types = {name: money if kind == MONEY else kind for name, kind in BREAKDOWN_FIGURES.items()}
    return _sorted(pl.DataFrame(rows, schema={dimension: pl.String, **types}), dimension)


# -- item breakdowns ---------------------------------------------------------------

def sales_by_product(
    wh: Warehouse, store_id: str, start: dt.date, end: dt.date, *, channels: Iterable[str] | None = None
) -> pl.DataFrame:
    """Item sales per product over the inclusive store-local range, from ``variant_daily_sales``.

    Columns: ``product_id`` (null for lines without a product), ``product``
    (its title, else its id, else ``Unknown product``), then ``units_sold``,
    ``units_returned``, ``gross_sales``, ``discounts``, ``returns`` (on the
    refund's day) and ``net_sales`` = gross − discounts − returns. Sorted by
    net sales, largest first; the net sales add up to the range's net sales.
    """
    start, end = check_range(start, end)
    params, segment = filter_params(store_id, start, end, channels, None)
    rows = []
    for key, title, *figures in wh.rows(_PRODUCTS.format(range=_RANGE, segment=segment), params):
        product_id = key or None
        rows.append({
            "product_id": product_id,
            "product": title or product_id or "Unknown product",
            **_item_figures(figures),
        })
    frame = pl.DataFrame(rows, schema={"product_id": pl.String, "product": pl.String, **ITEM_FIGURES})
    return _sorted(frame, "product")


def sales_by_variant(
    wh: Warehouse, store_id: str, start: dt.date, end: dt.date, *, channels: Iterable[str] | None = None
) -> pl.DataFrame:
    """Item sales per variant, as :func:`sales_by_product`.

    Columns: ``variant_id`` (``sku:<SKU>`` for lines without a variant id),
    ``product_id``, ``variant`` (``Product title — variant title``, falling
    back on the SKU and the id), ``sku``, then the figures of
    :func:`sales_by_product`.
    """
    start, end = check_range(start, end)
    params, segment = filter_params(store_id, start, end, channels, None)
    rows = []
    for variant_id, product_id, product_title, variant_title, sku, *figures in wh.rows(
        _VARIANTS.format(range=_RANGE, segment=segment), params
    ):
        if sku is None and str(variant_id).startswith("sku:"):
            sku = str(variant_id)[4:] or None
        rows.append({
            "variant_id": variant_id,
            "product_id": product_id,
            "variant": variant_label(product_title, variant_title, sku, variant_id),
            "sku": sku,
            **_item_figures(figures),
        })
    schema = {"variant_id": pl.String, "product_id": pl.String, "variant": pl.String, "sku": pl.String,
              **ITEM_FIGURES}
    return _sorted(pl.DataFrame(rows, schema=schema), "variant")


def variant_label(product_title: str | None, variant_title: str | None, sku: str | None, variant_id: str) -> str:
    """How a variant is named to a person: ``Linen shirt — M / Blue``, else its SKU, else its id."""
    if product_title and variant_title and variant_title != "Default Title":
        return f"{product_title} — {variant_title}"
    if product_title:
        return f"{product_title} ({sku})" if sku else product_title
    return variant_title or sku or str(variant_id)


def top_n_with_other(frame: pl.DataFrame, label: str, n: int, *, by: str = "net_sales") -> pl.DataFrame:
    """The ``n`` rows with the largest ``by``, then one ``Other (k)`` row summing the rest.

    Numeric columns of the ``Other`` row are the sums of the rows it holds (so
    the column totals do not change); its other text columns are null. A
    frame of at most ``n + 1`` rows comes back sorted but whole (an "Other"
    row standing for a single row says nothing).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    ordered = frame.sort([by, label], descending=[True, False], nulls_last=True)
    if ordered.height <= n + 1:
        return ordered
    head, rest = ordered.head(n), ordered.slice(n)
    other: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        if name == label:
            other[name] = f"Other ({rest.height})"
        elif dtype.is_numeric():
            other[name] = rest[name].sum()
        else:
            other[name] = None
    return pl.concat([head, pl.DataFrame([other], schema=frame.schema)])


# -- when people buy -------------------------------------------------------------------

def sales_heatmap(
    wh: Warehouse, store_id: str, start: dt.date, end: dt.date, *, channels: Iterable[str] | None = None
) -> pl.DataFrame:
    """Orders by store-local ISO weekday × hour of day over the range.

    168 rows, every weekday (``isodow`` 1 = Monday … 7 = Sunday) × ``hour``
    (0–23), zeros included: ``orders`` (count) and ``order_value`` (gross
    sales − discounts of those orders, before returns, which fall on the
    refund's day and have no hour here).
    """
    start, end = check_range(start, end)
    params, segment = filter_params(store_id, start, end, channels, None)
    found = {(int(r[0]), int(r[1])): (int(r[2]), r[3])
             for r in wh.rows(_HEATMAP.format(range=_RANGE, segment=segment), params)}
    cells = [(d, h, *found.get((d, h), (0, ZERO))) for d in range(1, 8) for h in range(24)]
    return pl.DataFrame(
        {"isodow": [c[0] for c in cells], "hour": [c[1] for c in cells], "orders": [c[2] for c in cells],
         "order_value": [Decimal(c[3]).quantize(ZERO) for c in cells]},
        schema={"isodow": pl.Int64, "hour": pl.Int64, "orders": pl.Int64, "order_value": MONEY},
    )


# -- live -------------------------------------------------------------------------------

def today_vs_last_week(
    wh: Warehouse, store_id: str, now: dt.datetime, *, channels: Iterable[str] | None = None
) -> dict[str, Any]:
    """Today so far against the same weekday last week up to the same time of day (store time).

    ``now`` is an aware datetime (any zone); it is read in the store's
    timezone. Today counts the orders created and refunds made on the
    store-local date of ``now`` up to ``now``; last week the same for the date
    seven days earlier, up to the same wall-clock time (so a DST change in
    between does not shift the cut). Returns ``{"today": figures,
    "last_week": figures, "today_date", "last_week_date", "cutoff"}`` where
    figures are those of ``sales_summary`` (``LIVE_FIGURES`` among them) up to the cut
    and ``cutoff`` is the store-local wall-clock time of the cut.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    zone = ZoneInfo(store_timezone(wh, store_id))
    local_now = now.astimezone(zone)
    today = local_now.date()
    last_week = today - dt.timedelta(days=7)
    wall = local_now.time().replace(tzinfo=None)
    last_week_cut = dt.datetime.combine(last_week, wall, tzinfo=zone)
    return {
        "today": sales_summary(wh, store_id, today, today, channels=channels, until=now),
        "last_week": sales_summary(wh, store_id, last_week, last_week, channels=channels, until=last_week_cut),
        "today_date": today,
        "last_week_date": last_week,
        "cutoff": wall,
    }


def latest_orders(
    wh: Warehouse, store_id: str, limit: int = 10, *, channels: Iterable[str] | None = None
) -> pl.DataFrame:
    """The newest counted orders, newest first: what a live ticker shows.

    Columns: ``order_number`` (the platform's, else the order id),
    ``created_at`` (store-local wall-clock time, naive), ``channel``,
    ``items`` (units, gift cards excluded) and ``total`` (the order's total
    price as placed, in the store currency). No customer data.
    """
    if not 1 <= int(limit) <= 100:
        raise ValueError("limit must be between 1 and 100")
    zone = ZoneInfo(store_timezone(wh, store_id))
    params, segment = filter_params(store_id, dt.date.min, dt.date.min, channels, None)
    del params["start_date"], params["end_date"]  # no date range here
    rows = wh.rows(_LATEST.format(segment=segment, limit=int(limit)), params)
    return pl.DataFrame(
        {
            "order_number": [str(r[0] or r[1]) for r in rows],
            "created_at": [_as_utc(r[2]).astimezone(zone).replace(tzinfo=None) for r in rows],
            "channel": [r[3] for r in rows],
            "items": [int(r[4]) for r in rows],
            "total": [Decimal(r[5]).quantize(ZERO) for r in rows],
        },
        schema={"order_number": pl.String, "created_at": pl.Datetime("us"), "channel": pl.String,
                "items": pl.Int64, "total": MONEY},
    )


def store_timezone(wh: Warehouse, store_id: str) -> str:
    zone = wh.scalar("SELECT timezone FROM stores WHERE store_id = :store_id", {"store_id": store_id})
    if zone is None:
        raise ValueError(f"no store {store_id!r}")
    return str(zone)


# -- internals ----------------------------------------------------------------------------

def _item_figures(values: list[Any]) -> dict[str, Any]:
    units_sold, units_returned, gross, discounts, returns = values
    gross, discounts, returns = (ZERO if v is None else Decimal(v).quantize(ZERO) for v in (gross, discounts, returns))
    return {
        "units_sold": int(units_sold or 0), "units_returned": int(units_returned or 0),
        "gross_sales": gross, "discounts": discounts, "returns": returns,
        "net_sales": gross - discounts - returns,
    }


def _pick(figures: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: figures[name] for name in names}


def _sorted(frame: pl.DataFrame, label: str) -> pl.DataFrame:
    return frame.sort(["net_sales", label], descending=[True, False], nulls_last=True)


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value

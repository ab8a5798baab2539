"""The customers' orders as of a day: what every customer analysis starts from.

An order counts as in METRICS.md (``order_facts``: test and voided orders left
out). Its ``net_sales`` = gross sales − discounts − the returns refunded on or
before the as-of day (a later refund is not known yet on that day). Days are
store-local. Orders without a customer are left out.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.warehouse import Warehouse

__all__ = ["CUSTOMER_ORDER_COLUMNS", "customer_orders", "order_products", "first_orders", "typed", "FIRST_PRODUCTS", "RETURNS_BY_ORDER"]

CUSTOMER_ORDER_COLUMNS = ("order_id", "customer_id", "day", "channel", "country", "net_sales", "discounted",
                          "order_index")
_MONEY = pl.Decimal(38, 4)

# Each order's returns refunded on or before the as-of day.
RETURNS_BY_ORDER = """
    SELECT order_id, SUM(returns) AS returns FROM refund_facts
    WHERE store_id = :store_id AND local_date <= :as_of GROUP BY order_id
"""

_ORDERS = """
SELECT o.order_id, o.customer_id, o.local_date AS day, COALESCE(o.channel, 'other') AS channel, o.country,
       CAST(o.gross_sales - o.discounts - COALESCE(r.returns, 0) AS DECIMAL(38,4)) AS net_sales,
       o.discounts > 0 AS discounted, o.customer_order_index AS order_index
FROM order_facts o
LEFT JOIN ({returns}) r ON r.order_id = o.order_id
WHERE o.store_id = :store_id AND o.customer_id IS NOT NULL AND o.local_date BETWEEN :since AND :as_of
""".format(returns=RETURNS_BY_ORDER)

_PRODUCTS = """
SELECT DISTINCT o.order_id, l.product_id, COALESCE(p.title, l.title, l.product_id) AS product
FROM order_facts o
JOIN order_lines l ON l.store_id = o.store_id AND l.order_id = o.order_id
LEFT JOIN products p ON p.store_id = l.store_id AND p.product_id = l.product_id
WHERE o.store_id = :store_id AND o.local_date BETWEEN :start AND :end AND NOT l.is_gift_card
      AND l.product_id IS NOT NULL
"""

# Each customer whose first order falls on or before :as_of, with that order's day and main product: the
# line of the largest net amount, ties by product id (then title). A CTE for the queries that count them,
# reading the main product the rollups keep on each first order (data/rollups.py).
FIRST_PRODUCTS = """
first_products AS (
    SELECT o.customer_id, o.local_date AS first_day, o.first_product_id,
           COALESCE(p.title, o.first_product_line_title) AS first_product
    FROM order_facts o
    LEFT JOIN products p ON p.store_id = :store_id AND p.product_id = o.first_product_id
    WHERE o.store_id = :store_id AND o.customer_order_index = 1 AND o.local_date <= :as_of
          AND o.first_product_id IS NOT NULL
)
"""

# The same worked out from the first orders' lines, as :func:`first_orders` reads it (what the stored main
# product must equal).
_FIRST_PRODUCTS_FROM_LINES = """
first_lines AS (
    SELECT o.customer_id, o.local_date AS first_day, l.product_id AS first_product_id,
           COALESCE(p.title, l.title, l.product_id) AS first_product,
           ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY l.unit_price * l.quantity - l.discount DESC,
                              l.product_id, COALESCE(p.title, l.title, l.product_id)) AS n
    FROM order_facts o
    JOIN order_lines l ON l.store_id = o.store_id AND l.order_id = o.order_id
    LEFT JOIN products p ON p.store_id = l.store_id AND p.product_id = l.product_id
    WHERE o.store_id = :store_id AND o.customer_order_index = 1 AND o.local_date <= :as_of
          AND NOT l.is_gift_card AND l.product_id IS NOT NULL
),
first_products AS (
    SELECT customer_id, first_day, first_product_id, first_product FROM first_lines WHERE n = 1
)
"""


def typed(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """``frame``'s columns cast to ``schema`` (an empty result, or a backend's own integer width, made exact)."""
    if frame.height == 0:
        return pl.DataFrame(schema=schema)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def customer_orders(wh: Warehouse, store_id: str, as_of: dt.date, since: dt.date | None = None) -> pl.DataFrame:
    """Every counted order of a known customer placed on or before ``as_of`` (and on or after ``since``, when
    given): :data:`CUSTOMER_ORDER_COLUMNS` (``day`` store-local, ``net_sales`` exact, ``discounted`` = the
    order had a discount, ``order_index`` = 1 for the customer's first order ever, 2 for the second, …), in
    no particular order."""
    params = {"store_id": store_id, "as_of": as_of, "since": since or dt.date(1, 1, 1)}
    return typed(wh.query(_ORDERS, params), {
        "order_id": pl.String, "customer_id": pl.String, "day": pl.Date, "channel": pl.String, "country": pl.String,
        "net_sales": _MONEY, "discounted": pl.Boolean, "order_index": pl.Int64})


def order_products(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The distinct products of each counted order placed between ``start`` and ``end`` (store-local,
    inclusive), gift cards left out: ``order_id``, ``product_id``, ``product``."""
    return typed(wh.query(_PRODUCTS, {"store_id": store_id, "start": start, "end": end}),
                  {"order_id": pl.String, "product_id": pl.String, "product": pl.String})


def first_orders(wh: Warehouse, store_id: str, as_of: dt.date) -> pl.DataFrame:
    """Each customer whose first order falls on or before ``as_of`` with the main product of that order
    (the line of the largest net amount; ties by product id): ``customer_id``, ``first_product_id``,
    ``first_product``, worked out from the order lines (the rollups keep the same on each first order,
    which :data:`FIRST_PRODUCTS` reads)."""
    sql = f"WITH {_FIRST_PRODUCTS_FROM_LINES} SELECT customer_id, first_product_id, first_product FROM first_products " \
          "ORDER BY customer_id"
    return typed(wh.query(sql, {"store_id": store_id, "as_of": as_of}),
                 {"customer_id": pl.String, "first_product_id": pl.String, "first_product": pl.String})

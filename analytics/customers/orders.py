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

__all__ = ["CUSTOMER_ORDER_COLUMNS", "customer_orders", "order_products", "first_orders"]

CUSTOMER_ORDER_COLUMNS = ("order_id", "customer_id", "day", "channel", "country", "net_sales", "discounted",
                          "order_index")
_MONEY = pl.Decimal(38, 4)

_ORDERS = """
SELECT o.order_id, o.customer_id, o.local_date, COALESCE(o.channel, 'other'), o.country,
       CAST(o.gross_sales - o.discounts - COALESCE(r.returns, 0) AS DECIMAL(38,4)),
       o.discounts > 0, o.customer_order_index
FROM order_facts o
LEFT JOIN (
    SELECT order_id, SUM(returns) AS returns FROM refund_facts
    WHERE store_id = :store_id AND local_date <= :as_of GROUP BY order_id
) r ON r.order_id = o.order_id
WHERE o.store_id = :store_id AND o.customer_id IS NOT NULL AND o.local_date <= :as_of
ORDER BY o.customer_id, o.customer_order_index
"""

_PRODUCTS = """
SELECT DISTINCT o.order_id, l.product_id, COALESCE(p.title, l.title, l.product_id)
FROM order_facts o
JOIN order_lines l ON l.store_id = o.store_id AND l.order_id = o.order_id
LEFT JOIN products p ON p.store_id = l.store_id AND p.product_id = l.product_id
WHERE o.store_id = :store_id AND o.local_date BETWEEN :start AND :end AND NOT l.is_gift_card
      AND l.product_id IS NOT NULL
"""

_FIRST_PRODUCT = """
SELECT o.customer_id, l.product_id, COALESCE(p.title, l.title, l.product_id), l.unit_price * l.quantity - l.discount
FROM order_facts o
JOIN order_lines l ON l.store_id = o.store_id AND l.order_id = o.order_id
LEFT JOIN products p ON p.store_id = l.store_id AND p.product_id = l.product_id
WHERE o.store_id = :store_id AND o.customer_order_index = 1 AND o.local_date <= :as_of
      AND NOT l.is_gift_card AND l.product_id IS NOT NULL
"""


def customer_orders(wh: Warehouse, store_id: str, as_of: dt.date) -> pl.DataFrame:
    """Every counted order of a known customer placed on or before ``as_of``: :data:`CUSTOMER_ORDER_COLUMNS`
    (``day`` store-local, ``net_sales`` exact, ``discounted`` = the order had a discount, ``order_index`` =
    1 for the customer's first order ever, 2 for the second, …)."""
    rows = wh.rows(_ORDERS, {"store_id": store_id, "as_of": as_of})
    return pl.DataFrame(rows, schema={"order_id": pl.String, "customer_id": pl.String, "day": pl.Date,
                                      "channel": pl.String, "country": pl.String, "net_sales": _MONEY,
                                      "discounted": pl.Boolean, "order_index": pl.Int64}, orient="row")


def order_products(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The distinct products of each counted order placed between ``start`` and ``end`` (store-local,
    inclusive), gift cards left out: ``order_id``, ``product_id``, ``product``."""
    rows = wh.rows(_PRODUCTS, {"store_id": store_id, "start": start, "end": end})
    return pl.DataFrame(rows, schema={"order_id": pl.String, "product_id": pl.String, "product": pl.String},
                        orient="row")


def first_orders(wh: Warehouse, store_id: str, as_of: dt.date) -> pl.DataFrame:
    """Each customer whose first order falls on or before ``as_of`` with the main product of that order
    (the line of the largest net amount; ties by product id): ``customer_id``, ``first_product_id``,
    ``first_product``."""
    rows = wh.rows(_FIRST_PRODUCT, {"store_id": store_id, "as_of": as_of})
    lines = pl.DataFrame(rows, schema={"customer_id": pl.String, "first_product_id": pl.String,
                                       "first_product": pl.String, "amount": _MONEY}, orient="row")
    return (lines.sort(["customer_id", "amount", "first_product_id"], descending=[False, True, False])
            .unique("customer_id", keep="first", maintain_order=True).drop("amount"))

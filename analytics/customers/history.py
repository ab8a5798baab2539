"""Each scored customer's history up to the scores' day, kept beside the scores.

``customer_scores`` rows of a day carry the customer's orders to that day
(``orders_to_date``), the first and last order's store-local day and the
historical value: net sales (gross sales − discounts − returns refunded by
that day) of those orders, so the Customers page sums one table rather than
every order of every customer. The RFM step writes them for the rows of the
day still without them; the lifetime value step writes them with its
predictions for every customer it fits (``analytics/customers/steps.py``).
"""

from __future__ import annotations

import datetime as dt

from analytics.customers.orders import RETURNS_BY_ORDER
from data.warehouse import Warehouse

__all__ = ["HISTORY_COLUMNS", "fill_latest_history", "write_history"]

HISTORY_COLUMNS = ("orders_to_date", "first_order", "last_order", "historical_value")

_UPDATE = """
UPDATE customer_scores SET orders_to_date = h.orders_to_date, first_order = h.first_order,
       last_order = h.last_order, historical_value = h.historical_value
FROM (
    SELECT o.customer_id, COUNT(*) AS orders_to_date, MIN(o.local_date) AS first_order,
           MAX(o.local_date) AS last_order,
           CAST(SUM(o.gross_sales - o.discounts - COALESCE(r.returns, 0)) AS DECIMAL(18,4)) AS historical_value
    FROM order_facts o LEFT JOIN ({returns}) r ON r.order_id = o.order_id
    WHERE o.store_id = :store_id AND o.customer_id IS NOT NULL AND o.local_date <= :as_of {customers}
    GROUP BY o.customer_id
) h
WHERE customer_scores.store_id = :store_id AND customer_scores.as_of = :as_of
  AND customer_scores.customer_id = h.customer_id
"""
_MISSING = """AND o.customer_id IN (SELECT customer_id FROM customer_scores
    WHERE store_id = :store_id AND as_of = :as_of AND orders_to_date IS NULL)"""


def write_history(wh: Warehouse, store_id: str, as_of: dt.date, *, missing_only: bool = False) -> None:
    """Set the history columns of every ``customer_scores`` row of ``as_of`` (none for a customer without an
    order by then), or with ``missing_only`` of the rows without them yet. Call it inside the transaction
    that wrote the scores."""
    params = {"store_id": store_id, "as_of": as_of}
    if not missing_only:
        wh.execute(f"UPDATE customer_scores SET {', '.join(f'{c} = NULL' for c in HISTORY_COLUMNS)} "
                   "WHERE store_id = :store_id AND as_of = :as_of", params)
    wh.execute(_UPDATE.format(returns=RETURNS_BY_ORDER, customers=_MISSING if missing_only else ""), params)


def fill_latest_history(wh: Warehouse) -> None:
    """:func:`write_history` for the latest scored day of every store (what the Customers page shows)."""
    for store_id, as_of in wh.rows("SELECT store_id, MAX(as_of) FROM customer_scores GROUP BY store_id"):
        write_history(wh, store_id, as_of)

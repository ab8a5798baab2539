"""Rollups kept by every write, so pages never scan raw order lines.

- ``order_facts``: one row per *counted* order, money pre-summed over its lines,
  the store-local day, hour and weekday worked out once, the order's rank
  among its customer's counted orders (``customer_order_index``), the
  store-local days of the customer's first counted order
  (``customer_first_date``) and of the one before (``previous_order_date``,
  none on the first) and, on a customer's first order, its main product (``first_product_id``: the product
  of its line of the largest net amount, gift cards and lines without a
  product left out, ties by product id then title; ``first_product_line_title``:
  that line's title, or the product id without one), which the customer
  analyses (cohorts, time between orders, first product → repeat) read instead
  of joining every order with its customer's first or previous one, or every
  line of every first order.
- ``refund_facts``: one row per refund of a counted order, on the refund's
  store-local day.
- ``variant_daily_sales``: units and money per store-local day × variant × channel.
- ``session_facts``: one row per web session: its first event's time, store-local
  day, source, medium and device, and which funnel events it had.

Counted orders follow METRICS.md: test orders are left out; an order cancelled
before any payment was captured (``voided``, or cancelled while ``pending`` or
``authorized``) is left out; gift-card lines are left out of gross sales,
discounts and units.

``refresh_store`` rebuilds a store; ``refresh_orders`` redoes the rows touched
by a few changed orders (the live feed, webhooks, incremental syncs),
including the order ranks of those orders' customers; ``refresh_sessions``
redoes the sessions of newly written web events.
"""

from __future__ import annotations

from typing import Sequence

import polars as pl

from data.keys import STORE_TABLES
from data.warehouse import Warehouse

# What the rollups are built from.
_RAW_TABLES = ("stores", "orders", "order_lines", "refunds", "refund_lines", "web_events")

COUNTED_ORDER = """
    NOT o.is_test
    AND COALESCE(o.financial_status, '') <> 'voided'
    AND NOT (o.cancelled_at IS NOT NULL AND COALESCE(o.financial_status, '') IN ('pending', 'authorized'))
"""

# {customer_scope} narrows the orders rebuilt: empty for a whole store, or a condition on o.
# Every query reads one store, so joins match on the id alone and filter the store
# on each side: a hash join on one text column runs about twice as fast as on two.
_ORDER_FACTS = """
INSERT INTO order_facts (store_id, order_id, created_at, local_date, local_hour, local_isodow,
    customer_id, customer_order_index, channel, country, currency,
    gross_sales, discounts, units_sold, shipping, taxes, duties, customer_first_date, previous_order_date,
    first_product_id, first_product_line_title)
WITH counted AS (
    SELECT o.store_id, o.order_id, o.created_at, o.customer_id, o.channel, o.country, o.currency,
           o.total_shipping, o.total_tax, o.total_duties,
           CAST(o.created_at AT TIME ZONE s.timezone AS TIMESTAMP) AS local_ts
    FROM orders o JOIN stores s ON s.store_id = o.store_id
    WHERE o.store_id = :store_id AND {counted} {customer_scope}
),
ranked AS (
    SELECT c.*,
           CASE WHEN c.customer_id IS NULL THEN NULL
                ELSE ROW_NUMBER() OVER (PARTITION BY c.customer_id ORDER BY c.created_at, c.order_id) END
               AS customer_order_index,
           CASE WHEN c.customer_id IS NULL THEN NULL
                ELSE CAST(FIRST_VALUE(c.local_ts) OVER (PARTITION BY c.customer_id
                                                        ORDER BY c.created_at, c.order_id) AS DATE) END
               AS customer_first_date,
           CASE WHEN c.customer_id IS NULL THEN NULL
                ELSE CAST(LAG(c.local_ts) OVER (PARTITION BY c.customer_id
                                                ORDER BY c.created_at, c.order_id) AS DATE) END
               AS previous_order_date
    FROM counted c
),
lines AS (
    SELECT l.order_id,
           SUM(CASE WHEN l.is_gift_card THEN 0 ELSE l.unit_price * l.quantity END) AS gross_sales,
           SUM(CASE WHEN l.is_gift_card THEN 0 ELSE l.discount END) AS discounts,
           SUM(CASE WHEN l.is_gift_card THEN 0 ELSE l.quantity END) AS units_sold
    FROM order_lines l
    WHERE l.store_id = :store_id AND l.order_id IN (SELECT order_id FROM counted)
    GROUP BY l.order_id
),
{first_products}
SELECT r.store_id, r.order_id, r.created_at,
       CAST(r.local_ts AS DATE),
       CAST(EXTRACT(hour FROM r.local_ts) AS INTEGER),
       CAST(EXTRACT(isodow FROM r.local_ts) AS INTEGER),
       r.customer_id, r.customer_order_index, r.channel, r.country, r.currency,
       CAST(COALESCE(l.gross_sales, 0) AS DECIMAL(18,4)),
       CAST(COALESCE(l.discounts, 0) AS DECIMAL(18,4)),
       COALESCE(l.units_sold, 0),
       r.total_shipping, r.total_tax, r.total_duties, r.customer_first_date, r.previous_order_date,
       m.product_id, m.line_title
FROM ranked r LEFT JOIN lines l ON l.order_id = r.order_id
LEFT JOIN first_products m ON m.order_id = r.order_id
"""

# The main line of each customer's first order (the CTE ``first_products``, from ``ranked``). The title is the
# line's own: readers take the catalogue's title first. Among lines of one product and one amount the catalogue
# title is the same, so ordering by the line's title picks what ordering by the shown title would.
_FIRST_PRODUCTS = """
first_products AS (
    SELECT order_id, product_id, line_title FROM (
        SELECT l.order_id, l.product_id, COALESCE(l.title, l.product_id) AS line_title,
               ROW_NUMBER() OVER (PARTITION BY l.order_id ORDER BY l.unit_price * l.quantity - l.discount DESC,
                                  l.product_id, COALESCE(l.title, l.product_id)) AS n
        FROM order_lines l
        WHERE l.store_id = :store_id AND NOT l.is_gift_card AND l.product_id IS NOT NULL
              AND l.order_id IN (SELECT order_id FROM ranked WHERE customer_order_index = 1)
    ) m WHERE n = 1
)
"""

_REFUND_FACTS = """
INSERT INTO refund_facts (store_id, refund_id, order_id, created_at, local_date, customer_id, channel,
    country, returns, units_returned, shipping_refunded, tax_refunded)
WITH goods AS (
    SELECT rl.refund_id, SUM(rl.subtotal) AS returns, SUM(rl.quantity) AS units_returned
    FROM refund_lines rl
    JOIN order_lines l ON l.line_id = rl.line_id AND l.store_id = :store_id
    WHERE rl.store_id = :store_id AND NOT l.is_gift_card {goods_scope}
    GROUP BY rl.refund_id
)
SELECT r.store_id, r.refund_id, r.order_id, r.created_at,
       CAST(r.created_at AT TIME ZONE s.timezone AS DATE),
       o.customer_id, o.channel, o.country,
       CAST(COALESCE(g.returns, 0) AS DECIMAL(18,4)),
       COALESCE(g.units_returned, 0),
       r.shipping_refunded, r.tax_refunded
FROM refunds r
JOIN orders o ON o.order_id = r.order_id AND o.store_id = :store_id
JOIN stores s ON s.store_id = :store_id
LEFT JOIN goods g ON g.refund_id = r.refund_id
WHERE r.store_id = :store_id AND {counted} {refund_scope}
"""

_VARIANT_DAILY = """
INSERT INTO variant_daily_sales (store_id, local_date, variant_id, channel, product_id,
    units_sold, gross_sales, discounts, units_returned, returns)
WITH sold AS (
    SELECT f.local_date, COALESCE(l.variant_id, 'sku:' || COALESCE(l.sku, '')) AS variant_id,
           COALESCE(f.channel, 'other') AS channel, MAX(l.product_id) AS product_id,
           SUM(l.quantity) AS units_sold, SUM(l.unit_price * l.quantity) AS gross_sales,
           SUM(l.discount) AS discounts
    FROM order_facts f
    JOIN order_lines l ON l.order_id = f.order_id AND l.store_id = :store_id
    WHERE f.store_id = :store_id AND NOT l.is_gift_card {date_scope_f}
    GROUP BY 1, 2, 3
),
returned AS (
    SELECT rf.local_date, COALESCE(l.variant_id, 'sku:' || COALESCE(l.sku, '')) AS variant_id,
           COALESCE(rf.channel, 'other') AS channel, MAX(l.product_id) AS product_id,
           SUM(rl.quantity) AS units_returned, SUM(rl.subtotal) AS returns
    FROM refund_facts rf
    JOIN refund_lines rl ON rl.refund_id = rf.refund_id AND rl.store_id = :store_id
    JOIN order_lines l ON l.line_id = rl.line_id AND l.store_id = :store_id
    WHERE rf.store_id = :store_id AND NOT l.is_gift_card {date_scope_rf}
    GROUP BY 1, 2, 3
)
SELECT :store_id, COALESCE(s.local_date, r.local_date), COALESCE(s.variant_id, r.variant_id),
       COALESCE(s.channel, r.channel), GREATEST(s.product_id, r.product_id),
       COALESCE(s.units_sold, 0),
       CAST(COALESCE(s.gross_sales, 0) AS DECIMAL(18,4)),
       CAST(COALESCE(s.discounts, 0) AS DECIMAL(18,4)),
       COALESCE(r.units_returned, 0),
       CAST(COALESCE(r.returns, 0) AS DECIMAL(18,4))
FROM sold s
FULL OUTER JOIN returned r
  ON r.local_date = s.local_date AND r.variant_id = s.variant_id AND r.channel = s.channel
"""

# Added to the rows already there: what new orders sold and had returned.
# (GREATEST skips nulls on both engines: a row's product is the largest of its lines'.)
_VARIANT_DAILY_ADD = """
ON CONFLICT (store_id, local_date, variant_id, channel) DO UPDATE SET
    product_id = GREATEST(variant_daily_sales.product_id, excluded.product_id),
    units_sold = variant_daily_sales.units_sold + excluded.units_sold,
    gross_sales = variant_daily_sales.gross_sales + excluded.gross_sales,
    discounts = variant_daily_sales.discounts + excluded.discounts,
    units_returned = variant_daily_sales.units_returned + excluded.units_returned,
    returns = variant_daily_sales.returns + excluded.returns
"""

# {session_scope} narrows the sessions rebuilt: empty for a whole store, or a condition on e.
_SESSION_FACTS = """
INSERT INTO session_facts (store_id, session_id, started_at, local_date, source, medium, device,
    viewed_product, added_to_cart, began_checkout, purchased)
WITH events AS (
    SELECT e.session_id, e.event_type, e.occurred_at, e.source, e.medium, e.device,
           ROW_NUMBER() OVER (PARTITION BY e.session_id ORDER BY e.occurred_at, e.event_type) AS n
    FROM web_events e
    WHERE e.store_id = :store_id {session_scope}
),
steps AS (
    SELECT session_id,
           MAX(CASE WHEN event_type = 'view_item' THEN 1 ELSE 0 END) AS viewed,
           MAX(CASE WHEN event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS added,
           MAX(CASE WHEN event_type = 'begin_checkout' THEN 1 ELSE 0 END) AS checkout,
           MAX(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS bought
    FROM events GROUP BY session_id
)
SELECT s.store_id, f.session_id, f.occurred_at, CAST(f.occurred_at AT TIME ZONE s.timezone AS DATE),
       f.source, f.medium, f.device, st.viewed = 1, st.added = 1, st.checkout = 1, st.bought = 1
FROM events f
JOIN steps st ON st.session_id = f.session_id
JOIN stores s ON s.store_id = :store_id
WHERE f.n = 1
"""


# The store-local days of the touched orders' facts (run before and after the rebuild).
# Only the touched orders: the other orders of their customers get new ranks,
# but keep their days, channels and lines, so their days' sales do not move.
_SCOPE_DAYS = """
SELECT local_date FROM order_facts
WHERE store_id = :store_id AND order_id IN (SELECT order_id FROM _touched_orders)
UNION
SELECT local_date FROM refund_facts
WHERE store_id = :store_id AND order_id IN (SELECT order_id FROM _touched_orders)
"""


def _sql(template: str, **scopes: str) -> str:
    values = {
        "counted": COUNTED_ORDER,
        "first_products": _FIRST_PRODUCTS,
        "customer_scope": "",
        "refund_scope": "",
        "goods_scope": "",
        "date_scope_f": "",
        "date_scope_rf": "",
        "session_scope": "",
    }
    values.update(scopes)
    return template.format(**values)


def refresh_store(wh: Warehouse, store_id: str) -> None:
    """Rebuild every rollup of one store from its raw rows (one transaction)."""
    params = {"store_id": store_id}
    with wh.transaction():
        # The raw rows were just written in bulk: without fresh statistics PostgreSQL plans the rebuild
        # (and every page after it) as if the tables were nearly empty. ANALYZE counts this
        # transaction's own rows.
        wh.analyze(_RAW_TABLES)
        for table in ("order_facts", "refund_facts", "variant_daily_sales", "session_facts"):
            wh.execute(f"DELETE FROM {table} WHERE store_id = :store_id", params)
        wh.execute(_sql(_ORDER_FACTS), params)
        wh.execute(_sql(_REFUND_FACTS), params)
        wh.execute(_sql(_VARIANT_DAILY), params)
        wh.execute(_sql(_SESSION_FACTS), params)
        wh.analyze(STORE_TABLES)


def _id_table(wh: Warehouse, table: str, column: str, ids: list[str]) -> None:
    """A temporary table ``table(column)`` holding ``ids`` (inside the caller's transaction)."""
    wh.execute(f"DROP TABLE IF EXISTS {table}")
    wh.execute(f"CREATE TEMPORARY TABLE {table} ({column} TEXT)")
    wh.insert(table, pl.DataFrame({column: ids}))


def refresh_sessions(wh: Warehouse, store_id: str, session_ids: Sequence[str]) -> None:
    """Redo the ``session_facts`` rows of these sessions (after their events were written)."""
    session_ids = sorted({str(s) for s in session_ids})
    if not session_ids:
        return
    params = {"store_id": store_id}
    with wh.transaction():
        _id_table(wh, "_touched_sessions", "session_id", session_ids)
        wh.execute("DELETE FROM session_facts WHERE store_id = :store_id "
                   "AND session_id IN (SELECT session_id FROM _touched_sessions)", params)
        wh.execute(_sql(_SESSION_FACTS, session_scope="AND e.session_id IN (SELECT session_id FROM _touched_sessions)"),
                   params)
        wh.execute("DROP TABLE _touched_sessions")


def fill_session_facts(wh: Warehouse) -> None:
    """``session_facts`` of every store (the migration that adds the table)."""
    for (store_id,) in wh.rows("SELECT store_id FROM stores ORDER BY store_id"):
        wh.execute(_sql(_SESSION_FACTS), {"store_id": store_id})


# The customer columns of order_facts rows written before they existed, from the rows themselves.
_FILL_CUSTOMER_COLUMNS = """
UPDATE order_facts SET customer_first_date = m.customer_first_date, previous_order_date = m.previous_order_date,
       first_product_id = m.product_id, first_product_line_title = m.line_title
FROM (
    WITH ranked AS (
        SELECT order_id, customer_order_index,
               FIRST_VALUE(local_date) OVER (PARTITION BY customer_id ORDER BY created_at, order_id)
                   AS customer_first_date,
               LAG(local_date) OVER (PARTITION BY customer_id ORDER BY created_at, order_id) AS previous_order_date
        FROM order_facts WHERE store_id = :store_id AND customer_id IS NOT NULL
    ),
    {first_products}
    SELECT r.order_id, r.customer_first_date, r.previous_order_date, m.product_id, m.line_title
    FROM ranked r LEFT JOIN first_products m ON m.order_id = r.order_id
) m
WHERE order_facts.store_id = :store_id AND order_facts.order_id = m.order_id
"""


def fill_customer_columns(wh: Warehouse) -> None:
    """The customer columns of every store's order facts (the migration that adds them)."""
    for (store_id,) in wh.rows("SELECT store_id FROM stores ORDER BY store_id"):
        wh.execute(_sql(_FILL_CUSTOMER_COLUMNS), {"store_id": store_id})


def refresh_orders(wh: Warehouse, store_id: str, order_ids: Sequence[str]) -> None:
    """Redo the rollup rows touched by these orders (new, changed or refunded).

    The orders' customers get all their ranks recomputed, since an order that
    arrives late (or stops counting) moves the rank of the ones after it. The
    store-local days of these orders and their refunds (before and after) are
    rebuilt in ``variant_daily_sales``; the days of their customers' other
    orders are not, as a rank does not change a day's sales. When none of the
    orders counted before (new orders: a first sync), nothing is taken back
    from any day, so their sales are added to the rows there instead.
    """
    order_ids = sorted({str(o) for o in order_ids})
    if not order_ids:
        return
    params = {"store_id": store_id}
    with wh.transaction():
        _id_table(wh, "_touched_orders", "order_id", order_ids)
        # The touched orders (even deleted ones) and every order of their customers,
        # old and new, whose ranks may move.
        wh.execute("DROP TABLE IF EXISTS _scope_orders")
        wh.execute(
            """
            CREATE TEMPORARY TABLE _scope_orders AS
            SELECT order_id FROM _touched_orders
            UNION
            SELECT o.order_id FROM orders o
            WHERE o.store_id = :store_id AND o.customer_id IN (
                SELECT t.customer_id FROM orders t
                WHERE t.store_id = :store_id AND t.customer_id IS NOT NULL
                  AND t.order_id IN (SELECT order_id FROM _touched_orders)
                UNION
                SELECT f.customer_id FROM order_facts f
                WHERE f.store_id = :store_id AND f.customer_id IS NOT NULL
                  AND f.order_id IN (SELECT order_id FROM _touched_orders))
            """,
            params,
        )
        wh.execute("DROP TABLE IF EXISTS _scope_days")
        wh.execute(f"CREATE TEMPORARY TABLE _scope_days AS {_SCOPE_DAYS}", params)  # days before
        had_facts = wh.scalar("SELECT EXISTS (SELECT 1 FROM _scope_days)")
        wh.execute(
            "DELETE FROM order_facts WHERE store_id = :store_id AND order_id IN (SELECT order_id FROM _scope_orders)",
            params,
        )
        wh.execute(
            "DELETE FROM refund_facts WHERE store_id = :store_id AND order_id IN (SELECT order_id FROM _scope_orders)",
            params,
        )
        wh.execute(
            _sql(_ORDER_FACTS, customer_scope="AND o.order_id IN (SELECT order_id FROM _scope_orders)"),
            params,
        )
        wh.execute(
            _sql(
                _REFUND_FACTS,
                refund_scope="AND r.order_id IN (SELECT order_id FROM _scope_orders)",
                goods_scope="AND l.order_id IN (SELECT order_id FROM _scope_orders)",
            ),
            params,
        )
        if had_facts:
            wh.execute(f"INSERT INTO _scope_days {_SCOPE_DAYS}", params)  # and days after
            wh.execute(
                "DELETE FROM variant_daily_sales WHERE store_id = :store_id "
                "AND local_date IN (SELECT local_date FROM _scope_days)",
                params,
            )
            wh.execute(
                _sql(
                    _VARIANT_DAILY,
                    date_scope_f="AND f.local_date IN (SELECT local_date FROM _scope_days)",
                    date_scope_rf="AND rf.local_date IN (SELECT local_date FROM _scope_days)",
                ),
                params,
            )
        else:
            # None of these orders counted before (new orders, as in a first
            # sync): their sales add to their days' rows, nothing to take back.
            wh.execute(
                _sql(
                    _VARIANT_DAILY,
                    date_scope_f="AND f.order_id IN (SELECT order_id FROM _touched_orders)",
                    date_scope_rf="AND rf.order_id IN (SELECT order_id FROM _touched_orders)",
                ) + _VARIANT_DAILY_ADD,
                params,
            )
        for name in ("_touched_orders", "_scope_orders", "_scope_days"):
            wh.execute(f"DROP TABLE {name}")

"""The ``bi_*`` views: what BI tools (Tableau, Power BI, Looker, Metabase, Superset) read.

One definition per view, written once in the SQL that DuckDB, PostgreSQL and
BigQuery all speak; only the type names and the table prefix (a BigQuery
dataset) differ. The same columns, with the same meaning, come out of every
engine, and their figures are the metric layer's (analytics/metrics.py):

- ``bi_orders``: one row per order with its net figures. Orders the app does
  not count (test orders, orders cancelled before payment) are there with
  ``counted`` false and zero figures, so sums over the view are the app's.
  Returns are those of the order, whatever the refund's day.
- ``bi_order_lines``: one row per order line, with its gross sales and its
  net of discount; ``counted`` is false for gift cards and uncounted orders.
- ``bi_daily_sales``: per store and store-local day, the app's sales figures
  (returns, refunded shipping and tax on the refund's day, as in the app).
- ``bi_customers``: every customer scored by the latest refresh, with the
  scores (RFM, churn probability, predicted lifetime value) and history.
- ``bi_daily_stock``: units available per store, day and variant, summed over
  locations, from the daily snapshots.
- ``bi_forecasts``: the demand forecasts per variant and day, with the sku.

Views are created by the migration step ``0026_bi_views`` and, in a BigQuery
dataset, by the BigQuery export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data.warehouse import Warehouse

TYPES = {
    "duckdb": {"money": "DECIMAL(18,4)", "int": "BIGINT", "float": "DOUBLE PRECISION"},
    "postgres": {"money": "DECIMAL(18,4)", "int": "BIGINT", "float": "DOUBLE PRECISION"},
    "bigquery": {"money": "NUMERIC", "int": "INT64", "float": "FLOAT64"},
}

_REFUNDS_PER_ORDER = """(SELECT store_id, order_id, SUM(returns) AS returns, SUM(units_returned) AS units_returned,
            SUM(shipping_refunded) AS shipping_refunded, SUM(tax_refunded) AS tax_refunded
     FROM {t}refund_facts GROUP BY store_id, order_id)"""

VIEWS: dict[str, str] = {
    "bi_orders": """
SELECT o.store_id, o.order_id, o.order_number, o.customer_id, o.created_at, f.local_date, o.currency,
       o.financial_status, o.fulfillment_status, COALESCE(o.channel, 'other') AS channel, o.country,
       o.is_test, o.cancelled_at, f.order_id IS NOT NULL AS counted,
       CAST(COALESCE(f.gross_sales, 0) AS {money}) AS gross_sales,
       CAST(COALESCE(f.discounts, 0) AS {money}) AS discounts,
       CAST(COALESCE(r.returns, 0) AS {money}) AS returns,
       CAST(COALESCE(f.gross_sales, 0) - COALESCE(f.discounts, 0) - COALESCE(r.returns, 0) AS {money}) AS net_sales,
       CAST(COALESCE(f.shipping, 0) - COALESCE(r.shipping_refunded, 0) AS {money}) AS shipping,
       CAST(COALESCE(f.taxes, 0) - COALESCE(r.tax_refunded, 0) AS {money}) AS taxes,
       CAST(COALESCE(f.duties, 0) AS {money}) AS duties,
       CAST(COALESCE(f.gross_sales, 0) - COALESCE(f.discounts, 0) - COALESCE(r.returns, 0)
            + COALESCE(f.shipping, 0) - COALESCE(r.shipping_refunded, 0)
            + COALESCE(f.taxes, 0) - COALESCE(r.tax_refunded, 0) + COALESCE(f.duties, 0) AS {money}) AS total_sales,
       CAST(COALESCE(f.units_sold, 0) AS {int}) AS units_sold,
       CAST(COALESCE(r.units_returned, 0) AS {int}) AS units_returned
FROM {t}orders o
LEFT JOIN {t}order_facts f ON f.store_id = o.store_id AND f.order_id = o.order_id
LEFT JOIN """ + _REFUNDS_PER_ORDER + """ r ON r.store_id = o.store_id AND r.order_id = o.order_id
""",
    "bi_order_lines": """
SELECT l.store_id, l.order_id, l.line_id, l.product_id, l.variant_id, l.sku, l.title, f.local_date,
       COALESCE(o.channel, 'other') AS channel, o.currency, l.is_gift_card,
       f.order_id IS NOT NULL AND NOT l.is_gift_card AS counted,
       CAST(l.quantity AS {int}) AS quantity, CAST(l.unit_price AS {money}) AS unit_price,
       CAST(l.discount AS {money}) AS discount, CAST(l.tax AS {money}) AS tax,
       CAST(l.unit_price * l.quantity AS {money}) AS gross_sales,
       CAST(l.unit_price * l.quantity - l.discount AS {money}) AS net_of_discount
FROM {t}order_lines l
JOIN {t}orders o ON o.store_id = l.store_id AND o.order_id = l.order_id
LEFT JOIN {t}order_facts f ON f.store_id = l.store_id AND f.order_id = l.order_id
""",
    "bi_daily_sales": """
SELECT d.store_id, d.day, s.currency, s.timezone,
       CAST(SUM(d.orders) AS {int}) AS orders,
       CAST(SUM(d.gross_sales) AS {money}) AS gross_sales,
       CAST(SUM(d.discounts) AS {money}) AS discounts,
       CAST(SUM(d.returns) AS {money}) AS returns,
       CAST(SUM(d.gross_sales) - SUM(d.discounts) - SUM(d.returns) AS {money}) AS net_sales,
       CAST(SUM(d.shipping) AS {money}) AS shipping,
       CAST(SUM(d.taxes) AS {money}) AS taxes,
       CAST(SUM(d.duties) AS {money}) AS duties,
       CAST(SUM(d.gross_sales) - SUM(d.discounts) - SUM(d.returns) + SUM(d.shipping) + SUM(d.taxes)
            + SUM(d.duties) AS {money}) AS total_sales,
       CAST(SUM(d.units_sold) AS {int}) AS units_sold,
       CAST(SUM(d.units_returned) AS {int}) AS units_returned
FROM (
    SELECT store_id, local_date AS day, 1 AS orders, gross_sales, discounts, CAST(0 AS {money}) AS returns,
           shipping, taxes, duties, units_sold, 0 AS units_returned
    FROM {t}order_facts
    UNION ALL
    SELECT store_id, local_date AS day, 0 AS orders, CAST(0 AS {money}) AS gross_sales,
           CAST(0 AS {money}) AS discounts, returns, -shipping_refunded AS shipping, -tax_refunded AS taxes,
           CAST(0 AS {money}) AS duties, 0 AS units_sold, units_returned
    FROM {t}refund_facts
) d
JOIN {t}stores s ON s.store_id = d.store_id
GROUP BY d.store_id, d.day, s.currency, s.timezone
""",
    "bi_customers": """
SELECT s.store_id, s.customer_id, c.email_hash, c.country, c.accepts_marketing, c.created_at,
       s.as_of AS scored_on, s.rfm_segment,
       CAST(s.r_score AS {int}) AS r_score, CAST(s.f_score AS {int}) AS f_score,
       CAST(s.m_score AS {int}) AS m_score, CAST(s.recency_days AS {int}) AS recency_days,
       CAST(s.frequency AS {int}) AS frequency, CAST(s.monetary AS {money}) AS monetary,
       CAST(s.p_alive AS {float}) AS p_alive, CAST(s.expected_purchases AS {float}) AS expected_purchases,
       CAST(s.predicted_clv AS {money}) AS predicted_clv, CAST(s.predicted_clv_low AS {money}) AS predicted_clv_low,
       CAST(s.predicted_clv_high AS {money}) AS predicted_clv_high, CAST(s.horizon_days AS {int}) AS horizon_days,
       CAST(s.orders_to_date AS {int}) AS orders_to_date, s.first_order, s.last_order,
       CAST(s.historical_value AS {money}) AS historical_value
FROM {t}customer_scores s
JOIN (SELECT store_id, MAX(as_of) AS as_of FROM {t}customer_scores GROUP BY store_id) latest
  ON latest.store_id = s.store_id AND latest.as_of = s.as_of
LEFT JOIN {t}customers c ON c.store_id = s.store_id AND c.customer_id = s.customer_id
""",
    "bi_daily_stock": """
SELECT i.store_id, i.snapshot_date AS day, i.variant_id, v.sku, v.title AS variant_title,
       CAST(SUM(i.available) AS {int}) AS available, CAST(COUNT(*) AS {int}) AS locations
FROM {t}inventory_snapshots i
LEFT JOIN {t}variants v ON v.store_id = i.store_id AND v.variant_id = i.variant_id
GROUP BY i.store_id, i.snapshot_date, i.variant_id, v.sku, v.title
""",
    "bi_forecasts": """
SELECT f.store_id, f.variant_id, v.sku, f.ds AS day, f.model,
       CAST(f.yhat AS {float}) AS yhat, CAST(f.yhat_lo AS {float}) AS yhat_lo,
       CAST(f.yhat_hi AS {float}) AS yhat_hi, CAST(f.level AS {int}) AS level, f.generated_at
FROM {t}forecasts f
LEFT JOIN {t}variants v ON v.store_id = f.store_id AND v.variant_id = f.variant_id
""",
}

DESCRIPTIONS: dict[str, str] = {
    "bi_orders": "One row per order with its net figures (uncounted orders: counted false, zero figures).",
    "bi_order_lines": "One row per order line with its gross sales and net of discount.",
    "bi_daily_sales": "The app's sales figures per store and store-local day.",
    "bi_customers": "Every customer scored by the latest refresh, with their scores and history.",
    "bi_daily_stock": "Units available per store, day and variant, summed over locations.",
    "bi_forecasts": "Demand forecasts per store, variant and day.",
}

# What each view's rows are unique on (LookML primary keys, the tests).
VIEW_KEYS: dict[str, tuple[str, ...]] = {
    "bi_orders": ("store_id", "order_id"),
    "bi_order_lines": ("store_id", "line_id"),
    "bi_daily_sales": ("store_id", "day"),
    "bi_customers": ("store_id", "customer_id"),
    "bi_daily_stock": ("store_id", "day", "variant_id"),
    "bi_forecasts": ("store_id", "variant_id", "day", "model"),
}


def view_sql(name: str, dialect: str, prefix: str = "") -> str:
    """The SELECT of view ``name`` for ``dialect`` (``duckdb``, ``postgres``, ``bigquery``), its tables
    read as ``prefix`` + table name.

    BigQuery's money is NUMERIC already (exact, 9 decimals), and its sets and COALESCE widen an integer
    to it, so the money casts are left out there (a cast in a view would be the only place a scale could
    be lost)."""
    template = VIEWS[name]
    if dialect == "bigquery":
        template = _without_casts_to(template, " AS {money}")
    return template.format(t=prefix, **TYPES[dialect]).strip()


def _without_casts_to(sql: str, target: str) -> str:
    """``sql`` with every ``CAST(expr<target>)`` replaced by ``(expr)``."""
    out, i = [], 0
    while (start := sql.find("CAST(", i)) >= 0:
        depth, end = 0, start + 4
        for end in range(start + 4, len(sql)):
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            if depth == 0:
                break
        inner = _without_casts_to(sql[start + 5:end], target)
        out.append(sql[i:start])
        out.append(f"({inner[:-len(target)]})" if inner.endswith(target) else f"CAST({inner})")
        i = end + 1
    out.append(sql[i:])
    return "".join(out)


def create_views(wh: "Warehouse") -> None:
    """(Re)create every ``bi_*`` view in ``wh``."""
    for name in VIEWS:
        wh.execute(f"DROP VIEW IF EXISTS {name}")
        wh.execute(f"CREATE VIEW {name} AS {view_sql(name, wh.dialect)}")

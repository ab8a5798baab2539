"""Monthly first-order cohorts: retention and cumulative net sales per customer.

A customer's cohort is the store-local month of their first order. Month k of
a cohort is the k-th calendar month after it (k = 0: the first order's
month). Retention in month k = customers of the cohort who ordered in month k
÷ the cohort's customers; cumulative net sales per customer by month k = the
cohort's net sales of months 0..k ÷ the cohort's customers (an order's net
sales take off the returns refunded by the as-of day, in the order's month).
Only months that have begun by the as-of day are shown; the as-of day's month
is ``complete = False`` unless the as-of day is its last day. Filters select
customers by their first order: its main product, channel, country, and
whether it had a discount.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from analytics.customers.orders import RETURNS_BY_ORDER, typed
from data.warehouse import Warehouse

__all__ = ["COHORT_COLUMNS", "cohort_grid", "cohort_table", "cohort_table_in", "month_index"]

COHORT_COLUMNS = ("cohort", "months_since_first", "customers", "active_customers", "retention",
                  "net_sales", "cumulative_net_sales_per_customer", "complete")


_SCHEMA = {"cohort": pl.Date, "months_since_first": pl.Int64, "customers": pl.Int64,
           "active_customers": pl.Int64, "retention": pl.Float64, "net_sales": pl.Decimal(38, 4),
           "cumulative_net_sales_per_customer": pl.Decimal(38, 4), "complete": pl.Boolean}


def month_index(day: pl.Expr) -> pl.Expr:
    """Months since year 0: the same number for every day of a month."""
    return day.dt.year().cast(pl.Int64) * 12 + day.dt.month().cast(pl.Int64) - 1


def cohort_table(orders: pl.DataFrame, as_of: dt.date, *, first_products: pl.DataFrame | None = None,
                 first_product: str | None = None, channel: str | None = None, country: str | None = None,
                 discounted: bool | None = None) -> pl.DataFrame:
    """The cohorts of ``orders`` (as :func:`customer_orders`, up to ``as_of``): :data:`COHORT_COLUMNS`,
    one row per cohort and month since its first; ``first_product`` (a product id) needs
    ``first_products`` (as :func:`first_orders`)."""
    orders = orders.filter(pl.col("day") <= as_of)
    firsts = orders.filter(pl.col("order_index") == 1).select(
        "customer_id", pl.col("day").alias("first_day"), pl.col("channel").alias("first_channel"),
        pl.col("country").alias("first_country"), pl.col("discounted").alias("first_discounted"))
    if channel is not None:
        firsts = firsts.filter(pl.col("first_channel") == channel)
    if country is not None:
        firsts = firsts.filter(pl.col("first_country") == country)
    if discounted is not None:
        firsts = firsts.filter(pl.col("first_discounted") == discounted)
    if first_product is not None:
        if first_products is None:
            raise ValueError("filtering by first product needs the customers' first products")
        chosen = first_products.filter(pl.col("first_product_id") == first_product).select("customer_id")
        firsts = firsts.join(chosen, on="customer_id", how="semi")
    if firsts.height == 0:
        return pl.DataFrame(schema=_SCHEMA)
    firsts = firsts.with_columns(month_index(pl.col("first_day")).alias("cohort_index"))
    sizes = firsts.group_by("cohort_index").agg(pl.len().cast(pl.Int64).alias("customers"))
    dated = orders.join(firsts.select("customer_id", "cohort_index"), on="customer_id").with_columns(
        (month_index(pl.col("day")) - pl.col("cohort_index")).alias("months_since_first"))
    cells = dated.group_by("cohort_index", "months_since_first").agg(
        pl.col("customer_id").n_unique().cast(pl.Int64).alias("active_customers"),
        pl.col("net_sales").sum().cast(pl.Decimal(38, 4)).alias("net_sales"))
    return cohort_grid(sizes, cells, as_of)


def cohort_grid(sizes: pl.DataFrame, cells: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """:data:`COHORT_COLUMNS` from each cohort's ``customers`` (``sizes``: ``cohort_index``, ``customers``) and
    each cohort × month's ``active_customers`` and ``net_sales`` (``cells``), every month since the first shown."""
    if sizes.height == 0:
        return pl.DataFrame(schema=_SCHEMA)
    last = (as_of.year * 12 + as_of.month - 1)
    # The as-of month is over when the as-of day is its last day.
    last_complete = last if (as_of + dt.timedelta(days=1)).day == 1 else last - 1
    grid = sizes.with_columns(
        pl.int_ranges(0, last - pl.col("cohort_index") + 1).alias("months_since_first")).explode("months_since_first")
    table = grid.join(cells, on=["cohort_index", "months_since_first"], how="left").with_columns(
        pl.col("active_customers").fill_null(0), pl.col("net_sales").fill_null(Decimal(0)),
    ).sort("cohort_index", "months_since_first")
    rows = []
    running: dict[int, Decimal] = {}
    for r in table.iter_rows(named=True):
        total = running.get(r["cohort_index"], Decimal(0)) + Decimal(r["net_sales"])
        running[r["cohort_index"]] = total
        month = r["cohort_index"] + r["months_since_first"]
        rows.append({
            "cohort": dt.date(r["cohort_index"] // 12, r["cohort_index"] % 12 + 1, 1),
            "months_since_first": r["months_since_first"], "customers": r["customers"],
            "active_customers": r["active_customers"], "retention": r["active_customers"] / r["customers"],
            "net_sales": Decimal(r["net_sales"]),
            "cumulative_net_sales_per_customer": (total / r["customers"]).quantize(Decimal("0.0001")),
            "complete": month <= last_complete,
        })
    return pl.DataFrame(rows, schema=_SCHEMA)


def _month_sql(column: str) -> str:
    return f"(CAST(EXTRACT(year FROM {column}) AS INTEGER) * 12 + CAST(EXTRACT(month FROM {column}) AS INTEGER) - 1)"


_COHORT_FIRSTS = """
WITH firsts AS (
    SELECT o.customer_id, {cohort} AS cohort_index FROM order_facts o
    WHERE o.store_id = :store_id AND o.customer_id IS NOT NULL AND o.customer_order_index = 1
          AND o.local_date <= :as_of {filters}
)
"""

# Every order of the chosen customers (all of them unfiltered) in its cell: the cohort from the order's own
# copy of its customer's first day, and the customer counted active on their first order of the month (no
# earlier order of theirs in that month), so no order is joined with its customer's first one.
_COHORT_CELLS = """
SELECT {cohort} AS cohort_index, {month} - {cohort} AS months_since_first,
       SUM(CASE WHEN o.previous_order_date IS NULL OR {previous} <> {month} THEN 1 ELSE 0 END)
           AS active_customers,
       CAST(SUM(o.gross_sales - o.discounts - COALESCE(r.returns, 0)) AS DECIMAL(38,4)) AS net_sales
FROM order_facts o
LEFT JOIN ({returns}) r ON r.order_id = o.order_id
WHERE o.store_id = :store_id AND o.customer_id IS NOT NULL AND o.local_date <= :as_of {chosen}
GROUP BY {cohort}, {month} - {cohort}
"""


def cohort_table_in(wh: Warehouse, store_id: str, as_of: dt.date, *, first_product: str | None = None,
                    channel: str | None = None, country: str | None = None,
                    discounted: bool | None = None) -> pl.DataFrame:
    """:func:`cohort_table` of the store's orders up to ``as_of``, its cells counted in SQL."""
    params: dict = {"store_id": store_id, "as_of": as_of}
    filters = []
    if channel is not None:
        filters.append("AND COALESCE(o.channel, 'other') = :channel")
        params["channel"] = channel
    if country is not None:
        filters.append("AND o.country = :country")
        params["country"] = country
    if discounted is not None:
        filters.append("AND (o.discounts > 0) = :discounted")
        params["discounted"] = discounted
    if first_product is not None:
        filters.append("AND o.first_product_id = :first_product")
        params["first_product"] = first_product
    head = _COHORT_FIRSTS.format(cohort=_month_sql("o.local_date"), filters=" ".join(filters))
    sizes = typed(wh.query(head + "SELECT cohort_index, COUNT(*) AS customers FROM firsts GROUP BY cohort_index",
                           params), {"cohort_index": pl.Int64, "customers": pl.Int64})
    cells_sql = _COHORT_CELLS.format(
        cohort=_month_sql("o.customer_first_date"), month=_month_sql("o.local_date"),
        previous=_month_sql("o.previous_order_date"), returns=RETURNS_BY_ORDER,
        chosen="AND o.customer_id IN (SELECT customer_id FROM firsts)" if filters else "")
    cells = typed(wh.query((head if filters else "") + cells_sql, params), {"cohort_index": pl.Int64, "months_since_first": pl.Int64,
                                     "active_customers": pl.Int64, "net_sales": pl.Decimal(38, 4)})
    return cohort_grid(sizes, cells, as_of)

"""What sells together and what brings customers back.

- Product affinity: association rules {A} ⇒ {B} with one-item antecedent and
  consequent (as R's ``arules`` writes rules), over the orders of a range, each
  order a basket of distinct products: support = orders with A and B ÷ all
  orders, confidence = orders with A and B ÷ orders with A, lift = confidence ÷
  (orders with B ÷ all orders).
- First product → repeat: of the customers whose first order's main product is
  P and whose first order is at least ``window_days`` before the as-of day, the
  share who ordered again within ``window_days`` (customers who have not had the
  whole window yet are left out, so recent customers do not pull the rate down).
- New against returning customers per month, time between orders, and CAC per
  channel (ad spend ÷ new customers whose first order came through that channel).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import polars as pl

from analytics import fx
from analytics.customers.cohorts import month_index
from analytics.customers.orders import FIRST_PRODUCTS, typed
from data.warehouse import Warehouse

__all__ = ["BETWEEN_ORDER_BINS", "acquisition_cost", "first_product_choices", "first_product_counts",
           "first_product_repeat", "gap_summary", "repeat_rates", "new_vs_returning", "order_gaps", "product_pairs", "time_between_orders"]

BETWEEN_ORDER_BINS = (7, 14, 30, 60, 90, 180, 365)


def product_pairs(baskets: pl.DataFrame, *, min_orders: int = 2, limit: int | None = 100) -> pl.DataFrame:
    """Rules {A} ⇒ {B} from ``baskets`` (``order_id``, ``product_id``, ``product``; one row per distinct
    product of an order): ``antecedent``, ``consequent`` (titles), their ids, ``orders`` with both,
    ``support``, ``confidence``, ``lift``; rules whose pair is in fewer than ``min_orders`` orders left out;
    by lift, then orders, largest first."""
    baskets = baskets.unique(["order_id", "product_id"])
    n_orders = baskets["order_id"].n_unique()
    schema = {"antecedent": pl.String, "consequent": pl.String, "antecedent_id": pl.String,
              "consequent_id": pl.String, "orders": pl.Int64, "support": pl.Float64, "confidence": pl.Float64,
              "lift": pl.Float64}
    if n_orders == 0:
        return pl.DataFrame(schema=schema)
    counts = baskets.group_by("product_id").agg(pl.len().alias("n"), pl.col("product").first())
    left = baskets.select("order_id", pl.col("product_id").alias("antecedent_id"))
    right = baskets.select("order_id", pl.col("product_id").alias("consequent_id"))
    pairs = (left.join(right, on="order_id").filter(pl.col("antecedent_id") != pl.col("consequent_id"))
             .group_by("antecedent_id", "consequent_id").agg(pl.len().cast(pl.Int64).alias("orders"))
             .filter(pl.col("orders") >= min_orders))
    a = counts.select(pl.col("product_id").alias("antecedent_id"), pl.col("n").alias("n_a"),
                      pl.col("product").alias("antecedent"))
    b = counts.select(pl.col("product_id").alias("consequent_id"), pl.col("n").alias("n_b"),
                      pl.col("product").alias("consequent"))
    rules = pairs.join(a, on="antecedent_id").join(b, on="consequent_id").with_columns(
        (pl.col("orders") / n_orders).alias("support"),
        (pl.col("orders") / pl.col("n_a")).alias("confidence"),
    ).with_columns((pl.col("confidence") / (pl.col("n_b") / n_orders)).alias("lift"))
    rules = rules.sort(["lift", "orders", "antecedent_id", "consequent_id"],
                       descending=[True, True, False, False]).select(list(schema))
    return rules.head(limit) if limit else rules


def first_product_repeat(orders: pl.DataFrame, first_products: pl.DataFrame, as_of: dt.date,
                         window_days: int = 90) -> pl.DataFrame:
    """Per first product: ``customers`` (whose first order is ≥ ``window_days`` before ``as_of``),
    ``repeat_customers`` (who ordered again within ``window_days`` of the first order) and ``repeat_rate``;
    most customers first."""
    cutoff = as_of - dt.timedelta(days=window_days)
    firsts = orders.filter((pl.col("order_index") == 1) & (pl.col("day") <= cutoff)).select(
        "customer_id", pl.col("day").alias("first_day"))
    seconds = orders.filter(pl.col("order_index") == 2).select("customer_id", pl.col("day").alias("second_day"))
    joined = firsts.join(seconds, on="customer_id", how="left").join(first_products, on="customer_id")
    joined = joined.with_columns(
        ((pl.col("second_day") - pl.col("first_day")).dt.total_days() <= window_days).fill_null(False)
        .alias("came_back"))
    return joined.group_by("first_product_id", "first_product").agg(
        pl.len().cast(pl.Int64).alias("customers"),
        pl.col("came_back").sum().cast(pl.Int64).alias("repeat_customers"),
    ).with_columns((pl.col("repeat_customers") / pl.col("customers")).alias("repeat_rate")).sort(
        ["customers", "first_product_id"], descending=[True, False])


def new_vs_returning(orders: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per store-local month of the range: ``new_customers`` (first order ever in the month), ``returning_customers``
    (ordered in the month after an earlier order), their orders and net sales (``new_*``, ``returning_*``)."""
    inside = orders.filter(pl.col("day").is_between(start, end)).with_columns(
        (pl.col("order_index") == 1).alias("is_first"), month_index(pl.col("day")).alias("m"))
    per_customer = inside.group_by("m", "customer_id").agg(
        pl.col("is_first").any().alias("new"), pl.len().alias("orders"), pl.col("net_sales").sum())
    out = per_customer.group_by("m").agg(
        pl.col("new").sum().cast(pl.Int64).alias("new_customers"),
        (~pl.col("new")).sum().cast(pl.Int64).alias("returning_customers"),
        pl.col("orders").filter(pl.col("new")).sum().cast(pl.Int64).alias("new_orders"),
        pl.col("orders").filter(~pl.col("new")).sum().cast(pl.Int64).alias("returning_orders"),
        pl.col("net_sales").filter(pl.col("new")).sum().cast(pl.Decimal(38, 4)).alias("new_net_sales"),
        pl.col("net_sales").filter(~pl.col("new")).sum().cast(pl.Decimal(38, 4)).alias("returning_net_sales"),
    ).sort("m")
    return out.with_columns(
        pl.date(pl.col("m") // 12, pl.col("m") % 12 + 1, 1).alias("month")).drop("m").select("month", pl.exclude("month"))


def time_between_orders(orders: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, float | None]]:
    """Days between consecutive orders of the same customer: counts per bin (``≤7``, ``8–14``, …, ``>365``)
    and the gaps' ``median`` and ``mean`` days and how many ``gaps`` there are."""
    gaps = (orders.sort("customer_id", "order_index")
            .with_columns((pl.col("day") - pl.col("day").shift(1).over("customer_id")).dt.total_days().alias("gap"))
            .drop_nulls("gap")["gap"].to_numpy())
    return gap_summary(gaps)


_GAPS = """
SELECT local_date - previous_order_date AS gap, COUNT(*) AS n
FROM order_facts
WHERE store_id = :store_id AND previous_order_date IS NOT NULL AND local_date <= :as_of
GROUP BY local_date - previous_order_date
"""


def order_gaps(wh: Warehouse, store_id: str, as_of: dt.date) -> np.ndarray:
    """The days between consecutive counted orders of each customer up to ``as_of``, counted in SQL (as
    :func:`time_between_orders` finds them in the orders of ``customer_orders``), in no particular order."""
    counted = wh.query(_GAPS, {"store_id": store_id, "as_of": as_of})
    if counted.height == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(counted["gap"].cast(pl.Int64).to_numpy(), counted["n"].cast(pl.Int64).to_numpy())


def gap_summary(gaps: np.ndarray) -> tuple[pl.DataFrame, dict[str, float | None]]:
    """Counts per bin of days between orders, and the ``median``, ``mean`` and number of ``gaps``."""
    edges = [0, *BETWEEN_ORDER_BINS]
    labels = [f"≤{BETWEEN_ORDER_BINS[0]}"] + [f"{lo + 1}–{hi}" for lo, hi in zip(edges[1:-1], edges[2:])] + \
             [f">{BETWEEN_ORDER_BINS[-1]}"]
    index = np.searchsorted(np.array(BETWEEN_ORDER_BINS), gaps, side="left")
    counts = np.bincount(index, minlength=len(labels)) if len(gaps) else np.zeros(len(labels), dtype=int)
    table = pl.DataFrame({"days_between": labels, "gaps": counts.astype(np.int64)})
    stats = {"gaps": int(len(gaps)), "median": float(np.median(gaps)) if len(gaps) else None,
             "mean": float(np.mean(gaps)) if len(gaps) else None}
    return table, stats


_FIRST_PRODUCTS = """
WITH {firsts},
seconds AS (
    SELECT customer_id, local_date AS second_day FROM order_facts
    WHERE store_id = :store_id AND customer_id IS NOT NULL AND customer_order_index = 2 AND local_date <= :as_of
)
SELECT f.first_product_id, f.first_product, COUNT(*) AS all_customers,
       SUM(CASE WHEN f.first_day <= :cutoff THEN 1 ELSE 0 END) AS customers,
       SUM(CASE WHEN f.first_day <= :cutoff AND s.second_day - f.first_day <= :window THEN 1 ELSE 0 END)
           AS repeat_customers
FROM first_products f LEFT JOIN seconds s ON s.customer_id = f.customer_id
GROUP BY f.first_product_id, f.first_product
""".format(firsts=FIRST_PRODUCTS)


def first_product_counts(wh: Warehouse, store_id: str, as_of: dt.date, window_days: int = 90) -> pl.DataFrame:
    """Per first product (``first_product_id``, ``first_product``), counted in SQL: ``all_customers`` (first
    order on or before ``as_of``), and as :func:`first_product_repeat`, ``customers`` (first order at least
    ``window_days`` before ``as_of``) and ``repeat_customers``. :func:`repeat_rates` and
    :func:`first_product_choices` read it."""
    cutoff = as_of - dt.timedelta(days=window_days)
    return typed(wh.query(_FIRST_PRODUCTS, {"store_id": store_id, "as_of": as_of, "cutoff": cutoff,
                                            "window": window_days}),
                 {"first_product_id": pl.String, "first_product": pl.String, "all_customers": pl.UInt32,
                  "customers": pl.Int64, "repeat_customers": pl.Int64})


def repeat_rates(counts: pl.DataFrame) -> pl.DataFrame:
    """:func:`first_product_repeat`'s table from :func:`first_product_counts`."""
    return counts.filter(pl.col("customers") > 0).drop("all_customers").with_columns(
        (pl.col("repeat_customers") / pl.col("customers")).alias("repeat_rate")).sort(
        ["customers", "first_product_id"], descending=[True, False])


def first_product_choices(counts: pl.DataFrame) -> pl.DataFrame:
    """Products that were some customer's first, with how many (``customers``), from
    :func:`first_product_counts`: most customers first."""
    return counts.select("first_product_id", "first_product", pl.col("all_customers").alias("customers")).sort(
        ["customers", "first_product"], descending=[True, False])


_SPEND = """
SELECT COALESCE(channel, 'other'), spend_date, currency, CAST(SUM(spend) AS DECIMAL(38,4))
FROM ad_spend WHERE store_id = :store_id AND spend_date BETWEEN :start AND :end
GROUP BY COALESCE(channel, 'other'), spend_date, currency
"""


def acquisition_cost(wh: Warehouse, store_id: str, currency: str, orders: pl.DataFrame, start: dt.date,
                     end: dt.date) -> tuple[pl.DataFrame, int]:
    """CAC per order channel over the range: ``channel``, ``ad_spend`` (in the store currency),
    ``new_customers`` (first order ever in the range through that channel), ``cac`` (none without new
    customers); channels with spend only. Spend in another currency is converted at its day's ECB rate
    (:func:`analytics.fx.totals_in`); also how many days of spend had no rate, so were left out."""
    spend, other_currency = fx.totals_in(
        wh, wh.rows(_SPEND, {"store_id": store_id, "start": start, "end": end}), currency)
    new = orders.filter((pl.col("order_index") == 1) & pl.col("day").is_between(start, end)).group_by(
        "channel").len()
    new_by_channel = dict(zip(new["channel"].to_list(), new["len"].to_list()))
    rows = []
    for channel in sorted(spend, key=lambda c: (-spend[c], c)):
        customers = int(new_by_channel.get(channel, 0))
        rows.append({"channel": channel, "ad_spend": spend[channel].quantize(Decimal("0.0001")),
                     "new_customers": customers,
                     "cac": (spend[channel] / customers).quantize(Decimal("0.0001")) if customers else None})
    return pl.DataFrame(rows, schema={"channel": pl.String, "ad_spend": pl.Decimal(38, 4),
                                      "new_customers": pl.Int64, "cac": pl.Decimal(38, 4)}), other_currency

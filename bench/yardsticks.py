"""Yardsticks for the metric layer: the Sales page's figures computed two other ways.

The Sales page asks the layer (``analytics/metrics.py``) for a range's summary
(``sales_summary``: the key figures) and its series (``sales_over_time``: the
same figures per day, ISO week or month). Here are the same figures from:

- :func:`duckdb_sales`: one hand-written DuckDB query over the same rollups
  (``order_facts``, ``refund_facts``) that the layer reads: summary and series
  in one statement (grouping sets), buckets without sales as zeros. DuckDB
  divides decimals in floating point, so the four ratios (AOV and the rates)
  are worked out from the query's exact sums in Python, half-even at 4 places;
- :func:`pandas_sales`: plain pandas over the raw tables (``orders``,
  ``order_lines``, ``refunds``, ``refund_lines``) as :func:`load_tables` reads
  them from the warehouse, applying METRICS.md's rules itself: store-local days,
  test orders and orders cancelled before payment left out, gift cards not
  sales, refunds on the refund's day, customers ranked over their whole
  history. Money is held as whole ten-thousandths (``int64``), so sums are exact;
- :func:`layer_sales`: the layer itself, in the same shape.

Each returns ``{"summary": {figure: value}, "series": [{"period": date, ...}]}``
with the keys of ``sales_summary`` and the columns of ``sales_over_time``:
money as ``Decimal`` at 4 places, counts as ``int``. :func:`differences` lists
where two results disagree. Used by ``bench/metric_layer.py`` and checked
against each other (and against figures worked out by hand) in
``tests/test_yardsticks.py``. No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pandas as pd

from analytics.metrics import SALES_OVER_TIME_COLUMNS

FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal("0.0000")
UNITS = 10_000  # ten-thousandths of the store currency: pandas money is whole units of these
SUMMARY_KEYS = (
    "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "duties", "total_sales", "orders",
    "aov", "units_sold", "units_returned", "customers", "new_customers", "returning_customers",
    "returning_customer_rate", "repeat_customers", "repeat_purchase_rate", "refund_rate",
)
# The sums each way computes; every other figure follows from them.
SUMS = ("orders", "gross_sales", "discounts", "units_sold", "shipping_charged", "taxes_charged", "duties",
        "returns", "units_returned", "shipping_refunded", "tax_refunded",
        "customers", "new_customers", "returning_customers", "repeat_customers")
MONEY_SUMS = frozenset({"gross_sales", "discounts", "shipping_charged", "taxes_charged", "duties", "returns",
                        "shipping_refunded", "tax_refunded"})


def ratio(numerator: Any, denominator: Any) -> Decimal:
    """numerator ÷ denominator, half-even at 4 places; 0 when the denominator is 0."""
    if denominator == 0:
        return ZERO
    return (Decimal(numerator) / Decimal(denominator)).quantize(FOUR_PLACES, rounding=ROUND_HALF_EVEN)


def figures(sums: dict[str, Any]) -> dict[str, Any]:
    """Every summary figure from the sums of :data:`SUMS` (money as ``Decimal``)."""
    net = sums["gross_sales"] - sums["discounts"] - sums["returns"]
    shipping = sums["shipping_charged"] - sums["shipping_refunded"]
    taxes = sums["taxes_charged"] - sums["tax_refunded"]
    out = {
        "gross_sales": sums["gross_sales"], "discounts": sums["discounts"], "returns": sums["returns"],
        "net_sales": net, "shipping": shipping, "taxes": taxes, "duties": sums["duties"],
        "total_sales": net + shipping + taxes + sums["duties"],
        "aov": ratio(sums["gross_sales"] - sums["discounts"], sums["orders"]),
        "returning_customer_rate": ratio(sums["returning_customers"], sums["customers"]),
        "repeat_purchase_rate": ratio(sums["repeat_customers"], sums["customers"]),
        "refund_rate": ratio(sums["returns"], sums["gross_sales"]),
    }
    for name in ("orders", "units_sold", "units_returned", "customers", "new_customers", "returning_customers",
                 "repeat_customers"):
        out[name] = int(sums[name])
    return {name: out[name] for name in SUMMARY_KEYS}


def _result(summary_sums: dict[str, Any], series_sums: list[tuple[dt.date, dict[str, Any]]]) -> dict:
    series = []
    for period, sums in series_sums:
        row = figures(sums)
        series.append({"period": period, **{name: row[name] for name in SALES_OVER_TIME_COLUMNS[1:]}})
    return {"summary": figures(summary_sums), "series": series}


# -- one hand-written DuckDB query over the rollups ------------------------------------

_DAY_BUCKETS = {
    "day": "{day}",
    "week": "CAST(date_trunc('week', {day}) AS DATE)",
    "month": "CAST(date_trunc('month', {day}) AS DATE)",
}

_DUCKDB_SALES = """
WITH sold_orders AS (
    SELECT {fact_bucket} AS period, customer_id, customer_order_index,
           gross_sales, discounts, units_sold, shipping, taxes, duties
    FROM order_facts
    WHERE store_id = $store_id AND local_date BETWEEN $start AND $end
),
sold AS (   -- a row per bucket, and the range's row (period NULL)
    SELECT period, COUNT(*) AS orders, SUM(gross_sales) AS gross_sales, SUM(discounts) AS discounts,
           SUM(units_sold) AS units_sold, SUM(shipping) AS shipping_charged, SUM(taxes) AS taxes_charged,
           SUM(duties) AS duties
    FROM sold_orders
    GROUP BY GROUPING SETS ((period), ())
),
returned AS (
    SELECT {fact_bucket} AS period, SUM(returns) AS returns, SUM(units_returned) AS units_returned,
           SUM(shipping_refunded) AS shipping_refunded, SUM(tax_refunded) AS tax_refunded
    FROM refund_facts
    WHERE store_id = $store_id AND local_date BETWEEN $start AND $end
    GROUP BY GROUPING SETS ((period), ())
),
per_customer AS (
    SELECT period, customer_id, MIN(customer_order_index) AS first_index,
           MAX(customer_order_index) AS last_index, COUNT(*) AS orders
    FROM sold_orders
    WHERE customer_id IS NOT NULL
    GROUP BY GROUPING SETS ((period, customer_id), (customer_id))
),
customers AS (
    SELECT period, COUNT(*) AS customers,
           COUNT(*) FILTER (WHERE first_index = 1) AS new_customers,
           COUNT(*) FILTER (WHERE last_index >= 2) AS returning_customers,
           COUNT(*) FILTER (WHERE orders >= 2) AS repeat_customers
    FROM per_customer
    GROUP BY period
),
buckets AS (
    SELECT DISTINCT {calendar_bucket} AS period
    FROM generate_series(CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP), INTERVAL 1 DAY) AS days(day)
    UNION ALL
    SELECT NULL
)
SELECT b.period,
       COALESCE(s.orders, 0), COALESCE(s.gross_sales, 0), COALESCE(s.discounts, 0),
       COALESCE(s.units_sold, 0), COALESCE(s.shipping_charged, 0), COALESCE(s.taxes_charged, 0),
       COALESCE(s.duties, 0), COALESCE(r.returns, 0), COALESCE(r.units_returned, 0),
       COALESCE(r.shipping_refunded, 0), COALESCE(r.tax_refunded, 0),
       COALESCE(c.customers, 0), COALESCE(c.new_customers, 0), COALESCE(c.returning_customers, 0),
       COALESCE(c.repeat_customers, 0)
FROM buckets b
LEFT JOIN sold s ON s.period IS NOT DISTINCT FROM b.period
LEFT JOIN returned r ON r.period IS NOT DISTINCT FROM b.period
LEFT JOIN customers c ON c.period IS NOT DISTINCT FROM b.period
ORDER BY b.period NULLS FIRST
"""


def duckdb_sql(grain: str) -> str:
    """The hand-written query for ``grain`` ('day', 'week' or 'month')."""
    bucket = _DAY_BUCKETS[grain]
    return _DUCKDB_SALES.format(fact_bucket=bucket.format(day="local_date"),
                                calendar_bucket=bucket.format(day="CAST(day AS DATE)"))


def duckdb_rows(con, store_id: str, start: dt.date, end: dt.date, grain: str = "day") -> list[tuple]:
    """The hand-written query's rows: the range's sums first (period ``None``), then each bucket's."""
    return con.execute(duckdb_sql(grain), {"store_id": store_id, "start": start, "end": end}).fetchall()


def duckdb_sales(con, store_id: str, start: dt.date, end: dt.date, grain: str = "day") -> dict:
    """The range's summary and series from one DuckDB query (``con``: a DuckDB connection)."""
    rows = duckdb_rows(con, store_id, start, end, grain)

    def sums(row: tuple) -> dict[str, Any]:  # DuckDB's decimals arrive as Decimal at 4 places
        return dict(zip(SUMS, row[1:]))

    total, *buckets = rows
    return _result(sums(total), [(row[0], sums(row)) for row in buckets])


# -- plain pandas over the raw tables -------------------------------------------------------

@dataclass
class Tables:
    """A store's raw sales tables as pandas frames; money in whole ten-thousandths (``int64``)."""

    timezone: str
    orders: pd.DataFrame
    order_lines: pd.DataFrame
    refunds: pd.DataFrame
    refund_lines: pd.DataFrame


_TABLE_COLUMNS = {
    "orders": ("order_id, customer_id, created_at, cancelled_at, financial_status, is_test, "
               "total_shipping, total_tax, total_duties"),
    "order_lines": "line_id, order_id, quantity, unit_price, discount, is_gift_card",
    "refunds": "refund_id, order_id, created_at, shipping_refunded, tax_refunded",
    "refund_lines": "refund_id, line_id, quantity, subtotal",
}
_MONEY_COLUMNS = ("total_shipping", "total_tax", "total_duties", "unit_price", "discount",
                  "shipping_refunded", "tax_refunded", "subtotal")


def load_tables(con, store_id: str) -> Tables:
    """Read the store's raw tables into pandas (``con``: a DuckDB connection).

    DuckDB hands decimals to pandas as floats; every amount has 4 places and is
    far below 2**53 ten-thousandths, so rounding ``amount × 10,000`` gives it back
    exactly as a whole number of ten-thousandths.
    """
    timezone = con.execute("SELECT timezone FROM stores WHERE store_id = ?", [store_id]).fetchone()[0]
    frames = {}
    for table, columns in _TABLE_COLUMNS.items():
        frame = con.execute(f"SELECT {columns} FROM {table} WHERE store_id = ?", [store_id]).df()
        for column in _MONEY_COLUMNS:
            if column in frame:
                frame[column] = (frame[column] * UNITS).round().astype("int64")
        frames[table] = frame
    return Tables(timezone=timezone, **frames)


def _local_day(times: pd.Series, timezone: str) -> pd.Series:
    """The store-local calendar day (midnight, naive) of UTC timestamps."""
    return times.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()


def _bucket(days: pd.Series, grain: str) -> pd.Series:
    if grain == "day":
        return days
    if grain == "week":
        return days - pd.to_timedelta(days.dt.weekday, unit="D")
    return days.dt.to_period("M").dt.to_timestamp()


def _customer_counts(orders: pd.DataFrame, by: list[str]) -> pd.DataFrame | pd.Series:
    """customers, new, returning and repeat customers, per ``by`` (or for all rows when empty)."""
    known = orders[orders["customer_id"].notna()]
    per = known.groupby([*by, "customer_id"], sort=False)["order_index"].agg(["min", "max", "size"])
    flags = pd.DataFrame({
        "customers": 1,
        "new_customers": per["min"].eq(1).astype("int64"),
        "returning_customers": per["max"].ge(2).astype("int64"),
        "repeat_customers": per["size"].ge(2).astype("int64"),
    }, index=per.index)
    return flags.groupby(level=by).sum() if by else flags.sum()


def pandas_sales(tables: Tables, start: dt.date, end: dt.date, grain: str = "day") -> dict:
    """The range's summary and series computed with pandas from :func:`load_tables`'s frames."""
    first, last = pd.Timestamp(start), pd.Timestamp(end)

    # Counted orders, ranked among their customer's counted orders over all history.
    o = tables.orders
    status = o["financial_status"].fillna("")
    unpaid_cancel = o["cancelled_at"].notna() & status.isin(["pending", "authorized"])
    counted = o[~o["is_test"] & (status != "voided") & ~unpaid_cancel].sort_values(["created_at", "order_id"])
    counted = counted.assign(order_index=counted.groupby("customer_id", sort=False).cumcount() + 1,
                             local_day=_local_day(counted["created_at"], tables.timezone))

    # The range's orders with their lines' sums (gift cards are not sales).
    orders = counted[counted["local_day"].between(first, last)]
    lines = tables.order_lines
    lines = lines[~lines["is_gift_card"] & lines["order_id"].isin(orders["order_id"])]
    per_order = (lines.assign(gross_sales=lines["unit_price"] * lines["quantity"])
                 .groupby("order_id", sort=False)
                 .agg(gross_sales=("gross_sales", "sum"), discounts=("discount", "sum"),
                      units_sold=("quantity", "sum")))
    orders = orders.join(per_order, on="order_id")
    orders = orders.assign(
        **{c: orders[c].fillna(0).astype("int64") for c in ("gross_sales", "discounts", "units_sold")},
        period=_bucket(orders["local_day"], grain), orders=1,
    ).rename(columns={"total_shipping": "shipping_charged", "total_tax": "taxes_charged",
                      "total_duties": "duties"})

    # The range's refunds of counted orders, on the refund's day, goods of gift cards left out.
    r = tables.refunds
    r = r[r["order_id"].isin(counted["order_id"])]
    r = r.assign(local_day=_local_day(r["created_at"], tables.timezone))
    r = r[r["local_day"].between(first, last)]
    rl = tables.refund_lines
    rl = rl[rl["refund_id"].isin(r["refund_id"])]
    refunded_lines = tables.order_lines[tables.order_lines["line_id"].isin(rl["line_id"])]
    rl = rl.merge(refunded_lines[["line_id", "is_gift_card"]], on="line_id")
    rl = rl[~rl["is_gift_card"]]
    goods = rl.groupby("refund_id", sort=False).agg(returns=("subtotal", "sum"), units_returned=("quantity", "sum"))
    r = r.join(goods, on="refund_id")
    r = r.assign(**{c: r[c].fillna(0).astype("int64") for c in ("returns", "units_returned")},
                 period=_bucket(r["local_day"], grain))

    order_sums = ["orders", "gross_sales", "discounts", "units_sold", "shipping_charged", "taxes_charged", "duties"]
    refund_sums = ["returns", "units_returned", "shipping_refunded", "tax_refunded"]
    total = {**orders[order_sums].sum(), **r[refund_sums].sum(), **_customer_counts(orders, [])}

    labels = _bucket(pd.Series(pd.date_range(first, last, freq="D")), grain).drop_duplicates()
    per_period = pd.concat([
        orders.groupby("period")[order_sums].sum(),
        r.groupby("period")[refund_sums].sum(),
        _customer_counts(orders, ["period"]),
    ], axis=1).reindex(labels, fill_value=0).fillna(0).astype("int64")


    def exact(sums: dict[str, Any]) -> dict[str, Any]:
        return {name: Decimal(int(sums[name])).scaleb(-4) if name in MONEY_SUMS else int(sums[name]) for name in SUMS}

    series = [(period.date(), exact(row)) for period, row in zip(per_period.index, per_period.to_dict("records"))]
    return _result(exact(total), series)


# -- the metric layer, in the same shape ------------------------------------------------------

def layer_sales(wh, store_id: str, start: dt.date, end: dt.date, grain: str = "day") -> dict:
    """What the Sales page asks the metric layer for: the range's summary and its series."""
    from analytics.metrics import sales_over_time, sales_summary

    return {"summary": sales_summary(wh, store_id, start, end),
            "series": sales_over_time(wh, store_id, start, end, grain).to_dicts()}


def differences(a: dict, b: dict, limit: int = 10) -> list[str]:
    """Where two results disagree (values, or int against Decimal); empty when they match exactly."""
    found: list[str] = []

    def compare(where: str, x: dict, y: dict) -> None:
        if set(x) != set(y):
            found.append(f"{where}: keys {sorted(set(x) ^ set(y))} in only one")
        for name in sorted(set(x) & set(y)):
            u, v = x[name], y[name]
            if u != v or isinstance(u, Decimal) != isinstance(v, Decimal):
                found.append(f"{where} {name}: {u!r} != {v!r}")

    compare("summary", a["summary"], b["summary"])
    periods_a = [row["period"] for row in a["series"]]
    periods_b = [row["period"] for row in b["series"]]
    if periods_a != periods_b:
        found.append(f"series periods differ: {periods_a[:3]}… ({len(periods_a)}) vs {periods_b[:3]}… "
                     f"({len(periods_b)})")
    else:
        for row_a, row_b in zip(a["series"], b["series"]):
            compare(f"series {row_a['period']}", row_a, row_b)
    return found[:limit]

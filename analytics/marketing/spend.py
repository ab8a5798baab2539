"""Ad spend per day, ad platform and campaign, in the store's currency.

Read from ``ad_spend`` (the ad platforms' syncs, the ad-spend CSV import and
the demo store). Rows are grouped by the platform's family (see
``channels.py``), so one platform under two spellings is one channel.

Spend recorded in another currency than the store's is converted at the ECB
rate of its day (:func:`analytics.fx.totals_in`, the one conversion); a row
whose currency has no rate on or before its day cannot be converted, so it is
counted in ``left_out`` (and named on the page), never added as it is.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from analytics import fx
from analytics.customers.orders import typed
from analytics.marketing.channels import platform_expr
from analytics.periods import check_range
from data.warehouse import Warehouse

__all__ = ["SPEND_COLUMNS", "daily_spend", "in_store_currency", "spend_as_of"]

SPEND_COLUMNS = {"date": pl.Date, "channel": pl.String, "campaign": pl.String, "spend": pl.Decimal(38, 4),
                 "impressions": pl.Int64, "clicks": pl.Int64}
_SPEND = """
SELECT spend_date AS date, platform, campaign, currency, CAST(SUM(spend) AS DECIMAL(38,4)) AS spend,
       SUM(impressions) AS impressions, SUM(clicks) AS clicks
FROM ad_spend WHERE store_id = :store_id AND spend_date BETWEEN :start AND :end
GROUP BY spend_date, platform, campaign, currency
"""


def in_store_currency(wh: Warehouse, rows: pl.DataFrame, currency: str) -> tuple[pl.DataFrame, int]:
    """``rows`` (``date``, ``platform``, ``campaign``, ``currency``, ``spend``, ``impressions``, ``clicks``)
    with their spend in ``currency``, one row per date, platform and campaign; and how many rows had no
    rate to convert them (left out, with their impressions and clicks)."""
    keys = ["date", "platform", "campaign"]
    totals, left_out = fx.totals_in(
        wh, [((d, p, c), d, cur, amount) for d, p, c, cur, amount in
             rows.select(*keys, "currency", "spend").iter_rows()], currency)
    counts = rows.group_by(keys).agg(pl.col("impressions").sum(), pl.col("clicks").sum())
    spend = pl.DataFrame([{"date": d, "platform": p, "campaign": c, "spend": v} for (d, p, c), v in totals.items()],
                         schema={"date": pl.Date, "platform": pl.String, "campaign": pl.String,
                                 "spend": pl.Decimal(38, 4)})
    return counts.join(spend, on=keys, how="inner"), left_out


def daily_spend(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> tuple[pl.DataFrame, int]:
    """Spend per day, channel (ad platform family) and campaign over the inclusive range
    (:data:`SPEND_COLUMNS`, money in the store currency), and the count of rows left out (another currency)."""
    start, end = check_range(start, end)
    currency = wh.scalar("SELECT currency FROM stores WHERE store_id = :s", {"s": store_id})
    if currency is None:
        raise ValueError(f"no store {store_id!r}")
    rows = typed(wh.query(_SPEND, {"store_id": store_id, "start": start, "end": end}), {
        "date": pl.Date, "platform": pl.String, "campaign": pl.String, "currency": pl.String,
        "spend": pl.Decimal(38, 4), "impressions": pl.Int64, "clicks": pl.Int64})
    kept, left_out = in_store_currency(wh, rows, currency)
    frame = kept.with_columns(platform_expr("platform").alias("channel")).group_by(
        "date", "channel", "campaign").agg(pl.col("spend").sum(), pl.col("impressions").sum(),
                                          pl.col("clicks").sum())
    return typed(frame, SPEND_COLUMNS).sort("date", "channel", "campaign"), left_out


def spend_as_of(wh: Warehouse, store_id: str) -> dt.date | None:
    """The last day with ad spend."""
    return wh.scalar("SELECT MAX(spend_date) FROM ad_spend WHERE store_id = :s", {"s": store_id})

"""The marketing figures, by METRICS.md ("Marketing"): the one place that computes them.

- **conversion rate** = online-store orders ÷ sessions (Shopify's online store
  conversion rate: orders, not converted sessions);
- **ROAS** of a channel or campaign = revenue of the orders its ads brought
  (the order's last visit came through that channel or campaign with a paid
  medium) ÷ its spend; **blended ROAS** = revenue of every order a paid visit
  brought ÷ all ad spend;
- **MER** (marketing efficiency ratio) = net sales ÷ all ad spend;
- **new-customer CAC** = all ad spend ÷ new customers (first order ever in the
  period); **new-customer ROAS** = revenue of those first orders ÷ all ad spend;
- **margin after ad spend** = contribution margin (``analytics/margin.py``).

An order's revenue is its gross sales − discounts, on its day (returns fall on
the refund's day and are in net sales, not in an order's revenue). Money is
exact ``Decimal`` in the store currency; ratios are ``Decimal`` at 4 places,
``None`` when their denominator is 0 (no spend, no sessions, no new customer).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import polars as pl

from analytics.marketing.channels import PAID_MEDIA, channel_expr
from analytics.marketing.sources import daily_sessions, order_visits
from analytics.marketing.spend import daily_spend
from analytics.periods import bucket_start, check_grain, check_range
from data.warehouse import Warehouse

__all__ = ["MARKETING_DEFINITIONS", "MARKETING_LOWER_IS_BETTER", "conversion", "marketing_summary", "marketing_over_time",
           "channel_table", "campaign_table", "traffic_table", "daily_by_channel", "ratio"]

PLACES = Decimal("0.0001")
ZERO = Decimal("0.0000")
MONEY = pl.Decimal(38, 4)
MARKETING_DEFINITIONS = {
    "sessions": "Visits to the online store (the analytics property's sessions, or the store's own).",
    "conversion_rate": "Online-store orders ÷ sessions.",
    "ad_spend": "Σ ad spend over the period's days, in the store currency (other currencies at their day's ECB rate).",
    "attributed_revenue": "Revenue (gross sales − discounts) of the orders whose last visit was a paid ad's.",
    "roas": "Return on ad spend: revenue of the orders a channel's or campaign's ads brought ÷ its spend.",
    "blended_roas": "Revenue of the orders any paid visit brought ÷ all ad spend.",
    "mer": "Marketing efficiency ratio: net sales ÷ all ad spend.",
    "new_customer_cac": "All ad spend ÷ new customers (first order ever in the period).",
    "new_customer_roas": "Revenue of new customers' first orders ÷ all ad spend.",
    "margin_after_ad_spend": "Net sales − cost of goods − payment fees − ad spend (contribution margin).",
}
MARKETING_LOWER_IS_BETTER = frozenset({"ad_spend", "new_customer_cac"})


def ratio(numerator: Any, denominator: Any) -> Decimal | None:
    """``numerator ÷ denominator`` at 4 places, ``None`` when the denominator is 0."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(PLACES, rounding=ROUND_HALF_EVEN)


def _visits(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    orders = order_visits(wh, store_id, start, end)
    return orders.with_columns(
        channel_expr().alias("ad_channel"),
        pl.col("medium").str.to_lowercase().is_in(list(PAID_MEDIA)).alias("paid"))


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(PLACES)


def conversion(wh: Warehouse, store_id: str, start: dt.date, end: dt.date, *,
               visits: pl.DataFrame | None = None) -> tuple[int, int, Decimal | None]:
    """``(sessions, online-store orders, conversion rate)`` over the inclusive range."""
    start, end = check_range(start, end)
    sessions = int(daily_sessions(wh, store_id, start, end)["sessions"].sum())
    orders = visits if visits is not None else order_visits(wh, store_id, start, end)
    online = orders.filter(pl.col("channel") == "online_store").height
    return sessions, online, ratio(online, sessions)


def marketing_summary(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The period's headline figures (see the module): ``sessions``, ``orders`` (online store),
    ``conversion_rate``, ``net_sales``, ``ad_spend``, ``attributed_revenue``, ``blended_roas``, ``mer``,
    ``new_customers``, ``new_customer_revenue``, ``new_customer_cac``, ``new_customer_roas``,
    ``margin_after_ad_spend`` (``None`` without unit costs) and ``left_out_other_currency`` (spend rows)."""
    from analytics.margin import margin_summary

    start, end = check_range(start, end)
    visits = _visits(wh, store_id, start, end)
    sessions, online, _ = conversion(wh, store_id, start, end, visits=visits)
    spend_rows, left_out = daily_spend(wh, store_id, start, end)
    spend = _money(spend_rows["spend"].sum())
    attributed = _money(visits.filter(pl.col("paid"))["revenue"].sum())
    first = visits.filter(pl.col("new_customer"))
    new_revenue = _money(first["revenue"].sum())
    margin = margin_summary(wh, store_id, start, end)
    return {
        "sessions": sessions, "orders": online, "conversion_rate": ratio(online, sessions),
        "net_sales": margin["net_sales"], "ad_spend": spend, "attributed_revenue": attributed,
        "blended_roas": ratio(attributed, spend), "mer": ratio(margin["net_sales"], spend),
        "new_customers": first.height, "new_customer_revenue": new_revenue,
        "new_customer_cac": ratio(spend, first.height) if first.height else None,
        "new_customer_roas": ratio(new_revenue, spend),
        "margin_after_ad_spend": margin["contribution_margin"], "left_out_other_currency": left_out,
    }


def marketing_over_time(wh: Warehouse, store_id: str, start: dt.date, end: dt.date,
                        grain: str = "day") -> pl.DataFrame:
    """Per day, ISO week or month (``period``, every bucket of the range): ``sessions``, ``orders``
    (online store), ``conversion_rate``, ``net_sales``, ``ad_spend``, ``attributed_revenue``,
    ``blended_roas`` and ``mer`` (ratios as ``Float64``, null without a denominator)."""
    from analytics.metrics import sales_over_time
    from analytics.periods import bucket_starts

    start, end = check_range(start, end)
    grain = check_grain(grain)

    def bucketed(frame: pl.DataFrame, **aggs: pl.Expr) -> dict[dt.date, dict[str, Any]]:
        if frame.height == 0:
            return {}
        grouped = frame.with_columns(pl.col("date").map_elements(lambda d: bucket_start(d, grain),
                                                                 return_dtype=pl.Date).alias("period"))
        return {row["period"]: row for row in grouped.group_by("period").agg(**aggs).to_dicts()}

    sessions = bucketed(daily_sessions(wh, store_id, start, end), sessions=pl.col("sessions").sum())
    spend = bucketed(daily_spend(wh, store_id, start, end)[0], ad_spend=pl.col("spend").sum())
    visits = bucketed(_visits(wh, store_id, start, end),
                      orders=(pl.col("channel") == "online_store").sum(),
                      attributed_revenue=pl.col("revenue").filter(pl.col("paid")).sum())
    sales = {row["period"]: row["net_sales"] for row in sales_over_time(wh, store_id, start, end, grain).to_dicts()}
    rows = []
    for period in bucket_starts(start, end, grain):
        n_sessions = int(sessions.get(period, {}).get("sessions") or 0)
        orders = int(visits.get(period, {}).get("orders") or 0)
        ad_spend = _money(spend.get(period, {}).get("ad_spend"))
        attributed = _money(visits.get(period, {}).get("attributed_revenue"))
        net = _money(sales.get(period))
        rows.append({"period": period, "sessions": n_sessions, "orders": orders,
                     "conversion_rate": _float(ratio(orders, n_sessions)), "net_sales": net, "ad_spend": ad_spend,
                     "attributed_revenue": attributed, "blended_roas": _float(ratio(attributed, ad_spend)),
                     "mer": _float(ratio(net, ad_spend))})
    return pl.DataFrame(rows, schema={"period": pl.Date, "sessions": pl.Int64, "orders": pl.Int64,
                                      "conversion_rate": pl.Float64, "net_sales": MONEY, "ad_spend": MONEY,
                                      "attributed_revenue": MONEY, "blended_roas": pl.Float64,
                                      "mer": pl.Float64})


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


CHANNEL_COLUMNS = {"channel": pl.String, "ad_spend": MONEY, "impressions": pl.Int64, "clicks": pl.Int64,
                   "sessions": pl.Int64, "orders": pl.Int64, "conversion_rate": pl.Float64, "revenue": MONEY,
                   "roas": pl.Float64, "new_customers": pl.Int64, "new_customer_cac": MONEY}


def channel_table(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row per marketing channel with spend, sessions or orders: ``ad_spend``, ``impressions``,
    ``clicks``, ``sessions``, ``orders`` (whose last visit came through it), ``conversion_rate`` (those
    orders ÷ its sessions), ``revenue`` (of those orders), ``roas`` (revenue ÷ spend, paid visits only),
    ``new_customers`` (first orders among them) and ``new_customer_cac`` (spend ÷ new customers);
    most spend first, then most revenue."""
    start, end = check_range(start, end)
    spend = daily_spend(wh, store_id, start, end)[0].group_by("channel").agg(
        ad_spend=pl.col("spend").sum(), impressions=pl.col("impressions").sum(), clicks=pl.col("clicks").sum())
    traffic = daily_sessions(wh, store_id, start, end)
    sessions = traffic.with_columns(channel_expr().alias("channel")).group_by("channel").agg(
        sessions=pl.col("sessions").sum())
    visits = _visits(wh, store_id, start, end)
    orders = visits.group_by(pl.col("ad_channel").alias("channel")).agg(
        orders=pl.len(), revenue=pl.col("revenue").sum(),
        paid_revenue=pl.col("revenue").filter(pl.col("paid")).sum(),
        new_customers=pl.col("new_customer").sum())
    return _finish(_join([spend, sessions, orders], ["channel"]), ["channel"], CHANNEL_COLUMNS)


CAMPAIGN_COLUMNS = {"channel": pl.String, "campaign": pl.String, "ad_spend": MONEY, "impressions": pl.Int64,
                    "clicks": pl.Int64, "cpc": MONEY, "orders": pl.Int64, "revenue": MONEY, "roas": pl.Float64,
                    "new_customers": pl.Int64, "new_customer_cac": MONEY}


def campaign_table(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row per channel and campaign with spend or attributed orders: ``ad_spend``, ``impressions``,
    ``clicks``, ``cpc`` (spend ÷ clicks), ``orders`` and ``revenue`` (paid visits of that campaign; an
    order's campaign is known only where its visit carried one), ``roas``, ``new_customers`` and
    ``new_customer_cac``."""
    start, end = check_range(start, end)
    spend = daily_spend(wh, store_id, start, end)[0].group_by("channel", "campaign").agg(
        ad_spend=pl.col("spend").sum(), impressions=pl.col("impressions").sum(), clicks=pl.col("clicks").sum())
    paid = _visits(wh, store_id, start, end).filter(pl.col("paid"))
    visits = paid.filter(~pl.col("campaign").is_in(["(not set)", "(unknown)"]))
    orders = visits.group_by(pl.col("ad_channel").alias("channel"), "campaign").agg(
        orders=pl.len(), revenue=pl.col("revenue").sum(), paid_revenue=pl.col("revenue").sum(),
        new_customers=pl.col("new_customer").sum())
    joined = _join([spend, orders], ["channel", "campaign"])
    frame = _finish(joined, ["channel", "campaign"], {**CAMPAIGN_COLUMNS}).with_columns(
        pl.struct("ad_spend", "clicks").map_elements(lambda r: ratio(r["ad_spend"], r["clicks"]),
                                                     return_dtype=MONEY).alias("cpc"))
    if paid.height and visits.height == 0:
        # Paid orders whose visits carry no campaign: what each campaign brought is not known.
        frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias(name) for name in ("orders", "new_customers"))
        frame = frame.with_columns(pl.lit(None, dtype=MONEY).alias("revenue"), pl.lit(None, dtype=MONEY).alias(
            "new_customer_cac"), pl.lit(None, dtype=pl.Float64).alias("roas"))
    return frame.select(list(CAMPAIGN_COLUMNS))


TRAFFIC_BREAKDOWNS = {"channel": "Channel", "source": "Source / medium", "device": "Device"}


def traffic_table(wh: Warehouse, store_id: str, start: dt.date, end: dt.date, by: str = "channel") -> pl.DataFrame:
    """Sessions and conversion per ``channel``, ``source`` (``source / medium``) or ``device``: ``sessions``,
    ``add_to_carts``, ``checkouts``, ``purchases`` and ``purchase_rate`` (purchases ÷ sessions, as the
    sessions' own source counts them); most sessions first."""
    if by not in TRAFFIC_BREAKDOWNS:
        raise ValueError(f"traffic breaks down by {', '.join(TRAFFIC_BREAKDOWNS)}, not {by!r}")
    traffic = daily_sessions(wh, store_id, start, end)
    key = {"channel": channel_expr(), "source": pl.concat_str("source", pl.lit(" / "), "medium"),
           "device": pl.col("device")}[by].alias(by)
    frame = traffic.with_columns(key).group_by(by).agg(
        pl.col("sessions", "add_to_carts", "checkouts", "purchases").sum())
    return frame.with_columns(pl.when(pl.col("sessions") > 0).then(
        (pl.col("purchases") / pl.col("sessions")).round(4)).alias("purchase_rate")).sort(
        ["sessions", by], descending=[True, False]).select(
        by, "sessions", "add_to_carts", "checkouts", "purchases", "purchase_rate")


DAILY_COLUMNS = {"date": pl.Date, "channel": pl.String, "sessions": pl.Int64, "orders": pl.Int64,
                 "conversion_rate": pl.Float64, "spend": MONEY, "revenue": MONEY, "roas": pl.Float64}


def daily_by_channel(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row per day and channel with sessions, orders or spend: ``sessions``, ``orders`` (last visit
    through the channel), ``conversion_rate`` (orders ÷ sessions), ``spend``, ``revenue`` (of those orders)
    and ``roas`` (paid visits' revenue ÷ spend); by day, then channel."""
    start, end = check_range(start, end)
    spend = daily_spend(wh, store_id, start, end)[0].group_by("date", "channel").agg(ad_spend=pl.col("spend").sum())
    sessions = daily_sessions(wh, store_id, start, end).with_columns(channel_expr().alias("channel")).group_by(
        "date", "channel").agg(sessions=pl.col("sessions").sum())
    orders = _visits(wh, store_id, start, end).group_by("date", pl.col("ad_channel").alias("channel")).agg(
        orders=pl.len(), revenue=pl.col("revenue").sum(),
        paid_revenue=pl.col("revenue").filter(pl.col("paid")).sum(), new_customers=pl.col("new_customer").sum())
    frame = _finish(_join([spend, sessions, orders], ["date", "channel"]), ["date", "channel"],
                    {"date": pl.Date, **CHANNEL_COLUMNS})
    return frame.rename({"ad_spend": "spend"}).sort("date", "channel").select(list(DAILY_COLUMNS))


def _join(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    joined = frames[0]
    for frame in frames[1:]:
        joined = joined.join(frame, on=keys, how="full", coalesce=True)
    return joined


def _finish(joined: pl.DataFrame, keys: list[str], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    rows = []
    for row in joined.to_dicts():
        spend = _money(row.get("ad_spend"))
        sessions = int(row.get("sessions") or 0)
        orders = int(row.get("orders") or 0)
        new = int(row.get("new_customers") or 0)
        out = {key: row[key] for key in keys}
        out.update({
            "ad_spend": spend, "impressions": row.get("impressions"), "clicks": row.get("clicks"),
            "sessions": sessions, "orders": orders, "conversion_rate": _float(ratio(orders, sessions)),
            "revenue": _money(row.get("revenue")), "roas": _float(ratio(_money(row.get("paid_revenue")), spend)),
            "new_customers": new, "new_customer_cac": ratio(spend, new) if new and spend else None, "cpc": None,
        })
        rows.append(out)
    if not rows:
        return pl.DataFrame(schema=schema)
    frame = pl.DataFrame([{k: row[k] for k in schema} for row in rows], schema=schema)
    return frame.sort(["ad_spend", "revenue", *keys], descending=[True, True, *[False] * len(keys)])

"""Contribution margin, by METRICS.md:

    contribution margin = net sales − cost of goods − payment fees − ad spend

- **cost of goods**: Σ ``variants.unit_cost`` × units, net of returns: the
  units sold in the range minus the units returned in the range (a return
  falls on its refund's day, like the returns in net sales), per variant, from
  ``variant_daily_sales``. The cost is the variant's current unit cost.
- **payment fees**: Σ ``transactions.fee`` of the transactions made in the
  range (store-local days), failed ones and those of test orders left out.
- **ad spend**: Σ ``ad_spend.spend`` over the range's days.

With a channel filter, fees count for the transactions of orders in those
channels (a transaction without an order is in ``other``) and ad spend for the
campaigns of those channels (a campaign without one is in ``other``). Fees
and spend recorded in another currency than the store's are converted at the
ECB rate of their store-local day (:func:`analytics.fx.convert`); rows of a
currency without any rate on or before their day cannot be, and are left out
and counted in ``left_out_other_currency``. With a reporting ``currency``,
every cost is converted to it at its day's rate (cost of goods at the rate of
the day the units were sold or returned).

Costs are ``known`` when every unit sold or returned in the range has a unit
cost, ``partial`` when some have (the margin then leaves the others' cost
out, so it is too high), ``unknown`` when none has (no margin is given). A
range without units is ``known`` when the store has any unit cost.
Money is exact ``Decimal`` in the store currency at 4 places (converted
figures at :data:`analytics.fx.PLACES`).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from analytics import fx
from analytics.metrics import filter_params
from analytics.periods import check_range
from data.warehouse import Warehouse

ZERO = Decimal("0.0000")
PLACES = Decimal("0.0001")

MARGIN_DEFINITIONS = {
    "contribution_margin": (
        "Net sales − cost of goods (variant unit cost × units, net of returns) − payment fees "
        "(Σ transaction fees) − ad spend."
    ),
    "cost_of_goods": "Variant unit cost × (units sold − units returned in the period).",
    "payment_fees": "Σ transactions.fee of the period's transactions (payment processor fees).",
    "ad_spend": "Σ ad spend over the period's days.",
    "cost_coverage": "Share of the units sold or returned in the period whose variant has a unit cost.",
}

_COST_OF_GOODS = """
WITH moved AS (
    SELECT local_date, variant_id, SUM(units_sold) AS units_sold, SUM(units_returned) AS units_returned
    FROM variant_daily_sales
    WHERE store_id = :store_id AND local_date BETWEEN :start_date AND :end_date {segment}
    GROUP BY local_date, variant_id
)
SELECT m.local_date, CAST(COALESCE(SUM(CASE WHEN v.unit_cost IS NOT NULL
                              THEN v.unit_cost * (m.units_sold - m.units_returned) END), 0) AS DECIMAL(38,4)),
       CAST(COALESCE(SUM(CASE WHEN v.unit_cost IS NOT NULL
                              THEN m.units_sold + m.units_returned ELSE 0 END), 0) AS BIGINT),
       CAST(COALESCE(SUM(CASE WHEN v.unit_cost IS NULL
                              THEN m.units_sold + m.units_returned ELSE 0 END), 0) AS BIGINT)
FROM moved m
LEFT JOIN variants v ON v.store_id = :store_id AND v.variant_id = m.variant_id
GROUP BY m.local_date
"""

_ANY_COST = "SELECT COUNT(*) FROM variants WHERE store_id = :store_id AND unit_cost IS NOT NULL"

# Fees by currency and store-local day. Without a channel filter, the fees of
# test orders are taken off the whole (a join over every transaction would cost
# ten times more at a million orders); with one, the transactions of the chosen
# channels' orders are picked.
_FEES = """
SELECT COALESCE(t.currency, s.currency), CAST(t.created_at AT TIME ZONE s.timezone AS DATE),
       CAST(COALESCE(SUM(t.fee), 0) AS DECIMAL(38,4))
FROM transactions t JOIN stores s ON s.store_id = t.store_id
WHERE t.store_id = :store_id AND t.created_at >= :from_utc AND t.created_at < :to_utc
  AND t.fee <> 0 AND COALESCE(t.status, '') NOT IN ('failure', 'failed', 'error') {orders}
GROUP BY 1, 2
"""
_TEST_ORDERS = "AND t.order_id IN (SELECT order_id FROM orders WHERE store_id = :store_id AND is_test)"
_CHANNEL_ORDERS = """AND (t.order_id IN (
    SELECT order_id FROM orders
    WHERE store_id = :store_id AND NOT is_test AND COALESCE(channel, 'other') IN ({names})) {without_order})"""

_AD_SPEND = """
SELECT currency, spend_date, CAST(COALESCE(SUM(spend), 0) AS DECIMAL(38,4))
FROM ad_spend
WHERE store_id = :store_id AND spend_date BETWEEN :start_date AND :end_date {segment}
GROUP BY 1, 2
"""


def margin_costs(
    wh: Warehouse, store_id: str, start: dt.date, end: dt.date, *, channels: Iterable[str] | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """The costs that contribution margin subtracts from net sales, over the inclusive store-local range.

    Returns ``cost_of_goods``, ``payment_fees``, ``ad_spend`` (``Decimal``),
    ``units_costed`` and ``units_uncosted`` (units sold plus units returned,
    with and without a unit cost), ``cost_coverage`` (``Decimal`` fraction of
    those units with a cost, 4 places; 1 without units), ``costs``
    (``known``, ``partial`` or ``unknown``) and ``left_out_other_currency``
    (days of fees or ad spend in a currency without a rate on or before them, which could not be
    converted).
    With ``currency``, the money is in that currency instead of the store's.
    """
    start, end = check_range(start, end)
    store = wh.rows("SELECT currency, timezone FROM stores WHERE store_id = :store_id", {"store_id": store_id})
    if not store:
        raise ValueError(f"no store {store_id!r}")
    own, timezone = store[0]
    target = (currency or own).upper()
    params, segment = filter_params(store_id, start, end, channels, None)

    cogs_rows = wh.rows(_COST_OF_GOODS.format(segment=segment), params)
    costed = sum(int(row[2]) for row in cogs_rows)
    uncosted = sum(int(row[3]) for row in cogs_rows)
    cogs, _ = fx.totals_in(wh, [(0, day, own, amount) for day, amount, _c, _u in cogs_rows], target)

    zone = ZoneInfo(timezone)
    fee_rows = _payment_fees(
        wh, store_id, channels,
        dt.datetime.combine(start, dt.time(0), tzinfo=zone).astimezone(dt.timezone.utc),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(dt.timezone.utc),
    )
    fees, other_fees = fx.totals_in(wh, [(0, day, cur, amount) for cur, day, amount in fee_rows], target)

    spend_rows = wh.rows(_AD_SPEND.format(segment=segment), params)
    spend, other_spend = fx.totals_in(wh, [(0, day, cur, amount) for cur, day, amount in spend_rows], target)

    cogs, fees, spend = cogs.get(0), fees.get(0), spend.get(0)
    moved = costed + uncosted
    if moved == 0:
        costs = "known" if wh.scalar(_ANY_COST, {"store_id": store_id}) else "unknown"
        coverage = Decimal(1).quantize(PLACES)
    else:
        coverage = (Decimal(costed) / Decimal(moved)).quantize(PLACES, rounding=ROUND_HALF_EVEN)
        costs = "known" if uncosted == 0 else "partial" if costed else "unknown"
    places = PLACES if target == own.upper() else fx.PLACES
    return {
        "cost_of_goods": _money(cogs, places),
        "payment_fees": _money(fees, places),
        "ad_spend": _money(spend, places),
        "units_costed": costed,
        "units_uncosted": uncosted,
        "cost_coverage": coverage,
        "costs": costs,
        "left_out_other_currency": int(other_fees) + int(other_spend),
    }


def contribution_margin(net_sales: Decimal, costs: Mapping[str, Any]) -> Decimal | None:
    """Net sales − cost of goods − payment fees − ad spend; ``None`` when unit costs are unknown."""
    if costs["costs"] == "unknown":
        return None
    return Decimal(net_sales) - costs["cost_of_goods"] - costs["payment_fees"] - costs["ad_spend"]


def margin_summary(
    wh: Warehouse, store_id: str, start: dt.date, end: dt.date, *, channels: Iterable[str] | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """:func:`margin_costs` with the range's ``net_sales`` and its ``contribution_margin`` (in ``currency``
    when given)."""
    from analytics.metrics import sales_summary

    net_sales = sales_summary(wh, store_id, start, end, channels=channels, currency=currency)["net_sales"]
    costs = margin_costs(wh, store_id, start, end, channels=channels, currency=currency)
    return {"net_sales": net_sales, **costs, "contribution_margin": contribution_margin(net_sales, costs)}


def _payment_fees(wh: Warehouse, store_id: str, channels: Iterable[str] | None,
                  from_utc: dt.datetime, to_utc: dt.datetime) -> list[tuple[str, dt.date, Decimal]]:
    """Fees over [from, to) as ``(currency, store-local day, sum)`` rows."""
    params: dict[str, Any] = {"store_id": store_id, "from_utc": from_utc, "to_utc": to_utc}
    chosen = sorted(set([channels] if isinstance(channels, str) else channels or []))

    def fees(orders: str, extra: Mapping[str, Any]) -> list[tuple[str, dt.date, Decimal]]:
        return [(cur, day, Decimal(total)) for cur, day, total in wh.rows(_FEES.format(orders=orders),
                                                                         {**params, **extra})]

    if not chosen:
        # Test orders' fees taken off per currency and day.
        return fees("", {}) + [(cur, day, -total) for cur, day, total in fees(_TEST_ORDERS, {})]
    names = {f"channel_{i}": name for i, name in enumerate(chosen)}
    clause = _CHANNEL_ORDERS.format(
        names=", ".join(":" + key for key in names),
        without_order="OR t.order_id IS NULL" if "other" in chosen else "",
    )
    return fees(clause, names)


def _money(value: Any, places: Decimal = PLACES) -> Decimal:
    return ZERO.quantize(places) if value is None else Decimal(value).quantize(places)

"""Facts: the compact JSON of computed figures a summary is written from.

Everything here comes from the metric layer and the warehouse tables other
parts fill (METRICS.md definitions, exact money): nothing is estimated for the
writer. The document holds, for a period and its comparison:

- ``kpis``: the headline figures of ``sales_summary`` with ``with_change``;
- ``movers``: channels, countries and customer groups (new, returning,
  guest: net sales and orders, both periods) and the products whose net
  sales rose or fell the most, each with its ``share_of_change``: its change
  ÷ the store's net sales change (the drivers of the change);
- ``anomalies``: ``events``, runs of consecutive days of net sales or orders
  outside their weekly-seasonal band in the same direction, merged into one
  event with its net sales, the expected net sales and the gap between them,
  and the channels, countries and products that made the gap (each one's net
  sales over the event − the expected net sales × its share of the
  comparison period); and ``segments``, channels or countries that moved
  unlike the store (:mod:`analytics.insights.anomalies`);
- ``segment_shifts``: customers per RFM segment in the newest
  ``customer_scores`` run against the run before;
- ``stock_risks``: the variants low on stock today (sold
  out, or fewer days of cover than their lead time), by the one definition of
  :mod:`analytics.inventory.figures` that the Inventory and Products pages,
  the report and the alert digest use;
- ``forecast``: the units forecast for the next 28 days, or
  ``"no forecast yet"``;
- ``priorities``: what the summary should speak of, at most 10, ranked by
  the money at stake (the net sales change, an event's gap, a segment's
  change, the sales the stock risks may lose, the returns and discounts
  changes), then the customer segment shifts.

**Never any personal data**: no customer id, name, email or address enters
the facts; customers appear only as counts. Product, channel and country
names do. Money is a string with two decimals (``"1234.50"``) in the store
currency, ratios and relative changes a string of the fraction with four
(``"0.1234"`` = 12.34 %), counts integers. The same warehouse rows give the
same document, byte for byte (:func:`facts_json`), so :func:`facts_hash`
keys the insight cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from analytics.insights.anomalies import daily_bands, segment_anomalies
from analytics.inventory.choices import load_choices
from analytics.inventory.figures import low_stock_expr
from analytics.inventory.stock import stock_health
from analytics.metrics import sales_over_time, sales_summary, with_change
from analytics.periods import check_range, previous_period, range_days
from analytics.sales_breakdowns import sales_by_dimension, sales_by_product
from data.warehouse import Warehouse

FACTS_VERSION = 2
TOPICS = ("overview", "sales", "customers", "inventory")
KPIS = ("total_sales", "net_sales", "orders", "aov", "units_sold", "customers", "new_customers",
        "returning_customer_rate", "discounts", "returns", "refund_rate")
MONEY = {"total_sales", "net_sales", "aov", "discounts", "returns", "gross_sales", "expected", "low", "high"}
RATIOS = {"returning_customer_rate", "refund_rate", "repeat_purchase_rate"}
TOP_MOVERS = 3
TOP_SEGMENTS = 5
TOP_STOCK_RISKS = 5
TOP_DRIVERS = 2
MAX_PRIORITIES = 10
HISTORY_WEEKS = 8
OUTLOOK_DAYS = 28
DEMAND_FROM = {"forecast": "forecast", "trailing 30 days": "units sold in the last 30 days on in-stock days"}
NO_FORECAST = "no forecast yet"
NO_SCORES = "no customer scores yet"
CENT = Decimal("0.01")
RATIO = Decimal("0.0001")


def build_facts(
    wh: Warehouse,
    store_id: str,
    start: dt.date,
    end: dt.date,
    *,
    compare: tuple[dt.date, dt.date] | None = None,
    channels: Iterable[str] | None = None,
    topic: str = "overview",
    stock_as_of: dt.date | None = None,
) -> dict[str, Any]:
    """The facts of one store over the inclusive store-local range, against ``compare``.

    Stock risks are those of ``stock_as_of`` (default: the store's today, as on the Inventory and
    Products pages: stock levels are only known now, whatever the period).

    ``compare`` defaults to the previous period of the same length. ``topic``
    (``overview``, ``sales``, ``customers``, ``inventory``) is recorded and
    says what the summary should dwell on; every topic gets the same figures.
    """
    if topic not in TOPICS:
        raise ValueError(f"topic must be one of {', '.join(TOPICS)}, not {topic!r}")
    start, end = check_range(start, end)
    compare_start, compare_end = compare or previous_period(start, end)
    channels = tuple(sorted(set(channels))) if channels else None
    store = _store(wh, store_id)
    current = sales_summary(wh, store_id, start, end, channels=channels)
    previous = sales_summary(wh, store_id, compare_start, compare_end, channels=channels)
    changes = with_change(current, previous)
    sales = _Sales(wh, store_id, channels)
    facts = {
        "version": FACTS_VERSION,
        "topic": topic,
        "currency": store["currency"],
        "timezone": store["timezone"],
        "period": {"start": start.isoformat(), "end": end.isoformat(), "days": range_days(start, end)},
        "comparison": {"start": compare_start.isoformat(), "end": compare_end.isoformat()},
        "channels_filter": list(channels) if channels else "all",
        "kpis": {name: _change_doc(name, changes[name]) for name in KPIS},
        "movers": _movers(sales, start, end, compare_start, compare_end, Decimal(changes["net_sales"]["change"] or 0)),
        "anomalies": _anomalies(wh, store_id, sales, start, end, compare_start, compare_end, channels),
        "segment_shifts": segment_shifts(wh, store_id, end),
        "stock_risks": stock_risks(wh, store_id, stock_as_of or _today(store["timezone"])),
        "forecast": forecast_outlook(wh, store_id, end),
    }
    facts["priorities"] = priorities(facts)
    return facts


def facts_json(facts: dict[str, Any]) -> str:
    """The canonical text of the facts: sorted keys, no spaces (what is hashed and sent)."""
    return json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def facts_hash(facts: dict[str, Any]) -> str:
    """SHA-256 (hex) of :func:`facts_json`."""
    return hashlib.sha256(facts_json(facts).encode("utf-8")).hexdigest()


def has_sales(facts: dict[str, Any]) -> bool:
    """Whether the period or its comparison had any order or refund."""
    k = facts["kpis"]
    return any(k[name][side] not in (0, "0.00") for name in ("orders", "returns")
               for side in ("current", "previous"))


# -- figures as written in the facts ------------------------------------------------------

def money(value: Decimal | int | None) -> str | None:
    """Money at two decimals, half to even, as text (``"1234.50"``)."""
    if value is None:
        return None
    rounded = Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return str(rounded.copy_abs() if rounded.is_zero() else rounded)


def ratio(value: Decimal | float | None) -> str | None:
    """A fraction at four decimals as text (``"0.1234"`` = 12.34 %)."""
    if value is None:
        return None
    return str(Decimal(str(value)).quantize(RATIO, rounding=ROUND_HALF_EVEN))


def _figure(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in MONEY:
        return money(value)
    if name in RATIOS:
        return ratio(value)
    return int(value) if isinstance(value, (int, Decimal)) and Decimal(value) == int(value) else str(value)


def _change_doc(name: str, change: dict[str, Any]) -> dict[str, Any]:
    return {
        "current": _figure(name, change["current"]),
        "previous": _figure(name, change["previous"]),
        "change": _figure(name, change["change"]),
        "relative_change": ratio(change["relative_change"]),
    }


# -- movers --------------------------------------------------------------------------------------

class _Sales:
    """Net sales per channel, country, customer group or product over a range, each range read once
    (the movers, the segment anomalies and the events ask for the comparison period's again and again)."""

    def __init__(self, wh: Warehouse, store_id: str, channels) -> None:
        self.wh, self.store_id, self.channels = wh, store_id, channels
        self._read: dict[tuple, Any] = {}

    def __call__(self, by: str, start: dt.date, end: dt.date):
        key = (by, start, end)
        if key not in self._read:
            self._read[key] = (sales_by_product(self.wh, self.store_id, start, end, channels=self.channels)
                               if by == "product" else
                               sales_by_dimension(self.wh, self.store_id, start, end, by, channels=self.channels))
        return self._read[key]


MOVER_DIMENSIONS = (("channel", "channels"), ("country", "countries"), ("customer_group", "customer_groups"))


def _movers(sales: _Sales, start, end, compare_start, compare_end, total: Decimal) -> dict[str, Any]:
    movers: dict[str, Any] = {}
    for dimension, key in MOVER_DIMENSIONS:
        now = _by_label(sales(dimension, start, end), dimension)
        before = _by_label(sales(dimension, compare_start, compare_end), dimension)
        rows = [_mover(label, now.get(label), before.get(label), total) for label in set(now) | set(before)]
        rows.sort(key=lambda r: (-abs(Decimal(r["net_sales_change"])), r["name"]))
        movers[key] = rows[:TOP_SEGMENTS]
    now = _by_label(sales("product", start, end), "product_id")
    before = _by_label(sales("product", compare_start, compare_end), "product_id")
    rows = []
    for key in set(now) | set(before):
        row = now.get(key) or before[key]
        rows.append(_mover(row["product"], now.get(key), before.get(key), total))
    rising = sorted((r for r in rows if Decimal(r["net_sales_change"]) > 0),
                    key=lambda r: (-Decimal(r["net_sales_change"]), r["name"]))
    falling = sorted((r for r in rows if Decimal(r["net_sales_change"]) < 0),
                     key=lambda r: (Decimal(r["net_sales_change"]), r["name"]))
    movers["products_rising"] = rising[:TOP_MOVERS]
    movers["products_falling"] = falling[:TOP_MOVERS]
    return movers


def _by_label(frame, label: str) -> dict[Any, dict[str, Any]]:
    return {row[label]: row for row in frame.iter_rows(named=True)}


def _mover(name: str, now: dict | None, before: dict | None, total_change: Decimal) -> dict[str, Any]:
    net_now = now["net_sales"] if now else Decimal(0)
    net_before = before["net_sales"] if before else Decimal(0)
    change = with_change({"n": net_now}, {"n": net_before})["n"]
    row = {
        "name": name,
        "net_sales": money(net_now),
        "previous_net_sales": money(net_before),
        "net_sales_change": money(change["change"]),
        "relative_change": ratio(change["relative_change"]),
        # Its part of the store's change: the rows of one dimension add up to 1.
        "share_of_change": ratio(Decimal(change["change"]) / total_change) if total_change else None,
    }
    if "orders" in (now or before):
        row["orders"] = int(now["orders"]) if now else 0
        row["previous_orders"] = int(before["orders"]) if before else 0
    else:
        row["units_sold"] = int(now["units_sold"]) if now else 0
        row["previous_units_sold"] = int(before["units_sold"]) if before else 0
    return row


# -- anomalies ---------------------------------------------------------------------------------

def _anomalies(wh, store_id, sales: _Sales, start, end, compare_start, compare_end, channels) -> dict[str, Any]:
    history_start = start - dt.timedelta(days=7 * HISTORY_WEEKS)
    daily = sales_over_time(wh, store_id, history_start, end, "day", channels=channels)
    bands = {metric: {b["date"]: b for b in daily_bands(dict(zip(daily["period"].to_list(), daily[metric].to_list())),
                                                         start, end, weeks=HISTORY_WEEKS)}
             for metric in ("net_sales", "orders")}
    events = [_event(run, bands) for run in anomalous_runs(bands["net_sales"], bands["orders"])]
    found = len(events)
    # Only the events a summary can speak of (the largest gaps) are kept, in date order, with their drivers.
    events = sorted(sorted(events, key=lambda e: -abs(Decimal(e["net_sales_gap"])))[:MAX_PRIORITIES],
                    key=lambda e: e["start"])
    for event in events:
        event["drivers"] = _event_drivers(sales, event, compare_start, compare_end)
    segments = []
    for dimension in ("channel", "country"):
        now = sales(dimension, start, end)
        before = sales(dimension, compare_start, compare_end)
        net_now, net_before = dict(zip(now[dimension], now["net_sales"])), dict(zip(before[dimension],
                                                                                    before["net_sales"]))
        for found in segment_anomalies(dict(zip(now[dimension], now["orders"])),
                                       dict(zip(before[dimension], before["orders"])), dimension=dimension):
            change = Decimal(net_now.get(found["segment"], 0)) - Decimal(net_before.get(found["segment"], 0))
            segments.append({**found, "expected_orders": str(found["expected_orders"]), "z": str(found["z"]),
                             "net_sales": money(net_now.get(found["segment"], 0)),
                             "net_sales_change": money(change)})
    return {"method": "weekly-seasonal median ± 3 × MAD band (days; consecutive days outside it in the same "
                      "direction make one event); Poisson z-score > 3 against the store's change (segments)",
            "events_found": found, "events": events, "segments": segments}


def _event(run: list[dt.date], bands) -> dict[str, Any]:
    """One run of anomalous days: its figures summed over the days."""
    sales = [bands["net_sales"][d] for d in run if d in bands["net_sales"]]
    orders = [bands["orders"][d] for d in run if d in bands["orders"]]
    actual = sum((Decimal(b["actual"]) for b in sales), Decimal(0))
    expected = sum((b["expected"] for b in sales), Decimal(0))
    outside = [b for b in sales if b["outside"]] or [b for b in orders if b["outside"]]
    return {
        "start": run[0].isoformat(), "end": run[-1].isoformat(), "days": len(run),
        "direction": "above" if Decimal(outside[0]["actual"]) > outside[0]["high"] else "below",
        "net_sales": money(actual), "expected_net_sales": money(expected), "net_sales_gap": money(actual - expected),
        "orders": int(sum(Decimal(b["actual"]) for b in orders)),
        "expected_orders": _count_or_tenths(sum((b["expected"] for b in orders), Decimal(0))),
    }


def _event_drivers(sales: _Sales, event: dict[str, Any], compare_start, compare_end) -> dict[str, list]:
    """The channels, countries and products that made an event's gap (:func:`event_drivers`)."""
    first, last = dt.date.fromisoformat(event["start"]), dt.date.fromisoformat(event["end"])
    expected, gap = Decimal(event["expected_net_sales"]), Decimal(event["net_sales_gap"])
    drivers = {}
    for key, by, label in (("channels", "channel", "channel"), ("countries", "country", "country"),
                           ("products", "product", "product")):
        now, before = sales(by, first, last), sales(by, compare_start, compare_end)
        drivers[key] = event_drivers(dict(zip(now[label], now["net_sales"])),
                                     dict(zip(before[label], before["net_sales"])), expected, gap)
    return drivers


def anomalous_runs(net_sales: dict[dt.date, dict], orders: dict[dt.date, dict]) -> list[list[dt.date]]:
    """Runs of consecutive days outside the band of net sales or of orders, each run in one direction
    (the net sales' direction where they are outside, else the orders')."""
    directions = {}
    for day in sorted(set(net_sales) | set(orders)):
        band = net_sales.get(day) if net_sales.get(day, {}).get("outside") else orders.get(day)
        if band is not None and band["outside"]:
            directions[day] = "above" if Decimal(band["actual"]) > band["high"] else "below"
    runs: list[list[dt.date]] = []
    for day in sorted(directions):
        previous = runs[-1][-1] if runs else None
        if previous == day - dt.timedelta(days=1) and directions[previous] == directions[day]:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def event_drivers(now: dict[str, Any], before: dict[str, Any], expected: Decimal, gap: Decimal) -> list[dict]:
    """What made an event's gap, largest part first in the gap's direction: each value's net sales over the
    event minus the event's expected net sales × its share of the comparison period's net sales (so the
    parts add up to the gap), and that part ÷ the gap."""
    total_before = sum((Decimal(v) for v in before.values()), Decimal(0))
    rows = []
    for name in set(now) | set(before):
        share = Decimal(before.get(name, 0)) / total_before if total_before else Decimal(0)
        part = Decimal(now.get(name, 0)) - expected * share
        rows.append({"name": name, "net_sales": money(now.get(name, 0)), "expected_net_sales": money(expected * share),
                     "gap": money(part), "share_of_gap": ratio(part / gap) if gap else None})
    sign = 1 if gap >= 0 else -1
    rows.sort(key=lambda r: (-sign * Decimal(r["gap"]), r["name"]))
    return [r for r in rows if sign * Decimal(r["gap"]) > 0][:TOP_DRIVERS]


def _count_or_tenths(value: Decimal | int) -> int | str:
    value = Decimal(value)
    return int(value) if value == int(value) else str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN))


# -- customers, stock, forecasts (tables filled by other refresh steps) ------------------------------

def segment_shifts(wh: Warehouse, store_id: str, end: dt.date) -> dict[str, Any]:
    """Customers per RFM segment in the newest scores up to ``end`` against the run before."""
    runs = [r[0] for r in wh.rows(
        "SELECT DISTINCT as_of FROM customer_scores WHERE store_id = :s AND as_of <= :end "
        "AND rfm_segment IS NOT NULL ORDER BY as_of DESC LIMIT 2", {"s": store_id, "end": end})]
    if not runs:
        return {"status": NO_SCORES}
    counts = {}
    for as_of in runs:
        counts[as_of] = dict(wh.rows(
            "SELECT rfm_segment, CAST(COUNT(*) AS BIGINT) FROM customer_scores "
            "WHERE store_id = :s AND as_of = :as_of AND rfm_segment IS NOT NULL GROUP BY rfm_segment",
            {"s": store_id, "as_of": as_of}))
    latest = counts[runs[0]]
    before = counts[runs[1]] if len(runs) > 1 else None
    rows = []
    for segment in sorted(set(latest) | set(before or {})):
        row = {"segment": segment, "customers": int(latest.get(segment, 0))}
        if before is not None:
            row["previous_customers"] = int(before.get(segment, 0))
            row["change"] = row["customers"] - row["previous_customers"]
        rows.append(row)
    rows.sort(key=lambda r: (-abs(r.get("change", 0)), -r["customers"], r["segment"]))
    doc: dict[str, Any] = {"as_of": _day(runs[0]).isoformat(), "segments": rows}
    if len(runs) > 1:
        doc["previous_as_of"] = _day(runs[1]).isoformat()
    return doc


def stock_risks(wh: Warehouse, store_id: str, end: dt.date) -> dict[str, Any]:
    """The variants low on stock on ``end`` (a stockout or a stockout risk,
    :mod:`analytics.inventory.figures`: the same rows as the Inventory and Products pages), fewest days of
    cover first: how many, and the first :data:`TOP_STOCK_RISKS`. Each one's ``sales_at_risk`` = daily
    demand × (lead time − days of cover) × its price: what it would not sell between running out and a
    reorder placed today arriving; the document's is their sum."""
    health = stock_health(wh, store_id, end, load_choices(wh, store_id)).filter(low_stock_expr())
    risks = []
    for row in health.iter_rows(named=True):
        demand = Decimal(str(row["daily_demand"] or 0))
        cover = Decimal(str(row["days_of_cover"] or 0))
        at_risk = demand * (int(row["lead_time_days"]) - cover) * Decimal(row["price"] or 0)
        risks.append({
            "variant": row["name"], "available": int(row["available"] or 0),
            "daily_demand": _tenths(row["daily_demand"]), "days_of_cover": _tenths(row["days_of_cover"]),
            "lead_time_days": int(row["lead_time_days"]),
            "demand_from": DEMAND_FROM.get(row["demand_source"], "no sales in the last 30 days"),
            "sold_out": row["status"] == "stockout", "sales_at_risk": money(max(at_risk, Decimal(0))),
        })
    risks.sort(key=lambda r: (Decimal(r["days_of_cover"] or "0"), r["variant"]))
    total = sum((Decimal(r["sales_at_risk"]) for r in risks), Decimal(0))
    return {"as_of": end.isoformat(), "at_risk": len(risks), "sales_at_risk": money(total),
            "items": risks[:TOP_STOCK_RISKS]}


def _tenths(value: float | None) -> str | None:
    return None if value is None else str(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN))


def priorities(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """What a summary should speak of, largest money at stake first, at most :data:`MAX_PRIORITIES`.

    Each entry names a ``kind`` and the figure it rests on (``money_at_stake``, a positive amount): the
    net sales change (``net_sales``), each anomaly event (``event``, ``index`` into the events: its gap),
    each segment anomaly (``segment``: its net sales change), the stock risks (``stock``: their sales at
    risk), the returns and discounts changes; then customer segments whose count changed (``customers``,
    no money at stake). Ties keep this order.
    """
    found: list[dict[str, Any]] = []

    def add(kind: str, amount: Any, keep_zero: bool = False, **more: Any) -> None:
        if amount is not None and (keep_zero or Decimal(amount) != 0):
            found.append({"kind": kind, "money_at_stake": money(abs(Decimal(amount))), **more})

    kpis = facts["kpis"]
    add("net_sales", kpis["net_sales"]["change"])
    for index, event in enumerate(facts["anomalies"]["events"]):
        add("event", event["net_sales_gap"], index=index)
    for index, segment in enumerate(facts["anomalies"]["segments"]):
        add("segment", segment["net_sales_change"], index=index)
    if facts["stock_risks"]["at_risk"]:
        add("stock", facts["stock_risks"]["sales_at_risk"], keep_zero=True)  # unpriced variants: still a point
    add("returns", kpis["returns"]["change"])
    add("discounts", kpis["discounts"]["change"])
    ranked = sorted(found, key=lambda p: -Decimal(p["money_at_stake"]))
    if any(r.get("change") for r in facts["segment_shifts"].get("segments", [])):
        ranked.append({"kind": "customers", "money_at_stake": None})
    return ranked[:MAX_PRIORITIES]


def _latest_forecast_rows(wh: Warehouse, store_id: str) -> str | None:
    """The model whose newest forecast run is used: the one marked chosen in forecast_accuracy, else the
    first by name among the newest run's models."""
    chosen = wh.scalar("SELECT model FROM forecast_accuracy WHERE store_id = :s AND chosen "
                       "ORDER BY generated_at DESC, model LIMIT 1", {"s": store_id})
    if chosen is not None:
        return chosen
    return wh.scalar("SELECT model FROM forecasts WHERE store_id = :s ORDER BY generated_at DESC NULLS LAST, "
                     "model LIMIT 1", {"s": store_id})


def forecast_outlook(wh: Warehouse, store_id: str, end: dt.date) -> dict[str, Any]:
    """Units forecast for the 28 days after ``end`` against units sold in the 28 days to ``end``."""
    model = _latest_forecast_rows(wh, store_id)
    if model is None:
        return {"status": NO_FORECAST}
    total = wh.scalar("SELECT SUM(yhat) FROM forecasts WHERE store_id = :s AND model = :m AND ds > :end "
                      "AND ds <= :until", {"s": store_id, "m": model, "end": end,
                                            "until": end + dt.timedelta(days=OUTLOOK_DAYS)})
    if total is None:
        return {"status": NO_FORECAST}
    sold = wh.scalar("SELECT COALESCE(SUM(units_sold), 0) FROM variant_daily_sales WHERE store_id = :s "
                     "AND local_date > :start AND local_date <= :end",
                     {"s": store_id, "start": end - dt.timedelta(days=OUTLOOK_DAYS), "end": end})
    units = int(round(float(total)))
    sold = int(sold or 0)
    return {
        "model": model, "days": OUTLOOK_DAYS, "units_forecast": units, "units_sold_last_28_days": sold,
        "relative_change": ratio(Decimal(units - sold) / Decimal(sold)) if sold else None,
    }


def _store(wh: Warehouse, store_id: str) -> dict[str, str]:
    rows = wh.rows("SELECT currency, timezone FROM stores WHERE store_id = :s", {"s": store_id})
    if not rows:
        raise ValueError(f"there is no store {store_id!r} in the warehouse")
    return {"currency": rows[0][0], "timezone": rows[0][1]}


def _today(timezone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(timezone)).date()


def _day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value

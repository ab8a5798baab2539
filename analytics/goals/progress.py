"""Progress towards the goals: each success measure over the goal period so far against the baseline.

The measures (METRICS.md, "Goals"):

- **revenue**: net sales per day (the periods differ in length);
- **conversion rate**: online-store orders ÷ sessions;
- **repeat-purchase rate**: of the customers who ordered in the period, the
  share with two or more orders inside it (it rises with the period's length:
  compare periods of about the same length);
- **stockout days**: variant-days out of stock (as the Inventory page counts
  them for lost sales) per day.

For each: ``change`` = so far ÷ baseline − 1; ``progress`` = change ÷ target
(1 = the target reached; negative = moving away from it); ``expected`` = the
share of the goal period gone by (a target reached evenly over the period);
``status`` ``reached`` (progress ≥ 1), ``on pace`` (progress ≥ expected),
``behind``, or ``no data`` (no baseline or no figure so far). Like for like:
the same change over the same weeks a year earlier (364 days, so weekdays
match), ``last_year_change``, and ``like_for_like`` = (1 + change) ÷ (1 +
last year's change) − 1, the change with last year's season taken out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from analytics.goals.choices import MEASURES, GoalChoices
from data.warehouse import Warehouse

__all__ = ["GOAL_DEFINITIONS", "measure_values", "goal_progress"]

YEAR = dt.timedelta(days=364)
GOAL_DEFINITIONS = {
    "revenue": "Net sales per day over the period.",
    "conversion_rate": "Online-store orders ÷ sessions.",
    "repeat_purchase_rate": "Of the customers who ordered in the period, the share with two or more orders in it.",
    "stockout_days": "Variant-days out of stock per day (variants that sold lately, as for lost sales).",
}


def measure_values(wh: Warehouse, store_id: str, start: dt.date, end: dt.date) -> dict[str, float | None]:
    """The four measures over the inclusive range (floats for comparing; ``None`` where not known)."""
    from analytics.inventory.stock import lost_sales
    from analytics.marketing.figures import conversion
    from analytics.metrics import sales_summary

    days = (end - start).days + 1
    sales = sales_summary(wh, store_id, start, end)
    sessions, _, rate = conversion(wh, store_id, start, end)
    stocked = wh.scalar("SELECT COUNT(*) FROM (SELECT 1 FROM daily_stock WHERE store_id = :s AND day BETWEEN "
                        ":a AND :b LIMIT 1) t", {"s": store_id, "a": start, "b": end})
    stockouts = lost_sales(wh, store_id, start, end)["stockout_days"].sum() if stocked else None
    return {
        "revenue": float(Decimal(sales["net_sales"]) / days),
        "conversion_rate": None if rate is None else float(rate),
        "repeat_purchase_rate": float(sales["repeat_purchase_rate"]) if sales["customers"] else None,
        "stockout_days": None if stockouts is None else float(stockouts) / days,
    }


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return now / before - 1


def goal_progress(wh: Warehouse, store_id: str, goals: GoalChoices, today: dt.date) -> dict[str, Any]:
    """The goals as of ``today`` (store-local): ``baseline`` and ``goal`` (start, end), ``so_far`` (start,
    end; ``None`` before the goal period starts), ``elapsed`` (share of the goal period gone by, 0–1) and
    ``measures``: per measure ``key``, ``label``, ``baseline``, ``current``, ``change``, ``target``,
    ``progress``, ``expected``, ``status``, ``last_year_change`` and ``like_for_like``."""
    goal_start = goals.goal_start
    last = min(today - dt.timedelta(days=1), goals.goal_end)
    total_days = (goals.goal_end - goal_start).days + 1
    started = last >= goal_start
    elapsed = ((last - goal_start).days + 1) / total_days if started else 0.0
    baseline = measure_values(wh, store_id, goals.baseline_start, goals.baseline_end)
    now = measure_values(wh, store_id, goal_start, last) if started else dict.fromkeys(MEASURES)
    if started:
        before_ly = measure_values(wh, store_id, goals.baseline_start - YEAR, goals.baseline_end - YEAR)
        now_ly = measure_values(wh, store_id, goal_start - YEAR, last - YEAR)
    else:
        before_ly = now_ly = dict.fromkeys(MEASURES)
    measures = []
    for key, (label, _, _) in MEASURES.items():
        target = goals.target(key)
        change = _change(now[key], baseline[key])
        last_year = _change(now_ly[key], before_ly[key])
        progress = None if change is None else change / target
        if progress is None:
            status = "no data" if started else "not started"
        elif progress >= 1:
            status = "reached"
        else:
            status = "on pace" if progress >= elapsed else "behind"
        like = None if change is None or last_year is None or last_year == -1 else (1 + change) / (1 + last_year) - 1
        measures.append({"key": key, "label": label, "baseline": baseline[key], "current": now[key],
                         "change": change, "target": target, "progress": progress, "expected": elapsed,
                         "status": status, "last_year_change": last_year, "like_for_like": like})
    return {"baseline": (goals.baseline_start, goals.baseline_end), "goal": (goal_start, goals.goal_end),
            "so_far": (goal_start, last) if started else None, "elapsed": elapsed, "measures": measures}

"""Reorder arithmetic (METRICS.md, Inventory): safety stock, reorder point, suggested order.

All quantities are units; demand is units per store-local day.

- safety stock = z × σ × √L, where z is the standard normal quantile of the
  service level (one-sided: 95 % → 1.645), σ the standard deviation of the
  daily forecast error (the chosen model's backtest σ) and L the lead time
  in days; rounded up to a whole unit;
- demand over n days = Σ of the daily forecast over the first n days (its
  mean daily figure for days past the forecast's horizon);
- reorder point = demand over the lead time + safety stock, rounded up;
- suggested order = max(0, reorder point + demand over the review period −
  available − on order); when positive, rounded up to a multiple of the pack
  size, then raised to the MOQ (and the MOQ itself rounded up to the pack
  size, since a supplier ships whole packs).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Sequence

DEFAULT_SERVICE_LEVEL = 0.95
DEFAULT_REVIEW_DAYS = 7


def service_z(service_level: float) -> float:
    """z of a one-sided service level (the chance of not running out during a lead time)."""
    if not 0.5 <= service_level < 1:
        raise ValueError(f"A service level must be at least 50 % and below 100 %, not {service_level:.1%}.")
    return NormalDist().inv_cdf(service_level)


def safety_stock(z: float, error_sd: float, lead_time_days: float) -> int:
    """⌈z × σ × √L⌉ units (0 without lead time or error)."""
    if lead_time_days <= 0 or error_sd <= 0:
        return 0
    return math.ceil(round(z * error_sd * math.sqrt(lead_time_days), 9))


def demand_over(daily_forecast: Sequence[float], days: float) -> float:
    """Units expected over the next ``days``: the forecast's first days, then its mean per day."""
    if days <= 0 or not daily_forecast:
        return 0.0
    whole = int(days)
    covered = list(daily_forecast[:whole])
    mean = sum(daily_forecast) / len(daily_forecast)
    extra = (days - len(covered)) * mean if days > len(covered) else 0.0
    return float(sum(covered) + extra)


def reorder_point(demand_in_lead_time: float, safety: int) -> int:
    """⌈demand over the lead time + safety stock⌉ units."""
    return math.ceil(round(demand_in_lead_time + safety, 9))


def round_order(quantity: float, pack_size: int | None = None, moq: int | None = None) -> int:
    """A positive quantity rounded up to whole packs and raised to the MOQ (itself in whole packs); 0 stays 0."""
    if quantity <= 0:
        return 0
    pack = pack_size if pack_size and pack_size > 0 else 1
    units = math.ceil(round(quantity, 9) / pack) * pack
    if moq and units < moq:
        units = math.ceil(moq / pack) * pack
    return int(units)


def suggested_order(reorder_pt: int, review_demand: float, available: int, on_order: int,
                    pack_size: int | None = None, moq: int | None = None) -> int:
    """max(0, reorder point + demand over the review period − available − on order), in packs, at least
    the MOQ. A negative ``available`` (units sold but not in stock) adds to the need."""
    need = reorder_pt + review_demand - available - on_order
    return round_order(need, pack_size, moq)

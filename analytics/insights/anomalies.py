"""Anomalies: days and segments far outside their expected range.

Two small, robust methods, in plain Python over exact figures (no model is
fitted, nothing is random, so the same figures always give the same list).

**Days: a weekly-seasonal median baseline with a MAD band.** A shop's days
follow the week (weekends differ from Tuesdays), so each day of the range is
compared with the same weekday of the ``weeks`` weeks before it (day − 7,
day − 14, ...; default 8). The expected value is the median of those days;
the spread is the median absolute deviation (MAD) scaled by 1.4826, which
estimates the standard deviation of normally distributed data while one
promotion or outage in the history barely moves it. A day is an anomaly when

    |actual − expected| > threshold × max(1.4826 × MAD, 10 % × |expected|, floor)

(default threshold 3). The 10 % and ``floor`` terms keep a perfectly steady
history (MAD 0) from flagging tiny wobbles. A day needs ``min_history``
(default 4) earlier same-weekday values, and a history that is mostly
empty (median and MAD both 0: a new or very quiet store) sets no pattern;
such days are not judged.
The band is ``expected ± threshold × scale``, its low end
never below 0 when the expected value is not.

**Segments (channels, countries): did a segment move with the store?** If
every segment had moved like the whole store, a segment would now have
``previous orders × (store orders now ÷ store orders before)`` orders. Order
counts are roughly Poisson, so the gap is measured in standard deviations
``z = (actual − expected) ÷ √expected``; a segment with ``|z| > threshold``
(default 3) and at least ``min_expected`` (default 5) expected orders is an
anomaly. A segment new in the period (no orders before) is left to the
movers list, not flagged.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from statistics import median
from typing import Any, Mapping, Sequence

MAD_SCALE = Decimal("1.4826")
RELATIVE_FLOOR = Decimal("0.10")
WEEKS = 8
THRESHOLD = Decimal(3)
MIN_HISTORY = 4
MIN_EXPECTED = 5


def daily_bands(
    series: Mapping[dt.date, Decimal | int],
    start: dt.date,
    end: dt.date,
    *,
    weeks: int = WEEKS,
    threshold: Decimal | int = THRESHOLD,
    min_history: int = MIN_HISTORY,
    floor: Decimal | int = 1,
) -> list[dict[str, Any]]:
    """Each judged day of ``start``–``end`` with its weekly baseline: ``date``, ``actual``,
    ``expected`` (the same-weekday median), ``low`` and ``high`` (the band) and ``outside``.

    ``series`` maps each store-local day to the figure; days missing from it
    are not judged and do not count as history. Money stays ``Decimal``.
    """
    threshold = Decimal(threshold)
    bands = []
    day = start
    while day <= end:
        actual = series.get(day)
        history = [series[d] for d in (day - dt.timedelta(days=7 * k) for k in range(1, weeks + 1)) if d in series]
        day += dt.timedelta(days=1)
        if actual is None or len(history) < min_history:
            continue
        expected = _median([Decimal(v) for v in history])
        mad = _median([abs(Decimal(v) - expected) for v in history])
        if expected == 0 and mad == 0:
            continue  # mostly empty weekdays before: no pattern to be outside of
        scale = max(MAD_SCALE * mad, RELATIVE_FLOOR * abs(expected), Decimal(floor))
        low, high = expected - threshold * scale, expected + threshold * scale
        if expected >= 0:
            low = max(low, Decimal(0))  # a figure that is never negative has no negative band
        bands.append({"date": day - dt.timedelta(days=1), "actual": actual, "expected": expected, "low": low,
                      "high": high, "outside": not low <= Decimal(actual) <= high})
    return bands


def daily_anomalies(
    series: Mapping[dt.date, Decimal | int],
    start: dt.date,
    end: dt.date,
    *,
    metric: str,
    **options: Any,
) -> list[dict[str, Any]]:
    """The days of :func:`daily_bands` outside their band, in date order, each with ``metric`` and
    ``direction`` (``"above"`` or ``"below"``)."""
    return [
        {"date": b["date"], "metric": metric, "actual": b["actual"], "expected": b["expected"], "low": b["low"],
         "high": b["high"], "direction": "above" if Decimal(b["actual"]) > b["high"] else "below"}
        for b in daily_bands(series, start, end, **options) if b["outside"]
    ]


def segment_anomalies(
    current: Mapping[str, int],
    previous: Mapping[str, int],
    *,
    dimension: str,
    threshold: Decimal | int = THRESHOLD,
    min_expected: int = MIN_EXPECTED,
) -> list[dict[str, Any]]:
    """Segments whose order count moved unlike the whole store (see the module docstring).

    ``current`` and ``previous`` map each segment (a channel, a country) to
    its orders in the period and the comparison period. Returns one dict per
    anomaly, largest ``|z|`` first: ``dimension``, ``segment``, ``orders``,
    ``expected_orders`` (one decimal), ``previous_orders``, ``z`` (two
    decimals) and ``direction``.
    """
    total_now, total_before = sum(current.values()), sum(previous.values())
    if total_before <= 0:
        return []
    growth = Decimal(total_now) / Decimal(total_before)
    found = []
    for segment, before in previous.items():
        expected = Decimal(before) * growth
        if before <= 0 or expected < min_expected:
            continue
        actual = current.get(segment, 0)
        z = (Decimal(actual) - expected) / expected.sqrt()
        if abs(z) > Decimal(threshold):
            found.append({
                "dimension": dimension, "segment": segment, "orders": actual,
                "expected_orders": expected.quantize(Decimal("0.1")), "previous_orders": before,
                "z": z.quantize(Decimal("0.01")), "direction": "above" if z > 0 else "below",
            })
    return sorted(found, key=lambda a: (-abs(a["z"]), a["segment"]))


def _median(values: Sequence[Decimal]) -> Decimal:
    return Decimal(median(values))

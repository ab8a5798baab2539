"""Anomalies and grounding, on small hand-worked inputs (no warehouse)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from analytics.insights.anomalies import daily_anomalies, segment_anomalies
from analytics.insights.grounding import check, flag

MONDAY = dt.date(2026, 11, 16)
# The eight Mondays before 16 Nov: 9 Nov back to 21 Sep.
HISTORY = [MONDAY - dt.timedelta(days=7 * k) for k in range(1, 9)]


def monday_series(history: list, today) -> dict:
    return {**dict(zip(HISTORY, [Decimal(v) for v in history])), MONDAY: Decimal(today)}


# History 100, 110, 90, 105, 95, 100, 120, 80: median (100 + 100) / 2 = 100; absolute deviations
# 0, 10, 10, 5, 5, 0, 20, 20 → MAD (5 + 10) / 2 = 7.5; scale max(1.4826 × 7.5 = 11.1195, 10 % × 100, 1)
# = 11.1195; band 100 ± 3 × 11.1195 = 66.6415 … 133.3585.
SPREAD = [100, 110, 90, 105, 95, 100, 120, 80]


@pytest.mark.parametrize("history, today, expected", [
    (SPREAD, 140, "above"),
    (SPREAD, 130, None),
    (SPREAD, 60, "below"),
    # Steady history: MAD 0, so the band is 50 ± 3 × max(0, 5, 1) = 35 … 65.
    ([50] * 8, 66, "above"),
    ([50] * 8, 64, None),
    # A quiet store (median and MAD 0) sets no pattern; three weeks are too few.
    ([0, 0, 0, 0, 0, 0, 0, 40], 60, None),
    (SPREAD[:3], 500, None),
], ids=["above", "inside", "below", "steady-above", "steady-inside", "quiet", "short-history"])
def test_daily_anomalies_weekly_median_and_mad_band(history, today, expected):
    found = daily_anomalies(monday_series(history, today), MONDAY, MONDAY, metric="net_sales")
    assert [a["direction"] for a in found] == ([expected] if expected else [])
    if history == SPREAD and expected:
        (a,) = found
        assert (a["expected"], a["low"], a["high"]) == (Decimal(100), Decimal("66.6415"), Decimal("133.3585"))


def test_segment_anomalies_against_the_store_change():
    # Store orders 110 now, 100 before: growth 1.1. Online: expected 50 × 1.1 = 55, z = (100 − 55) / √55
    # = 45 / 7.416 = 6.07; pos: expected 48 × 1.1 = 52.8, z = (10 − 52.8) / √52.8 = −42.8 / 7.266 = −5.89;
    # "tiny" expects 2 × 1.1 = 2.2 < 5 and is not judged.
    found = segment_anomalies({"online": 100, "pos": 10, "tiny": 0}, {"online": 50, "pos": 48, "tiny": 2},
                              dimension="channel")
    assert [(a["segment"], a["direction"], str(a["expected_orders"]), str(a["z"])) for a in found] == [
        ("online", "above", "55.0", "6.07"), ("pos", "below", "52.8", "-5.89")]
    # Everyone moving together is no anomaly.
    assert segment_anomalies({"a": 20, "b": 40}, {"a": 10, "b": 20}, dimension="channel") == []


FACTS = {
    "currency": "USD",
    "kpis": {"net_sales": {"current": "1234.50", "previous": "1000.00", "change": "234.50",
                           "relative_change": "0.2345"},
             "refund_rate": {"current": "0.0365", "change": "-0.0217"},
             "orders": {"current": 98, "previous": 72}},
    "movers": {"products_rising": [{"name": "Mug 2", "units_sold": 3, "net_sales": "12000.40"}]},
    "period": {"start": "2026-11-09", "end": "2026-11-15", "days": 7},
}


@pytest.mark.parametrize("text, ungrounded", [
    ("Net sales were $1,234.50, up 23.5% on $1,000.00.", []),
    ("Net sales were $1,234 (about $1.2k), a change of $234.50.", []),
    ("The refund rate fell 2.2 pts to 3.7%.", []),
    ("98 orders against 72.", []),
    ("Mug 2 sold 3 units, about 12,000 dollars.", []),  # 12,000 ≈ 12,000.40; "2" is the product's name
    ("On 10 Nov, Nov 12 and 2026-11-14 at 14:00, the 1st and 3rd days of 9–15 Nov 2026 in 2026:", []),
    ("1. Net sales $1,234.50\n2. Orders 98", []),  # list numbering is not a figure
    ("Net sales fell 23.5%.", []),  # the sign is the words' business
    ("Net sales were $1,299.00 from 98 orders.", ["$1,299.00"]),
    ("Orders rose 36% and 5,000 people visited.", ["36%", "5,000"]),
    ("Refunds cost -$99.99.", ["-$99.99"]),
    ("The refund rate was 3.65 percent, 0.0365 as a ratio and 365 basis points.", ["365"]),
], ids=["money", "rounded", "points", "counts", "names", "dates", "list", "sign", "invented-money",
        "invented-two", "negative", "percent-forms"])
def test_grounding_rules(text, ungrounded):
    assert check(text, FACTS).ungrounded == ungrounded


def test_flag_marks_only_ungrounded_numbers():
    text = "Net sales were $1,234.50 from 98 orders and 4,321 visits."
    assert flag(text, check(text, FACTS)) == "Net sales were $1,234.50 from 98 orders and [4,321 ⚠ unverified] visits."
    assert flag(text, check(text, FACTS), lambda s: f"<{s}>") == (
        "Net sales were $1,234.50 from 98 orders and <4,321> visits.")

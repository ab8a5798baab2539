"""Reorder arithmetic worked by hand (METRICS.md, Inventory)."""

from __future__ import annotations

import pytest

from analytics.inventory.reorder import (
    demand_over,
    reorder_point,
    round_order,
    safety_stock,
    service_z,
    suggested_order,
)


@pytest.mark.parametrize("level, z", [(0.5, 0.0), (0.9, 1.2816), (0.95, 1.6449), (0.99, 2.3263)],
                         ids=["50%", "90%", "95%", "99%"])
def test_service_level_z(level, z):
    assert service_z(level) == pytest.approx(z, abs=1e-4)


def test_a_service_level_of_100_percent_is_refused():
    with pytest.raises(ValueError, match="below 100 %"):
        service_z(1.0)


@pytest.mark.parametrize("z, sd, lead, expected", [
    (1.6449, 1.0, 10, 6),    # 1.6449 × 1 × √10 = 5.2016 → 6
    (1.6449, 2.5, 4, 9),     # 1.6449 × 2.5 × 2 = 8.2245 → 9
    (2.3263, 3.0, 9, 21),    # 2.3263 × 3 × 3 = 20.937 → 21
    (1.2816, 0.0, 14, 0),    # no forecast error: no safety stock
    (1.6449, 1.0, 0, 0),     # no lead time: no safety stock
], ids=["95%-lead10", "95%-lead4", "99%-lead9", "no-error", "no-lead"])
def test_safety_stock(z, sd, lead, expected):
    assert safety_stock(z, sd, lead) == expected


def test_demand_over_uses_the_forecast_then_its_mean():
    daily = [1.0, 2.0, 3.0, 2.0]          # mean 2.0
    assert demand_over(daily, 3) == 6.0   # 1 + 2 + 3
    assert demand_over(daily, 6) == 12.0  # 1 + 2 + 3 + 2, then 2 days × 2.0
    assert demand_over(daily, 0) == 0.0


def test_reorder_point_is_lead_time_demand_plus_safety_stock():
    # 2 a day × 10 days + 6 = 26; 1.4 + 2 = 3.4 → 4
    assert reorder_point(20.0, 6) == 26
    assert reorder_point(1.4, 2) == 4


@pytest.mark.parametrize("quantity, pack, moq, expected", [
    (4, 6, 20, 24),     # 4 → one pack of 6 → MOQ 20 in packs of 6: 24
    (25, 6, 20, 30),    # 25 → 5 packs = 30 (above MOQ)
    (23, None, None, 23),
    (4.2, None, None, 5),
    (12, 12, 12, 12),   # exactly one pack, exactly the MOQ
    (1, None, 10, 10),  # MOQ without packs
    (0, 6, 20, 0),      # nothing needed: no order, whatever the MOQ
    (-3, 6, 20, 0),
], ids=["moq-in-packs", "packs-above-moq", "no-constraints", "fraction-up", "exact", "moq-only", "zero",
        "negative"])
def test_round_order(quantity, pack, moq, expected):
    assert round_order(quantity, pack, moq) == expected


def test_suggested_order_subtracts_stock_and_on_order():
    # 26 + 14 − 30 − 6 = 4 → pack 6 → MOQ 20 in packs: 24
    assert suggested_order(26, 14, 30, 6, pack_size=6, moq=20) == 24
    # 26 + 14 − 50 − 0 < 0: nothing
    assert suggested_order(26, 14, 50, 0, pack_size=6, moq=20) == 0
    # backorders add to the need: 10 + 5 − (−3) − 0 = 18
    assert suggested_order(10, 5, -3, 0) == 18

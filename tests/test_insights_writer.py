"""The offline writer and its facts: anomalous days merged into events, the drivers of a change and of an
event worked out in the facts, at most 10 points ranked by money at stake, each with what to do."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from analytics.insights.facts import MAX_PRIORITIES, anomalous_runs, build_facts, event_drivers, priorities
from analytics.insights.grounding import check
from analytics.insights.offline import write_offline
from analytics.insights.providers import prompt
from data.rollups import refresh_store
from tests.builders import add_order, add_store, local

D = Decimal

TZ = "America/New_York"
START, END = dt.date(2026, 11, 9), dt.date(2026, 11, 15)
COMPARE = (dt.date(2026, 11, 2), dt.date(2026, 11, 8))


def band(day: int, actual, high, outside: bool) -> dict:
    return {"date": dt.date(2026, 11, day), "actual": D(actual), "expected": D(100), "low": D(70), "high": D(high),
            "outside": outside}


@pytest.mark.parametrize("sales, orders, runs", [
    ({d: band(d, 500, 130, True) for d in range(9, 13)}, {}, [[9, 10, 11, 12]]),
    ({9: band(9, 500, 130, True), 10: band(10, 100, 130, False), 11: band(11, 500, 130, True)}, {},
     [[9], [11]]),
    ({9: band(9, 500, 130, True), 10: band(10, 10, 130, True)}, {}, [[9], [10]]),
    ({9: band(9, 500, 130, True), 10: band(10, 120, 130, False)}, {10: band(10, 9, 4, True)}, [[9, 10]]),
], ids=["four days above make one event", "a normal day between splits them",
        "above then below are two events", "a day outside on orders only joins the run"])
def test_consecutive_days_outside_the_band_make_one_event(sales, orders, runs):
    by_date = {b["date"]: b for b in sales.values()}, {b["date"]: b for b in orders.values()}
    assert anomalous_runs(*by_date) == [[dt.date(2026, 11, d) for d in run] for run in runs]


def test_event_drivers_add_up_to_the_gap():
    # Expected 200 over the event, split as the comparison period: web 600 of 800 (¾), pos 200 (¼).
    # Now web 300 (expected 150: +150), pos 900 (expected 50: +850), gap 1,200 − 200 = 1,000.
    rows = event_drivers({"web": D(300), "pos": D(900)}, {"web": D(600), "pos": D(200)}, D(200), D(1000))
    assert rows == [
        {"name": "pos", "net_sales": "900.00", "expected_net_sales": "50.00", "gap": "850.00",
         "share_of_gap": "0.8500"},
        {"name": "web", "net_sales": "300.00", "expected_net_sales": "150.00", "gap": "150.00",
         "share_of_gap": "0.1500"},
    ]
    # A fall: only the parts that fell are drivers.
    assert [r["name"] for r in event_drivers({"web": D(100), "pos": D(60)}, {"web": D(600), "pos": D(200)},
                                             D(200), D(-40))] == ["web"]


def _facts_with(events: int) -> dict:
    kpi = {"current": "0.00", "previous": "0.00", "change": "0.00", "relative_change": None}
    return {
        "kpis": {"net_sales": dict(kpi, change="300.00"), "returns": dict(kpi, change="-20.00"),
                 "discounts": dict(kpi)},
        "anomalies": {"events": [{"net_sales_gap": str(D(-50) * (i + 1))} for i in range(events)],
                      "segments": [{"net_sales_change": "125.00"}]},
        "stock_risks": {"at_risk": 2, "sales_at_risk": "0.00"},
        "segment_shifts": {"segments": [{"segment": "Lost", "change": 3}]},
    }


def test_priorities_rank_by_money_at_stake_and_stop_at_ten():
    ranked = priorities(_facts_with(2))
    # Net sales 300, event 2 (−100), segment 125, event 1 (−50), returns 20, unpriced stock, segments last.
    assert [(p["kind"], p.get("index"), p["money_at_stake"]) for p in ranked] == [
        ("net_sales", None, "300.00"), ("segment", 0, "125.00"), ("event", 1, "100.00"), ("event", 0, "50.00"),
        ("returns", None, "20.00"), ("stock", None, "0.00"), ("customers", None, None)]
    many = priorities(_facts_with(19))
    assert len(many) == MAX_PRIORITIES == 10
    assert [p["money_at_stake"] for p in many[:3]] == ["950.00", "900.00", "850.00"]


@pytest.fixture
def spike_store(wh):
    """Eight weeks and the comparison week of one $100 online order a day from the US (product p1); in the
    period, Thu 12 and Fri 13 Nov each add four $100 point-of-sale orders from GB selling p2."""
    add_store(wh, "s", timezone=TZ)
    day = START - dt.timedelta(days=56)
    while day <= END:
        add_order(wh, f"o{day:%m%d}", local(TZ, day.year, day.month, day.day, 11), [(1, "100.00", "0")],
                  customer=f"c{day:%m%d}")
        day += dt.timedelta(days=1)
    for d in (12, 13):
        for i in range(4):
            add_order(wh, f"pos{d}-{i}", local(TZ, 2026, 11, d, 14), [(1, "0.00", "0"), (1, "100.00", "0")],
                      customer=f"g{d}{i}", channel="pos", country="GB")
    refresh_store(wh, "s")
    return wh


def test_a_two_day_spike_is_one_event_explained_by_its_drivers(spike_store):
    facts = build_facts(spike_store, "s", START, END, compare=COMPARE)
    # Every weekday's history is eight days of $100 and 1 order: expected 100 and 1 a day, the band
    # 100 ± 3 × 10 and 0 to 4 orders. Thu and Fri sold $500 in 5 orders: one event of two days,
    # $1,000 against $200 expected, a gap of $800, 10 orders where 2 were expected.
    (event,) = facts["anomalies"]["events"]
    assert facts["anomalies"]["events_found"] == 1
    assert {k: event[k] for k in ("start", "end", "days", "direction", "net_sales", "expected_net_sales",
                                  "net_sales_gap", "orders", "expected_orders")} == {
        "start": "2026-11-12", "end": "2026-11-13", "days": 2, "direction": "above", "net_sales": "1000.00",
        "expected_net_sales": "200.00", "net_sales_gap": "800.00", "orders": 10, "expected_orders": 2}
    # The comparison week sold only online, from the US, p1: all $200 expected is theirs, so the whole
    # gap is point of sale, GB and p2 (online, US and p1 sold their $200: no part of the gap).
    drivers = event["drivers"]
    assert drivers["channels"] == [{"name": "pos", "net_sales": "800.00", "expected_net_sales": "0.00",
                                    "gap": "800.00", "share_of_gap": "1.0000"}]
    assert [(r["name"], r["gap"]) for r in drivers["countries"]] == [("GB", "800.00")]
    assert [(r["name"], r["gap"]) for r in drivers["products"]] == [("p2", "800.00")]
    # The period's change: 1,500 against 700 = +800, all point of sale (share 800 ÷ 800 = 1); every order
    # is its customer's first, so new customers made all of it.
    assert facts["kpis"]["net_sales"]["change"] == "800.00"
    (pos,) = [r for r in facts["movers"]["channels"] if r["name"] == "pos"]
    assert (pos["net_sales_change"], pos["share_of_change"]) == ("800.00", "1.0000")
    (new,) = facts["movers"]["customer_groups"]
    assert (new["name"], new["net_sales_change"], new["share_of_change"]) == ("new", "800.00", "1.0000")
    # Net sales change and the event tie at $800: the change first.
    assert [(p["kind"], p["money_at_stake"]) for p in facts["priorities"]] == [
        ("net_sales", "800.00"), ("event", "800.00")]

    text = write_offline(facts)
    assert check(text, facts).ungrounded == []
    points = [line for line in text.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]
    assert len(points) == 2
    assert points[0].startswith("1. **Net sales rose $800.00 (up 114.3%) against 2–8 Nov 2026, to $1,500.00.**")
    assert "by channel, Point of sale (up $800.00, 100.0% of the change)" in points[0]
    assert "*What to do:* Put more behind Point of sale" in points[0]
    assert points[1].startswith("2. **12–13 Nov 2026 (2 days in a row): net sales of $1,000.00, $800.00 above "
                                "the expected $200.00** (10 orders where 2 were expected).")
    assert "The gap came mostly from Point of sale ($800.00, 100.0% of it), p2 ($800.00, 100.0% of it), GB" in \
        points[1]
    assert "*What to do:* Find what lifted it" in points[1] and "check that p2 is stocked" in points[1]

    # The providers get the same facts, priorities included, and are told to follow them.
    system, user = prompt(facts)
    assert json.loads(user.split("Facts:\n", 1)[1])["priorities"] == facts["priorities"]
    assert "one point per entry of \"priorities\"" in system

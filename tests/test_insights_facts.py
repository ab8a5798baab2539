"""The facts: figures from the metric layer and the inventory, forecast and customer-score tables,
worked out by hand on the small store of tests/insights_store.py, on every backend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from analytics.insights.facts import build_facts, facts_hash, facts_json
from analytics.insights.grounding import check
from analytics.insights.offline import write_offline
from tests.builders import add_order, local
from tests.insights_store import COMPARE, END, PERSONAL, START, TZ, build_insights_store

D = Decimal


def test_facts_figures_and_no_personal_data(wh):
    build_insights_store(wh)
    facts = build_facts(wh, "s", START, END, compare=COMPARE)
    k = facts["kpis"]
    # Now: gross 2 × 30 + 50 = 110, discounts 5, returns 30 (refund of o1 on 11 Nov): net 110 − 5 − 30 = 75.
    # Before: o3, 40. Change 35, relative 35 ÷ 40 = 0.875.
    assert k["net_sales"] == {"current": "75.00", "previous": "40.00", "change": "35.00", "relative_change": "0.8750"}
    # AOV (110 − 5) ÷ 2 = 52.50 against 40; refund rate 30 ÷ 110 = 0.2727 against 0 (no relative change).
    assert k["aov"]["current"] == "52.50" and k["orders"]["current"] == 2
    assert k["refund_rate"] == {"current": "0.2727", "previous": "0.0000", "change": "0.2727",
                                "relative_change": None}
    # Jane ordered before (o3), "Jane Doe" is new: 1 new of 2; returning rate 1 ÷ 2.
    assert k["new_customers"]["current"] == 1 and k["returning_customer_rate"]["current"] == "0.5000"
    # Channels: pos 45 (new), online 60 − 30 = 30 against 40 (−10, −25 %); largest change first.
    assert [(r["name"], r["net_sales"], r["net_sales_change"], r["relative_change"])
            for r in facts["movers"]["channels"]] == [("pos", "45.00", "45.00", None),
                                                      ("online_store", "30.00", "-10.00", "-0.2500")]
    assert [r["name"] for r in facts["movers"]["countries"]] == ["GB", "US"]
    assert facts["anomalies"]["events"] == [] and facts["anomalies"]["segments"] == []
    # Customer groups: o2 is "Jane Doe"'s first order (new, 45), o1 jane.doe@'s second (returning, 60 − 30);
    # before, o3 was her first (new, 40). Their shares of the +35: 30 ÷ 35 and 5 ÷ 35.
    assert [(r["name"], r["net_sales_change"], r["share_of_change"]) for r in facts["movers"]["customer_groups"]
            ] == [("returning", "30.00", "0.8571"), ("new", "5.00", "0.1429")]
    # What to speak of, by money at stake: the +35 change, the returns of 30, the discounts of 5.
    assert facts["priorities"] == [{"kind": "net_sales", "money_at_stake": "35.00"},
                                   {"kind": "returns", "money_at_stake": "30.00"},
                                   {"kind": "discounts", "money_at_stake": "5.00"}]
    assert facts["segment_shifts"] == {"status": "no customer scores yet"}
    assert facts["forecast"] == {"status": "no forecast yet"}
    text = facts_json(facts).lower()
    assert not [word for word in PERSONAL if word in text]
    # The offline writer only writes figures of the facts.
    assert check(write_offline(facts), facts).ungrounded == []


def test_facts_hash_follows_the_data(wh):
    build_insights_store(wh)
    first = build_facts(wh, "s", START, END, compare=COMPARE)
    assert facts_hash(build_facts(wh, "s", START, END, compare=COMPARE)) == facts_hash(first)
    add_order(wh, "o4", local(TZ, 2026, 11, 13, 12), [(1, "20.00", "0")], customer="c4")
    from data.rollups import refresh_store

    refresh_store(wh, "s")
    assert facts_hash(build_facts(wh, "s", START, END, compare=COMPARE)) != facts_hash(first)


def test_stock_risks_forecast_and_segment_shifts(wh):
    build_insights_store(wh)
    wh.insert("inventory_levels", pl.DataFrame({
        "store_id": ["s", "s", "s"], "variant_id": ["v1", "v1", "v2"], "location_id": ["a", "b", "a"],
        "available": [2, 1, 0]}, schema_overrides={"available": pl.Int32}))
    wh.insert("suppliers", pl.DataFrame({"supplier_id": ["sup"], "name": ["Mills"], "lead_time_days": [10]},
                                        schema_overrides={"lead_time_days": pl.Int32}))
    wh.insert("supplier_items", pl.DataFrame({"supplier_id": ["sup"], "store_id": ["s"], "variant_id": ["v1"],
                                              "lead_time_days": [30]}, schema_overrides={"lead_time_days": pl.Int32}))
    wh.upsert("variants", pl.DataFrame({"store_id": ["s"], "variant_id": ["v1"], "price": [D("10.00")]},
                                       schema_overrides={"price": pl.Decimal(18, 4)}))
    facts = build_facts(wh, "s", START, END, compare=COMPARE, stock_as_of=END)
    # v1: 3 available; 4 units sold in the 30 days to 15 Nov (o3 1, o1 2, o2 1), no snapshots so every day
    # in stock → 4 ÷ 30 = 0.1333 a day, cover 3 ÷ 0.1333 = 22.5 days < the item's lead time of 30 (a stockout
    # risk, the Inventory page's rule). v2 has no stock and no sales: no risk.
    # Sales at risk: (30 − 22.5056) days × 0.1333 a day × $10.00 = $9.99.
    assert facts["stock_risks"] == {"as_of": "2026-11-15", "at_risk": 1, "sales_at_risk": "9.99", "items": [{
        "variant": "v1", "available": 3, "daily_demand": "0.1", "days_of_cover": "22.5", "lead_time_days": 30,
        "demand_from": "units sold in the last 30 days on in-stock days", "sold_out": False,
        "sales_at_risk": "9.99"}]}
    assert {"kind": "stock", "money_at_stake": "9.99"} in facts["priorities"]

    # A forecast of 1 unit a day on 16–20 Nov (and 100 on 20 Dec, past the 28 days): demand 1, cover 3.
    days = [dt.date(2026, 11, d) for d in range(16, 21)] + [dt.date(2026, 12, 20)]
    wh.insert("forecasts", pl.DataFrame({
        "store_id": ["s"] * 6, "variant_id": ["v1"] * 6, "ds": days, "model": ["ets"] * 6,
        "yhat": [1.0] * 5 + [100.0], "generated_at": [local(TZ, 2026, 11, 16, 1)] * 6}))
    facts = build_facts(wh, "s", START, END, compare=COMPARE, stock_as_of=END)
    (item,) = facts["stock_risks"]["items"]
    assert (item["daily_demand"], item["days_of_cover"], item["demand_from"]) == ("1.0", "3.0", "forecast")
    # (30 − 3) days × 1 a day × $10.00.
    assert item["sales_at_risk"] == "270.00"
    # 5 units forecast for the 28 days after 15 Nov against 4 sold in the 28 days to it: +25 %.
    assert facts["forecast"] == {"model": "ets", "days": 28, "units_forecast": 5, "units_sold_last_28_days": 4,
                                 "relative_change": "0.2500"}

    scores = [("c1", dt.date(2026, 11, 1), "Champions"), ("c2", dt.date(2026, 11, 1), "At risk"),
              ("c1", dt.date(2026, 11, 15), "Champions"), ("c2", dt.date(2026, 11, 15), "Champions"),
              ("c3", dt.date(2026, 11, 15), "Lost"), ("c1", dt.date(2026, 11, 20), "Lost")]
    wh.insert("customer_scores", pl.DataFrame({
        "store_id": ["s"] * 6, "customer_id": [c for c, _, _ in scores], "as_of": [d for _, d, _ in scores],
        "rfm_segment": [s for _, _, s in scores]}))
    shifts = build_facts(wh, "s", START, END, compare=COMPARE)["segment_shifts"]
    # The newest run up to 15 Nov against 1 Nov (the 20 Nov run is after the range). Every change is 1,
    # then the larger segment first.
    assert shifts == {"as_of": "2026-11-15", "previous_as_of": "2026-11-01", "segments": [
        {"segment": "Champions", "customers": 2, "previous_customers": 1, "change": 1},
        {"segment": "Lost", "customers": 1, "previous_customers": 0, "change": 1},
        {"segment": "At risk", "customers": 0, "previous_customers": 1, "change": -1}]}


def test_offline_insight_is_stored_once_and_written_to_the_report(wh, tmp_path):
    from analytics.insights.report import SECTIONS
    from analytics.insights.service import write_insight
    from analytics.report import write_report
    from analytics.store_state import list_stores

    build_insights_store(wh)
    first = write_insight(wh, "s", START, END, compare=COMPARE, provider="offline")
    again = write_insight(wh, "s", START, END, compare=COMPARE, provider="offline")
    assert (first.provider, first.model, first.fallback_reason, first.ungrounded_numbers) == (
        "offline", "rules-v2", None, ())
    assert again.cached and again.text == first.text
    assert wh.rows("SELECT provider, model, ungrounded_count, fallback_reason, facts_hash FROM insights") == [
        ("offline", "rules-v2", 0, None, first.facts_hash)]
    (store,) = list_stores(wh)
    write_report(wh, store, START, END, tmp_path, charts=False, sections=SECTIONS)
    written = (tmp_path / "insights.md").read_text()
    assert written.startswith("# Insights: Store s, 9–15 Nov 2026\n\n> Written by offline (rules-v2)")
    assert "In 9–15 Nov 2026 the store made $75.00 of net sales (up 87.5% against 2–8 Nov 2026)" in written

"""The customer refresh steps, the funnel and CAC from the warehouse, and the customer report files,
on both backends."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import polars as pl
import pytest

from analytics.customers.affinity import acquisition_cost
from analytics.customers.funnel import funnel, funnel_sessions
from analytics.customers.orders import customer_orders
from analytics.customers.report import SECTIONS
from analytics.customers.steps import STEPS
from analytics.refresh import latest_run, run_refresh
from analytics.report import write_report
from analytics.store_state import Store
from tests.builders import add_order, add_store, utc
from tests.customers_store import AS_OF, build_customers_store

STORE = Store("s", "Shop", "USD", "America/New_York")


def test_refresh_writes_scores_and_the_clv_model_and_the_report_its_files(wh, tmp_path):
    build_customers_store(wh)
    runs = run_refresh(wh, STORE, AS_OF, steps=STEPS)
    assert [(r.kind, r.status) for r in runs] == [("rfm", "succeeded"), ("clv", "succeeded")], runs
    clv = latest_run(wh, "s", "clv")
    params = clv["params"]
    assert set(params) == {"time_unit", "model", "bgnbd", "gamma_gamma"} and params["time_unit"] == "week"
    assert params["model"] == clv["metrics"]["holdout"]["chosen"]
    assert set(params["bgnbd"]) == {"r", "alpha", "a", "b"} and set(params["gamma_gamma"]) == {"p", "q", "v"}
    assert clv["metrics"]["warnings"] == [] and clv["metrics"]["horizon_days"] == 365
    scores = wh.query("SELECT * FROM customer_scores WHERE store_id = 's'")
    # Every customer has a prediction; those who ordered in the last 365 days also an RFM segment.
    assert scores.height == 800 and scores["p_alive"].null_count() == 0
    assert scores["p_alive"].is_between(0, 1).all() and (scores["horizon_days"] == 365).all()
    scored = scores.filter(pl.col("rfm_segment").is_not_null())
    orders = customer_orders(wh, "s", AS_OF)
    in_window = orders.filter(pl.col("day") >= AS_OF - dt.timedelta(days=364))["customer_id"].n_unique()
    assert scored.height == in_window
    # The model was chosen on the last 91 days held out; every calibration customer is in one group, and the
    # held-out purchases are the distinct order days after the calibration end of those customers.
    holdout = clv["metrics"]["holdout"]
    end = dt.date.fromisoformat(holdout["calibration_end"])
    assert holdout["holdout_days"] == 91 and end == AS_OF - dt.timedelta(days=91)
    before = orders.filter(pl.col("day") <= end)
    assert sum(g["customers"] for g in holdout["groups"]) == before["customer_id"].n_unique()
    held_out = orders.filter((pl.col("day") > end) & pl.col("customer_id").is_in(before["customer_id"].unique()))
    assert sum(g["actual"] for g in holdout["groups"]) == held_out.unique(["customer_id", "day"]).height
    # Each prediction sits inside its 90 % range.
    assert scores["predicted_clv_low"].null_count() == 0
    assert ((scores["predicted_clv_low"] <= scores["predicted_clv"])
            & (scores["predicted_clv"] <= scores["predicted_clv_high"])).all()
    # Running again for the same day replaces the scores instead of adding rows.
    run_refresh(wh, STORE, AS_OF, steps=STEPS)
    assert wh.scalar("SELECT COUNT(*) FROM customer_scores WHERE store_id = 's'") == 800
    report_files(wh, tmp_path)


def test_too_little_data_is_a_warning_not_a_prediction(wh):
    add_store(wh, "s")
    add_order(wh, "o1", utc(2026, 3, 2, 15), customer="a")
    add_order(wh, "o2", utc(2026, 3, 9, 15), customer="a")
    add_order(wh, "o3", utc(2026, 3, 4, 15), customer="b")
    from data.rollups import refresh_store

    refresh_store(wh, "s")
    runs = run_refresh(wh, STORE, dt.date(2026, 3, 31), steps=STEPS)
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    clv = latest_run(wh, "s", "clv")
    assert clv["params"] == {"time_unit": "week", "model": "bgnbd", "bgnbd": None, "gamma_gamma": None}
    assert "2 customers of whom 1 bought again" in clv["metrics"]["warnings"][0]
    assert wh.scalar("SELECT COUNT(*) FROM customer_scores WHERE p_alive IS NOT NULL") == 0
    assert wh.scalar("SELECT COUNT(*) FROM customer_scores WHERE rfm_segment IS NOT NULL") == 2


def _events(wh):
    add_store(wh, "s")
    steps = ("session_start", "view_item", "add_to_cart", "begin_checkout", "purchase")
    sessions = {  # session → (source, medium, device, steps reached, start UTC)
        "s1": ("google", "cpc", "mobile", steps, utc(2026, 3, 10, 15)),
        "s2": ("google", "cpc", "desktop", steps[:3], utc(2026, 3, 10, 16)),
        "s3": ("newsletter", "email", "mobile", steps[:2], utc(2026, 3, 11, 15)),
        "s4": ("(direct)", "(none)", "mobile", steps[:1], utc(2026, 3, 11, 16)),
        # Added to cart without viewing a product: a closed funnel counts it as a session only.
        "s5": ("newsletter", "email", "mobile", ("session_start", "add_to_cart"), utc(2026, 3, 12, 15)),
        # 03:00 UTC on 10 Mar is 22:00 on 9 Mar in New York: outside the range.
        "s6": ("google", "cpc", "mobile", steps, utc(2026, 3, 10, 3)),
    }
    rows = []
    for sid, (source, medium, device, reached, start) in sessions.items():
        for i, event in enumerate(reached):
            rows.append({"store_id": "s", "event_id": f"{sid}-{i}", "session_id": sid, "customer_id": None,
                         "occurred_at": start + dt.timedelta(minutes=i), "event_type": event, "product_id": None,
                         "order_id": None, "source": source, "medium": medium, "device": device})
    wh.insert("web_events", pl.DataFrame(rows, schema_overrides={"occurred_at": pl.Datetime("us", "UTC"),
                                                               "customer_id": pl.String, "product_id": pl.String,
                                                               "order_id": pl.String}))
    from data.rollups import refresh_sessions

    refresh_sessions(wh, "s", list(sessions))  # as every writer of web events does


def test_funnel_rates(wh):
    _events(wh)
    from data.rollups import refresh_store

    written = wh.rows("SELECT * FROM session_facts ORDER BY session_id")
    refresh_store(wh, "s")  # a whole rebuild writes the same sessions
    assert wh.rows("SELECT * FROM session_facts ORDER BY session_id") == written
    # s6 began at 22:00 on 9 Mar, store time, with its first event's source, and reached every step.
    assert wh.rows("SELECT local_date, source, medium, device, viewed_product, purchased FROM session_facts "
                   "WHERE session_id = 's6'") == [(dt.date(2026, 3, 9), "google", "cpc", "mobile", True, True)]
    sessions = funnel_sessions(wh, "s", dt.date(2026, 3, 10), dt.date(2026, 3, 12))
    table = {r["step"]: r for r in funnel(sessions).iter_rows(named=True)}
    # 5 sessions; viewed 3 (s1–s3); added 2 (s1, s2; s5 never viewed); checkout 1; purchased 1.
    assert [table[s]["sessions"] for s in table] == [5, 3, 2, 1, 1]
    # Conversion from the step before: 3/5, 2/3, 1/2, 1/1; share of sessions 1/5 for the purchase.
    assert [table[s]["conversion"] for s in list(table)[1:]] == pytest.approx([0.6, 2 / 3, 0.5, 1.0])
    assert table["added_to_cart"]["drop_off"] == pytest.approx(1 / 3)
    assert table["purchased"]["share_of_sessions"] == pytest.approx(0.2)
    by_medium = funnel(sessions, "medium")
    cpc = by_medium.filter(pl.col("medium") == "cpc")
    # cpc: s1 and s2, both viewed and added, one bought: conversion to purchase 1/1 from checkout.
    assert cpc["sessions"].to_list() == [2, 2, 2, 1, 1]
    assert by_medium["medium"].unique(maintain_order=True).to_list()[0] in ("cpc", "email")


def test_cac_per_channel(wh):
    add_store(wh, "s")
    add_order(wh, "o1", utc(2026, 3, 2, 15), customer="a", channel="online_store")
    add_order(wh, "o2", utc(2026, 3, 3, 15), customer="b", channel="online_store")
    add_order(wh, "o3", utc(2026, 3, 4, 15), customer="a", channel="online_store")  # a's second: not new
    add_order(wh, "o4", utc(2026, 2, 4, 15), customer="c", channel="social")  # new before the range
    from data.rollups import refresh_store

    refresh_store(wh, "s")
    wh.insert("ad_spend", pl.DataFrame({
        "store_id": ["s"] * 3, "spend_date": [dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 3)],
        "platform": ["google", "meta", "meta"], "campaign": ["x", "y", "z"],
        "channel": ["online_store", "social", "social"], "spend": [Decimal("100"), Decimal("30"), Decimal("9")],
        "currency": ["USD", "USD", "EUR"], "impressions": [1, 1, 1], "clicks": [1, 1, 1],
    }, schema_overrides={"spend": pl.Decimal(18, 4)}))
    orders = customer_orders(wh, "s", dt.date(2026, 3, 31))
    cac, other = acquisition_cost(wh, "s", "USD", orders, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    rows = {r["channel"]: r for r in cac.iter_rows(named=True)}
    # Online store: 100 spent, 2 new customers (a, b) → 50 each; social: 30 spent, no new customer → none.
    assert (rows["online_store"]["new_customers"], rows["online_store"]["cac"]) == (2, Decimal("50"))
    assert (rows["social"]["ad_spend"], rows["social"]["cac"]) == (Decimal("30"), None)
    assert other == 1  # the EUR row is left out


def report_files(wh, tmp_path):
    """The customer files of a report over March, after the refresh as of 31 March."""
    result = write_report(wh, STORE, dt.date(2026, 3, 1), AS_OF, tmp_path, charts=False, sections=SECTIONS)
    assert {"customers_rfm.csv", "cohorts.csv", "clv.csv", "clv_model.json"} <= set(result.files)
    model = json.loads((tmp_path / "clv_model.json").read_text())
    assert model == latest_run(wh, "s", "clv")["params"]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "clv.csv").read_text())))
    assert list(rows[0]) == ["customer_id", "frequency", "recency", "T", "monetary_value", "p_alive",
                             "expected_purchases", "predicted_clv", "predicted_clv_low", "predicted_clv_high"]
    assert len(rows) == 800 and all(0 <= float(r["p_alive"]) <= 1 for r in rows)
    assert all(float(r["predicted_clv_low"]) <= float(r["predicted_clv"]) <= float(r["predicted_clv_high"])
               for r in rows)
    # A report ending before the refresh's day fits its own model on the data up to its last day.
    early = tmp_path / "early"
    write_report(wh, STORE, dt.date(2025, 6, 1), dt.date(2025, 6, 30), early, charts=False, sections=SECTIONS)
    early_rows = list(csv.DictReader(io.StringIO((early / "clv.csv").read_text())))
    assert len(early_rows) < 800
    assert "No refresh had run up to 30 Jun 2025" in (early / "index.html").read_text()


def test_counts_summed_in_sql_equal_the_same_figures_from_the_orders(wh):
    """The page's views count in SQL what the frame functions count from ``customer_orders``: the same tables."""
    from analytics.customers import views
    from analytics.customers.affinity import first_product_repeat, new_vs_returning, time_between_orders
    from analytics.customers.orders import first_orders

    build_customers_store(wh)
    orders, firsts = customer_orders(wh, "s", AS_OF), first_orders(wh, "s", AS_OF)
    start = dt.date(2026, 2, 1)
    from analytics.customers.affinity import first_product_choices, first_product_counts, repeat_rates

    counts = first_product_counts(wh, "s", AS_OF, 30)
    repeat = repeat_rates(counts)
    assert repeat.equals(first_product_repeat(orders, firsts, AS_OF, 30))
    assert repeat["customers"].sum() > 0 and repeat["repeat_customers"].sum() > 0
    table, stats = views.between_view(wh, "s", AS_OF)
    expected_table, expected_stats = time_between_orders(orders)
    assert table.equals(expected_table) and stats == expected_stats and stats["gaps"] > 0
    choices = first_product_choices(counts)
    assert choices.equals(firsts.group_by("first_product_id", "first_product").len("customers").sort(
        ["customers", "first_product"], descending=[True, False]))
    assert choices["customers"].sum() == orders.filter(pl.col("order_index") == 1).height
    assert views.new_returning_view(wh, "s", start, AS_OF).equals(new_vs_returning(orders, start, AS_OF))
    from analytics.customers.rfm import rfm_scores, rfm_scores_in
    from analytics.customers.cohorts import cohort_table, cohort_table_in

    for filters in ({}, {"channel": "pos"}, {"country": "US", "discounted": False}, {"first_product": "p2"}):
        cohorts = cohort_table_in(wh, "s", AS_OF, **filters)
        assert cohorts.height > 0 and cohorts.equals(cohort_table(orders, AS_OF, first_products=firsts, **filters))

    for day, window in ((AS_OF, 365), (dt.date(2026, 1, 1), 90)):
        scores = rfm_scores_in(wh, "s", day, window)
        assert scores.height > 0 and scores.equals(rfm_scores(orders, day, window))
    run_refresh(wh, STORE, AS_OF, steps=STEPS, only=["rfm"])
    customers = views.customer_table(wh, "s", AS_OF)
    history = orders.group_by("customer_id").agg(pl.len().alias("n"), pl.col("net_sales").sum().alias("value"))
    assert customers.height > 0
    assert dict(zip(customers["customer_id"], zip(customers["orders_to_date"], customers["historical_value"]))) == {
        c: (n, v) for c, n, v in history.iter_rows() if c in set(customers["customer_id"])}

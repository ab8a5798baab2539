"""The Customers page's figures summed in SQL (key figures, segments, customers at risk, the predicted value
ranking and histogram), worked out by hand on a dozen customers, and the same as the per-customer table says
on a store of 800, on every backend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import polars as pl
import pytest

from analytics.customers import views
from analytics.customers.choices import WINDOW_CHOICE
from analytics.customers.history import write_history
from analytics.customers.orders import customer_orders
from analytics.customers.rfm import rfm_scores, segment_movement, segment_summary
from analytics.customers.steps import STEPS
from analytics.refresh import latest_run, run_refresh
from analytics.store_state import Store
from data.app_settings import set_choice
from data.migrations import migrate
from data.rollups import refresh_store
from tests.builders import add_order, add_refund, add_store, utc
from tests.customers_store import AS_OF, build_customers_store

DAY = dt.date(2026, 3, 31)
# customer: (order totals, P(alive), segment, predicted value)
CUSTOMERS = {
    "c01": (["100"], 0.9, "Champions", "40"),
    "c02": (["95"], 0.3, "Loyal", "0"),          # 5 of it refunded: 90
    "c03": (["50", "40"], 0.1, "At risk", "10"),
    "c04": (["70"], 0.2, "Lost", "20"),
    "c05": (["60"], 0.6, "Lost", None),
    "c06": (["50"], 0.6, None, None),
    "c07": (["40"], 0.6, None, None),
    "c08": (["30"], 0.6, None, None),
    "c09": (["20"], 0.6, None, None),
    "c10": (["10"], 0.6, None, None),
    "c11": (["500"], None, "Potential loyalist", None),  # no P(alive): not ranked for the risk list
    "c12": ([], 0.1, None, None),                        # no order to date: no value
}


def small_store(wh) -> None:
    add_store(wh, "s")
    for customer, (totals, _, _, _) in CUSTOMERS.items():
        for n, total in enumerate(totals):
            add_order(wh, f"{customer}-{n}", utc(2026, 3, 1 + n, 15), [(1, total, "0")], customer=customer)
    add_refund(wh, "r1", "c02-0", utc(2026, 3, 20, 15), {1: (1, "5")})
    # After the as-of day: counts for nobody.
    add_order(wh, "late", utc(2026, 4, 5, 15), [(1, "1000", "0")], customer="c10")
    refresh_store(wh, "s")
    segments = [s for _, _, s, _ in CUSTOMERS.values()]
    wh.insert("customer_scores", pl.DataFrame({
        "store_id": "s", "customer_id": list(CUSTOMERS), "as_of": DAY,
        "recency_days": [None if s is None else 10 for s in segments],
        "frequency": [None if s is None else 1 for s in segments],
        "monetary": [None if s is None else Decimal(t[0]) for s, (t, *_) in zip(segments, CUSTOMERS.values())],
        "rfm_segment": segments,
        "p_alive": [p for _, p, _, _ in CUSTOMERS.values()],
        "expected_purchases": [None if v is None else 0.5 for *_, v in CUSTOMERS.values()],
        "predicted_clv": [None if v is None else Decimal(v) for *_, v in CUSTOMERS.values()],
        "horizon_days": 365,
    }, schema_overrides={"monetary": pl.Decimal(18, 4), "predicted_clv": pl.Decimal(18, 4),
                         "recency_days": pl.Int32, "frequency": pl.Int32, "horizon_days": pl.Int32}))
    write_history(wh, "s", DAY)


def test_the_overview_of_a_dozen_customers_worked_out_by_hand(wh):
    small_store(wh)
    view = views.customer_overview(wh, "s", DAY, 1, 2)
    assert (view.customers, view.scored, view.top_segments) == (12, 6, 3)  # Champions, Loyal, Potential loyalist
    # Everyone with an order: 100 + 90 + 90 + 70 + 60 + 50 + 40 + 30 + 20 + 10 + 500 over 11 customers.
    assert (view.valued, view.historical_value) == (11, Decimal("1060"))
    assert (view.predicted, view.predicted_clv, view.expected_purchases) == (4, Decimal("70"), 2.0)
    segments = {r["segment"]: r for r in view.segments.iter_rows(named=True)}
    assert {s: r["customers"] for s, r in segments.items() if r["customers"]} == {
        "Champions": 1, "Loyal": 1, "At risk": 1, "Lost": 2, "Potential loyalist": 1}
    # Monetary as scored (95 before the refund): Lost 70 + 60 = 130 of 100 + 95 + 50 + 130 + 500 = 875.
    assert segments["Lost"]["monetary"] == Decimal("130")
    assert segments["Lost"]["revenue_share"] == pytest.approx(130 / 875)
    # Ten customers have a P(alive) and a value: the top fifth reaches the 2nd highest value, 90 (c02 and c03
    # tie); of those, c02 (0.3) and c03 (0.1) are below one half. c11 (500) has no P(alive).
    assert view.at_risk_count == 2
    assert view.at_risk["customer_id"].to_list() == ["c02"]
    full, count = views.at_risk_customers(wh, "s", DAY)
    assert count == 2
    assert full.select("customer_id", "historical_value", "orders_to_date", "first_order", "last_order").rows() == [
        ("c02", Decimal("90"), 1, dt.date(2026, 3, 1), dt.date(2026, 3, 1)),
        ("c03", Decimal("90"), 2, dt.date(2026, 3, 1), dt.date(2026, 3, 2))]
    # Predicted value 40, 20, 10, 0: 40 bins of 1 from 0 to 40, the top value in the last bin.
    assert view.clv_edges == tuple(float(e) for e in range(41))
    assert [(i, n) for i, n in enumerate(view.clv_counts) if n] == [(0, 1), (10, 1), (20, 1), (39, 1)]
    assert view.clv_top.select("customer_id", "predicted_clv", "historical_value").rows() == [
        ("c01", Decimal("40"), Decimal("100")), ("c04", Decimal("20"), Decimal("70"))]
    assert views.clv_ranking(wh, "s", DAY)["customer_id"].to_list() == ["c01", "c04", "c03", "c02"]
    assert views.customer_table(wh, "s", DAY, "Lost")["customer_id"].to_list() == ["c04", "c05"]


def test_the_history_of_the_rows_without_it_only(wh):
    small_store(wh)
    add_order(wh, "c13-0", utc(2026, 3, 10, 15), [(1, "33", "0")], customer="c13")
    refresh_store(wh, "s")
    wh.execute("INSERT INTO customer_scores (store_id, customer_id, as_of, p_alive) VALUES ('s', 'c13', :day, 0.5)",
               {"day": DAY})
    wh.execute("UPDATE customer_scores SET orders_to_date = 99 WHERE customer_id = 'c01'")
    write_history(wh, "s", DAY, missing_only=True)
    stored = dict(wh.rows("SELECT customer_id, orders_to_date FROM customer_scores WHERE as_of = :day", {"day": DAY}))
    assert (stored["c13"], stored["c01"], stored["c03"]) == (1, 99, 2)
    write_history(wh, "s", DAY)
    assert wh.scalar("SELECT orders_to_date FROM customer_scores WHERE customer_id = 'c01'") == 1


def test_one_predicted_value_for_everyone_falls_in_the_middle_bin(wh):
    small_store(wh)
    wh.execute("UPDATE customer_scores SET predicted_clv = 25 WHERE store_id = 's'")
    counts, edges = views.clv_bins(wh, "s", DAY)
    assert (edges[0], edges[-1]) == (24.5, 25.5)
    assert [(i, n) for i, n in enumerate(counts) if n] == [(20, 12)]
    assert np.histogram([25.0] * 12, bins=40)[0].tolist() == list(counts)


def test_the_migration_fills_the_latest_day_of_scores_written_before_it(wh):
    small_store(wh)
    wh.execute("INSERT INTO customer_scores (store_id, customer_id, as_of, p_alive) VALUES ('s', 'c01', :day, 0.5)",
               {"day": DAY - dt.timedelta(days=7)})
    # As a warehouse from before the history columns holds them.
    wh.execute("UPDATE customer_scores SET orders_to_date = NULL, first_order = NULL, last_order = NULL, "
               "historical_value = NULL")
    wh.execute("DELETE FROM schema_migrations WHERE name = '0015_customer_history_fill'")
    assert migrate(wh) == ["0015_customer_history_fill"]
    latest = {c: (n, v) for c, n, v in wh.rows(
        "SELECT customer_id, orders_to_date, historical_value FROM customer_scores WHERE as_of = :day", {"day": DAY})}
    assert latest["c02"] == (1, Decimal("90")) and latest["c03"] == (2, Decimal("90")) and latest["c12"] == (None, None)
    assert wh.scalar("SELECT orders_to_date FROM customer_scores WHERE as_of < :day", {"day": DAY}) is None


def test_a_day_without_scores(wh):
    small_store(wh)
    view = views.customer_overview(wh, "s", DAY - dt.timedelta(days=1), 15, 100)
    assert (view.customers, view.scored, view.valued, view.predicted, view.at_risk_count) == (0, 0, 0, 0, 0)
    assert view.at_risk.height == view.clv_top.height == 0 and view.clv_counts == ()
    assert view.segments["customers"].sum() == 0


def test_the_overview_agrees_with_the_table_of_every_customer(wh):
    build_customers_store(wh)
    # A short RFM window: the lifetime value step adds the customers without an order in it.
    set_choice(wh, WINDOW_CHOICE, 60, scope="s")
    run_refresh(wh, Store("s", "Shop", "USD", "America/New_York"), AS_OF, steps=STEPS)
    table = views.customer_table(wh, "s", AS_OF)
    orders = customer_orders(wh, "s", AS_OF)
    view = views.customer_overview(wh, "s", AS_OF, 15, 100)
    scored = table.filter(pl.col("rfm_segment").is_not_null())
    assert view.customers == table.height == 800
    assert 0 < view.scored == scored.height < 800
    # Every customer's history, whichever step added the row.
    history = orders.group_by("customer_id").agg(pl.len().alias("n"), pl.col("net_sales").sum().alias("value"),
                                                 pl.col("day").min().alias("first"), pl.col("day").max().alias("last"))
    assert {c: (n, v, a, b) for c, n, v, a, b in table.select(
        "customer_id", "orders_to_date", "historical_value", "first_order", "last_order").iter_rows()} == {
        c: (n, v, a, b) for c, n, v, a, b in history.iter_rows()}
    assert view.historical_value == table["historical_value"].sum()
    assert view.predicted_clv == table["predicted_clv"].sum()
    expected = segment_summary(scored)
    assert view.segments.drop("mean_recency_days", "mean_frequency").equals(
        expected.drop("mean_recency_days", "mean_frequency"))
    for mean in ("mean_recency_days", "mean_frequency"):
        assert view.segments[mean].fill_null(-1).to_list() == pytest.approx(expected[mean].fill_null(-1).to_list())
    # The top fifth by value, with P(alive) below one half, in Python.
    known = table.filter(pl.col("p_alive").is_not_null() & pl.col("historical_value").is_not_null())
    threshold = known["historical_value"].sort(descending=True)[known.height // 5 - 1]
    risky = known.filter((pl.col("historical_value") >= threshold) & (pl.col("p_alive") < 0.5)).sort(
        ["historical_value", "customer_id"], descending=[True, False])
    assert view.at_risk_count == risky.height > 15
    assert view.at_risk.equals(risky.head(15))
    ranked = table.filter(pl.col("predicted_clv").is_not_null()).sort(
        ["predicted_clv", "customer_id"], descending=[True, False])
    assert view.clv_top.equals(ranked.head(100))
    counts, _ = np.histogram(ranked["predicted_clv"].cast(pl.Float64).to_numpy(), bins=views.CLV_BINS)
    assert list(view.clv_counts) == counts.tolist()
    # The refresh kept how customers moved between segments in the last 90 days.
    moved = views.stored_movement(latest_run(wh, "s", "rfm"))
    earlier = AS_OF - dt.timedelta(days=90)
    assert moved.equals(views.movement_view(wh, "s", AS_OF, earlier, 60))
    assert moved.equals(segment_movement(rfm_scores(orders, earlier, 60), rfm_scores(orders, AS_OF, 60)))
    assert moved["customers"].sum() >= view.scored and views.stored_movement({"metrics": {}}) is None

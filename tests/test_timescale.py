"""TimescaleDB mode: hypertables, keys that hold time, daily sales from a continuous aggregate.

The TimescaleDB cases run on the server named by ``TEST_TIMESCALE_URL``
(PostgreSQL with ``timescaledb`` in ``shared_preload_libraries``) and skip
without it; the plain cases use the usual PostgreSQL and DuckDB fixtures.
The whole contract suite also runs there through the ``wh`` fixture.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import polars as pl
import pytest

from analytics.metrics import sales_over_time, sales_summary
from data import timescale
from data.rollups import refresh_orders, refresh_store
from data.warehouse import connect
from tests.builders import TIMESTAMP, add_order, add_refund, add_store, utc

D = Decimal
HYPERTABLES = {"orders", "order_lines", "inventory_snapshots", "web_events", "order_facts"}
STATE = {
    "orders": "SELECT * FROM orders ORDER BY store_id, order_id",
    "order_lines": "SELECT * FROM order_lines ORDER BY store_id, line_id",
    "refunds": "SELECT * FROM refunds ORDER BY store_id, refund_id",
    "refund_lines": "SELECT * FROM refund_lines ORDER BY store_id, refund_id, line_id",
    "web_events": "SELECT * FROM web_events ORDER BY store_id, event_id",
    "inventory_snapshots": "SELECT * FROM inventory_snapshots ORDER BY store_id, snapshot_date, variant_id",
}
DAILY_SALES = f"SELECT {', '.join(timescale.DAILY_SALES_COLUMNS)} FROM daily_sales " \
              "ORDER BY store_id, day, channel NULLS FIRST, country NULLS FIRST"


@pytest.fixture
def tsw(ts_url):
    warehouse = connect(ts_url)
    yield warehouse
    warehouse.close()


@pytest.fixture
def pgw(pg_url):
    warehouse = connect(pg_url)
    yield warehouse
    warehouse.close()


@pytest.fixture
def ddb(duckdb_url):
    warehouse = connect(duckdb_url)
    yield warehouse
    warehouse.close()


def _events(rows: list[tuple[str, dt.datetime, str]]) -> pl.DataFrame:
    return pl.DataFrame({
        "store_id": ["s"] * len(rows), "event_id": [r[0] for r in rows], "session_id": ["sess1"] * len(rows),
        "occurred_at": [r[1] for r in rows], "event_type": [r[2] for r in rows],
        "product_id": ["p1"] * len(rows), "source": ["google"] * len(rows), "medium": ["cpc"] * len(rows),
        "device": ["mobile"] * len(rows),
    }, schema_overrides={"occurred_at": TIMESTAMP})


def _snapshots(day: dt.date, available: list[int]) -> pl.DataFrame:
    n = len(available)
    return pl.DataFrame({
        "store_id": ["s"] * n, "snapshot_date": [day] * n, "variant_id": [f"v{i + 1}" for i in range(n)],
        "location_id": ["loc1"] * n, "available": available,
    }, schema_overrides={"available": pl.Int32})


def _write_store(wh) -> None:
    """Orders, lines, refunds, web events and stock: everything a sync writes (after the store)."""
    add_order(wh, "o1", utc(2026, 3, 2, 15), [(2, "25.00", "0"), (1, "9.99", "1.00")], shipping="5.00", tax="4.00")
    add_order(wh, "o2", utc(2026, 5, 9, 3), [(1, "40.00", "4.00")], customer="c2", channel="pos", country="CA")
    add_refund(wh, "r1", "o1", utc(2026, 3, 5, 15), {1: (1, "25.00")}, tax="2.00")
    wh.upsert("web_events", _events([("e1", utc(2026, 3, 2, 14), "session_start"),
                                     ("e2", utc(2026, 3, 2, 15), "purchase")]))
    wh.upsert("inventory_snapshots", _snapshots(dt.date(2026, 3, 2), [10, 4]))


def _state(wh) -> dict[str, list[tuple]]:
    return {table: wh.rows(sql) for table, sql in STATE.items()}


def _without(rows: list[tuple], index: int) -> list[tuple]:
    return [r[:index] + r[index + 1:] for r in rows]


# -- the mode ---------------------------------------------------------------------

def test_a_fresh_warehouse_is_in_timescale_mode(tsw):
    assert timescale.enabled(tsw)
    assert tsw.rows("SELECT feature, enabled FROM warehouse_features") == [("timescaledb", True)]
    hypertables = tsw.rows(
        "SELECT hypertable_name FROM timescaledb_information.hypertables "
        "WHERE hypertable_schema = current_schema()")
    assert {r[0] for r in hypertables} == HYPERTABLES
    dimensions = dict(tsw.rows(
        "SELECT hypertable_name, column_name FROM timescaledb_information.dimensions "
        "WHERE hypertable_schema = current_schema()"))
    assert dimensions == {"orders": "created_at", "order_lines": "order_created_at",
                          "inventory_snapshots": "snapshot_date", "web_events": "occurred_at",
                          "order_facts": "local_date"}
    assert tsw.rows(
        "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates "
        "WHERE view_schema = current_schema() ORDER BY view_name") == [
            ("daily_sales_cagg", False), ("daily_stock_cagg", False)]
    jobs = tsw.rows(
        "SELECT j.schedule_interval, j.config->>'start_offset', j.config->>'end_offset' "
        "FROM timescaledb_information.jobs j JOIN timescaledb_information.continuous_aggregates c "
        # Older releases name the materialization hypertable in jobs, 2.22 names the view.
        "ON (j.hypertable_schema, j.hypertable_name) IN ((c.materialization_hypertable_schema, "
        "c.materialization_hypertable_name), (c.view_schema, c.view_name)) "
        "WHERE j.proc_name = 'policy_refresh_continuous_aggregate' AND c.view_schema = current_schema()")
    assert jobs == [(dt.timedelta(minutes=5), None, "2 days")] * 2
    assert "order_created_at" in tsw.columns("order_lines")
    # Running the migrations again changes nothing.
    from data.migrations import migrate

    assert migrate(tsw) == []
    assert tsw.scalar("SELECT count(*) FROM warehouse_features") == 1


def test_plain_postgres_stays_plain_and_says_why(pgw):
    if pgw.scalar("SELECT current_setting('timescaledb.disable_load', true)") is not None:
        pytest.skip("this PostgreSQL server preloads TimescaleDB")
    assert not timescale.enabled(pgw)
    enabled, detail = pgw.rows("SELECT enabled, detail FROM warehouse_features WHERE feature = 'timescaledb'")[0]
    assert enabled is False and "timescaledb" in detail
    assert "order_created_at" not in pgw.columns("order_lines")
    assert pgw.columns("daily_sales") == list(timescale.DAILY_SALES_COLUMNS)
    assert pgw.time_columns() == {}


def test_duckdb_has_the_same_daily_sales_view(ddb):
    assert not timescale.enabled(ddb)
    assert ddb.columns("daily_sales") == list(timescale.DAILY_SALES_COLUMNS)


def test_a_failed_conversion_leaves_a_working_plain_warehouse(ts_url, monkeypatch, caplog):
    broken = (timescale.Hypertable("orders", "created_at", "not an interval"),) + timescale.HYPERTABLES[1:]
    monkeypatch.setattr(timescale, "HYPERTABLES", broken)
    with caplog.at_level(logging.WARNING, logger="data.timescale"):
        wh = connect(ts_url)
    try:
        assert not timescale.enabled(wh)
        assert "plain PostgreSQL" in caplog.text and "setting up TimescaleDB failed" in caplog.text
        assert wh.scalar("SELECT count(*) FROM timescaledb_information.hypertables "
                         "WHERE hypertable_schema = current_schema()") == 0
        assert "order_created_at" not in wh.columns("order_lines")
        add_store(wh)
        _write_store(wh)
        _write_store(wh)
        assert wh.scalar("SELECT count(*) FROM order_lines") == 3
    finally:
        wh.close()


# -- upserts on the contract keys --------------------------------------------------

def test_upserting_the_same_rows_twice_changes_nothing(tsw):
    add_store(tsw)
    _write_store(tsw)
    first = _state(tsw)
    _write_store(tsw)
    assert _state(tsw) == first
    assert [len(first[t]) for t in STATE] == [2, 3, 1, 1, 2, 2]
    # Every line carries its order's created_at.
    assert tsw.rows(
        "SELECT count(*) FROM order_lines l JOIN orders o ON o.store_id = l.store_id AND o.order_id = l.order_id "
        "WHERE l.order_created_at <> o.created_at") == [(0,)]


def test_an_order_whose_fields_change_is_updated_in_place(tsw, pgw):
    for wh in (tsw, pgw):
        add_store(wh)
        add_order(wh, "o1", utc(2026, 3, 2, 15), [(2, "25.00", "0"), (1, "9.99", "0")])
        add_order(wh, "o1", utc(2026, 3, 2, 15), [(3, "25.00", "5.00"), (1, "9.99", "0")],
                  status="partially_refunded", shipping="7.00")
    assert tsw.rows("SELECT order_id, financial_status, total_shipping, total_discounts FROM orders") == [
        ("o1", "partially_refunded", D("7"), D("5"))]
    assert tsw.rows("SELECT line_id, quantity, discount FROM order_lines ORDER BY line_id") == [
        ("o1-1", 3, D("5")), ("o1-2", 1, D("0"))]
    assert _state(tsw)["orders"] == _state(pgw)["orders"]


def test_a_changed_created_at_replaces_the_order_and_moves_its_lines(tsw, pgw):
    moved_to = utc(2026, 8, 20, 12)  # months later: another chunk
    for wh in (tsw, pgw):
        add_store(wh)
        add_order(wh, "o1", utc(2026, 3, 2, 15), [(2, "25.00", "0"), (1, "9.99", "0")])
        # The source corrects the order's time; its lines are not sent again.
        wh.upsert("orders", wh.query("SELECT * FROM orders").with_columns(
            pl.lit(moved_to).cast(TIMESTAMP).alias("created_at")))
    assert tsw.rows("SELECT order_id, created_at FROM orders") == [("o1", moved_to)]
    assert tsw.rows("SELECT line_id, order_created_at FROM order_lines ORDER BY line_id") == [
        ("o1-1", moved_to), ("o1-2", moved_to)]
    # Then the whole order again, lines included: still one row each.
    for wh in (tsw, pgw):
        add_order(wh, "o1", moved_to, [(2, "25.00", "0"), (1, "9.99", "0")])
    ts_state, pg_state = _state(tsw), _state(pgw)
    assert ts_state["orders"] == pg_state["orders"]
    line_time = tsw.columns("order_lines").index("order_created_at")
    assert _without(ts_state["order_lines"], line_time) == pg_state["order_lines"]
    assert [r[line_time] for r in ts_state["order_lines"]] == [moved_to, moved_to]


def test_a_web_event_with_a_changed_time_is_replaced(tsw):
    tsw.upsert("web_events", _events([("e1", utc(2026, 3, 2, 14), "session_start")]))
    tsw.upsert("web_events", _events([("e1", utc(2026, 6, 2, 14), "view_item")]))
    assert tsw.rows("SELECT event_id, occurred_at, event_type FROM web_events") == [
        ("e1", utc(2026, 6, 2, 14), "view_item")]


def test_lines_written_before_their_order_take_its_time_once_it_arrives(tsw):
    add_store(tsw)
    lines = pl.DataFrame({"store_id": ["s", "s"], "line_id": ["o9-1", "o9-2"], "order_id": ["o9", "o9"],
                          "quantity": [1, 2], "unit_price": [D("3.00"), D("4.00")]},
                         schema_overrides={"quantity": pl.Int32, "unit_price": pl.Decimal(18, 4)})
    tsw.upsert("order_lines", lines)
    tsw.upsert("order_lines", lines)
    assert tsw.scalar("SELECT count(*) FROM order_lines") == 2
    add_order(tsw, "o9", utc(2026, 4, 1, 10), [(1, "3.00", "0"), (2, "4.00", "0")])
    assert tsw.rows("SELECT line_id, quantity, order_created_at FROM order_lines ORDER BY line_id") == [
        ("o9-1", 1, utc(2026, 4, 1, 10)), ("o9-2", 2, utc(2026, 4, 1, 10))]


def test_insert_fills_the_order_time_of_lines(tsw):
    add_store(tsw)
    tsw.insert("orders", pl.DataFrame({"store_id": ["s"], "order_id": ["o1"], "created_at": [utc(2026, 2, 1)],
                                       "currency": ["USD"]}, schema_overrides={"created_at": TIMESTAMP}))
    tsw.insert("order_lines", pl.DataFrame({"store_id": ["s"], "line_id": ["l1"], "order_id": ["o1"],
                                            "quantity": [1], "unit_price": [D("2.00")]},
                                           schema_overrides={"quantity": pl.Int32, "unit_price": pl.Decimal(18, 4)}))
    assert tsw.rows("SELECT line_id, order_created_at FROM order_lines") == [("l1", utc(2026, 2, 1))]


def test_insert_refuses_a_stored_key_as_plain_postgres_does(tsw, pgw):
    from psycopg.errors import UniqueViolation

    for wh in (tsw, pgw):
        add_store(wh)
        add_order(wh, "o1", utc(2026, 3, 2, 15))
        again = pl.DataFrame({"store_id": ["s"], "order_id": ["o1"], "created_at": [utc(2026, 7, 1)],
                              "currency": ["USD"]}, schema_overrides={"created_at": TIMESTAMP})
        with pytest.raises(UniqueViolation, match="duplicate key"):
            wh.insert("orders", again)
        twice = _events([("e5", utc(2026, 3, 2, 14), "session_start"), ("e5", utc(2026, 4, 2, 14), "view_item")])
        with pytest.raises(UniqueViolation, match="duplicate key"):
            wh.insert("web_events", twice)
        assert wh.rows("SELECT order_id, created_at FROM orders") == [("o1", utc(2026, 3, 2, 15))]
        assert wh.scalar("SELECT count(*) FROM web_events") == 0


def test_deletes_by_contract_keys(tsw):
    add_store(tsw)
    _write_store(tsw)
    keys = pl.DataFrame({"store_id": ["s"], "order_id": ["o1"]})
    tsw.delete_keys("order_lines", keys, ["store_id", "order_id"])
    tsw.delete_keys("orders", keys)
    tsw.delete_keys("web_events", pl.DataFrame({"store_id": ["s"], "event_id": ["e2"]}))
    assert tsw.rows("SELECT order_id FROM orders") == [("o2",)]
    assert tsw.rows("SELECT DISTINCT order_id FROM order_lines") == [("o2",)]
    assert tsw.rows("SELECT event_id FROM web_events") == [("e1",)]


# -- rollups and daily sales ----------------------------------------------------------

def _sales_store(wh) -> None:
    """Orders over several days, channels and countries, with the cases that do not count."""
    add_store(wh)
    add_order(wh, "a", utc(2026, 3, 2, 4, 30), [(2, "10.00", "1.00"), (1, "5.50", "0")], shipping="5.00",
              tax="2.00")  # 23:30 on 1 March in New York
    add_order(wh, "b", utc(2026, 3, 2, 15), [(1, "99.00", "9.00")], customer="c2", channel="pos", country=None)
    add_order(wh, "c", utc(2026, 3, 2, 16), [(3, "7.00", "0")], customer="c3", country="CA", duties="1.25")
    add_order(wh, "d", utc(2026, 3, 3, 15), [(1, "50.00", "0")], test=True)
    add_order(wh, "e", utc(2026, 3, 3, 16), [(1, "20.00", "0")], status="voided", cancelled=utc(2026, 3, 3, 17))
    add_order(wh, "f", utc(2026, 3, 4, 15), [(1, "25.00", "0", True), (2, "12.00", "2.00")], customer=None,
              channel=None)
    add_order(wh, "g", utc(2026, 6, 10, 15), [(4, "3.25", "0.50")], customer="c2")
    add_refund(wh, "r1", "a", utc(2026, 3, 6, 3), {1: (1, "9.50")}, shipping="5.00", tax="1.00")
    refresh_store(wh, "s")


def _rollups(wh) -> dict[str, list[tuple]]:
    return {
        "order_facts": wh.rows("SELECT * FROM order_facts ORDER BY store_id, order_id"),
        "refund_facts": wh.rows("SELECT * FROM refund_facts ORDER BY store_id, refund_id"),
        "variant_daily_sales": wh.rows(
            "SELECT * FROM variant_daily_sales ORDER BY store_id, local_date, variant_id, channel"),
        "daily_sales": wh.rows(DAILY_SALES),
    }


def _metrics(wh) -> tuple:
    start, end = dt.date(2026, 3, 1), dt.date.today()
    return sales_summary(wh, "s", start, end), sales_over_time(wh, "s", start, end, "month").rows()


def test_rollups_and_daily_sales_match_plain_postgres_and_duckdb(tsw, pgw, ddb):
    for wh in (tsw, pgw, ddb):
        _sales_store(wh)
    expected = _rollups(pgw)
    assert _rollups(ddb) == expected
    assert _rollups(tsw) == expected
    assert expected["daily_sales"][:2] == [
        ("s", dt.date(2026, 3, 1), "online_store", "US", 1, D("25.5"), D("1"), 3, D("5"), D("2"), D("0")),
        ("s", dt.date(2026, 3, 2), "online_store", "CA", 1, D("21"), D("0"), 3, D("0"), D("0"), D("1.25")),
    ]
    assert _metrics(tsw) == _metrics(pgw)
    schema = tsw.query("SELECT * FROM daily_sales").schema
    assert schema == pgw.query("SELECT * FROM daily_sales").schema
    assert list(schema) == list(timescale.DAILY_SALES_COLUMNS)


def test_daily_sales_stay_exact_after_materialization(tsw, pgw):
    for wh in (tsw, pgw):
        _sales_store(wh)
    timescale.refresh_daily_sales(tsw)  # what the policy does: everything up to two days ago
    table = tsw.scalar(
        "SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) "
        "FROM timescaledb_information.continuous_aggregates WHERE view_schema = current_schema() "
        "AND view_name = 'daily_sales_cagg'")
    assert tsw.scalar(f"SELECT count(*) FROM {table}") == len(pgw.rows(DAILY_SALES))
    assert tsw.rows(DAILY_SALES) == pgw.rows(DAILY_SALES)
    # A fresh order shows at once (real-time aggregation above the watermark) ...
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    for wh in (tsw, pgw):
        add_order(wh, "today", now, [(1, "15.00", "0")], customer="c9")
        refresh_orders(wh, "s", ["today"])
    assert tsw.rows(DAILY_SALES) == pgw.rows(DAILY_SALES)
    # ... and a change to an old day after the next refresh.
    for wh in (tsw, pgw):
        add_order(wh, "g", utc(2026, 6, 10, 15), [(4, "3.25", "0.50")], customer="c2", status="voided",
                  cancelled=utc(2026, 6, 11))
        refresh_orders(wh, "s", ["g"])
    timescale.refresh_daily_sales(tsw)
    assert tsw.rows(DAILY_SALES) == pgw.rows(DAILY_SALES)
    assert _rollups(tsw) == _rollups(pgw)
    # A window of recent days only is left to real-time aggregation.
    timescale.refresh_daily_sales(tsw, start=dt.date.today())
    assert tsw.rows(DAILY_SALES) == pgw.rows(DAILY_SALES)


def test_the_metric_layer_reads_daily_sums_from_the_continuous_aggregate(tsw, pgw, ddb):
    assert (timescale.reads_aggregates(tsw), timescale.reads_aggregates(pgw), timescale.reads_aggregates(ddb)) \
        == (True, False, False)
    for wh in (tsw, pgw):
        _sales_store(wh)
    timescale.refresh_daily_sales(tsw)
    day = dt.date(2026, 3, 2)
    before = sales_summary(tsw, "s", day, day)
    assert (before["orders"], before["gross_sales"]) == (2, D("120.0000"))   # b and c (99 + 21); a is 1 March there
    # Behind the aggregate's back (no rollup refresh, no invalidation it would see through a refresh):
    # the materialized day still answers until the aggregate is refreshed, which is what proves it is read.
    tsw.execute("DELETE FROM order_facts WHERE store_id = 's' AND order_id = 'b'")
    assert sales_summary(tsw, "s", day, day)["orders"] == 2
    timescale.refresh_daily_sales(tsw)
    after = sales_summary(tsw, "s", day, day)
    assert (after["orders"], after["gross_sales"]) == (1, D("21.0000"))


def _stock_store(wh) -> None:
    add_store(wh)
    two_locations = pl.concat([_snapshots(dt.date(2026, 3, 2), [10, 4]),
                               _snapshots(dt.date(2026, 3, 2), [1, 0]).with_columns(pl.lit("loc2").alias("location_id")),
                               _snapshots(dt.date(2026, 3, 3), [9, 0]),
                               _snapshots(dt.date.today(), [7, 2])])
    wh.upsert("inventory_snapshots", two_locations)


DAILY_STOCK = "SELECT store_id, day, variant_id, available, locations FROM daily_stock ORDER BY day, variant_id"


def test_daily_stock_is_the_same_view_everywhere_and_stays_exact_after_materialization(tsw, pgw, ddb):
    for wh in (tsw, pgw, ddb):
        _stock_store(wh)
    expected = [
        ("s", dt.date(2026, 3, 2), "v1", 11, 2), ("s", dt.date(2026, 3, 2), "v2", 4, 2),
        ("s", dt.date(2026, 3, 3), "v1", 9, 1), ("s", dt.date(2026, 3, 3), "v2", 0, 1),
        ("s", dt.date.today(), "v1", 7, 1), ("s", dt.date.today(), "v2", 2, 1),
    ]
    assert ddb.rows(DAILY_STOCK) == pgw.rows(DAILY_STOCK) == expected
    assert tsw.rows(DAILY_STOCK) == expected
    timescale.refresh_daily_sales(tsw)
    materialized = tsw.scalar(
        "SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) "
        "FROM timescaledb_information.continuous_aggregates WHERE view_schema = current_schema() "
        "AND view_name = 'daily_stock_cagg'")
    assert tsw.scalar(f"SELECT count(*) FROM {materialized}") == 4   # the two old days; today stays real-time
    assert tsw.rows(DAILY_STOCK) == expected
    assert tsw.query("SELECT * FROM daily_stock").schema == pgw.query("SELECT * FROM daily_stock").schema


def test_refresh_daily_sales_is_a_no_op_off_timescale(pgw, ddb):
    timescale.refresh_daily_sales(pgw)
    timescale.refresh_daily_sales(ddb)

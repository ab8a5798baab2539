"""The BigQuery export, through the official client, against a local BigQuery emulator."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("bqemulator", reason="the BigQuery emulator (a test dependency) is not installed")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

from data.export import bigquery as bq_export  # noqa: E402
from data.export.bigquery import export_bigquery, make_client  # noqa: E402
from data.export.tables import EXPORT_TABLES  # noqa: E402
from data.rollups import refresh_store  # noqa: E402
from data.warehouse import connect  # noqa: E402
from tests.builders import add_order, add_refund, add_store, utc  # noqa: E402
from tests.emulators.bigquery import BigQueryEmulator  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
_datasets = itertools.count()


@pytest.fixture(scope="module")
def emulator():
    logging.getLogger("bqemulator").setLevel(logging.WARNING)
    server = BigQueryEmulator().start()
    previous = os.environ.get("BIGQUERY_EMULATOR_HOST")
    os.environ["BIGQUERY_EMULATOR_HOST"] = server.url
    yield server
    if previous is None:
        os.environ.pop("BIGQUERY_EMULATOR_HOST", None)
    else:
        os.environ["BIGQUERY_EMULATOR_HOST"] = previous
    server.stop()


@pytest.fixture
def client(emulator):
    return make_client("shop-analytics")


@pytest.fixture
def dataset():
    return f"export_{os.getpid()}_{next(_datasets)}"


@pytest.fixture
def wh(tmp_path):
    """The export reads through the warehouse interface (tested on every backend with the Parquet export);
    against the emulator, which answers slowly, the DuckDB backend only."""
    warehouse = connect(f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    yield warehouse
    warehouse.close()


SALES = ["stores", "orders", "order_lines"]


def _store(wh) -> None:
    """Two orders in New York (one refunded in part two days later), one test order."""
    add_store(wh)
    add_order(wh, "o1", utc(2026, 3, 2, 15), [(2, "10.00", "1.00"), (1, "5.0001", "0")], shipping="4.00",
              tax="2.00")
    add_order(wh, "o2", utc(2026, 4, 1, 3), [(1, "7.50", "0")])  # 31 March in New York
    add_order(wh, "t1", utc(2026, 3, 3, 12), [(1, "99.00", "0")], test=True)
    add_refund(wh, "r1", "o1", utc(2026, 3, 4, 15), {1: (1, "10.00")}, shipping="1.00", tax="0.50")
    refresh_store(wh, "s")


def _rows(client, sql: str) -> list[tuple]:
    return [tuple(row.values()) for row in client.query(sql).result()]


AFTER = utc(2026, 5, 1)


def test_every_table_is_merged_with_exact_money_and_the_views_give_the_apps_figures(wh, client, dataset):
    _store(wh)
    result = export_bigquery(wh, client, dataset, now=AFTER, timeout=30)
    name = f"shop-analytics.{dataset}"
    assert _rows(client, f"SELECT order_id, total_price, created_at FROM `{name}.orders` ORDER BY order_id") == \
        wh.rows("SELECT order_id, total_price, created_at FROM orders ORDER BY order_id")
    assert _rows(client, f"SELECT SUM(unit_price * quantity) FROM `{name}.order_lines`") == [(Decimal("131.5001"),)]
    assert result.rows_changed["orders"] == 3 and result.rows_changed["order_lines"] == 4
    assert result.load_jobs == sum(1 for n in result.rows_changed.values() if n)
    table = client.get_table(f"{name}.orders")
    assert (table.time_partitioning.type_, table.time_partitioning.field) == ("DAY", "created_at")
    assert table.clustering_fields == ["store_id"]
    assert {t.table_id for t in client.list_tables(f"{name}")} >= {t.name for t in EXPORT_TABLES} | {
        "bi_orders", "bi_order_lines", "bi_daily_sales", "bi_customers", "bi_daily_stock", "bi_forecasts"}
    # the views in BigQuery hold the same rows as in the warehouse
    columns = "store_id, day, orders, gross_sales, discounts, returns, net_sales, shipping, taxes, total_sales"
    expected = wh.rows(f"SELECT {columns} FROM bi_daily_sales ORDER BY day")
    assert expected == [
        ("s", dt.date(2026, 3, 2), 1, Decimal("25.0001"), Decimal("1"), Decimal("0"), Decimal("24.0001"),
         Decimal("4"), Decimal("2"), Decimal("30.0001")),
        ("s", dt.date(2026, 3, 4), 0, Decimal("0"), Decimal("0"), Decimal("10"), Decimal("-10"), Decimal("-1"),
         Decimal("-0.5"), Decimal("-11.5")),
        ("s", dt.date(2026, 3, 31), 1, Decimal("7.5"), Decimal("0"), Decimal("0"), Decimal("7.5"), Decimal("0"),
         Decimal("0"), Decimal("7.5"))]
    assert _rows(client, f"SELECT {columns} FROM `{name}.bi_daily_sales` ORDER BY day") == expected
    assert _rows(client, f"SELECT order_id, counted, net_sales FROM `{name}.bi_orders` ORDER BY order_id") == \
        wh.rows("SELECT order_id, counted, net_sales FROM bi_orders ORDER BY order_id")


def test_a_second_run_changes_nothing_and_a_changed_row_is_replaced(wh, client, dataset):
    _store(wh)
    export_bigquery(wh, client, dataset, tables=SALES, now=AFTER, timeout=30)
    again = export_bigquery(wh, client, dataset, tables=SALES, now=AFTER + dt.timedelta(hours=2), timeout=30)
    assert sum(again.rows_changed.values()) == 0
    wh.execute("UPDATE orders SET financial_status = 'refunded', updated_at = :t WHERE order_id = 'o2'",
               {"t": AFTER + dt.timedelta(hours=3)})
    third = export_bigquery(wh, client, dataset, tables=SALES, now=AFTER + dt.timedelta(hours=4), timeout=30)
    assert third.rows_changed["orders"] == 1
    assert _rows(client, f"SELECT order_id, financial_status FROM `shop-analytics.{dataset}.orders` "
                         "ORDER BY order_id") == [("o1", "paid"), ("o2", "refunded"), ("t1", "paid")]


def test_a_killed_run_merges_again_and_goes_on(wh, client, dataset, monkeypatch):
    _store(wh)
    real = bq_export._load_and_merge

    def killed_at_the_lines(session, table, schema, data, result):
        if table.name == "order_lines":
            raise KeyboardInterrupt
        return real(session, table, schema, data, result)

    monkeypatch.setattr(bq_export, "_load_and_merge", killed_at_the_lines)
    with pytest.raises(KeyboardInterrupt):
        export_bigquery(wh, client, dataset, tables=SALES, now=AFTER, timeout=30)
    monkeypatch.setattr(bq_export, "_load_and_merge", real)
    name = f"shop-analytics.{dataset}"
    marks = dict(_rows(client, f"SELECT table_name, watermark FROM `{name}._export_state`"))
    assert "orders" in marks and "order_lines" not in marks
    resumed = export_bigquery(wh, client, dataset, tables=SALES, now=AFTER, timeout=30)
    assert resumed.rows_changed["orders"] == 0 and resumed.rows_changed["order_lines"] == 4
    assert _rows(client, f"SELECT COUNT(*), COUNT(DISTINCT line_id) FROM `{name}.order_lines`") == [(4, 4)]


def test_a_key_twice_in_one_batch_is_merged_once(wh, client, dataset):
    import pyarrow as pa

    _store(wh)
    export_bigquery(wh, client, dataset, tables=["stores"], now=AFTER, timeout=30)
    from google.cloud import bigquery

    session = bq_export._Session(client, f"shop-analytics.{dataset}", bigquery.DEFAULT_RETRY.with_deadline(30), 30)
    table = next(t for t in EXPORT_TABLES if t.name == "stores")
    schema = bq_export._load_schema(wh, table)
    rows = wh.query("SELECT * FROM stores").to_arrow()
    twice = bq_export.as_schema(pa.concat_tables([rows, rows]), schema)
    result = bq_export.BigQueryResult(dataset)
    assert bq_export._load_and_merge(session, table, schema, twice, result) == 0
    assert _rows(client, f"SELECT COUNT(*) FROM `shop-analytics.{dataset}.stores`") == [(1,)]


def test_batches_hold_whole_months_of_one_store_under_the_limits(monkeypatch):
    monkeypatch.setattr(bq_export, "BATCH_ROWS", 100)
    monkeypatch.setattr(bq_export, "BATCH_MONTHS", 3)
    months = [dt.date(2026, m, 1) for m in range(1, 6)]
    counts = {("a", m): 40 for m in months} | {("b", months[0]): 500}
    table = next(t for t in EXPORT_TABLES if t.name == "orders")
    batches = list(bq_export._batches(table, list(counts), counts))
    assert batches == [[("a", months[0]), ("a", months[1])], [("a", months[2]), ("a", months[3])],
                       [("a", months[4])], [("b", months[0])]]


def test_the_command_exports_and_bad_credentials_get_one_sentence(emulator, tmp_path, dataset):
    db = tmp_path / "warehouse.duckdb"
    wh = connect(f"duckdb:///{db}")
    _store(wh)
    wh.close()
    run = [sys.executable, "-m", "data", "export", "bigquery", "--project", "shop-analytics", "--dataset", dataset,
           "--db", f"duckdb:///{db}", "--table", "orders", "--table", "stores"]
    env = {**os.environ, "BIGQUERY_EMULATOR_HOST": emulator.url}
    done = subprocess.run(run, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"into shop-analytics.{dataset}" in done.stdout and "orders: 3 rows inserted or updated" in done.stderr
    env.pop("BIGQUERY_EMULATOR_HOST")
    refused = subprocess.run([*run, "--credentials", str(tmp_path / "missing.json")], cwd=PROJECT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: no usable Google credentials")

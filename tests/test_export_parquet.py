"""The Parquet export: every contract table, Hive-partitioned, incremental, atomic, read by DuckDB and Polars."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from data.export import parquet as parquet_export
from data.export.parquet import MANIFEST, export_parquet
from data.export.tables import EXPORT_TABLES
from data.rollups import refresh_store
from data.warehouse import WarehouseError, connect
from tests.bi_store import build_bi_store
from tests.builders import add_order, add_refund, add_store, utc

PROJECT = Path(__file__).resolve().parent.parent
AFTER = utc(2027, 1, 10)  # the demo store ends on 31 December 2026


def _duck(directory: Path, table: str, sql: str = "SELECT count(*) FROM t") -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{directory}/{table}/**/*.parquet', "
                "hive_partitioning = true)")
    return con.execute(sql).fetchall()


def _polars(directory: Path, table: str) -> pl.DataFrame:
    return pl.scan_parquet(directory / table, hive_partitioning=True).collect()


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory):
    """A scored demo store on DuckDB, exported once."""
    path = tmp_path_factory.mktemp("px")
    wh = connect(f"duckdb:///{path / 'warehouse.duckdb'}")
    build_bi_store(wh, forecasts=False)
    result = export_parquet(wh, path / "export", now=AFTER)
    yield wh, path / "export", result
    wh.close()


def test_every_table_is_exported_with_its_rows(demo_export):
    wh, out, result = demo_export
    manifest = json.loads((out / MANIFEST).read_text())
    assert set(manifest["tables"]) == {t.name for t in EXPORT_TABLES}
    assert "webhook_events" not in manifest["tables"] and "app_settings" not in manifest["tables"]
    for table in EXPORT_TABLES:
        count = wh.scalar(f"SELECT count(*) FROM {table.name}")
        assert manifest["tables"][table.name]["rows"] == count, table.name
        if count:
            assert _duck(out, table.name) == [(count,)], table.name
    assert result.rows_written == sum(e["rows"] for e in manifest["tables"].values()) > 50_000
    assert manifest["tables"]["orders"]["watermark"] == AFTER.isoformat()
    assert manifest["tables"]["orders"]["partition_by"] == [{"name": "store_id", "type": "string"},
                                                            {"name": "month", "type": "string"}]
    # months are UTC months: the last evening of December in New York is in January
    months = [r[0] for r in wh.rows("SELECT DISTINCT strftime(created_at, '%Y-%m') FROM orders ORDER BY 1")]
    assert months == ["2026-11", "2026-12", "2027-01"]
    assert {path: p["rows"] for path, p in manifest["tables"]["orders"]["partitions"].items()} == {
        f"store_id=demo/month={m}": wh.scalar("SELECT count(*) FROM orders WHERE strftime(created_at, '%Y-%m') = :m",
                                              {"m": m}) for m in months}


def test_duckdb_and_polars_read_the_figures_of_the_warehouse(demo_export):
    wh, out, _ = demo_export
    expected = wh.rows("SELECT count(*), sum(total_price), sum(total_tax) FROM orders")[0]
    assert _duck(out, "orders", "SELECT count(*), sum(total_price), sum(total_tax) FROM t")[0] == expected
    orders = _polars(out, "orders")
    assert orders["total_price"].dtype == pl.Decimal(18, 4)
    assert (orders.height, orders["total_price"].sum()) == expected[:2]
    assert set(orders["store_id"]) == {"demo"}
    assert orders["created_at"].dtype == pl.Datetime("us", "UTC")
    lines = _duck(out, "order_lines", "SELECT month, count(*) FROM t GROUP BY month ORDER BY month")
    assert lines == wh.rows("SELECT strftime(o.created_at, '%Y-%m'), count(*) FROM order_lines l "
                            "JOIN orders o USING (store_id, order_id) GROUP BY 1 ORDER BY 1")
    # the partition column is in the path, not repeated in the files
    one = next((out / "orders").glob("store_id=demo/month=*/data.parquet"))
    assert "store_id" not in pl.read_parquet_schema(one)


def test_a_second_export_without_changes_writes_nothing(demo_export):
    wh, out, _ = demo_export
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    again = export_parquet(wh, out, now=AFTER + dt.timedelta(days=1))
    assert (again.partitions_written, again.rows_written) == (0, 0)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")} == before


def test_changed_new_and_deleted_rows_replace_their_partitions_only(wh, tmp_path):
    add_store(wh, "shopify:acme", timezone="UTC")
    for n, day in enumerate((1, 2, 3)):
        add_order(wh, f"o{n}", utc(2026, 3, day, 12), [(1, "10.00", "0")], store_id="shopify:acme")
    add_order(wh, "a1", utc(2026, 4, 1, 12), [(2, "5.00", "0")], store_id="shopify:acme")
    refresh_store(wh, "shopify:acme")
    out = tmp_path / "export"
    export_parquet(wh, out, now=utc(2026, 5, 1))
    april = out / "orders" / "store_id=shopify%3Aacme" / "month=2026-04" / "data.parquet"
    april_written = april.stat().st_mtime_ns

    # o1 is paid back in part and touched again; o2 is deleted at the source; o9 is new in March
    wh.execute("UPDATE orders SET total_price = 7.5, updated_at = :t WHERE order_id = 'o1'", {"t": utc(2026, 5, 2)})
    wh.execute("DELETE FROM order_lines WHERE order_id = 'o2'")
    wh.execute("DELETE FROM orders WHERE order_id = 'o2'")
    add_order(wh, "o9", utc(2026, 3, 20, 12), [(3, "1.00", "0")], store_id="shopify:acme")
    add_refund(wh, "r1", "o1", utc(2026, 5, 2, 9), {1: (1, "2.50")}, store_id="shopify:acme")
    refresh_store(wh, "shopify:acme")
    second = export_parquet(wh, out, now=utc(2026, 5, 3))

    assert second.tables["orders"].partitions_written == 1 and april.stat().st_mtime_ns == april_written
    rows = _duck(out, "orders", "SELECT store_id, month, order_id, total_price FROM t ORDER BY order_id")
    assert rows == [("shopify:acme", "2026-04", "a1", Decimal("10")),
                    ("shopify:acme", "2026-03", "o0", Decimal("10")),
                    ("shopify:acme", "2026-03", "o1", Decimal("7.5")),
                    ("shopify:acme", "2026-03", "o9", Decimal("3"))]
    polars_rows = _polars(out, "order_lines").sort("line_id").select("store_id", "month", "line_id").rows()
    assert polars_rows == [("shopify:acme", "2026-04", "a1-1"), ("shopify:acme", "2026-03", "o0-1"),
                           ("shopify:acme", "2026-03", "o1-1"), ("shopify:acme", "2026-03", "o9-1")]
    assert _duck(out, "refunds", "SELECT refund_id, month FROM t") == [("r1", "2026-05")]
    manifest = json.loads((out / MANIFEST).read_text())
    assert {path: p["rows"] for path, p in manifest["tables"]["orders"]["partitions"].items()} == {
        "store_id=shopify%3Aacme/month=2026-03": 3,
                                                         "store_id=shopify%3Aacme/month=2026-04": 1}
    assert manifest["tables"]["orders"]["rows"] == 4


def test_a_killed_export_leaves_every_partition_whole_and_the_next_run_finishes(wh, tmp_path, monkeypatch):
    add_store(wh, timezone="UTC")
    for month in (1, 2, 3):
        add_order(wh, f"o{month}", utc(2026, month, 5), [(1, "10.00", "0")])
    refresh_store(wh, "s")
    out = tmp_path / "export"
    export_parquet(wh, out, now=utc(2026, 4, 1))
    for month in (1, 2, 3):
        wh.execute("UPDATE orders SET total_price = 20, updated_at = :t WHERE order_id = :o",
                   {"t": utc(2026, 4, 2), "o": f"o{month}"})
    real_write = parquet_export._write_parquet
    calls = []

    def dies_on_the_second(data, target, staging, known=None):
        calls.append(target)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_write(data, target, staging, known)

    monkeypatch.setattr(parquet_export, "_write_parquet", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        export_parquet(wh, out, now=utc(2026, 4, 3))
    monkeypatch.setattr(parquet_export, "_write_parquet", real_write)
    # one partition already new, the others still old: never a row twice, never a partial file
    assert sorted(_duck(out, "orders", "SELECT order_id, total_price FROM t ORDER BY order_id")) == [
        ("o1", Decimal("20")), ("o2", Decimal("10")), ("o3", Decimal("10"))]
    assert not (out / ".staging").exists()
    export_parquet(wh, out, now=utc(2026, 4, 3))
    assert _duck(out, "orders", "SELECT order_id, total_price FROM t ORDER BY order_id") == [
        ("o1", Decimal("20")), ("o2", Decimal("20")), ("o3", Decimal("20"))]


def test_another_export_writing_the_same_folder_is_refused(tmp_path):
    wh = connect("duckdb:///:memory:")
    out = tmp_path / "export"
    out.mkdir()
    with parquet_export._export_lock(out):
        with pytest.raises(WarehouseError, match="another export is writing"):
            export_parquet(wh, out)
    wh.close()


def test_the_command_exports_and_refuses_a_file_in_one_sentence(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    wh = connect(f"duckdb:///{db}")
    add_store(wh)
    add_order(wh, "o1", utc(2026, 3, 2), [(1, "10.00", "0")])
    wh.close()
    run = [sys.executable, "-m", "data", "export", "parquet"]
    done = subprocess.run([*run, str(tmp_path / "out"), "--db", f"duckdb:///{db}"], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "exported" in done.stdout and (tmp_path / "out" / MANIFEST).exists()
    (tmp_path / "file").write_text("x")
    refused = subprocess.run([*run, str(tmp_path / "file"), "--db", f"duckdb:///{db}"], cwd=PROJECT,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"error: {tmp_path / 'file'} is a file, not a folder."


class _Clock:
    """A clock that moves only when the loop waits; the loop stops after ``waits`` waits."""

    def __init__(self, waits: int) -> None:
        self.now, self.waits = 0.0, waits
        self.stop = self

    def __call__(self) -> float:
        return self.now

    def is_set(self) -> bool:
        return self.waits <= 0

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        self.waits -= 1
        return self.is_set()


def test_the_app_exports_on_a_schedule_and_not_without_a_folder(tmp_path):
    from data.export.schedule import run_export_loop

    wh = connect("duckdb:///:memory:")
    add_store(wh)
    add_order(wh, "o1", utc(2026, 3, 2), [(1, "10.00", "0")])
    out = tmp_path / "export"
    plans = iter([(None, 60.0)] * 2 + [(str(out), 60.0)] * 100)
    clock = _Clock(waits=70)
    exported_at = []
    real = parquet_export.export_parquet

    def recording(wh_, folder, **kw):
        exported_at.append(clock.now)
        return real(wh_, folder, **kw)

    parquet_export.export_parquet = recording
    try:
        run_export_loop(wh, clock, lambda: next(plans), check_seconds=60, first_delay=30, clock=clock)
    finally:
        parquet_export.export_parquet = real
        wh.close()
    # two minutes off; then on: the first export 30 s later, the next one an hour after it
    assert exported_at == [150.0, 3750.0]
    assert _duck(out, "orders") == [(1,)]

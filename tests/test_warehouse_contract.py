"""The storage contract: every backend behaves the same."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import polars as pl
import pytest

from data.keys import TABLE_KEYS
from data.migrations import migrate
from data.warehouse import WarehouseError, connect

UTC = dt.timezone.utc


def _variants(prices: list[str], sku: str | None = None) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "store_id": ["s1"] * len(prices),
            "variant_id": [f"v{i}" for i in range(len(prices))],
            "sku": [sku] * len(prices),
            "price": [Decimal(p) for p in prices],
        },
        schema_overrides={"price": pl.Decimal(18, 4), "sku": pl.String},
    )


def test_every_contract_table_exists(wh):
    assert set(TABLE_KEYS) <= wh.table_names()


def test_migrations_are_idempotent(wh):
    assert migrate(wh) == []
    count = wh.scalar("SELECT count(*) FROM schema_migrations")
    assert migrate(wh) == []
    assert wh.scalar("SELECT count(*) FROM schema_migrations") == count


def test_money_round_trips_exactly(wh):
    wh.insert("variants", _variants(["0.1000", "0.2000", "19.9900"]))
    total = wh.scalar("SELECT sum(price) FROM variants")
    assert total == Decimal("20.29")
    frame = wh.query("SELECT price FROM variants ORDER BY variant_id")
    assert frame["price"].dtype == pl.Decimal(frame["price"].dtype.precision, 4)
    assert frame["price"].to_list() == [Decimal("0.1"), Decimal("0.2"), Decimal("19.99")]


def test_upsert_replaces_on_key_and_is_idempotent(wh):
    wh.upsert("variants", _variants(["1.00", "2.00"]))
    wh.upsert("variants", _variants(["1.50", "2.00"], sku="X"))
    wh.upsert("variants", _variants(["1.50", "2.00"], sku="X"))
    rows = wh.rows("SELECT variant_id, sku, price FROM variants ORDER BY variant_id")
    assert rows == [("v0", "X", Decimal("1.5")), ("v1", "X", Decimal("2"))]


def test_upsert_keeps_the_last_of_duplicate_keys_in_one_batch(wh):
    frame = pl.concat([_variants(["1.00"]), _variants(["3.00"])])
    wh.upsert("variants", frame)
    assert wh.rows("SELECT price FROM variants") == [(Decimal("3"),)]


def test_upsert_mixes_stored_and_new_keys(wh):
    wh.upsert("variants", _variants(["1.00"]))
    # v0 is stored in s1; v1 is new; v0 of another store is a different key.
    other = _variants(["7.00"]).with_columns(pl.lit("s2").alias("store_id"))
    wh.upsert("variants", pl.concat([_variants(["4.00", "5.00"]), other]))
    rows = wh.rows("SELECT store_id, variant_id, price FROM variants ORDER BY store_id, variant_id")
    assert rows == [("s1", "v0", Decimal("4")), ("s1", "v1", Decimal("5")), ("s2", "v0", Decimal("7"))]


def test_upsert_writes_again_keys_deleted_in_the_same_transaction(wh):
    wh.upsert("variants", _variants(["1.00", "2.00"]))
    with wh.transaction():
        wh.delete_keys("variants", pl.DataFrame({"store_id": ["s1"]}), ["store_id"])
        wh.upsert("variants", _variants(["3.00"]))
        wh.delete_keys("variants", pl.DataFrame({"store_id": ["s1"]}), ["store_id"])
        wh.upsert("variants", _variants(["6.00"]))
    assert wh.rows("SELECT variant_id, price FROM variants") == [("v0", Decimal("6"))]


def test_transaction_rolls_back_everything_on_error(wh):
    wh.upsert("variants", _variants(["1.00"]))
    with pytest.raises(RuntimeError):
        with wh.transaction():
            wh.upsert("variants", _variants(["9.00", "9.00"]))
            wh.execute("DELETE FROM variants WHERE variant_id = :v", {"v": "v0"})
            raise RuntimeError("stop")
    assert wh.rows("SELECT variant_id, price FROM variants") == [("v0", Decimal("1"))]


def test_timestamps_are_utc_and_local_days_follow_the_store_timezone(wh):
    created = dt.datetime(2026, 3, 1, 4, 30, tzinfo=UTC)  # 23:30 on 28 Feb in New York
    wh.insert(
        "stores",
        pl.DataFrame({"store_id": ["s1"], "platform": ["csv"], "name": ["S"], "currency": ["USD"],
                      "timezone": ["America/New_York"], "created_at": [created]}),
    )
    row = wh.rows(
        "SELECT created_at, CAST(created_at AT TIME ZONE timezone AS DATE) FROM stores WHERE store_id = :s",
        {"s": "s1"},
    )[0]
    assert row[0] == created
    assert row[1] == dt.date(2026, 2, 28)


def test_empty_query_keeps_its_schema(wh):
    frame = wh.query("SELECT store_id, price, updated_at FROM variants WHERE 1 = 0")
    assert frame.height == 0
    assert frame.schema["store_id"] == pl.String
    assert isinstance(frame.schema["price"], pl.Decimal)
    assert frame.schema["updated_at"] == pl.Datetime("us", "UTC")


def test_delete_keys(wh):
    wh.insert("variants", _variants(["1", "2", "3"]))
    wh.delete_keys("variants", pl.DataFrame({"store_id": ["s1"], "variant_id": ["v1"]}))
    assert [r[0] for r in wh.rows("SELECT variant_id FROM variants ORDER BY 1")] == ["v0", "v2"]


def test_threads_each_get_their_own_transaction(wh):
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            with wh.transaction():
                wh.upsert("variants", _variants(["1"] * 5).with_columns(
                    pl.format("t{}_{}", pl.lit(i), pl.col("variant_id")).alias("variant_id")))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert wh.scalar("SELECT count(*) FROM variants") == 20


def test_unknown_url_is_one_clear_sentence():
    with pytest.raises(WarehouseError, match="not understood"):
        connect("mysql://localhost/db")


def test_second_process_gets_a_clear_busy_error(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "busy.duckdb"
    holder = connect(f"duckdb:///{path}")
    try:
        code = (
            "import sys\n"
            "from data.warehouse import connect, WarehouseBusy\n"
            f"try:\n    connect('duckdb:///{path}')\nexcept WarehouseBusy as e:\n    print(e); sys.exit(3)\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    finally:
        holder.close()
    assert proc.returncode == 3, proc.stderr
    assert "in use by another process" in proc.stdout

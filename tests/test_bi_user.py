"""``python -m data bi-user``: a PostgreSQL login that reads the bi_* views and nothing else."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from data.bi_user import create_bi_user, drop_bi_user
from data.postgres_backend import split_schema
from data.warehouse import WarehouseError, connect
from tests.builders import add_order, add_store, utc

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg(pg_url):
    wh = connect(pg_url)
    add_store(wh)
    add_order(wh, "o1", utc(2026, 3, 2, 12), [(2, "10.00", "1.00")])
    from data.rollups import refresh_store

    refresh_store(wh, "s")
    yield wh, pg_url
    wh.close()


def _login(url: str, role: str, password: str) -> psycopg.Connection:
    base, _ = split_schema(url)
    host_part = base.split("@", 1)[1]
    return psycopg.connect(f"postgresql://{role}:{password}@{host_part}", autocommit=True, connect_timeout=5)


def test_the_role_reads_the_views_and_nothing_else(pg):
    wh, url = pg
    role = f"bi_test_{os.getpid()}"
    password = create_bi_user(wh, role)
    try:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", password)
        with _login(url, role, password) as conn:
            assert conn.execute("SELECT order_id, net_sales FROM bi_orders").fetchall() == [("o1", 19)]
            for sql in ("SELECT count(*) FROM orders", "SELECT count(*) FROM order_facts",
                        "SELECT count(*) FROM daily_sales"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql)
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("CREATE TEMPORARY TABLE scratch (x int)")
        with pytest.raises(WarehouseError, match="already exists: add --reset-password"):
            create_bi_user(wh, role)
        assert create_bi_user(wh, role, reset_password=True) != password
    finally:
        drop_bi_user(wh, role)
    assert not wh.scalar("SELECT count(*) FROM pg_roles WHERE rolname = :r", {"r": role})


def test_the_command_shows_the_password_once_and_refuses_duckdb(pg, tmp_path):
    _, url = pg
    role = f"bi_cli_{os.getpid()}"
    run = [sys.executable, "-m", "data", "bi-user"]
    done = subprocess.run([*run, role, "--db", url], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    try:
        assert done.returncode == 0, done.stderr
        assert "can read bi_orders, bi_order_lines" in done.stdout
        assert re.search(r"password \(shown this once, store it in your BI tool\): [A-Za-z0-9_-]{32}\n", done.stdout)
    finally:
        dropped = subprocess.run([*run, role, "--drop", "--db", url], cwd=PROJECT, capture_output=True, text=True,
                                 timeout=120)
    assert dropped.returncode == 0, dropped.stderr
    refused = subprocess.run([*run, "reader", "--db", f"duckdb:///{tmp_path / 'w.duckdb'}"], cwd=PROJECT,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: the embedded DuckDB warehouse has no logins")
    bad = subprocess.run([*run, "Robert'); DROP", "--db", url], cwd=PROJECT, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "must be lower-case letters" in bad.stderr

"""Versioned, idempotent migrations.

Files are named ``NNNN_name.sql`` (both engines), ``NNNN_name.duckdb.sql`` or
``NNNN_name.postgres.sql`` (one engine). Each applied file is recorded in
``schema_migrations``; running :func:`migrate` again applies only new files,
each in its own transaction.

Steps that must decide something at run time are Python functions in
:data:`PYTHON_STEPS` (name, engine or ``any``, function). They run after the SQL files,
each once, in its own transaction, and are recorded in ``schema_migrations``
under their name like the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from data.warehouse import Warehouse

MIGRATIONS_DIR = Path(__file__).resolve().parent
_TYPES = {
    "duckdb": {"json": "JSON"},
    "postgres": {"json": "JSONB"},
}


def _timescaledb(wh: "Warehouse") -> None:
    from data.timescale import migrate as timescale_migrate

    timescale_migrate(wh)


def _timescaledb_daily_stock(wh: "Warehouse") -> None:
    from data.timescale import migrate_daily_stock

    migrate_daily_stock(wh)


def _session_facts(wh: "Warehouse") -> None:
    from data.rollups import fill_session_facts

    fill_session_facts(wh)


def _order_customer_columns(wh: "Warehouse") -> None:
    from data.rollups import fill_customer_columns

    fill_customer_columns(wh)


def _customer_history(wh: "Warehouse") -> None:
    from analytics.customers.history import fill_latest_history

    fill_latest_history(wh)


def _bi_views(wh: "Warehouse") -> None:
    from data.bi_views import create_views

    create_views(wh)


# TimescaleDB where the extension exists (see data/timescale.py), else plain PostgreSQL;
# the web sessions, the customers' history and the customer columns of the order facts of the stores already there;
# the views BI tools read.
PYTHON_STEPS: list[tuple[str, str, Callable[["Warehouse"], None]]] = [
    ("0006_timescaledb", "postgres", _timescaledb),
    ("0013_timescaledb_daily_stock", "postgres", _timescaledb_daily_stock),
    ("0014_session_facts_fill", "any", _session_facts),
    ("0015_customer_history_fill", "any", _customer_history),
    ("0026_bi_views", "any", _bi_views),
    ("0055_order_customer_columns_fill", "any", _order_customer_columns),
]


def migration_files(dialect: str) -> list[Path]:
    files = []
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        parts = path.name.split(".")
        if len(parts) == 3 and parts[1] != dialect:
            continue
        files.append(path)
    return files


def split_statements(sql: str) -> list[str]:
    """Statements of a migration file (no semicolons inside our DDL strings)."""
    lines = [ln for ln in sql.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def migrate(wh: "Warehouse") -> list[str]:
    """Apply the migrations not yet applied; return their names."""
    wh.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {r[0] for r in wh.rows("SELECT name FROM schema_migrations")}
    applied = []
    for path in migration_files(wh.dialect):
        if path.name in done:
            continue
        sql = path.read_text().format(**_TYPES[wh.dialect])
        if _apply(wh, path.name, lambda: [wh.execute(stmt) for stmt in split_statements(sql)]):
            applied.append(path.name)
    for name, dialect, step in PYTHON_STEPS:
        if dialect not in (wh.dialect, "any") or name in done:
            continue
        if _apply(wh, name, lambda: step(wh)):
            applied.append(name)
    return applied


def _apply(wh: "Warehouse", name: str, run: Callable[[], object]) -> bool:
    """Run one migration and record it, in one transaction; False if another process did it first."""
    with wh.transaction():
        if wh.dialect == "postgres":
            # Two processes opening a fresh database at once apply each migration once.
            wh.execute("SELECT pg_advisory_xact_lock(4242)")
            if wh.scalar("SELECT count(*) FROM schema_migrations WHERE name = :n", {"n": name}):
                return False
        run()
        wh.execute(
            "INSERT INTO schema_migrations (name, applied_at) VALUES (:n, CURRENT_TIMESTAMP)",
            {"n": name},
        )
    return True

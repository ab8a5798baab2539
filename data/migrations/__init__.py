"""Versioned, idempotent migrations.

Files are named ``NNNN_name.sql`` (both engines), ``NNNN_name.duckdb.sql`` or
``NNNN_name.postgres.sql`` (one engine). Each applied file is recorded in
``schema_migrations``; running :func:`migrate` again applies only new files,
each in its own transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data.warehouse import Warehouse

MIGRATIONS_DIR = Path(__file__).resolve().parent
_TYPES = {
    "duckdb": {"json": "JSON"},
    "postgres": {"json": "JSONB"},
}


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
        with wh.transaction():
            if wh.dialect == "postgres":
                # Two processes opening a fresh database at once apply each file once.
                wh.execute("SELECT pg_advisory_xact_lock(4242)")
                if wh.scalar("SELECT count(*) FROM schema_migrations WHERE name = :n", {"n": path.name}):
                    continue
            for stmt in split_statements(sql):
                wh.execute(stmt)
            wh.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (:n, CURRENT_TIMESTAMP)",
                {"n": path.name},
            )
        applied.append(path.name)
    return applied

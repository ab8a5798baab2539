"""The storage interface: one small class, two backends (DuckDB and PostgreSQL).

Every other part of the app talks to the warehouse through :class:`Warehouse`:

- ``query(sql, params)`` returns a Polars frame, ``rows``/``scalar`` plain values;
- ``execute(sql, params)`` runs a statement;
- ``insert(table, frame)`` appends in bulk (Arrow on DuckDB, COPY on PostgreSQL);
- ``upsert(table, frame)`` merges on the table's key;
- ``transaction()`` makes everything inside it on this thread all-or-nothing;
- ``serialized(key)`` is a transaction that runs alone among those of the same
  key (the store being written: see :mod:`data.writes`).

SQL is written once, with ``:name`` parameters, in the subset both engines
speak. Only this package writes DDL or touches a driver.
"""

from __future__ import annotations

import os
import re
import threading
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ContextManager, Iterator, Mapping, Sequence

import polars as pl

from data.keys import TABLE_KEYS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DUCKDB_PATH = PROJECT_ROOT / "data" / "local" / "warehouse.duckdb"

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class WarehouseError(RuntimeError):
    """A problem a user can act on (bad URL, file in use, missing schema)."""


class WarehouseBusy(WarehouseError):
    """The embedded DuckDB file is held by another process (usually the app)."""


def default_url() -> str:
    """``DATABASE_URL`` from the environment or secrets, else the embedded file."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        from data.settings import setting

        url = (setting("DATABASE_URL") or "").strip()
    return url or f"duckdb:///{DEFAULT_DUCKDB_PATH}"


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe to print or log)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def connect(url: str | None = None, *, read_only: bool = False, migrate: bool = True) -> "Warehouse":
    """Open the warehouse at ``url`` (default: :func:`default_url`).

    ``duckdb:///path/to/file.duckdb`` (or ``duckdb:///:memory:``) and
    ``postgresql://user@host:port/db`` are understood. Migrations run on open
    unless ``migrate=False`` or ``read_only=True``.
    """
    url = url or default_url()
    if url.startswith("duckdb://"):
        from data.duckdb_backend import DuckDBWarehouse

        wh: Warehouse = DuckDBWarehouse(url, read_only=read_only)
    elif url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from data.postgres_backend import PostgresWarehouse

        wh = PostgresWarehouse(url)
    else:
        raise WarehouseError(
            f"DATABASE_URL {redact_url(url)!r} is not understood: use duckdb:///path/file.duckdb "
            "or postgresql://user@host:5432/dbname."
        )
    if migrate and not read_only:
        from data.migrations import migrate as run_migrations

        run_migrations(wh)
    return wh


class Warehouse(ABC):
    """What every backend offers. Thread-safe: each thread gets its own connection."""

    dialect: str
    url: str

    def __init__(self) -> None:
        self._local = threading.local()

    # -- transactions -----------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator["Warehouse"]:
        """All statements on this thread inside the block commit together or not at all."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield self
            finally:
                self._local.depth -= 1
            return
        conn = self._begin()
        self._local.conn = conn
        self._local.depth = 1
        try:
            yield self
        except BaseException:
            self._local.conn = None
            self._local.depth = 0
            self._rollback(conn)
            raise
        self._local.conn = None
        self._local.depth = 0
        self._commit(conn)

    def in_transaction(self) -> bool:
        return bool(getattr(self._local, "depth", 0))

    @abstractmethod
    def serialized(self, key: str) -> ContextManager["Warehouse"]:
        """A transaction that waits for, and holds off, every other ``serialized(key)`` of this
        warehouse (in this process on DuckDB, where one process writes; in every process on PostgreSQL)."""

    @abstractmethod
    def is_conflict(self, exc: BaseException) -> bool:
        """True when ``exc`` is a write conflict that the same transaction, tried again, may not meet."""

    @abstractmethod
    def hold(self, key: str) -> ContextManager[None]:
        """Say, for as long as the block runs, that ``key`` is alive (a running sync): :meth:`is_held`
        answers True for it from any thread, and on PostgreSQL from any process, until the block ends
        or the process dies."""

    @abstractmethod
    def is_held(self, key: str) -> bool:
        """Whether some live :meth:`hold` of ``key`` is running."""

    def analyze(self, tables: Sequence[str]) -> None:
        """Bring the planner's statistics of ``tables`` up to date after a bulk write (PostgreSQL's
        ``ANALYZE``; DuckDB keeps its own as it writes)."""

    # -- reading ----------------------------------------------------------
    @abstractmethod
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """Run a SELECT and return its rows as a Polars frame (money as Decimal)."""

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        return self.query(sql, params).rows()

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    # -- writing ----------------------------------------------------------
    @abstractmethod
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement (no result)."""

    @abstractmethod
    def insert(self, table: str, frame: pl.DataFrame) -> int:
        """Append ``frame``'s rows to ``table`` (columns matched by name)."""

    @abstractmethod
    def upsert(self, table: str, frame: pl.DataFrame, keys: Sequence[str] | None = None) -> int:
        """Insert or replace rows of ``table`` matched on ``keys`` (default: its key)."""

    @abstractmethod
    def delete_keys(self, table: str, frame: pl.DataFrame, keys: Sequence[str] | None = None) -> int:
        """Delete the rows of ``table`` whose key values appear in ``frame``."""

    # -- schema -----------------------------------------------------------
    @abstractmethod
    def table_names(self) -> set[str]:
        ...

    @abstractmethod
    def columns(self, table: str) -> list[str]:
        ...

    @abstractmethod
    def close(self) -> None:
        ...

    @abstractmethod
    def _begin(self) -> Any: ...

    @abstractmethod
    def _commit(self, conn: Any) -> None: ...

    @abstractmethod
    def _rollback(self, conn: Any) -> None: ...

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {redact_url(self.url)}>"


def check_table(table: str) -> str:
    """Allow only known table names into SQL text."""
    if table not in TABLE_KEYS and not re.fullmatch(r"_?[a-z][a-z0-9_]*", table):
        raise WarehouseError(f"unknown table {table!r}")
    return table


def withheld(table: str) -> bool:
    """Whether rows for ``table`` are left unwritten: ``customer_contacts`` while
    ``STORE_CUSTOMER_CONTACTS`` is off (every write path goes through ``insert``/``upsert``)."""
    if table != "customer_contacts":
        return False
    from data.contacts import contacts_stored

    return not contacts_stored()


def check_columns(columns: Sequence[str]) -> list[str]:
    for c in columns:
        if not re.fullmatch(r"_?[a-z][a-z0-9_]*", c):
            raise WarehouseError(f"bad column name {c!r}")
    return list(columns)


def to_duckdb_params(sql: str) -> str:
    """``:name`` parameters become DuckDB's ``$name``."""
    return _PARAM.sub(r"$\1", sql)


_shared: Warehouse | None = None
_shared_lock = threading.Lock()


def shared() -> Warehouse:
    """The process-wide warehouse of the app (pages, live feed and webhooks share it).

    With DuckDB this is what keeps every writer of the embedded file inside the
    app's own process, so nobody sees a lock error.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = connect()
        return _shared


def close_shared() -> None:
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.close()
            _shared = None

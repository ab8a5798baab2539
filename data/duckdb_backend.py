"""The embedded backend: one DuckDB file, one writing process.

DuckDB lets a single process hold a file read-write; another process cannot
open it at all while that lasts. So the app keeps one :class:`DuckDBWarehouse`
per process and every thread (page renders, the live demo feed, webhooks) gets
its own cursor on it. A second process (a CLI command run beside the app) gets
:class:`WarehouseBusy` with a sentence saying what to do.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import duckdb
import polars as pl

from data.keys import TABLE_KEYS
from data.warehouse import (
    Warehouse,
    WarehouseBusy,
    WarehouseError,
    check_columns,
    check_table,
    to_duckdb_params,
    withheld,
)

_stage_ids = itertools.count()
CHECKPOINT_THRESHOLD = "256MB"

# One process holds a DuckDB file, so the locks that serialize its writers and the
# marks of its running syncs live in this process, keyed by (file, key).
_key_locks: dict[tuple[str, str], threading.RLock] = {}
_held: Counter = Counter()
_registry_lock = threading.Lock()


def path_from_url(url: str) -> str:
    path = url[len("duckdb://"):]
    if path.startswith("/"):
        path = path[1:] if path.startswith("//") else path
    if path in ("", "/:memory:", ":memory:"):
        return ":memory:"
    return path


class DuckDBWarehouse(Warehouse):
    dialect = "duckdb"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        super().__init__()
        self.url = url
        self.path = path_from_url(url)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._root = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            raise busy_error(self.path, exc) from None
        except duckdb.Error as exc:
            raise WarehouseError(f"Cannot open the warehouse file {self.path}: {exc}") from None
        self._root.execute("SET GLOBAL TimeZone = 'UTC'")
        if not read_only:
            # DuckDB folds its write-ahead log into the file (rewriting the changed
            # tables and their key indexes) once the log passes this size; at the
            # default 16 MB a sync's every large commit paid for a checkpoint.
            self._root.execute(f"SET GLOBAL checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        self._lock = threading.Lock()

    # -- connections ----------------------------------------------------------
    def _cursor(self) -> duckdb.DuckDBPyConnection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            with self._lock:
                cur = self._root.cursor()
            self._local.cursor = cur
        return cur

    def _begin(self) -> duckdb.DuckDBPyConnection:
        cur = self._cursor()
        cur.execute("BEGIN TRANSACTION")
        return cur

    def _commit(self, conn: duckdb.DuckDBPyConnection) -> None:
        conn.execute("COMMIT")

    def _rollback(self, conn: duckdb.DuckDBPyConnection) -> None:
        try:
            conn.execute("ROLLBACK")
        except duckdb.Error:
            pass

    def _identity(self) -> str:
        return os.path.realpath(self.path) if self.path != ":memory:" else f":memory:{id(self)}"

    @contextmanager
    def serialized(self, key: str) -> Iterator["DuckDBWarehouse"]:
        # The lock is taken before the transaction begins, so its snapshot sees what the
        # previous holder committed (DuckDB would otherwise report a conflict at commit).
        with _registry_lock:
            lock = _key_locks.setdefault((self._identity(), key), threading.RLock())
        with lock, self.transaction():
            yield self

    def is_conflict(self, exc: BaseException) -> bool:
        while exc is not None:
            if isinstance(exc, duckdb.TransactionException) or (
                    isinstance(exc, duckdb.Error) and "conflict" in str(exc).lower()):
                return True
            exc = exc.__cause__ or exc.__context__
        return False

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        mark = (self._identity(), key)
        with _registry_lock:
            _held[mark] += 1
        try:
            yield
        finally:
            with _registry_lock:
                _held[mark] -= 1
                if _held[mark] <= 0:
                    del _held[mark]

    def is_held(self, key: str) -> bool:
        with _registry_lock:
            return _held.get((self._identity(), key), 0) > 0

    # -- reading --------------------------------------------------------------
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        rel = self._cursor().sql(to_duckdb_params(sql), params=dict(params) if params else None)
        return pl.from_arrow(rel.to_arrow_table())  # type: ignore[return-value]

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        return self._cursor().execute(to_duckdb_params(sql), dict(params or {})).fetchall()

    # -- writing --------------------------------------------------------------
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._cursor().execute(to_duckdb_params(sql), dict(params or {}) if params else None)

    def _staged(self, frame: pl.DataFrame) -> tuple[duckdb.DuckDBPyConnection, str]:
        cur = self._cursor()
        name = f"_stage_{next(_stage_ids)}"
        cur.register(name, frame.to_arrow())
        return cur, name

    def insert(self, table: str, frame: pl.DataFrame) -> int:
        if frame.height == 0 or withheld(table):
            return 0
        cols = ", ".join(check_columns(frame.columns))
        cur, stage = self._staged(frame)
        try:
            cur.execute(f"INSERT INTO {check_table(table)} ({cols}) SELECT {cols} FROM {stage}")
        finally:
            cur.unregister(stage)
        return frame.height

    def upsert(self, table: str, frame: pl.DataFrame, keys: Sequence[str] | None = None) -> int:
        if frame.height == 0 or withheld(table):
            return 0
        keys = list(keys or TABLE_KEYS[table])
        frame = frame.unique(subset=keys, keep="last", maintain_order=True)
        columns = check_columns(frame.columns)
        cols = ", ".join(columns)
        updates = [c for c in columns if c not in keys]
        action = (
            "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates) if updates else "DO NOTHING"
        )
        cur, stage = self._staged(frame)
        try:
            # A plain INSERT costs about half of ON CONFLICT, so new keys (a first
            # sync, lines replaced after their delete) skip the conflict path.
            match = " AND ".join(f"t.{k} = s.{k}" for k in check_columns(keys))
            stored = cur.execute(
                f"SELECT EXISTS (SELECT 1 FROM {check_table(table)} t SEMI JOIN {stage} s ON {match})"
            ).fetchone()[0]
            conflict = f" ON CONFLICT ({', '.join(check_columns(keys))}) {action}" if stored else ""
            cur.execute(f"INSERT INTO {check_table(table)} ({cols}) SELECT {cols} FROM {stage}{conflict}")
        finally:
            cur.unregister(stage)
        return frame.height

    def delete_keys(self, table: str, frame: pl.DataFrame, keys: Sequence[str] | None = None) -> int:
        keys = check_columns(list(keys or TABLE_KEYS[table]))
        keyframe = frame.select(keys).unique()
        if keyframe.height == 0:
            return 0
        cur, stage = self._staged(keyframe)
        try:
            match = " AND ".join(f"{check_table(table)}.{k} = {stage}.{k}" for k in keys)
            cur.execute(f"DELETE FROM {table} USING {stage} WHERE {match}")
        finally:
            cur.unregister(stage)
        return keyframe.height

    # -- schema ---------------------------------------------------------------
    def table_names(self) -> set[str]:
        return {r[0] for r in self.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")}

    def columns(self, table: str) -> list[str]:
        return [
            r[0]
            for r in self.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position",
                {"t": table},
            )
        ]

    def close(self) -> None:
        self._root.close()


def busy_error(path: str, exc: Exception) -> WarehouseError:
    text = str(exc)
    if "lock" not in text.lower():
        return WarehouseError(f"Cannot open the warehouse file {path}: {text}")
    pid = re.search(r"PID (\d+)", text)
    holder = f" (process {pid.group(1)})" if pid else ""
    return WarehouseBusy(
        f"The warehouse file {path} is in use by another process{holder}, most likely the running app: "
        "DuckDB allows one process per file. Stop the app and run this again, or point DATABASE_URL at "
        "PostgreSQL to run commands beside the app."
    )

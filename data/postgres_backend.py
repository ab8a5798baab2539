"""The server backend: PostgreSQL (TimescaleDB when installed) through
SQLAlchemy 2 and psycopg 3. Bulk loads use COPY; upserts go through a
temporary stage table and ``INSERT ... ON CONFLICT DO UPDATE``.

In TimescaleDB mode (see :mod:`data.timescale`) a few hypertables carry their
time column in their key: upserts on those conflict on the contract key plus
that column, replace a row whose time changed, and fill
``order_lines.order_created_at`` from the order."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
import itertools
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Iterator, Mapping, Sequence

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from data import timescale
from data.keys import TABLE_KEYS
from data.warehouse import Warehouse, WarehouseError, check_columns, check_table, redact_url, withheld

_stage_ids = itertools.count()

# Advisory lock spaces (the first of the two-key form): writes serialized per key, and
# running syncs marked alive. Keys are hashed with the schema, so two warehouses in one
# database never wait on each other.
WRITE_LOCKS = 7301
LIVE_LOCKS = 7302
# SQLSTATEs of a transaction that may pass when tried again.
_RETRYABLE = {"40001", "40P01"}  # serialization failure, deadlock detected

# PostgreSQL type OIDs -> Polars types, so that empty results keep their schema.
_OID_TYPES: dict[int, Any] = {
    16: pl.Boolean,
    20: pl.Int64,
    21: pl.Int16,
    23: pl.Int32,
    25: pl.String,
    1043: pl.String,
    1042: pl.String,
    700: pl.Float32,
    701: pl.Float64,
    1082: pl.Date,
    1114: pl.Datetime("us"),
    1184: pl.Datetime("us", "UTC"),
    114: pl.String,
    3802: pl.String,
}
_NUMERIC = 1700


def split_schema(url: str) -> tuple[str, str | None]:
    """``...?schema=name`` puts the warehouse in its own PostgreSQL schema."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"]
    schema = dict(parse_qsl(parts.query)).get("schema")
    if schema is not None and not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise WarehouseError(f"schema {schema!r} in DATABASE_URL must be lower-case letters, digits and _.")
    return urlunsplit(parts._replace(query=urlencode(query))), schema


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# Memory a sort or hash may take before spilling to disk, per operation: the
# customer figures group every customer of the range (half a million at a
# million orders), which spills at PostgreSQL's default of 4 MB (1.4 s instead
# of 2.6 s for all history at a million orders here).
WORK_MEM = "64MB"

# TimescaleDB aggregates each chunk apart, then merges: a loss when the groups
# are customers spread over every chunk (1.8 s instead of 6 s here). Set only
# where the extension defines the setting (current_setting(..., true) is NULL
# elsewhere), so plain PostgreSQL and older TimescaleDB releases are untouched.
_SESSION_SQL = (
    "SELECT set_config('timescaledb.enable_chunkwise_aggregation', 'off', false) "
    "WHERE current_setting('timescaledb.enable_chunkwise_aggregation', true) IS NOT NULL"
)


def _session_settings(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cur:
        cur.execute(_SESSION_SQL)
    dbapi_connection.commit()


class PostgresWarehouse(Warehouse):
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._time_columns: dict[str, str] | None = None
        base, schema = split_schema(url)
        self.schema = schema
        options = f"-c timezone=UTC -c work_mem={WORK_MEM}" + (f" -c search_path={schema}" if schema else "")
        self.engine = sa.create_engine(
            sqlalchemy_url(base),
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            connect_args={"options": options, "connect_timeout": 10},
        )
        sa.event.listen(self.engine, "connect", _session_settings)
        try:
            with self.engine.begin() as conn:
                if schema:
                    conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise WarehouseError(f"Cannot reach PostgreSQL at {redact_url(url)}: {reason}") from None

    # -- connections ----------------------------------------------------------
    def _begin(self) -> Connection:
        conn = self.engine.connect()
        conn.begin()
        return conn

    def _commit(self, conn: Connection) -> None:
        try:
            conn.commit()
        finally:
            conn.close()

    def _rollback(self, conn: Connection) -> None:
        try:
            conn.rollback()
        finally:
            conn.close()

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def serialized(self, key: str) -> Iterator["PostgresWarehouse"]:
        with self.transaction():
            # Held until the transaction ends; each statement after it (READ COMMITTED)
            # sees what the previous holder committed.
            self.execute("SELECT pg_advisory_xact_lock(:space, hashtext(current_schema() || ':' || :key))",
                         {"space": WRITE_LOCKS, "key": key})
            yield self

    def is_conflict(self, exc: BaseException) -> bool:
        while exc is not None:
            orig = getattr(exc, "orig", None) or exc
            if getattr(orig, "sqlstate", None) in _RETRYABLE:
                return True
            exc = exc.__cause__ or exc.__context__
        return False

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        # A session lock on a connection of its own: PostgreSQL releases it when the
        # session ends, so a process that dies (SIGKILL) stops holding it at once.
        conn = self.engine.connect()
        params = {"space": LIVE_LOCKS, "key": key}
        try:
            conn.execute(sa.text("SELECT pg_advisory_lock(:space, hashtext(current_schema() || ':' || :key))"),
                         params)
            conn.commit()
            yield
        finally:
            try:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:space, hashtext(current_schema() || ':' || :key))"),
                             params)
                conn.commit()
            finally:
                conn.close()

    def is_held(self, key: str) -> bool:
        with self.engine.connect() as conn:
            free = conn.execute(sa.text(
                "SELECT pg_try_advisory_lock(:space, hashtext(current_schema() || ':' || :key))"),
                {"space": LIVE_LOCKS, "key": key}).scalar()
            if free:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:space, hashtext(current_schema() || ':' || :key))"),
                             {"space": LIVE_LOCKS, "key": key})
            conn.commit()
        return not free

    # -- reading --------------------------------------------------------------
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        with self._conn() as conn:
            result = conn.execute(sa.text(sql), dict(params or {}))
            description = result.cursor.description if result.cursor is not None else None
            rows = result.fetchall()
        if description is None:
            return pl.DataFrame()
        names = [d.name for d in description]
        columns = list(zip(*rows)) if rows else [[] for _ in names]
        series = []
        for d, values in zip(description, columns):
            series.append(_series(d.name, d.type_code, getattr(d, "scale", None), list(values)))
        return pl.DataFrame(series) if series else pl.DataFrame(schema=names)

    def analyze(self, tables: Sequence[str]) -> None:
        # Without statistics (a bulk load that autovacuum has not reached yet) the planner takes a
        # million-row table for a few hundred rows and joins it in nested loops.
        self.execute(f"ANALYZE {', '.join(check_table(t) for t in tables)}")

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        with self._conn() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), dict(params or {})).fetchall()]

    # -- writing --------------------------------------------------------------
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self._conn() as conn:
            conn.execute(sa.text(sql), dict(params or {}))

    def _copy(self, conn: Connection, table: str, frame: pl.DataFrame) -> None:
        cols = ", ".join(check_columns(frame.columns))
        buf = io.BytesIO()
        frame.write_csv(buf, include_header=False, null_value="\\N", datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
                view = buf.getbuffer()
                step = 1 << 20
                for start in range(0, len(view), step):
                    copy.write(view[start:start + step])
                del view

    def insert(self, table: str, frame: pl.DataFrame) -> int:
        if frame.height == 0 or withheld(table):
            return 0
        if table in self.time_columns():
            return self._insert_timed(table, frame)
        with self._conn() as conn:
            self._copy(conn, check_table(table), frame)
        return frame.height

    def _stage(self, conn: Connection, table: str, frame: pl.DataFrame) -> str:
        stage = f"_stage_{next(_stage_ids)}"
        cols = ", ".join(check_columns(frame.columns))
        conn.execute(
            sa.text(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {check_table(table)} WITH NO DATA")
        )
        self._copy(conn, stage, frame)
        return stage

    def upsert(self, table: str, frame: pl.DataFrame, keys: Sequence[str] | None = None) -> int:
        if frame.height == 0 or withheld(table):
            return 0
        keys = check_columns(list(keys or TABLE_KEYS[table]))
        frame = frame.unique(subset=keys, keep="last", maintain_order=True)
        time_column = self._key_time_column(table, keys)
        if time_column is not None:
            return self._upsert_timed(table, frame, keys, time_column)
        columns = check_columns(frame.columns)
        cols = ", ".join(columns)
        updates = [c for c in columns if c not in keys]
        action = (
            "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates) if updates else "DO NOTHING"
        )
        with self._conn() as conn:
            stage = self._stage(conn, table, frame)
            conn.execute(
                sa.text(
                    f"INSERT INTO {check_table(table)} ({cols}) SELECT {cols} FROM {stage} "
                    f"ON CONFLICT ({', '.join(keys)}) {action}"
                )
            )
            conn.execute(sa.text(f"DROP TABLE {stage}"))
        return frame.height

    # -- TimescaleDB hypertables ------------------------------------------------
    def time_columns(self) -> Mapping[str, str]:
        """Tables whose key includes a time column in this warehouse -> that column ({} when plain)."""
        if self._time_columns is not None:
            return self._time_columns
        mode = timescale.read_mode(self)
        columns = dict(timescale.KEY_TIME_COLUMNS) if mode else {}
        if mode is not None:  # decided by the migrations: fixed for the warehouse's life
            self._time_columns = columns
        return columns

    def _key_time_column(self, table: str, keys: Sequence[str]) -> str | None:
        time_column = self.time_columns().get(table)
        if time_column is None or set(keys) != set(TABLE_KEYS[table]):
            return None
        return time_column

    def _needs_order_created_at(self, table: str, frame: pl.DataFrame) -> bool:
        return table == "order_lines" and "order_lines" in self.time_columns() and (
            "order_created_at" not in frame.columns
        )

    def _insert_timed(self, table: str, frame: pl.DataFrame) -> int:
        """Append to a hypertable whose key gained a time column, refusing contract keys already there."""
        columns = check_columns(frame.columns)
        fill = self._needs_order_created_at(table, frame)
        with self._conn() as conn:
            stage = self._stage(conn, table, frame)
            if fill:
                for stmt in timescale.fill_order_created_at(stage):
                    conn.execute(sa.text(stmt))
                columns = columns + ["order_created_at"]
            # Through the driver, like COPY: the same error type as the plain key's.
            with conn.connection.driver_connection.cursor() as cur:
                cur.execute(timescale.refuse_duplicate_keys(table, stage))
            cols = ", ".join(columns)
            conn.execute(sa.text(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage}"))
            conn.execute(sa.text(f"DROP TABLE {stage}"))
        return frame.height

    def _upsert_timed(self, table: str, frame: pl.DataFrame, keys: list[str], time_column: str) -> int:
        """Upsert on a hypertable whose key gained ``time_column``: rows whose time changed are replaced."""
        columns = check_columns(frame.columns)
        fill = self._needs_order_created_at(table, frame)
        if fill:
            columns = columns + ["order_created_at"]
        cols = ", ".join(columns)
        conflict = keys + [time_column]
        updates = [c for c in columns if c not in conflict]
        action = (
            "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates) if updates else "DO NOTHING"
        )
        match = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        with self._conn() as conn:
            stage = self._stage(conn, table, frame)
            if fill:
                for stmt in timescale.fill_order_created_at(stage):
                    conn.execute(sa.text(stmt))
            moved = 0
            if time_column in columns:
                moved = conn.execute(
                    sa.text(
                        f"DELETE FROM {table} t USING {stage} s "
                        f"WHERE {match} AND t.{time_column} <> s.{time_column}"
                    )
                ).rowcount
            conn.execute(
                sa.text(
                    f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} "
                    f"ON CONFLICT ({', '.join(conflict)}) {action}"
                )
            )
            if table == "orders" and moved:
                line_columns = [
                    r[0]
                    for r in conn.execute(
                        sa.text(
                            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                            "current_schema() AND table_name = 'order_lines' ORDER BY ordinal_position"
                        )
                    )
                ]
                conn.execute(sa.text(timescale.move_lines_of_moved_orders(stage, line_columns)))
            conn.execute(sa.text(f"DROP TABLE {stage}"))
        return frame.height

    def delete_keys(self, table: str, frame: pl.DataFrame, keys: Sequence[str] | None = None) -> int:
        keys = check_columns(list(keys or TABLE_KEYS[table]))
        keyframe = frame.select(keys).unique()
        if keyframe.height == 0:
            return 0
        with self._conn() as conn:
            stage = self._stage(conn, table, keyframe)
            match = " AND ".join(f"{table}.{k} = {stage}.{k}" for k in keys)
            conn.execute(sa.text(f"DELETE FROM {check_table(table)} USING {stage} WHERE {match}"))
            conn.execute(sa.text(f"DROP TABLE {stage}"))
        return keyframe.height

    # -- schema ---------------------------------------------------------------
    def table_names(self) -> set[str]:
        return {
            r[0]
            for r in self.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        }

    def columns(self, table: str) -> list[str]:
        return [
            r[0]
            for r in self.rows(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = :t ORDER BY ordinal_position",
                {"t": table},
            )
        ]

    def close(self) -> None:
        self.engine.dispose()


def _series(name: str, oid: int, scale: int | None, values: list) -> pl.Series:
    if oid == _NUMERIC:
        if scale is None or scale < 0:
            scale = 0
            for v in values:
                if isinstance(v, Decimal) and v.is_finite():
                    scale = max(scale, -v.as_tuple().exponent)  # type: ignore[operator]
            scale = min(max(scale, 4), 18)
        quant = Decimal(1).scaleb(-scale)
        fixed = [None if v is None else v.quantize(quant) for v in values]
        return pl.Series(name, fixed, dtype=pl.Decimal(38, scale))
    dtype = _OID_TYPES.get(oid)
    if dtype is not None:
        return pl.Series(name, values, dtype=dtype)
    return pl.Series(name, values)

"""TimescaleDB: hypertables and a continuous aggregate where the extension exists.

Where PostgreSQL has the ``timescaledb`` extension, a fresh warehouse turns
``orders``, ``order_lines``, ``inventory_snapshots``, ``web_events`` and the
rollup ``order_facts`` into hypertables, and a continuous aggregate serves
daily sales. Everywhere else (plain PostgreSQL, DuckDB) the same tables stay
ordinary tables and every reader and writer sees the same rows.

When it is decided
    :func:`migrate` is a migration step written in Python (a ``.sql`` file
    cannot be conditional). ``data.migrations`` runs it on PostgreSQL after the
    SQL files, under the migration lock, and records it in
    ``schema_migrations`` like a file, so it runs once per warehouse. It
    switches TimescaleDB on only when all of these hold, and otherwise logs why
    not and stays on plain PostgreSQL:

    - ``pg_available_extensions`` lists ``timescaledb``;
    - its loader is in ``shared_preload_libraries`` (the loader defines the
      setting ``timescaledb.disable_load``; without the loader
      ``CREATE EXTENSION`` ends the connection with a FATAL error, so it is
      not even tried);
    - the five tables are empty (a fresh warehouse: an existing one keeps its
      plain tables rather than being rewritten while the app starts);
    - ``CREATE EXTENSION IF NOT EXISTS timescaledb`` and the conversion succeed
      (they run under a savepoint; an error, a missing privilege say, rolls
      them back and leaves the plain tables as they were).

    The outcome is one row of ``warehouse_features`` (``feature =
    'timescaledb'``, ``enabled``, ``detail``), which the PostgreSQL backend
    reads to learn its conflict targets. The extension goes into the ``public``
    schema (it is per database; one warehouse schema is per URL) and its
    functions are called schema-qualified, so a warehouse in its own schema
    (``?schema=``) works too.

Keys
    TimescaleDB wants the partitioning column in every unique index of a
    hypertable, but the contract keys of three of these tables have no time
    in them. In TimescaleDB mode the primary keys become:

    ===================  ==========================================
    orders               store_id, order_id, created_at
    order_lines          store_id, line_id, order_created_at
    web_events           store_id, event_id, occurred_at
    order_facts          store_id, order_id, local_date
    inventory_snapshots  unchanged (its key has snapshot_date)
    ===================  ==========================================

    ``order_lines.order_created_at`` is a column added in this mode only: the
    created_at of the line's order. Writers know nothing of it; the backend
    fills it. A BEFORE INSERT trigger cannot do that on a hypertable:
    TimescaleDB routes a row to its chunk by the partitioning column *before*
    the chunk's row triggers fire, so a NULL there fails with "Columns used for
    time partitioning cannot be NULL" (checked on TimescaleDB 2.17). Instead
    the backend stages the incoming rows (as every upsert already does) and
    fills the column in one set-based step: the order's created_at; for a line
    whose order is not stored yet, the time the line already has, else the
    time of the write (such a line takes its order's time the next time it is
    written; writers write orders before their lines, so this is rare).
    ``Warehouse.insert`` and ``Warehouse.upsert`` do this; a hand-written
    ``INSERT INTO order_lines`` must name the column.

Upserts
    Writers upsert on the contract keys. On these hypertables the backend's
    conflict target is the contract key plus the time column (the index
    TimescaleDB allows), and before the ``INSERT ... ON CONFLICT`` it deletes
    the rows that have the same contract key but another time: an order whose
    created_at changed at the source (a corrected CSV, a re-import) is
    replaced, never duplicated. An UPDATE cannot move a row to another chunk
    (the chunk's range constraint rejects it), hence delete-then-insert; when
    an order moves, its stored lines are re-inserted with the new
    order_created_at in the same statement. Upserting the same rows again
    changes nothing; deletes by contract keys (``delete_keys``) need no time.
    ``insert`` appends through a stage too and refuses a contract key that is
    already stored (or repeated in the batch) with a unique-violation error,
    as the plain key would; a hand-written ``INSERT`` is not checked.
    ``order_facts`` is written only by ``data.rollups`` (delete, then insert),
    which needs no change.

Daily sales
    ``daily_sales`` is a view on every backend with the same columns
    (store_id, day, channel, country, orders, gross_sales, discounts,
    units_sold, shipping, taxes, duties), one row per store-local day ×
    channel × country. On DuckDB and plain PostgreSQL it groups
    ``order_facts``; in TimescaleDB mode it reads the continuous aggregate
    ``daily_sales_cagg`` over the ``order_facts`` hypertable, with real-time
    aggregation (``materialized_only = false``): days above the aggregate's
    watermark are computed from ``order_facts`` at query time, so a fresh
    order shows at once.

    The refresh policy runs every 5 minutes over everything up to two days ago
    (``start_offset => NULL, end_offset => 2 days``). Both bounds matter:
    rows below the watermark come only from the materialization, so a window
    of only the last few days would leave history loaded later (a first sync,
    the demo build) unmaterialized and missing from the view; and materializing
    today would put today below the watermark, so new orders would wait for
    the next run. A change to a day more than two days old (a late edit of an
    old order, a full rollup rebuild) shows after the next run, within about 5
    minutes, or at once after :func:`refresh_daily_sales`. The policy's first
    run is one interval after creation (there is nothing to materialize in a
    fresh warehouse).

Daily stock
    ``daily_stock`` (store_id, day, variant_id, available, locations: units
    available summed over locations) is the same kind of view over
    ``inventory_snapshots``: a plain grouping view (0012_daily_stock.sql),
    and in TimescaleDB mode a view over the continuous aggregate
    ``daily_stock_cagg``, real-time, with the same refresh policy. It is a
    separate step (``0013_timescaledb_daily_stock``) so that a warehouse
    converted before it existed gains it too; its aggregate is created empty
    and, real-time aggregation computing what is not materialized yet, reads
    right from the start.

    The metric layer reads order sums per day from ``daily_sales`` in
    TimescaleDB mode (:func:`reads_aggregates`), the inventory readers read
    ``daily_stock`` everywhere.

Not done here
    TimescaleDB 2.13 or later is needed (``by_range``); with an older one
    the conversion fails and the warehouse stays plain, saying so. An existing
    plain warehouse with rows is not converted (it would need a
    backfill of order_created_at and a table rewrite; an operator can dump,
    recreate and reload). Compression and retention policies are left to the
    operator.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from data.keys import TABLE_KEYS

if TYPE_CHECKING:
    from data.warehouse import Warehouse

log = logging.getLogger(__name__)

FEATURE = "timescaledb"
EXTENSION = "timescaledb"
CAGG = "daily_sales_cagg"
STOCK_CAGG = "daily_stock_cagg"
CAGGS = (CAGG, STOCK_CAGG)
REFRESH_EVERY = "5 minutes"
REFRESH_LAG_DAYS = 2


@dataclass(frozen=True)
class Hypertable:
    table: str
    time_column: str
    chunk_interval: str


HYPERTABLES = (
    Hypertable("orders", "created_at", "30 days"),
    Hypertable("order_lines", "order_created_at", "30 days"),
    Hypertable("inventory_snapshots", "snapshot_date", "90 days"),
    Hypertable("web_events", "occurred_at", "7 days"),
    Hypertable("order_facts", "local_date", "30 days"),
)

# Tables whose key gains the time column in TimescaleDB mode -> that column.
KEY_TIME_COLUMNS = {
    h.table: h.time_column for h in HYPERTABLES if h.time_column not in TABLE_KEYS[h.table]
}

DAILY_SALES_COLUMNS = (
    "store_id", "day", "channel", "country", "orders", "gross_sales", "discounts", "units_sold",
    "shipping", "taxes", "duties",
)

_FEATURES_TABLE = """
CREATE TABLE IF NOT EXISTS warehouse_features (
    feature TEXT PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    detail TEXT,
    decided_at TIMESTAMPTZ NOT NULL
)
"""


def conflict_keys(table: str) -> tuple[str, ...]:
    """The key an upsert of ``table`` conflicts on in TimescaleDB mode."""
    keys = TABLE_KEYS[table]
    time_column = KEY_TIME_COLUMNS.get(table)
    return keys + (time_column,) if time_column else keys


# -- the migration step --------------------------------------------------------

def migrate(wh: "Warehouse") -> None:
    """Decide TimescaleDB or plain PostgreSQL for this warehouse (runs once, in a transaction)."""
    wh.execute(_FEATURES_TABLE)
    if wh.scalar("SELECT count(*) FROM warehouse_features WHERE feature = :f", {"f": FEATURE}):
        return
    reason = _reason_not_to_convert(wh)
    if reason is None:
        import sqlalchemy as sa

        wh.execute("SAVEPOINT timescaledb_conversion")
        try:
            _convert(wh)
        except sa.exc.DBAPIError as exc:
            wh.execute("ROLLBACK TO SAVEPOINT timescaledb_conversion")
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            reason = f"setting up TimescaleDB failed ({first})"
        else:
            wh.execute("RELEASE SAVEPOINT timescaledb_conversion")
    if reason is None:
        detail = (f"hypertables: {', '.join(h.table for h in HYPERTABLES)}; "
                  f"daily_sales reads the continuous aggregate {CAGG}")
        log.info("Warehouse uses TimescaleDB: %s", detail)
    else:
        detail = reason
        log.warning("Warehouse stays on plain PostgreSQL: %s", reason)
    wh.execute(
        "INSERT INTO warehouse_features (feature, enabled, detail, decided_at) "
        "VALUES (:f, :e, :d, CURRENT_TIMESTAMP)",
        {"f": FEATURE, "e": reason is None, "d": detail},
    )


def _reason_not_to_convert(wh: "Warehouse") -> str | None:
    if not wh.scalar("SELECT count(*) FROM pg_available_extensions WHERE name = :n", {"n": EXTENSION}):
        return "the timescaledb extension is not installed on this server"
    loader = wh.scalar("SELECT current_setting('timescaledb.disable_load', true)")
    if loader is None:
        return ("the timescaledb extension is installed but not loaded: add it to "
                "shared_preload_libraries and restart PostgreSQL")
    if loader == "on":
        return "timescaledb.disable_load is on"
    filled = [h.table for h in HYPERTABLES if wh.scalar(f"SELECT EXISTS (SELECT 1 FROM {h.table})")]
    if filled:
        return (f"the warehouse already holds rows ({', '.join(filled)}); only a fresh warehouse "
                "is converted")
    return None


def _convert(wh: "Warehouse") -> None:
    schema = wh.scalar("SELECT current_schema()")
    if not wh.scalar("SELECT count(*) FROM pg_extension WHERE extname = :n", {"n": EXTENSION}):
        has_public = wh.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'public'")
        wh.execute(f"CREATE EXTENSION IF NOT EXISTS {EXTENSION}" + (" WITH SCHEMA public" if has_public else ""))
    ext = _extension_schema(wh)
    wh.execute("ALTER TABLE order_lines ADD COLUMN IF NOT EXISTS order_created_at TIMESTAMPTZ NOT NULL")
    for h in HYPERTABLES:
        qualified = f"{schema}.{h.table}"
        if h.table in KEY_TIME_COLUMNS:
            pkey = wh.scalar(
                "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'p'",
                {"t": qualified},
            )
            wh.execute(
                f"ALTER TABLE {h.table} DROP CONSTRAINT {pkey}, "
                f"ADD PRIMARY KEY ({', '.join(conflict_keys(h.table))})"
            )
        wh.execute(
            f"SELECT {ext}.create_hypertable(CAST(:t AS regclass), "
            f"{ext}.by_range(CAST(:c AS name), INTERVAL '{h.chunk_interval}'), migrate_data => true)",
            {"t": qualified, "c": h.time_column},
        )
    wh.execute("DROP VIEW IF EXISTS daily_sales")
    bucket = f"{ext}.time_bucket(INTERVAL '1 day', local_date)"
    wh.execute(
        f"""
        CREATE MATERIALIZED VIEW {CAGG}
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT store_id, {bucket} AS day, channel, country,
               count(*) AS orders,
               sum(gross_sales) AS gross_sales, sum(discounts) AS discounts, sum(units_sold) AS units_sold,
               sum(shipping) AS shipping, sum(taxes) AS taxes, sum(duties) AS duties
        FROM order_facts
        GROUP BY store_id, {bucket}, channel, country
        WITH NO DATA
        """
    )
    _add_refresh_policy(wh, ext, f"{schema}.{CAGG}")
    # The same columns and types as the plain view in 0005_daily_sales.sql.
    wh.execute(
        f"""
        CREATE VIEW daily_sales AS
        SELECT store_id, day, channel, country,
               CAST(orders AS BIGINT) AS orders,
               CAST(gross_sales AS DECIMAL(18,4)) AS gross_sales,
               CAST(discounts AS DECIMAL(18,4)) AS discounts,
               CAST(units_sold AS BIGINT) AS units_sold,
               CAST(shipping AS DECIMAL(18,4)) AS shipping,
               CAST(taxes AS DECIMAL(18,4)) AS taxes,
               CAST(duties AS DECIMAL(18,4)) AS duties
        FROM {CAGG}
        """
    )


def _add_refresh_policy(wh: "Warehouse", ext: str, view: str) -> None:
    wh.execute(
        f"SELECT {ext}.add_continuous_aggregate_policy(CAST(:v AS regclass), "
        f"start_offset => NULL, end_offset => INTERVAL '{REFRESH_LAG_DAYS} days', "
        f"schedule_interval => INTERVAL '{REFRESH_EVERY}', "
        f"initial_start => now() + INTERVAL '{REFRESH_EVERY}')",
        {"v": view},
    )


def _extension_schema(wh: "Warehouse") -> str:
    return wh.scalar(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = :n",
        {"n": EXTENSION},
    )


def migrate_daily_stock(wh: "Warehouse") -> None:
    """In TimescaleDB mode, put ``daily_stock`` over the continuous aggregate ``daily_stock_cagg``."""
    if not enabled(wh):
        return
    schema, ext = wh.scalar("SELECT current_schema()"), _extension_schema(wh)
    bucket = f"{ext}.time_bucket(INTERVAL '1 day', snapshot_date)"
    wh.execute("DROP VIEW IF EXISTS daily_stock")
    wh.execute(
        f"""
        CREATE MATERIALIZED VIEW {STOCK_CAGG}
        WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
        SELECT store_id, {bucket} AS day, variant_id, sum(available) AS available, count(*) AS locations
        FROM inventory_snapshots
        GROUP BY store_id, {bucket}, variant_id
        WITH NO DATA
        """
    )
    _add_refresh_policy(wh, ext, f"{schema}.{STOCK_CAGG}")
    # The same columns and types as the plain view in 0012_daily_stock.sql.
    wh.execute(
        f"""
        CREATE VIEW daily_stock AS
        SELECT store_id, day, variant_id, CAST(available AS BIGINT) AS available,
               CAST(locations AS BIGINT) AS locations
        FROM {STOCK_CAGG}
        """
    )


# -- reading the mode ----------------------------------------------------------

def read_mode(wh: "Warehouse") -> bool | None:
    """True in TimescaleDB mode, False on plain PostgreSQL or DuckDB, None when not decided yet."""
    if wh.dialect != "postgres":
        return False
    if wh.scalar("SELECT to_regclass('warehouse_features')") is None:
        return None
    enabled = wh.scalar("SELECT enabled FROM warehouse_features WHERE feature = :f", {"f": FEATURE})
    return None if enabled is None else bool(enabled)


def enabled(wh: "Warehouse") -> bool:
    """Whether this warehouse runs on TimescaleDB hypertables."""
    return bool(read_mode(wh))


def reads_aggregates(wh: "Warehouse") -> bool:
    """Whether readers should take daily sums from ``daily_sales`` (the continuous aggregate) rather than
    group ``order_facts`` themselves: in TimescaleDB mode only (elsewhere the view is that grouping).
    Decided once per warehouse object."""
    if wh.dialect != "postgres":
        return False
    return bool(wh.time_columns())  # type: ignore[attr-defined]


# -- statements the PostgreSQL backend runs in TimescaleDB mode ---------------------

def fill_order_created_at(stage: str) -> list[str]:
    """Statements that add and fill ``order_created_at`` on a stage of order lines."""
    return [
        f"ALTER TABLE {stage} ADD COLUMN order_created_at TIMESTAMPTZ",
        f"UPDATE {stage} s SET order_created_at = o.created_at FROM orders o "
        "WHERE o.store_id = s.store_id AND o.order_id = s.order_id",
        # A line whose order is not stored yet keeps the time it already has, else takes now.
        f"UPDATE {stage} s SET order_created_at = l.order_created_at FROM order_lines l "
        "WHERE s.order_created_at IS NULL AND l.store_id = s.store_id AND l.line_id = s.line_id",
        f"UPDATE {stage} SET order_created_at = transaction_timestamp() WHERE order_created_at IS NULL",
    ]


def refuse_duplicate_keys(table: str, stage: str) -> str:
    """A statement that fails, as the key would on plain PostgreSQL, when staged rows repeat a contract key."""
    keys = TABLE_KEYS[table]
    match = " AND ".join(f"t.{k} = s.{k}" for k in keys)
    listed = ", ".join(keys)
    return (
        "DO $$ BEGIN "
        f"IF EXISTS (SELECT 1 FROM {table} t JOIN {stage} s ON {match}) "
        f"OR EXISTS (SELECT 1 FROM {stage} GROUP BY {listed} HAVING count(*) > 1) THEN "
        "RAISE EXCEPTION USING ERRCODE = 'unique_violation', "
        f"MESSAGE = 'duplicate key value violates the key ({listed}) of {table}'; "
        "END IF; END $$"
    )


def move_lines_of_moved_orders(stage: str, line_columns: list[str]) -> str:
    """Re-insert the stored lines of the staged orders whose created_at changed."""
    cols = [c for c in line_columns if c != "order_created_at"]
    returning = ", ".join(f"l.{c}" for c in cols)
    listed = ", ".join(cols)
    return (
        f"WITH moved AS (DELETE FROM order_lines l USING {stage} s "
        "WHERE l.store_id = s.store_id AND l.order_id = s.order_id AND l.order_created_at <> s.created_at "
        f"RETURNING {returning}, s.created_at AS _moved_to) "
        f"INSERT INTO order_lines ({listed}, order_created_at) SELECT {listed}, _moved_to FROM moved"
    )


# -- refreshing the continuous aggregate ----------------------------------------

def refresh_daily_sales(wh: "Warehouse", start: dt.date | dt.datetime | None = None) -> None:
    """Materialize ``daily_sales_cagg`` and ``daily_stock_cagg`` now, from ``start`` (default: the
    beginning) to two days ago.

    What the policies do every few minutes, at once: after a bulk load or a
    correction of old days. Leaves the last days to real-time aggregation.
    Nothing to do off TimescaleDB. Cannot run inside a transaction.
    """
    if not enabled(wh):
        return
    if wh.in_transaction():
        from data.warehouse import WarehouseError

        raise WarehouseError("refresh_daily_sales cannot run inside a transaction")
    import sqlalchemy as sa

    ext = _extension_schema(wh)
    engine = wh.engine  # type: ignore[attr-defined]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        schema, end = conn.execute(
            sa.text(f"SELECT current_schema(), CAST(now() - INTERVAL '{REFRESH_LAG_DAYS} days' AS DATE)")
        ).one()
        if start is not None and _as_date(start) >= end:
            return  # only recent days: real-time aggregation serves them
        present = {r[0] for r in conn.execute(sa.text(
            "SELECT view_name FROM timescaledb_information.continuous_aggregates "
            "WHERE view_schema = current_schema()"))}
        for view in CAGGS:
            if view not in present:
                continue
            conn.execute(
                sa.text(
                    f"CALL {ext}.refresh_continuous_aggregate(CAST(:v AS regclass), CAST(:s AS DATE), "
                    "CAST(:e AS DATE))"
                ),
                {"v": f"{schema}.{view}", "s": None if start is None else _as_date(start), "e": end},
            )


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value

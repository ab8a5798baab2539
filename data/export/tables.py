"""What the exports (Parquet, BigQuery) carry of each contract table, and how they find what changed.

Each table is cut into partitions by store (when ``store_id`` is in its key)
and by the month of a time column that never changes for a row (an order's
``created_at``, a snapshot's day; order and refund lines take their order's
or refund's). An export rewrites a partition when, since the last export:

- one of its rows changed (``_synced_at``, when we wrote the row, else the
  source's ``updated_at``; for lines and the sales rollups, also their order's
  or refund's; an hour's overlap covers transactions still open when the last
  export read), or
- its row count is not the one exported (rows added or deleted), or
- the table has no change column and the partition's month is the last
  export's or later (snapshots, scores and web events are written for today).

Tables without a time column are one partition per store; tables without a
change column and without a month are rewritten at every export (all small).
``app_settings`` (the app's own choices), ``webhook_events`` (raw payloads
with customers' addresses) and ``customer_contacts`` (names, emails and
phones: they stay where an erasure can reach them) are not exported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from data.keys import TABLE_KEYS

if TYPE_CHECKING:
    from data.warehouse import Warehouse

NOT_EXPORTED = frozenset({"app_settings", "webhook_events", "customer_contacts"})
OVERLAP = dt.timedelta(hours=1)


@dataclass(frozen=True)
class ExportTable:
    name: str
    month_column: str | None = None   # over alias t (the table) or p (the parent joined)
    month_is_date: bool = False
    parent: tuple[str, str] | None = None  # (table, join condition) giving the month column as p.*

    @property
    def keys(self) -> tuple[str, ...]:
        return TABLE_KEYS[self.name]

    @property
    def by_store(self) -> bool:
        return "store_id" in self.keys

    @property
    def partition_by(self) -> list[str]:
        return (["store_id"] if self.by_store else []) + (["month"] if self.month_column else [])

    def from_sql(self) -> str:
        if self.parent is None:
            return f"{self.name} t"
        table, on = self.parent
        return f"{self.name} t JOIN {table} p ON {on}"

    def month_sql(self) -> str:
        return f"CAST(date_trunc('month', CAST({self.month_column} AS TIMESTAMP)) AS DATE)"


_LINE_OF_ORDER = ("orders", "p.store_id = t.store_id AND p.order_id = t.order_id")
_LINE_OF_REFUND = ("refunds", "p.store_id = t.store_id AND p.refund_id = t.refund_id")

_SPECS = [
    ExportTable("orders", "t.created_at"),
    ExportTable("order_lines", "p.created_at", parent=_LINE_OF_ORDER),
    ExportTable("refunds", "t.created_at"),
    ExportTable("refund_lines", "p.created_at", parent=_LINE_OF_REFUND),
    ExportTable("order_facts", "t.created_at", parent=_LINE_OF_ORDER),
    ExportTable("refund_facts", "t.created_at", parent=_LINE_OF_REFUND),
    ExportTable("variant_daily_sales", "t.local_date", month_is_date=True),
    ExportTable("session_facts", "t.local_date", month_is_date=True),
    ExportTable("web_events", "t.occurred_at"),
    ExportTable("inventory_snapshots", "t.snapshot_date", month_is_date=True),
    ExportTable("ad_spend", "t.spend_date", month_is_date=True),
    ExportTable("fx_rates", "t.rate_date", month_is_date=True),
    ExportTable("forecasts", "t.ds", month_is_date=True),
    ExportTable("forecast_accuracy", "t.generated_at"),
    ExportTable("customer_scores", "t.as_of", month_is_date=True),
    ExportTable("purchase_orders", "t.created_at"),
    ExportTable("inventory_digests", "t.digest_date", month_is_date=True),
    ExportTable("insights", "t.created_at"),
]
_BY_NAME = {s.name: s for s in _SPECS}

# Every exported table, in the contract's order.
EXPORT_TABLES: list[ExportTable] = [
    _BY_NAME.get(name, ExportTable(name)) for name in TABLE_KEYS if name not in NOT_EXPORTED
]


class ColumnsOnce:
    """``wh`` for the length of one export, its tables' columns asked once (the catalogue is slow to ask)."""

    def __init__(self, wh: "Warehouse") -> None:
        self._wh = wh
        self._columns: dict[str, list[str]] = {}

    def columns(self, table: str) -> list[str]:
        if table not in self._columns:
            self._columns[table] = self._wh.columns(table)
        return self._columns[table]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wh, name)


def chosen_tables(names: list[str] | None) -> list[ExportTable]:
    """The exported tables named (all of them for None), in the contract's order."""
    from data.warehouse import WarehouseError

    unknown = sorted(set(names or ()) - {t.name for t in EXPORT_TABLES})
    if unknown:
        raise WarehouseError(f"no exported table is called {', '.join(unknown)}.")
    return [t for t in EXPORT_TABLES if names is None or t.name in names]


def change_sql(wh: "Warehouse", table: ExportTable) -> str | None:
    """The expression of when a row last changed (a line's also when its order did), or None when the
    table keeps none."""
    if table.name == "forecasts":
        return "t.generated_at"
    present = [f"t.{c}" for c in ("_synced_at", "updated_at") if c in wh.columns(table.name)]
    if table.parent is not None:
        present += [f"p.{c}" for c in ("_synced_at", "updated_at") if c in wh.columns(table.parent[0])]
    if not present:
        return None
    return present[0] if len(present) == 1 else f"COALESCE({', '.join(present)})"


def partition_select(table: ExportTable) -> str:
    """SELECT of (store, month) per row: the partition's values, NULL where the table has none."""
    store = "t.store_id" if table.by_store else "CAST(NULL AS TEXT)"
    month = table.month_sql() if table.month_column else "CAST(NULL AS DATE)"
    return f"{store} AS store_id, {month} AS month"


def partition_counts(wh: "Warehouse", table: ExportTable) -> dict[tuple[Any, Any], int]:
    """(store_id, month) -> rows, of every partition the warehouse holds."""
    rows = wh.rows(f"SELECT store_id, month, COUNT(*) FROM (SELECT {partition_select(table)} "
                   f"FROM {table.from_sql()}) x GROUP BY store_id, month")
    return {(store, _as_date(month)): int(count) for store, month, count in rows}


def changed_partitions(wh: "Warehouse", table: ExportTable, since: dt.datetime) -> set[tuple[Any, Any]]:
    """The partitions holding a row changed at ``since`` − the overlap or later."""
    change = change_sql(wh, table)
    if change is None:
        return set()
    rows = wh.rows(f"SELECT DISTINCT store_id, month FROM (SELECT {partition_select(table)} "
                   f"FROM {table.from_sql()} WHERE {change} >= :since) x", {"since": since - OVERLAP})
    return {(store, _as_date(month)) for store, month in rows}


def partition_rows_sql(wh: "Warehouse", table: ExportTable, store: Any, month: Any,
                       changed_since: dt.datetime | None = None) -> tuple[str, dict[str, Any], list[str]]:
    """SELECT of one partition's rows (without the partition's own columns; only those changed at
    ``changed_since`` − the overlap or later when given), its parameters and columns."""
    columns = [c for c in wh.columns(table.name) if not (table.by_store and c == "store_id")]
    where, params = [], {}
    if table.by_store:
        where.append("t.store_id = :store")
        params["store"] = store
    if table.month_column:
        start = month
        end = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        if not table.month_is_date:
            start = dt.datetime(start.year, start.month, 1, tzinfo=dt.timezone.utc)
            end = dt.datetime(end.year, end.month, 1, tzinfo=dt.timezone.utc)
        where.append(f"{table.month_column} >= :lo AND {table.month_column} < :hi")
        params.update(lo=start, hi=end)
    change = change_sql(wh, table) if changed_since is not None else None
    if change is not None:
        where.append(f"{change} >= :since")
        params["since"] = changed_since - OVERLAP
    order = ", ".join(f"t.{k}" for k in table.keys)
    sql = (f"SELECT {', '.join(f't.{c}' for c in columns)} FROM {table.from_sql()}"
           + (f" WHERE {' AND '.join(where)}" if where else "") + f" ORDER BY {order}")
    return sql, params, columns


def _as_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    return value

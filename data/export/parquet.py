"""The Parquet export: every contract table as a folder of Parquet files, partitioned Hive-style.

``DIR/<table>/store_id=<store>/month=<YYYY-MM>/data.parquet`` (the UTC month; tables without
a store or a month drop that level; store ids are percent-encoded, as Hive,
Spark, DuckDB, Polars and BigQuery decode them). The partition columns are in
the path, not in the files. DuckDB reads ``read_parquet('DIR/orders/**/*.parquet',
hive_partitioning = true)``, Polars ``pl.scan_parquet('DIR/orders/')``, Spark
``spark.read.parquet('DIR/orders')``, BigQuery an external table with Hive
partitioning over the same files.

Each partition is one file, replaced in one rename (written first under
``DIR/.staging``, on the same file system): a reader sees a partition's old
rows or its new ones, never both and never half a file. Only the partitions
that may have changed are written again (see :mod:`data.export.tables`), so a
changed row replaces its older copy instead of joining it; a partition whose
new file is the same as the exported one (same SHA-256) is left untouched. ``DIR/_manifest.json``
(written last, in one rename) lists each table's columns and types, key,
partition columns, partitions with their row counts, and the watermark the
next export starts from. A killed export leaves every partition whole; the
next run writes again whatever the killed one may not have finished.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

from data.export.tables import (
    ExportTable,
    change_sql,
    ColumnsOnce,
    changed_partitions,
    chosen_tables,
    partition_counts,
    partition_rows_sql,
)
from data.warehouse import Warehouse, WarehouseError

MANIFEST = "_manifest.json"
FORMAT = "ecommerce-analytics parquet export 1"
FILE = "data.parquet"
COMPRESSION = "zstd"


@dataclass
class TableExport:
    partitions_written: int = 0
    partitions_removed: int = 0
    rows_written: int = 0
    bytes_written: int = 0
    rows: int = 0


@dataclass
class ExportResult:
    directory: Path
    watermark: dt.datetime
    seconds: float = 0.0
    tables: dict[str, TableExport] = field(default_factory=dict)

    @property
    def rows_written(self) -> int:
        return sum(t.rows_written for t in self.tables.values())

    @property
    def bytes_written(self) -> int:
        return sum(t.bytes_written for t in self.tables.values())

    @property
    def partitions_written(self) -> int:
        return sum(t.partitions_written for t in self.tables.values())


def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    if not path.exists():
        return {"format": FORMAT, "tables": {}}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WarehouseError(f"{path} cannot be read ({exc}): remove it to export everything again.") from None
    if manifest.get("format") != FORMAT:
        raise WarehouseError(f"{directory} holds something other than this app's Parquet export: "
                             "choose an empty folder.")
    return manifest


def export_parquet(wh: Warehouse, directory: str | Path, *, now: dt.datetime | None = None,
                   tables: list[str] | None = None) -> ExportResult:
    """Write what changed in ``wh`` since the last export into ``directory`` (everything the first time)."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise WarehouseError(f"{directory} is a file, not a folder.")
    directory.mkdir(parents=True, exist_ok=True)
    chosen = chosen_tables(tables)
    wh = ColumnsOnce(wh)  # type: ignore[assignment]
    clock = time.perf_counter()
    with _export_lock(directory):
        manifest = read_manifest(directory)
        watermark = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
        result = ExportResult(directory, watermark)
        staging = directory / ".staging" / uuid.uuid4().hex
        staging.mkdir(parents=True)
        try:
            for table in chosen:
                entry, done = _export_table(wh, table, directory, staging, manifest["tables"].get(table.name),
                                            watermark)
                manifest["tables"][table.name] = entry
                manifest["exported_at"] = watermark.isoformat()
                _write_json(directory / MANIFEST, manifest, staging)
                result.tables[table.name] = done
        finally:
            shutil.rmtree(directory / ".staging", ignore_errors=True)
    result.seconds = time.perf_counter() - clock
    return result


def _export_table(wh: Warehouse, table: ExportTable, directory: Path, staging: Path,
                  entry: dict[str, Any] | None, watermark: dt.datetime) -> tuple[dict[str, Any], TableExport]:
    schema = file_schema(wh, table)
    columns = [{"name": f.name, "type": str(f.type)} for f in schema]
    counts = partition_counts(wh, table)
    wanted = {_relative(table, store, month): (store, month) for store, month in counts}
    previous: dict[str, dict[str, Any]] = {}
    if entry is not None and entry.get("columns") == columns:
        previous = entry["partitions"]
        since = dt.datetime.fromisoformat(entry["watermark"])
        todo = {_relative(table, *p) for p in changed_partitions(wh, table, since)}
        todo |= {path for path, (store, month) in wanted.items() if previous.get(path, {}).get("rows") != counts[(store, month)]}
        if change_sql(wh, table) is None:
            first = (since - dt.timedelta(hours=1)).date().replace(day=1)
            todo |= {path for path, (_, month) in wanted.items() if month is None or month >= first}
    else:  # first export of the table, or its columns changed: write it all again
        previous = dict(entry["partitions"]) if entry else {}
        todo = set(wanted)
    done = TableExport()
    partitions = {path: rows for path, rows in previous.items() if path in wanted}
    for path in sorted(todo & set(wanted)):
        store, month = wanted[path]
        sql, params, _ = partition_rows_sql(wh, table, store, month)
        data = as_schema(wh.query(sql, params).to_arrow(), schema)
        target = directory / table.name / path / FILE
        written, digest = _write_parquet(data, target, staging, previous.get(path, {}).get("sha256"))
        partitions[path] = {"rows": data.num_rows, "sha256": digest}
        if written:
            done.partitions_written += 1
            done.rows_written += data.num_rows
            done.bytes_written += written
    for path in sorted(set(previous) - set(wanted)):
        _remove_partition(directory / table.name, path)
        done.partitions_removed += 1
    done.rows = sum(p["rows"] for p in partitions.values())
    new_entry = {
        "columns": columns,
        "partition_by": [{"name": n, "type": "string"} for n in table.partition_by],
        "key": list(table.keys),
        "path": f"{table.name}/" + "/".join(f"{n}=*" for n in table.partition_by) + ("/" if table.partition_by else "")
                + FILE,
        "rows": done.rows,
        "partitions": dict(sorted(partitions.items())),
        "watermark": watermark.isoformat(),
    }
    return new_entry, done


def _relative(table: ExportTable, store: Any, month: Any) -> str:
    parts = []
    if table.by_store:
        parts.append(f"store_id={quote(str(store), safe='')}")
    if table.month_column:
        parts.append(f"month={month:%Y-%m}")
    return "/".join(parts) or "."


def file_schema(wh: Warehouse, table: ExportTable) -> pa.Schema:
    """The table's columns as stored in the files (partition columns left out), in portable types."""
    sql, params, _ = partition_rows_sql(wh, table, "", dt.date(1900, 1, 1))
    empty = wh.query(f"{sql} LIMIT 0", params).to_arrow()
    return pa.schema([pa.field(f.name, _portable(f.type)) for f in empty.schema])


def _portable(kind: pa.DataType) -> pa.DataType:
    """Types every reader takes: plain strings, money as DECIMAL(18, scale) (BigQuery's NUMERIC)."""
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_decimal(kind):
        return pa.decimal128(18, kind.scale)
    if pa.types.is_null(kind):
        return pa.string()
    return kind


def as_schema(data: pa.Table, schema: pa.Schema) -> pa.Table:
    return data.select(schema.names).cast(schema)


def _write_parquet(data: pa.Table, target: Path, staging: Path, known: str | None = None) -> tuple[int, str]:
    """Write ``data`` to ``target`` in one rename: (bytes written, the file's SHA-256). A file the same as the
    one exported (digest ``known``) is left alone: (0, digest)."""
    temp = staging / f"{uuid.uuid4().hex}.parquet"
    pq.write_table(data, temp, compression=COMPRESSION)
    with open(temp, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    if digest == known and target.exists():
        temp.unlink()
        return 0, digest
    size = temp.stat().st_size
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp, target)
    return size, digest


def _remove_partition(root: Path, path: str) -> None:
    target = root / path / FILE
    target.unlink(missing_ok=True)
    folder = target.parent
    while folder != root and folder.exists() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _write_json(path: Path, value: dict[str, Any], staging: Path) -> None:
    temp = staging / f"{uuid.uuid4().hex}.json"
    temp.write_text(json.dumps(value, default=str))
    os.replace(temp, path)


@contextmanager
def _export_lock(directory: Path) -> Iterator[None]:
    with open(directory / ".export.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseError(f"another export is writing {directory}: wait for it to finish.") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

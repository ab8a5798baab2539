"""The BigQuery export: every contract table merged into a dataset, and the bi_* views beside them.

Through the official client (google-cloud-bigquery). For each table, what
changed since its last export (see :mod:`data.export.tables`; everything
the first time) is written as Parquet, in the table's column order, and
loaded into a staging table (``_stage_<table>``, replaced by each load),
then ``MERGE``d into the table on the contract's key: a changed row replaces
its older copy, a row already the same is not touched, and a key present
twice in one batch counts once. The table's watermark (``_export_state``)
moves only after its last batch merged, so a second run changes nothing and
a killed run, run again, merges the same rows again and goes on.

Tables are created through the API: partitioned by day on their time column
(an order's ``created_at``, a snapshot's day; tables without one are not
partitioned) and clustered by store. A batch holds whole months of one
store, at most :data:`BATCH_ROWS` rows and :data:`BATCH_MONTHS` months (a
load job or a DML statement may touch at most 4,000 day partitions; a table
takes 1,500 load jobs a day, so even a first export of ten years of a
store's orders stays far under it). Rows deleted from the warehouse after
they were exported stay in BigQuery.

Credentials: ``--credentials FILE`` (a service-account key), else
``GOOGLE_APPLICATION_CREDENTIALS``, else the environment's default
(``gcloud auth application-default login``, a workload identity); with
``BIGQUERY_EMULATOR_HOST`` set the client talks to that local emulator.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from data.bi_views import VIEWS, view_sql
from data.export.parquet import file_schema, as_schema
from data.export.tables import (
    EXPORT_TABLES,
    ExportTable,
    change_sql,
    ColumnsOnce,
    changed_partitions,
    chosen_tables,
    partition_counts,
    partition_rows_sql,
)
from data.warehouse import Warehouse, WarehouseError

BATCH_ROWS = 500_000
BATCH_MONTHS = 100
STATE_TABLE = "_export_state"
_ID = re.compile(r"[A-Za-z0-9_]{1,1024}")


@dataclass
class BigQueryResult:
    dataset: str
    seconds: float = 0.0
    rows_loaded: int = 0
    bytes_loaded: int = 0
    load_jobs: int = 0
    rows_changed: dict[str, int] = field(default_factory=dict)


def make_client(project: str, credentials_file: str | None = None, location: str | None = None):
    """A ``bigquery.Client`` for ``project`` (see the module's note on credentials)."""
    from google.cloud import bigquery

    emulator = os.environ.get("BIGQUERY_EMULATOR_HOST", "").strip()
    if emulator:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        endpoint = emulator if emulator.startswith("http") else f"http://{emulator}"
        return bigquery.Client(project=project, credentials=AnonymousCredentials(), location=location,
                               client_options=ClientOptions(api_endpoint=endpoint))
    import google.auth.exceptions

    try:
        if credentials_file:
            from google.oauth2 import service_account

            credentials = service_account.Credentials.from_service_account_file(credentials_file)
            return bigquery.Client(project=project, credentials=credentials, location=location)
        return bigquery.Client(project=project, location=location)
    except (OSError, ValueError, google.auth.exceptions.DefaultCredentialsError) as exc:
        raise WarehouseError(
            f"no usable Google credentials ({str(exc).splitlines()[0]}): pass --credentials with a service-account "
            "key file, set GOOGLE_APPLICATION_CREDENTIALS, or run gcloud auth application-default login.") from None


def export_bigquery(wh: Warehouse, client: Any, dataset: str, *, tables: list[str] | None = None,
                    location: str | None = None, timeout: float = 300.0,
                    now: dt.datetime | None = None) -> BigQueryResult:
    """Merge what changed in ``wh`` into ``client.project``.``dataset`` and (re)create the bi_* views there."""
    from google.api_core import exceptions as google_errors
    from google.cloud import bigquery

    if not _ID.fullmatch(dataset):
        raise WarehouseError(f"dataset {dataset!r} must be letters, digits and _ only.")
    chosen = chosen_tables(tables)
    wh = ColumnsOnce(wh)  # type: ignore[assignment]
    clock = time.perf_counter()
    result = BigQueryResult(f"{client.project}.{dataset}")
    retry = bigquery.DEFAULT_RETRY.with_deadline(timeout)
    try:
        ds = bigquery.Dataset(f"{client.project}.{dataset}")
        if location:
            ds.location = location
        client.create_dataset(ds, exists_ok=True, retry=retry, timeout=timeout)
        session = _Session(client, f"{client.project}.{dataset}", retry, timeout)
        session.ensure_state_table()
        watermarks = session.watermarks()
        run_started = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
        unchanged: list[str] = []
        for table in EXPORT_TABLES:  # every table exists, so that the views can be created over a subset
            _ensure_table(session, table, _load_schema(wh, table))
        for table in chosen:
            started = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
            changed, loaded = _export_table(wh, session, table, watermarks.get(table.name), result)
            if loaded:
                session.set_watermarks([table.name], started)  # this table is done, whatever comes next
            else:
                unchanged.append(table.name)
            result.rows_changed[table.name] = changed
        if unchanged:
            session.set_watermarks(unchanged, run_started)
        for name in VIEWS:
            session.query(f"CREATE OR REPLACE VIEW `{session.dataset}.{name}` AS "
                          f"{view_sql(name, 'bigquery', f'{dataset}.')}")
    except google_errors.GoogleAPIError as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise WarehouseError(f"BigQuery refused the export: {message.splitlines()[0]}") from None
    result.seconds = time.perf_counter() - clock
    return result


class _Session:
    """The client, the dataset and the retry every call of one export uses."""

    def __init__(self, client: Any, dataset: str, retry: Any, timeout: float) -> None:
        self.client, self.dataset, self.retry, self.timeout = client, dataset, retry, timeout

    def query(self, sql: str, params: list | None = None):
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(query_parameters=params or [])
        job = self.client.query(sql, job_config=config, retry=self.retry, timeout=self.timeout)
        job.result(retry=self.retry, timeout=self.timeout)
        return job

    def ensure_state_table(self) -> None:
        from google.cloud import bigquery

        table = bigquery.Table(f"{self.dataset}.{STATE_TABLE}", schema=[
            bigquery.SchemaField("table_name", "STRING", mode="REQUIRED"),
            bigquery.SchemaField("watermark", "TIMESTAMP", mode="REQUIRED")])
        self.client.create_table(table, exists_ok=True, retry=self.retry, timeout=self.timeout)

    def watermarks(self) -> dict[str, dt.datetime]:
        rows = self.query(f"SELECT table_name, watermark FROM `{self.dataset}.{STATE_TABLE}`").result()
        return {row["table_name"]: row["watermark"] for row in rows}

    def set_watermarks(self, names: list[str], watermark: dt.datetime) -> None:
        from google.cloud import bigquery

        self.query(
            f"MERGE `{self.dataset}.{STATE_TABLE}` T USING (SELECT table_name, @mark AS watermark "
            "FROM UNNEST(@names) AS table_name) S "
            "ON T.table_name = S.table_name WHEN MATCHED THEN UPDATE SET watermark = S.watermark "
            "WHEN NOT MATCHED THEN INSERT (table_name, watermark) VALUES (S.table_name, S.watermark)",
            [bigquery.ArrayQueryParameter("names", "STRING", names),
             bigquery.ScalarQueryParameter("mark", "TIMESTAMP", watermark)])


def _bigquery_type(kind: pa.DataType) -> str:
    if pa.types.is_boolean(kind):
        return "BOOL"
    if pa.types.is_integer(kind):
        return "INT64"
    if pa.types.is_floating(kind):
        return "FLOAT64"
    if pa.types.is_decimal(kind):
        return "NUMERIC"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP"
    if pa.types.is_date(kind):
        return "DATE"
    return "STRING"


def _load_schema(wh: Warehouse, table: ExportTable) -> pa.Schema:
    """The rows as loaded: the Parquet export's columns, ``store_id`` first where the files leave it to the
    path, integers as INT64."""
    schema = file_schema(wh, table)
    fields = [pa.field("store_id", pa.string())] if table.by_store else []
    for f in schema:
        fields.append(pa.field(f.name, pa.int64() if pa.types.is_integer(f.type) else f.type))
    return pa.schema(fields)


def _ensure_table(session: _Session, table: ExportTable, schema: pa.Schema) -> None:
    from google.cloud import bigquery

    target = bigquery.Table(f"{session.dataset}.{table.name}", schema=[
        bigquery.SchemaField(f.name, _bigquery_type(f.type), mode="REQUIRED" if f.name in table.keys else "NULLABLE")
        for f in schema])
    if table.month_column and table.month_column.startswith("t."):
        target.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY,
                                                             field=table.month_column[2:])
    target.clustering_fields = ["store_id"] if table.by_store else list(table.keys[:1])
    session.client.create_table(target, exists_ok=True, retry=session.retry, timeout=session.timeout)


def _batches(table: ExportTable, partitions: list[tuple[Any, Any]], counts: dict) -> Iterator[list]:
    """Whole partitions of one store at a time, up to BATCH_ROWS rows and BATCH_MONTHS months."""
    batch: list = []
    rows = 0
    for part in sorted(partitions, key=lambda p: (str(p[0]), str(p[1]))):
        size = counts.get(part, 0)
        if batch and (part[0] != batch[-1][0] or rows + size > BATCH_ROWS or len(batch) >= BATCH_MONTHS):
            yield batch
            batch, rows = [], 0
        batch.append(part)
        rows += size
    if batch:
        yield batch


def _export_table(wh: Warehouse, session: _Session, table: ExportTable, since: dt.datetime | None,
                  result: BigQueryResult) -> tuple[int, bool]:
    """(rows inserted or updated, whether anything was loaded)."""
    schema = _load_schema(wh, table)
    counts = partition_counts(wh, table)
    if since is None:
        todo = set(counts)
    else:
        todo = changed_partitions(wh, table, since) & set(counts)
        if change_sql(wh, table) is None:
            first = (since - dt.timedelta(hours=1)).date().replace(day=1)
            todo |= {p for p in counts if p[1] is None or p[1] >= first}
    changed, loaded = 0, False
    for batch in _batches(table, list(todo), counts):
        frames = []
        for store, month in batch:
            # only the changed rows of a table that keeps when rows changed: the MERGE leaves the others be
            sql, params, _ = partition_rows_sql(wh, table, store, month, since)
            data = wh.query(sql, params).to_arrow()
            if table.by_store:
                data = data.add_column(0, "store_id", pa.array([store] * data.num_rows, pa.string()))
            frames.append(as_schema(data, schema))
        data = pa.concat_tables(frames)
        if data.num_rows == 0:
            continue
        changed += _load_and_merge(session, table, schema, data, result)
        loaded = True
    if loaded:
        session.client.delete_table(f"{session.dataset}._stage_{table.name}", not_found_ok=True,
                                    retry=session.retry, timeout=session.timeout)
    return changed, loaded


def _load_and_merge(session: _Session, table: ExportTable, schema: pa.Schema, data: pa.Table,
                    result: BigQueryResult) -> int:
    from google.cloud import bigquery

    buffer = io.BytesIO()
    pq.write_table(data, buffer, compression="zstd")
    size = buffer.tell()
    buffer.seek(0)
    stage = f"{session.dataset}._stage_{table.name}"
    fields = [bigquery.SchemaField(f.name, _bigquery_type(f.type)) for f in schema]
    config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET, schema=fields,
                                    write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE)
    job = session.client.load_table_from_file(buffer, stage, job_config=config, timeout=session.timeout)
    job.result(retry=session.retry, timeout=session.timeout)
    result.rows_loaded += data.num_rows
    result.bytes_loaded += size
    result.load_jobs += 1
    return session.query(_merge_sql(session.dataset, table, schema.names)).num_dml_affected_rows or 0


def _merge_sql(dataset: str, table: ExportTable, columns: list[str]) -> str:
    keys = list(table.keys)
    rest = [c for c in columns if c not in keys]
    on = " AND ".join(f"T.{k} = S.{k}" for k in keys)
    differs = " OR ".join(f"T.{c} IS DISTINCT FROM S.{c}" for c in rest)
    update = (f" WHEN MATCHED AND ({differs}) THEN UPDATE SET " + ", ".join(f"{c} = S.{c}" for c in rest)) if rest \
        else ""
    source = (f"(SELECT * EXCEPT (_copy) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY {', '.join(keys)}) "
              f"AS _copy FROM `{dataset}._stage_{table.name}`) WHERE _copy = 1)")
    return (f"MERGE `{dataset}.{table.name}` T USING {source} S ON {on}{update} "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(columns)}) VALUES ({', '.join('S.' + c for c in columns)})")

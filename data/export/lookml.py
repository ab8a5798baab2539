"""A LookML project for Looker, generated from the bi_* views.

``python -m data export lookml DIR`` writes ``DIR/ecommerce_analytics.model.lkml``
(the connection, one explore per view, orders joined to their customers and
lines) and ``DIR/views/<view>.view.lkml`` (a dimension per column, a time
dimension group per date or timestamp, a sum per money or count column, a
primary key over the view's key). Point ``--connection`` at the Looker
connection to the PostgreSQL warehouse (the ``bi-user`` login) or to the
BigQuery dataset, and ``--schema`` at the schema or ``project.dataset``
holding the views.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from data.bi_views import DESCRIPTIONS, VIEW_KEYS, VIEWS

MODEL = "ecommerce_analytics"
# Whole-number columns that add up (the others, scores and days, are dimensions).
_ADDITIVE = {"orders", "units_sold", "units_returned", "quantity", "available"}
# How the explores join: (explore, joined view, relationship, join columns).
_JOINS = {
    "bi_orders": [("bi_customers", "many_to_one", ("store_id", "customer_id"))],
    "bi_order_lines": [("bi_orders", "many_to_one", ("store_id", "order_id"))],
}


def view_columns() -> dict[str, pl.Schema]:
    """Each view's columns and types, from an empty embedded warehouse (the same on every engine)."""
    from data.warehouse import connect

    wh = connect("duckdb:///:memory:")
    try:
        return {name: wh.query(f"SELECT * FROM {name} LIMIT 0").schema for name in VIEWS}
    finally:
        wh.close()


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


_TEXT = {"postgres": "VARCHAR", "bigquery": "STRING"}


def _view(name: str, schema: pl.Schema, prefix: str, dialect: str) -> str:
    keys = VIEW_KEYS[name]
    lines = [f"# {DESCRIPTIONS[name]}", f"view: {name} {{", f"  sql_table_name: {prefix}{name} ;;", ""]
    key_sql = "CONCAT(" + ", '|', ".join(f"CAST(${{TABLE}}.{k} AS {_TEXT[dialect]})" for k in keys) + ")"
    lines += ["  dimension: pk {", "    primary_key: yes", "    hidden: yes", "    type: string",
              f"    sql: {key_sql} ;;", "  }", ""]
    measures = ["  measure: count {", "    type: count", "  }", ""]
    for column, dtype in schema.items():
        if isinstance(dtype, (pl.Datetime, pl.Date)):
            is_date = isinstance(dtype, pl.Date)
            frames = "[date, week, month, quarter, year]" if is_date else "[raw, time, date, week, month, quarter, year]"
            group = column[:-3] if column.endswith("_at") else column
            lines += [f"  dimension_group: {group} {{", "    type: time", f"    timeframes: {frames}"]
            if is_date:
                lines += ["    datatype: date", "    convert_tz: no"]
            lines += [f"    sql: ${{TABLE}}.{column} ;;", "  }", ""]
            continue
        kind = "yesno" if dtype == pl.Boolean else "number" if dtype.is_numeric() else "string"
        lines += [f"  dimension: {column} {{", f"    type: {kind}", f"    sql: ${{TABLE}}.{column} ;;"]
        if isinstance(dtype, pl.Decimal) or column in _ADDITIVE:
            lines.append("    hidden: yes")
            fmt = "decimal_2" if isinstance(dtype, pl.Decimal) else "decimal_0"
            measures += [f"  measure: total_{column} {{", "    type: sum", f'    label: "{_label(column)}"',
                         f"    sql: ${{{column}}} ;;", f"    value_format_name: {fmt}", "  }", ""]
        lines += ["  }", ""]
    return "\n".join(lines + measures).rstrip() + "\n}\n"


def _model(connection: str) -> str:
    lines = [f'connection: "{connection}"', "", 'include: "/views/*.view.lkml"', ""]
    for name in VIEWS:
        lines += [f"explore: {name} {{", f'  description: "{DESCRIPTIONS[name]}"']
        for joined, relationship, columns in _JOINS.get(name, []):
            on = " AND ".join(f"${{{name}.{c}}} = ${{{joined}.{c}}}" for c in columns)
            lines += [f"  join: {joined} {{", "    type: left_outer", f"    relationship: {relationship}",
                      f"    sql_on: {on} ;;", "  }"]
        lines += ["}", ""]
    return "\n".join(lines)


def write_lookml(directory: str | Path, *, connection: str = "ecommerce_warehouse", schema: str | None = None,
                 dialect: str = "postgres") -> list[Path]:
    """Write the project into ``directory`` for a ``postgres`` or ``bigquery`` connection; the files written."""
    from data.warehouse import WarehouseError

    if schema is not None and not re.fullmatch(r"[A-Za-z0-9_.\-]+", schema):
        raise WarehouseError(f"schema {schema!r} must be a schema name or project.dataset.")
    if dialect not in _TEXT:
        raise WarehouseError(f"dialect {dialect!r} must be one of {', '.join(_TEXT)}.")
    if schema and dialect == "bigquery":
        schema = f"`{schema}`"
    directory = Path(directory)
    (directory / "views").mkdir(parents=True, exist_ok=True)
    prefix = f"{schema}." if schema else ""
    written = []
    for name, columns in view_columns().items():
        path = directory / "views" / f"{name}.view.lkml"
        path.write_text(_view(name, columns, prefix, dialect))
        written.append(path)
    model = directory / f"{MODEL}.model.lkml"
    model.write_text(_model(connection))
    return [model, *written]

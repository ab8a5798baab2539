"""The LookML project generated from the bi_* views parses, and names every column of every view."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

lkml = pytest.importorskip("lkml", reason="the LookML parser (a test dependency) is not installed")

from data.bi_views import VIEW_KEYS, VIEWS  # noqa: E402
from data.export.lookml import view_columns, write_lookml  # noqa: E402
from data.warehouse import connect  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    out = tmp_path_factory.mktemp("lookml")
    write_lookml(out, connection="shop_warehouse", schema="analytics")
    model = lkml.load((out / "ecommerce_analytics.model.lkml").read_text())
    views = {}
    for path in sorted((out / "views").glob("*.view.lkml")):
        parsed = lkml.load(path.read_text())
        assert len(parsed["views"]) == 1
        views[parsed["views"][0]["name"]] = parsed["views"][0]
    return model, views


def _fields(view: dict) -> set[str]:
    names = {d["name"] for d in view.get("dimensions", [])}
    for group in view.get("dimension_groups", []):
        names |= {f"{group['name']}_{frame}" for frame in group["timeframes"]}
    return names


def test_the_model_has_an_explore_per_view_on_the_connection(project):
    model, views = project
    assert model["connection"] == "shop_warehouse"
    assert [e["name"] for e in model["explores"]] == list(VIEWS)
    assert set(views) == set(VIEWS)


@pytest.mark.parametrize("name", list(VIEWS), ids=list(VIEWS))
def test_every_column_is_a_dimension_and_the_key_is_the_views(project, name):
    _, views = project
    view = views[name]
    assert view["sql_table_name"] == f"analytics.{name}"
    columns = view_columns()[name]
    sqls = [d["sql"] for d in view.get("dimensions", []) + view.get("dimension_groups", [])]
    for column in columns:
        assert f"${{TABLE}}.{column}" in sqls, f"{name}.{column} has no dimension"
    keys = [d for d in view["dimensions"] if d.get("primary_key") == "yes"]
    assert len(keys) == 1
    assert re.findall(r"\$\{TABLE\}\.(\w+)", keys[0]["sql"]) == list(VIEW_KEYS[name])
    # the key's SQL runs on the warehouse
    wh = connect("duckdb:///:memory:")
    try:
        wh.rows(f"SELECT {keys[0]['sql'].replace('${TABLE}', name)} FROM {name}")
    finally:
        wh.close()
    for measure in view.get("measures", []):
        if measure["type"] == "sum":
            assert measure["sql"].strip("${} ") in {d["name"] for d in view["dimensions"]}


def test_joins_name_fields_that_exist(project):
    model, views = project
    for explore in model["explores"]:
        for join in explore.get("joins", []):
            for view, field in re.findall(r"\$\{(\w+)\.(\w+)\}", join["sql_on"]):
                assert field in _fields(views[view]), f"{explore['name']} joins on {view}.{field}"


def test_money_adds_up_and_days_are_dates(project):
    _, views = project
    orders = views["bi_orders"]
    measures = {m["name"]: m for m in orders["measures"]}
    assert {"total_net_sales", "total_gross_sales", "total_units_sold", "count"} <= set(measures)
    assert measures["total_net_sales"]["value_format_name"] == "decimal_2"
    local = next(g for g in orders["dimension_groups"] if g["name"] == "local_date")
    assert (local["datatype"], local["convert_tz"]) == ("date", "no")


def test_the_command_writes_a_bigquery_project(tmp_path):
    done = subprocess.run([sys.executable, "-m", "data", "export", "lookml", str(tmp_path), "--dialect", "bigquery",
                           "--schema", "shop-analytics.warehouse"], cwd=PROJECT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    view = lkml.load((tmp_path / "views" / "bi_daily_sales.view.lkml").read_text())["views"][0]
    assert view["sql_table_name"] == "`shop-analytics.warehouse`.bi_daily_sales"
    assert "AS STRING" in next(d for d in view["dimensions"] if d["name"] == "pk")["sql"]

"""CSV and PNG exports: formula cells neutralized, numbers untouched, real PNGs drawn."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import struct
from decimal import Decimal

import plotly.graph_objects as go
import polars as pl
import pytest

from analytics.exports import (
    PNG_SIGNATURE,
    ExportError,
    chromium_path,
    export_file_name,
    figure_to_png,
    figures_to_png,
    neutralize_cell,
    to_csv_bytes,
)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def needs_chromium() -> None:
    if chromium_path() is None:
        message = "Chromium is not installed (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
        ("+31 20 123", "'+31 20 123"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("", ""),
        ("'already", "'already"),
    ],
    ids=["equals", "hyperlink", "plus", "minus", "at", "tab", "carriage-return", "plain", "equals-inside",
         "leading-space", "empty", "quote"],
)
def test_text_cells_that_start_a_formula_get_a_quote(cell, written):
    assert neutralize_cell(cell) == written
    rows = read_csv(to_csv_bytes(pl.DataFrame({"title": [cell]})))
    assert rows == [["title"], [written]]


def test_numbers_stay_numbers():
    frame = pl.DataFrame(
        {
            "units": [-3, 0, 12],
            "net_sales": [Decimal("-12.3400"), Decimal("0.0000"), Decimal("12345678901234.5678")],
            "share": [-0.5, 0.25, 1.0],
            "refunded": [True, False, None],
        },
        schema_overrides={"net_sales": pl.Decimal(38, 4)},
    )
    assert read_csv(to_csv_bytes(frame)) == [
        ["units", "net_sales", "share", "refunded"],
        ["-3", "-12.3400", "-0.5", "true"],
        ["0", "0.0000", "0.25", "false"],
        ["12", "12345678901234.5678", "1.0", ""],
    ]


def test_dates_times_nulls_and_lists():
    frame = pl.DataFrame(
        {
            "day": [dt.date(2026, 11, 1), None],
            "placed_at": [dt.datetime(2026, 11, 1, 9, 5, 7), None],
            "synced_at": [dt.datetime(2026, 11, 1, 14, 5, 7, tzinfo=dt.timezone.utc), None],
            "trend": [[3, -1, 0], None],
            "channel": pl.Series(["-pos", None], dtype=pl.Categorical),
        }
    )
    assert read_csv(to_csv_bytes(frame)) == [
        ["day", "placed_at", "synced_at", "trend", "channel"],
        ["2026-11-01", "2026-11-01 09:05:07", "2026-11-01T14:05:07+00:00", "3; -1; 0", "'-pos"],
        ["", "", "", "", ""],
    ]


def test_structs_and_bytes_are_written_as_python_shows_them():
    frame = pl.DataFrame({"address": [{"city": "Paris", "zip": "75001"}, None], "raw": [b"ab", None]})
    assert read_csv(to_csv_bytes(frame)) == [
        ["address", "raw"],
        ["{'city': 'Paris', 'zip': '75001'}", "b'ab'"],
        ["", ""],
    ]


def test_quotes_commas_and_newlines_survive_the_round_trip():
    cell = 'Mug, "large"\nblue'
    assert read_csv(to_csv_bytes(pl.DataFrame({"title": [cell]}))) == [["title"], [cell]]


@pytest.mark.parametrize(
    ("name", "start", "end", "extension", "expected"),
    [
        ("sales_by_channel", dt.date(2026, 11, 1), dt.date(2026, 11, 30), "csv",
         "sales_by_channel_2026-11-01_2026-11-30.csv"),
        ("Orders / lines #1001", None, None, ".csv", "orders_lines_1001.csv"),
        ("products_net sales", dt.date(2026, 1, 1), dt.date(2026, 1, 1), "png",
         "products_net_sales_2026-01-01_2026-01-01.png"),
    ],
    ids=["range", "no-range", "spaces"],
)
def test_file_names(name, start, end, extension, expected):
    assert export_file_name(name, start, end, extension) == expected


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_a_chart_becomes_a_real_png():
    needs_chromium()
    fig = go.Figure(go.Bar(x=["online_store", "pos"], y=[120.5, 80.25], marker_color="#0072B2"))
    fig.update_layout(title="Net sales by channel")
    data = figure_to_png(fig, width=640, height=360)
    assert png_size(data) == (640, 360)
    assert len(data) > 5_000  # a drawn chart, not an empty canvas


def test_several_charts_in_one_session():
    needs_chromium()
    figs = [go.Figure(go.Scatter(x=[1, 2, 3], y=[i, i + 1, i])) for i in range(2)]
    pngs = figures_to_png(figs, width=300, height=200, scale=2)
    assert [png_size(p) for p in pngs] == [(600, 400), (600, 400)]


def test_a_missing_browser_is_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chrome"))
    with pytest.raises(ExportError, match="needs Chromium"):
        figure_to_png(go.Figure())


def test_one_browser_draws_every_png_and_one_that_died_is_replaced():
    needs_chromium()
    from analytics import exports

    exports._browser.close()
    started = exports._browser.starts
    first = figure_to_png(go.Figure(go.Bar(y=[1, 2])), width=300, height=200)
    second = figure_to_png(go.Figure(go.Bar(y=[2, 1])), width=300, height=200)
    assert first != second and png_size(second) == (300, 200)
    assert exports._browser.starts == started + 1  # the second PNG found the browser open

    # Chromium killed under the app: the next PNG is drawn all the same, in a new browser.
    process = exports._browser._session.subprocess
    process.kill()
    process.wait(timeout=10)
    assert png_size(figure_to_png(go.Figure(go.Bar(y=[3, 1])), width=300, height=200)) == (300, 200)
    assert exports._browser.starts == started + 2
    exports._browser.close()
    assert exports._browser._session is None

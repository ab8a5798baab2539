"""The download buttons of ui/downloads.py: names, labels, a disabled PNG without Chromium, the PNG cache."""

from __future__ import annotations

import os

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from analytics.exports import PNG_SIGNATURE, chromium_path

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def buttons_page():
    import datetime as dt
    from dataclasses import dataclass

    import plotly.graph_objects as go
    import polars as pl

    from ui.downloads import chart_download, table_download

    @dataclass(frozen=True)
    class Range:
        start: dt.date
        end: dt.date

    november = Range(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    table_download(pl.DataFrame({"channel": ["pos"], "net_sales": [1.5]}), "sales_by_channel", november)
    table_download(lambda: pl.DataFrame({"x": [1]}), "orders_#1001_lines", None)
    chart_download(go.Figure(go.Bar(x=["a"], y=[1])), "sales_by_channel", november)


def test_buttons_are_named_after_the_page_the_figure_and_the_range():
    at = AppTest.from_function(buttons_page, default_timeout=30).run()
    assert not at.exception, at.exception
    buttons = at.get("download_button")
    assert [(b.key, b.label) for b in buttons] == [
        ("csv_sales_by_channel_2026-11-01_2026-11-30.csv", "Download CSV"),
        ("csv_orders_1001_lines.csv", "Download CSV"),
        ("png_sales_by_channel_2026-11-01_2026-11-30.png", "Download PNG"),
    ]


def test_without_chromium_the_png_button_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chrome"))
    at = AppTest.from_function(buttons_page, default_timeout=30).run()
    png = at.get("download_button")[2]
    assert png.proto.disabled
    assert "PNG export needs Chromium" in png.help


def test_a_png_is_drawn_once_per_figure_and_size():
    if chromium_path() is None:
        if IN_CI:
            pytest.fail("Chromium is not installed (apt-get install -y chromium)")
        pytest.skip("Chromium is not installed")
    from ui.downloads import _png

    _png.cache_clear()
    figure = go.Figure(go.Scatter(x=[1, 2], y=[2, 1])).to_json()
    first = _png(figure, 400, 300)
    again = _png(figure, 400, 300)
    assert first is again and first.startswith(PNG_SIGNATURE)
    assert _png.cache_info().hits == 1

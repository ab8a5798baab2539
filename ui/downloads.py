"""Download buttons: every table as CSV, every chart as PNG.

Files are named after the page, the figure and the range
(``sales_by_channel_2026-11-01_2026-11-30.csv``). Both files are made only
when the button is clicked (Streamlit's deferred download data), so a page
render never pays for them: a PNG costs a Chromium render, and a table's
full CSV may be larger than what the page shows. PNGs are cached on the
figure's JSON and size.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, Callable

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
import streamlit as st

from analytics.exports import chromium_path, export_file_name, figure_to_png, to_csv_bytes

__all__ = ["chart_download", "table_download"]

FrameSource = pl.DataFrame | Callable[[], pl.DataFrame]


def _range_of(filters: Any) -> tuple[dt.date | None, dt.date | None]:
    if filters is None:
        return None, None
    return getattr(filters, "start", None), getattr(filters, "end", None)


def table_download(
    frame: FrameSource,
    name: str,
    filters: Any = None,
    *,
    label: str = "Download CSV",
    help: str | None = None,
    key: str | None = None,
) -> None:
    """A button that downloads ``frame`` as CSV, text cells neutralized.

    ``frame`` is a Polars frame or a function returning one (called only on
    click: the way to export every matching row of a paged table). ``name``
    is ``<page>_<figure>``; the range comes from ``filters`` (``start`` and
    ``end``), left out when ``filters`` is ``None``.
    """
    start, end = _range_of(filters)
    file_name = export_file_name(name, start, end, "csv")

    def build() -> bytes:
        return to_csv_bytes(frame() if callable(frame) else frame)

    st.download_button(
        label,
        data=build,
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        help=help or f"Saves {file_name}: numbers as numbers, text that looks like a formula starts with '.",
        key=key or f"csv_{file_name}",
        on_click="ignore",
    )


@lru_cache(maxsize=32)
def _png(figure_json: str, width: int, height: int) -> bytes:
    return figure_to_png(pio.from_json(figure_json, skip_invalid=True), width, height, scale=2)


def chart_download(
    fig: go.Figure,
    name: str,
    filters: Any = None,
    *,
    width: int = 1200,
    height: int = 600,
    label: str = "Download PNG",
    key: str | None = None,
) -> None:
    """A button that downloads ``fig`` as a PNG (``width`` × ``height`` at twice the pixel density).

    Without Chromium on the server the button is shown disabled, saying why.
    """
    start, end = _range_of(filters)
    file_name = export_file_name(name, start, end, "png")
    available = chromium_path() is not None
    figure_json = fig.to_json()

    st.download_button(
        label,
        data=lambda: _png(figure_json, width, height),
        file_name=file_name,
        mime="image/png",
        icon=":material/image:",
        help=(
            f"Saves {file_name}."
            if available
            else "PNG export needs Chromium on the server (apt-get install chromium, or set BROWSER_PATH)."
        ),
        key=key or f"png_{file_name}",
        on_click="ignore",
        disabled=not available,
    )

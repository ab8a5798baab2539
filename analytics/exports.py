"""Files people take away: CSV tables and PNG charts.

CSV cells are neutralized against formula injection: a spreadsheet opening
the file would run a text cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return as a formula, so such a cell gets a leading ``'``
(OWASP's advice). Only text is touched: numbers stay numbers (``-5`` in an
integer column is a number, not a formula), decimals are written exactly as
stored, dates and times in ISO 8601.

PNG charts are drawn by kaleido in a headless Chromium (Debian's
``/usr/bin/chromium`` unless ``BROWSER_PATH`` names another), one for the
process, kept open between PNGs and closed after ten idle minutes.
"""

from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any, Sequence

import polars as pl

__all__ = [
    "FORMULA_PREFIXES",
    "ExportError",
    "chromium_path",
    "export_file_name",
    "figure_to_png",
    "figures_to_png",
    "neutralize_cell",
    "neutralize_frame",
    "to_csv_bytes",
]

# The first characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

DEBIAN_CHROMIUM = "/usr/bin/chromium"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)


class ExportError(RuntimeError):
    """A file could not be produced; the message is one sentence with the next step."""


# -- CSV ----------------------------------------------------------------------------

def neutralize_cell(text: str | None) -> str | None:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _neutralized(column: pl.Expr) -> pl.Expr:
    starts = pl.lit(False)
    for prefix in FORMULA_PREFIXES:
        starts = starts | column.str.starts_with(prefix)
    return pl.when(starts).then(pl.lit("'") + column).otherwise(column)


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr | None:
    """The column as text when a CSV cell of it would be text, else ``None`` (left as is)."""
    column = pl.col(name)
    if isinstance(dtype, _TEXT_TYPES):
        return column.cast(pl.String)
    if isinstance(dtype, (pl.List, pl.Array)):
        # A sparkline's points and the like: "3; 5; 0".
        return column.cast(pl.List(pl.String)).list.join("; ")
    return None


def _python_text(column: pl.Series) -> pl.Series:
    """A struct, object or binary column as Python's text of each value, made in this thread: a Python
    function inside Polars' thread pool (``map_elements``) can freeze the process (``ui.tables.text_of``)."""
    return pl.Series(column.name, [None if value is None else str(value) for value in column.to_list()],
                     dtype=pl.String)


def _temporal_text(name: str, dtype: pl.DataType) -> pl.Expr | None:
    """Times written in ISO 8601 to the second, with the offset when the column has a timezone."""
    if isinstance(dtype, pl.Datetime):
        fmt = "%Y-%m-%dT%H:%M:%S%:z" if dtype.time_zone else "%Y-%m-%d %H:%M:%S"
        return pl.col(name).dt.strftime(fmt)
    return None


def neutralize_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell neutralized (see :func:`neutralize_cell`).

    Numeric, boolean, date and decimal columns are returned unchanged; nested
    and object columns become text first (lists joined with ``"; "``).
    """
    as_python_text = [frame.get_column(name) for name, dtype in frame.schema.items()
                      if isinstance(dtype, pl.Struct) or dtype == pl.Object or dtype == pl.Binary]
    if as_python_text:
        frame = frame.with_columns(_python_text(column) for column in as_python_text)
    expressions = []
    for name, dtype in frame.schema.items():
        text = _as_text(name, dtype)
        if text is not None:
            expressions.append(_neutralized(text).alias(name))
        else:
            temporal = _temporal_text(name, dtype)
            if temporal is not None:
                expressions.append(temporal.alias(name))
    return frame.with_columns(expressions) if expressions else frame


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as UTF-8 CSV (header row, comma-separated), text cells neutralized.

    Decimals keep every stored digit (``12.3400``); an empty cell is a null.
    """
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"to_csv_bytes needs a polars DataFrame, not {type(frame).__name__}")
    return neutralize_frame(frame).write_csv().encode("utf-8")


_UNSAFE_NAME = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _UNSAFE_NAME.sub("_", text.lower()).strip("_")


def export_file_name(name: str, start: dt.date | None, end: dt.date | None, extension: str) -> str:
    """``sales_by_channel_2026-11-01_2026-11-30.csv``: the figure's name, then the range.

    ``name`` is ``<page>_<figure>`` (any other character becomes ``_``); the
    dates are left out when the figure has no range.
    """
    parts = [_slug(name) or "export"]
    if start is not None and end is not None:
        parts += [start.isoformat(), end.isoformat()]
    return "_".join(parts) + "." + extension.lstrip(".")


# -- PNG ----------------------------------------------------------------------------

def chromium_path() -> str | None:
    """The browser kaleido drives: ``BROWSER_PATH``, else Debian's Chromium, else one on ``PATH``."""
    configured = os.environ.get("BROWSER_PATH", "").strip()
    if configured:
        return configured if Path(configured).exists() else None
    if Path(DEBIAN_CHROMIUM).exists():
        return DEBIAN_CHROMIUM
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


# How long the browser may stay idle before it is closed (it starts again on the next PNG), and how long
# one batch of figures may take.
BROWSER_IDLE_SECONDS = 600.0
RENDER_TIMEOUT_SECONDS = 120.0


class _Browser:
    """One kaleido session (one headless Chromium) for the process, kept open between PNGs.

    Starting Chromium is most of a PNG's cost, so the session lives in a thread of its own, with its
    own event loop (an event loop already running in the caller, Streamlit's server or a notebook,
    is never in the way), and renders one batch at a time. It is closed after
    ``BROWSER_IDLE_SECONDS`` without work and at exit; a render that fails closes it, and the batch
    is tried once more in a new one (a browser that died is replaced).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one batch at a time
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: Any = None
        self._path: str | None = None
        self._idle: asyncio.TimerHandle | None = None
        self.starts = 0  # browsers started so far (the tests and the benchmark read it)

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="png-export", daemon=True).start()
            self._loop = loop
            atexit.register(self.close)
        return self._loop

    async def _open(self, path: str) -> Any:
        import kaleido

        if self._session is not None and self._path != path:
            await self._close()
        if self._session is None:
            # mathjax=False: no network fetch for a formula renderer the charts never use.
            session = kaleido.Kaleido(path=path, mathjax=False, timeout=60)
            await session.__aenter__()
            self._session, self._path = session, path
            self.starts += 1
        return self._session

    async def _close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                await session.__aexit__(None, None, None)
            except Exception:  # noqa: BLE001 - a browser that already died has nothing left to close
                pass

    def _close_soon(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        loop = self._loop
        self._idle = loop.call_later(BROWSER_IDLE_SECONDS, lambda: loop.create_task(self._close()))

    async def _render(self, path: str, figures: Sequence[Any], opts: dict) -> list[bytes]:
        if self._idle is not None:
            self._idle.cancel()
        try:
            for attempt in (1, 2):
                session = await self._open(path)
                try:
                    return [await session.calc_fig(fig, opts=opts) for fig in figures]
                except Exception:
                    await self._close()
                    if attempt == 2:
                        raise
        finally:
            self._close_soon()
        raise AssertionError("unreachable")

    def render(self, path: str, figures: Sequence[Any], opts: dict) -> list[bytes]:
        with self._lock:
            future = asyncio.run_coroutine_threadsafe(self._render(path, figures, opts), self._ensure_loop())
            return future.result(timeout=RENDER_TIMEOUT_SECONDS)

    def close(self) -> None:
        """Close the browser now (it starts again on the next PNG)."""
        with self._lock:
            if self._loop is not None and self._session is not None:
                asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=30)


_browser = _Browser()


def figures_to_png(figures: Sequence[Any], width: int = 1200, height: int = 600, scale: float = 1) -> list[bytes]:
    """PNG bytes of each plotly figure, ``width`` × ``height`` CSS pixels, drawn in the process's browser.

    Raises :class:`ExportError` (one sentence) when no Chromium is found or
    the render fails.
    """
    if not figures:
        return []
    browser = chromium_path()
    if browser is None:
        raise ExportError(
            "PNG export needs Chromium: install it (apt-get install chromium) or set BROWSER_PATH to a Chrome binary."
        )
    try:
        import kaleido  # noqa: F401 - a clear sentence when it is missing
    except ImportError:  # pragma: no cover - kaleido is a pinned dependency
        raise ExportError("PNG export needs the kaleido package: make install (or pip install -r requirements.lock)."
                          ) from None
    opts = {"format": "png", "width": int(width), "height": int(height), "scale": scale}
    try:
        outcome = _browser.render(browser, figures, opts)
    except Exception as exc:  # one sentence for the page or the report
        raise ExportError(f"The chart could not be drawn as a PNG ({type(exc).__name__}: {exc}).") from exc
    for png in outcome:
        if not png.startswith(PNG_SIGNATURE):
            raise ExportError("The chart renderer returned something that is not a PNG.")
    return outcome


def figure_to_png(fig: Any, width: int = 1200, height: int = 600, scale: float = 1) -> bytes:
    """PNG bytes of one plotly figure (see :func:`figures_to_png`)."""
    return figures_to_png([fig], width, height, scale)[0]

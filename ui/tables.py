"""Column formats shared by the pages' tables: money in the store's currency,
counts with thousands separators, ratios as percentages, store-local times.

Tables show floats for drawing only; the CSV downloads carry the exact
``Decimal`` figures of the frames they come from.

Words made by a Python function (a channel's name, a status in plain words)
are computed with :func:`text_of`, never with Polars' ``map_elements``: see
there why.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import polars as pl
import streamlit as st

from analytics.formatting import SYMBOLS, format_money, minor_unit


def money_column(title: str, currency: str, help: str | None = None, **options: Any) -> Any:
    """``$1,234.50``, ``¥1,235``: the currency's symbol and minor unit."""
    symbol = SYMBOLS.get(currency.upper(), currency.upper() + " ")
    return st.column_config.NumberColumn(title, format=f"{symbol}%,.{minor_unit(currency)}f", help=help, **options)


def count_column(title: str, help: str | None = None, **options: Any) -> Any:
    return st.column_config.NumberColumn(title, format="%,d", help=help, **options)


def percent_column(title: str, help: str | None = None, **options: Any) -> Any:
    """For a column already multiplied by 100 (see :func:`for_display`)."""
    return st.column_config.NumberColumn(title, format="%.1f%%", help=help, **options)


def time_column(title: str, help: str | None = None, **options: Any) -> Any:
    return st.column_config.DatetimeColumn(title, format="D MMM YYYY, HH:mm", help=help, **options)


def for_display(frame: pl.DataFrame, *, percent: Iterable[str] = ()) -> pl.DataFrame:
    """``frame`` with decimals as floats so the browser can draw and sort them, and the ``percent``
    columns (fractions, decimal or float: 0.25 is 25 %) × 100 for :func:`percent_column`."""
    percent = set(percent)
    columns = []
    for name, dtype in frame.schema.items():
        numeric = isinstance(dtype, pl.Decimal) or dtype.is_numeric()
        if name in percent and numeric:
            columns.append((pl.col(name).cast(pl.Float64) * 100).alias(name))
        elif isinstance(dtype, pl.Decimal):
            columns.append(pl.col(name).cast(pl.Float64).alias(name))
    return frame.with_columns(columns) if columns else frame


def money_text(frame: pl.DataFrame, column: str, currency: str, *, name: str | None = None) -> pl.Series:
    """A money column as text (``−$3,805.28``): for figures that can be negative, whose sign a number
    column would draw after the symbol (``$-3,805.28``)."""
    return text_of(frame, lambda value: format_money(value, currency), column, name=name)


def money_text_column(title: str, help: str | None = None, **options: Any) -> Any:
    """The column of :func:`money_text`, right-aligned like a number."""
    return st.column_config.TextColumn(title, help=help, alignment="right", **options)


def words(value: str | None) -> str | None:
    """``partially_refunded`` → ``Partially refunded``."""
    return None if value is None else value.replace("_", " ").capitalize()


def text_of(frame: pl.DataFrame, fn: Callable[..., str | None], *columns: str, name: str | None = None) -> pl.Series:
    """A text column (named ``name``, else after the first column) of ``fn(*values)`` for each row's
    ``columns``; with one column a null stays null without calling ``fn``.

    The values are computed in this thread. ``map_elements`` would call ``fn`` from Polars' thread pool,
    which must take the GIL for it, while some Polars calls keep the GIL as they wait for that same pool
    (``DataFrame.to_pandas``, which ``st.dataframe`` makes of a Polars frame): one browser session drawing
    a table while another's words were being computed froze the whole server process, every thread
    waiting for the GIL.
    """
    rows = zip(*(frame.get_column(column).to_list() for column in columns))
    if len(columns) == 1:
        values = [None if value is None else fn(value) for (value,) in rows]
    else:
        values = [fn(*row) for row in rows]
    return pl.Series(name or columns[0], values, dtype=pl.String)

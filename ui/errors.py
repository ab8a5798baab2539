"""No traceback reaches a page: a failure becomes one sentence with the next step."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, Sequence

import streamlit as st

from analytics.fx import MissingRate
from data.warehouse import Warehouse, WarehouseError, shared

log = logging.getLogger("ui")


def open_warehouse() -> Warehouse:
    """The app's warehouse, or one sentence saying why it cannot be opened (and the page stops)."""
    try:
        return shared()
    except WarehouseError as exc:
        st.error(f"{exc}", icon=":material/database:")
        st.stop()
        raise  # unreachable: st.stop() ends the run


@contextmanager
def section(what: str) -> Iterator[None]:
    """Run one part of a page; if it fails, say so in one sentence and let the rest of the page draw."""
    try:
        yield
    except (WarehouseError, MissingRate) as exc:
        st.error(f"{what} could not be shown: {exc}", icon=":material/error:")
    except Exception:  # shown as one sentence, logged in full
        log.exception("%s failed", what)
        st.error(f"{what} could not be shown because of an unexpected error. Reload the page; if it keeps "
                 "happening, the server log has the details.", icon=":material/error:")


def open_tab(labels: Sequence[str], key: str) -> tuple[Any, str]:
    """Tabs of which only the open one is to be drawn: (its container, its label).

    A click on another tab reruns the page: each part left closed costs neither its queries nor the
    browser's drawing of it (a table or a chart is the most of a page's time in the browser)."""
    tabs = st.tabs(list(labels), key=key, on_change="rerun")
    return next(((tab, label) for tab, label in zip(tabs, labels) if tab.open), (tabs[0], labels[0]))


def open_tab_only(tabs: Mapping[str, tuple[str, str | None, Callable[[], None]]], key: str) -> None:
    """:func:`open_tab`, the open one drawn in a section of its own under its subheader.

    ``tabs``: label → (subheader, its help, what draws it)."""
    tab, label = open_tab(list(tabs), key)
    title, help_text, draw = tabs[label]
    with tab, section(title):
        st.subheader(title, help=help_text)
        draw()

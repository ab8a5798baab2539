"""What the command line does, from a page while the app runs (owners only).

With the embedded DuckDB file only the app's process may open the warehouse,
so ``python -m analytics refresh``, ``report`` and ``alerts --send`` cannot run
beside it; these buttons do the same work in the app's process, through the
same functions: :func:`analytics.refresh.run_refresh`,
:func:`analytics.report.report_archive` (the report folder as a zip),
:func:`analytics.inventory.alerts.send_daily_digest` and, on an empty
warehouse, :func:`connectors.demo.build.build_demo`.
"""

from __future__ import annotations

import datetime as dt
from typing import Sequence
from zoneinfo import ZoneInfo

import streamlit as st

from analytics.inventory.alerts import DigestConfig, send_daily_digest
from analytics.refresh import run_refresh
from analytics.report import ReportError, report_archive
from analytics.store_state import Store
from data.warehouse import Warehouse
from ui import cache
from ui.login import OWNERS_ONLY, may_change

REPORT = "_report_archive"


def refresh_button(wh: Warehouse, store: Store, label: str, key: str, only: Sequence[str] | None = None) -> bool:
    """A button that runs the refresh steps (``only`` those) of ``store`` with a progress bar; ``True``
    once they all succeeded (the page caches are cleared then). Owners only: analysts see a caption."""
    if not may_change():
        st.caption(f"{label}: {OWNERS_ONLY}")
        return False
    if not st.button(label, key=key, icon=":material/refresh:"):
        return False
    bar = st.progress(0.0, text="Starting")

    def progress(index: int, count: int, title: str, fraction: float, message: str) -> None:
        bar.progress(min(1.0, (index + fraction) / max(count, 1)), text=f"{title}: {message}")

    runs = run_refresh(wh, store, only=only, progress=progress)
    bar.empty()
    failed = [r for r in runs if r.status != "succeeded"]
    if failed:
        st.error(f"The {failed[0].kind} step failed: {failed[0].error}", icon=":material/error:")
        return False
    cache.clear()
    return True


def digest_button(wh: Warehouse, store: Store, key: str = "send_digest") -> None:
    """Send today's stock-alert digest of ``store`` now (at most once a day, as the scheduler does)."""
    if not may_change():
        return
    if not DigestConfig.from_settings().channels:
        st.caption("The stock-alert digest is off until its mail server and address, or its webhook, are saved "
                   "under Settings › Stock-alert digest.")
        return
    if not st.button("Send today's stock-alert digest", key=key, icon=":material/send:"):
        return
    with st.spinner("Sending the digest…"):
        outcome = send_daily_digest(wh, store)
    if outcome.status == "sent":
        st.success(f"Sent today's digest ({outcome.alerts:,} alerts) by {' and '.join(outcome.channels)}.",
                   icon=":material/check_circle:")
    elif outcome.status == "already_sent":
        st.info("Today's digest was already sent; the next one goes out tomorrow.", icon=":material/info:")
    else:
        st.error(f"The digest could not be sent: {outcome.message.rstrip('.')}.", icon=":material/error:")


def report_download(wh: Warehouse, store: Store, key: str = "report") -> None:
    """Build the report folder of a date range and offer it as a zip file."""
    today = dt.datetime.now(ZoneInfo(store.timezone)).date()
    first = today.replace(day=1)
    last_month_end = first - dt.timedelta(days=1)
    chosen = st.date_input("Report range", value=(last_month_end.replace(day=1), last_month_end), max_value=today,
                           key=f"{key}_range", help="Store-local days; by default the last full month.")
    charts = st.checkbox("With chart images (PNG)", value=True, key=f"{key}_charts",
                         help="Drawn in Chromium: about a second a chart. Without them the report is ready at once.")
    if not (isinstance(chosen, (tuple, list)) and len(chosen) == 2):
        st.caption("Choose the first and the last day of the range.")
        return
    start, end = chosen
    if st.button("Build the report", key=f"{key}_build", icon=":material/description:"):
        with st.spinner("Building the report…"):
            try:
                data, result = report_archive(wh, store, start, end, charts=charts)
            except ReportError as exc:
                st.error(str(exc), icon=":material/error:")
                return
        st.session_state[REPORT] = (store.store_id, start, end, data, result)
    built = st.session_state.get(REPORT)
    if built is None or built[:3] != (store.store_id, start, end):
        return
    _, _, _, data, result = built
    for warning in result.warnings:
        st.warning(warning, icon=":material/warning:")
    st.download_button(f"Download the report ({len(result.files)} files, zip)", data, f"{result.out.name}.zip",
                       mime="application/zip", key=f"{key}_download", icon=":material/download:", on_click="ignore")


def demo_button(wh: Warehouse) -> None:
    """Build the demo store (DEMO_ORDERS orders over two years) into the app's warehouse, with a progress bar."""
    from connectors.demo.build import build_demo
    from connectors.demo.cli import _default_orders

    orders = _default_orders()
    if not st.button(f"Build the demo store ({orders:,} orders)", key="actions_demo", icon=":material/storefront:"):
        return
    bar = st.progress(0.0, text="Starting")
    build_demo(wh, orders=orders, progress=lambda step, fraction: bar.progress(min(max(fraction, 0.0), 1.0),
                                                                             text=step))
    cache.clear()
    st.rerun()


def actions_section(wh: Warehouse) -> None:
    """Settings' Run now section: refresh, the digest and the report of a chosen store."""
    from analytics.store_state import list_stores

    stores = list_stores(wh)
    if not stores:
        st.caption("Nothing to run yet: import orders or connect a store first, or try the app on the demo store.")
        demo_button(wh)
        return
    names = {s.store_id: f"{s.name} ({s.store_id})" for s in stores}
    chosen = st.selectbox("Store", list(names), format_func=names.get, key="actions_store")
    store = next(s for s in stores if s.store_id == chosen)
    st.markdown("**Refresh** customer scores, lifetime value models and demand forecasts now (the app also does it "
                "in the background every REFRESH_INTERVAL_HOURS).")
    if refresh_button(wh, store, "Refresh everything now", key="actions_refresh"):
        st.success(f"Refreshed {store.name}: the pages show the new figures.", icon=":material/check_circle:")
    st.markdown("**Stock-alert digest**: today's alerts by email or webhook (also sent once a day by itself).")
    digest_button(wh, store, key="actions_digest")
    st.markdown("**Report**: every page's figures for a date range, as CSV and JSON files, chart images and an "
                "index page, in one zip file.")
    report_download(wh, store, key="actions_report")

"""The app's server: Streamlit pages, webhooks and the background work, in one process.

``streamlit run server.py`` (what ``make run`` does) or
``uvicorn server:app`` serves it. The lifespan opens the shared warehouse and,
when the demo store is there, starts the live demo feed in a thread of this
same process: with the embedded DuckDB file only one process may write, so
every writer lives here and the pages never meet a lock error. Shopify,
WooCommerce and Stripe deliver webhooks to ``POST /webhooks/<platform>`` on
the same port (connectors/webhooks.py), connected stores are synced
every SYNC_INTERVAL_MINUTES by a scheduler thread, and customer scores,
models and forecasts are refreshed every REFRESH_INTERVAL_HOURS by another, and
the warehouse is exported as Parquet to PARQUET_EXPORT_DIR by a third; the
ECB exchange rates are loaded at the start and refreshed every FX_REFRESH_HOURS
by a fourth.
``GET /health/ready`` says whether the app can serve its users: the warehouse
answers, its schema is current and someone can log in (JSON, 503 naming the
part that failed); ``/_stcore/health`` only says that Streamlit is up.
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from auth.keys import CookieKeyError, require_cookie_key
from connectors.readiness import readiness_route
from connectors.webhooks import webhook_routes
from data.logs import configure_logging
from data.settings import setting
from data.warehouse import WarehouseError, close_shared, shared

log = logging.getLogger("server")
APP_SCRIPT = Path(__file__).resolve().parent / "app.py"
READY_PATH = "/health/ready"


def _feed_enabled() -> bool:
    return (setting("DEMO_FEED") or "on").strip().lower() not in ("0", "off", "false", "no")


def start_demo_feed(stop: threading.Event) -> threading.Thread | None:
    """Start the live demo feed when the warehouse holds the demo store."""
    if not _feed_enabled():
        return None
    try:
        wh = shared()
        if not wh.scalar("SELECT count(*) FROM stores WHERE store_id = 'demo'"):
            return None
    except WarehouseError as exc:
        log.warning("live demo feed not started: %s", exc)
        return None
    from connectors.demo.feed import PACES, run_feed

    interval = float(setting("DEMO_FEED_INTERVAL") or 5)
    pace = (setting("DEMO_FEED_PACE") or "history").strip().lower()
    if pace not in PACES:
        log.warning("DEMO_FEED_PACE %r is not history or busy; the feed keeps the history's pace", pace)
        pace = "history"
    thread = threading.Thread(target=run_feed, args=(wh, stop, interval, "demo", pace), name="demo-feed",
                              daemon=True)
    thread.start()
    log.info("live demo feed started, a tick every %.0f s at the %s pace", interval, pace)
    return thread


def _start_on_warehouse(what: str, name: str, target, *extra) -> threading.Thread | None:
    """Run ``target(wh, stop, *extra)`` in a daemon thread on the shared warehouse."""
    try:
        wh = shared()
    except WarehouseError as exc:
        log.warning("%s not started: %s", what, exc)
        return None
    thread = threading.Thread(target=target, args=(wh, *extra), name=name, daemon=True)
    thread.start()
    return thread


def start_sync_scheduler(stop: threading.Event) -> threading.Thread | None:
    """Sync the connected stores every SYNC_INTERVAL_MINUTES (0: never), in this process."""
    from connectors.sync.scheduler import interval_minutes, run_scheduler

    return _start_on_warehouse("sync scheduler", "sync-scheduler", run_scheduler, stop, interval_minutes)


def start_refresh(stop: threading.Event) -> threading.Thread | None:
    """Refresh scores, models and forecasts in the background (REFRESH_INTERVAL_HOURS; 0: never)."""
    from analytics.refresh import run_refresh_loop

    return _start_on_warehouse("background refresh", "refresh", run_refresh_loop, stop)


def start_parquet_export(stop: threading.Event) -> threading.Thread | None:
    """Export the warehouse as Parquet to PARQUET_EXPORT_DIR every PARQUET_EXPORT_INTERVAL_MINUTES, in this
    process (the way a BI tool reads the embedded DuckDB file while the app runs)."""
    from data.export.schedule import run_export_loop

    return _start_on_warehouse("Parquet export", "parquet-export", run_export_loop, stop)


def start_fx_rates(stop: threading.Event) -> threading.Thread | None:
    """Load the ECB exchange rates now, then refresh them every FX_REFRESH_HOURS (FX_REFRESH on), in this process."""
    from connectors.fx.schedule import run_fx_loop

    return _start_on_warehouse("exchange rates", "fx-rates", run_fx_loop, stop)


def users_part() -> tuple[bool, str]:
    """The readiness of the login: the users file reads and names at least one user."""
    from auth.users import UserError, UserStore

    try:
        users = UserStore().users()
    except UserError as exc:
        return False, str(exc)
    if not users:
        return False, "No user can log in: the users file names nobody (python -m auth setup creates the owner)."
    return True, f"{len(users)} user(s) can log in."


def close_dead_sync_runs() -> None:
    """Runs left ``running`` by a process that died (killed, crashed) are marked ``interrupted``."""
    from connectors.sync.scheduler import close_dead_runs

    try:
        close_dead_runs(shared())
    except WarehouseError as exc:
        log.warning("sync runs not checked: %s", exc)


@asynccontextmanager
async def lifespan(_app):
    close_dead_sync_runs()
    stop = threading.Event()
    starters = (start_demo_feed, start_sync_scheduler, start_refresh, start_parquet_export, start_fx_rates)
    threads = [t for t in (start(stop) for start in starters) if t is not None]
    try:
        yield {}
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        close_shared()


# app.py routes with st.navigation. Until a script has called st.navigation,
# Streamlit would treat the pages/ folder as its older folder-based
# navigation, so a first request deep-linking a page (/orders) after a start
# would get file names in the sidebar and no layout. Say up front that this
# app routes itself.
PagesManager.uses_pages_directory = False

# Every record of the app's own modules and libraries, one line each on stderr (docker logs).
configure_logging()

# Nobody may see a figure without a login, and a login cookie signed with an
# empty or published key could be forged: refuse to start, in one sentence.
try:
    require_cookie_key()
except CookieKeyError as exc:
    raise SystemExit(f"error: {exc}") from None

app = st.App(str(APP_SCRIPT), lifespan=lifespan,
             routes=[*webhook_routes(shared), readiness_route(READY_PATH, shared, {"users": users_part})])

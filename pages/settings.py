"""Settings (owners only): the store connections, trying their settings, syncing on demand, how fresh
each stream is, and the users.

Secrets are never shown back: a saved one is masked. Values typed in a form are
tested on their own (nothing saved) or saved to .streamlit/secrets.toml, where
the next sync reads them (ui/connections.py).
"""

from __future__ import annotations

import streamlit as st

from connectors.sync.cli import PLATFORMS
from connectors.sync.runner import SyncError
from connectors.sync.scheduler import interval_minutes
from connectors.sync.status import (LABELS, configured_platforms, not_configured, platform_settings, stream_status,
                                    sync_platform, test_connection)
from ui.actions import actions_section
from ui.cache import shared_status
from ui.connections import in_words, settings_form, specs_named
from ui.downloads import table_download
from ui.errors import open_warehouse, section
from ui.login import require_owner
from ui.privacy import privacy_section
from ui.uploads import imports_section
from ui.users import users_section

DIGEST_SETTINGS = ("DIGEST_EMAIL_TO", "SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_USER", "SMTP_PASSWORD",
                   "SMTP_FROM", "DIGEST_WEBHOOK_URL")


def _schedule_sentence() -> str:
    minutes = interval_minutes()
    if minutes <= 0:
        return "Automatic sync is off (SYNC_INTERVAL_MINUTES is 0); stores sync when you click Sync now."
    shown = f"{minutes:g} minute" + ("" if minutes == 1 else "s")
    return (f"While the app runs, every configured store syncs automatically every {shown} "
            "(SYNC_INTERVAL_MINUTES).")


def _sync_now(platform: str) -> None:
    label = LABELS[platform]
    wh = open_warehouse()  # the app's own warehouse: with embedded DuckDB, the only writer of the file
    with st.status(f"Syncing {label}…", expanded=True) as box:
        line = st.empty()
        line.write("Starting…")
        read: dict[str, int] = {}

        def progress(stream: str, rows: int) -> None:
            read[stream] = rows
            line.write(" · ".join(f"{name}: {count:,} records read" for name, count in read.items()))

        try:
            results = sync_platform(wh, platform, progress=progress)
        except SyncError as exc:
            box.update(label=f"The {label} sync stopped", state="error")
            st.error(f"{exc} What was read before is kept; Sync now resumes from there.",
                     icon=":material/sync_problem:")
            return
        total = sum(r.rows_read for r in results)
        line.write(" · ".join(f"{r.stream}: {r.rows_read:,} read, {r.rows_written:,} written" for r in results))
        box.update(label=f"{label} synced: {total:,} records read", state="complete", expanded=False)
    st.success(f"{label} synced: {total:,} records read in {len(results)} streams.", icon=":material/sync:")


def _platform_section(platform: str) -> None:
    label = LABELS[platform]
    settings_form(platform, label, platform_settings(platform), tester=lambda values: test_connection(platform, values))
    missing = not_configured(platform)
    if missing is not None:
        st.caption(f"{in_words(missing)} It syncs once its settings are saved.")
        return
    if st.button("Sync now", key=f"settings_sync_{platform}", icon=":material/sync:"):
        _sync_now(platform)


def _sync_status() -> None:
    frame = stream_status(open_warehouse())
    if frame.height == 0:
        hint = ("click Sync now under a platform above, or wait for the automatic sync" if configured_platforms()
                else "enter a platform's settings above and save them; its Sync now button then appears")
        st.info(f"No store has synced yet: {hint}.", icon=":material/hourglass_empty:")
        return
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "store_id": "Store", "stream": "Stream", "cursor": "Cursor",
            "started_at": st.column_config.DatetimeColumn("Last run started", format="YYYY-MM-DD HH:mm:ss"),
            "finished_at": st.column_config.DatetimeColumn("Finished", format="YYYY-MM-DD HH:mm:ss"),
            "last_seen_at": st.column_config.DatetimeColumn(
                "Last seen", format="YYYY-MM-DD HH:mm:ss",
                help="When the run last wrote (an interrupted run's process ended after this)."),
            "status": st.column_config.TextColumn(
                "Status", help="running, succeeded, failed, or interrupted: the process running the sync "
                               "ended before it finished (what it wrote stays; the next sync resumes)."), "rows_read": "Rows read", "rows_written": "Rows written",
            "error": "Error", "note": "Note",
        },
    )
    table_download(frame, "settings_sync_status", key="settings_sync_status_csv")


require_owner()
st.title("Settings")
st.caption("Connect Shopify, WooCommerce and Stripe, Google Analytics 4 and Meta Ads, import files, sync and refresh on demand, see how fresh "
           "each store's data is, and manage who can log in.")
st.info("Settings saved here go to .streamlit/secrets.toml (readable by the app's user only) and apply at "
        "once, without a restart. A variable set in the environment wins over a saved value; each field's help "
        "names its variable. Secrets are never shown back.", icon=":material/info:")
st.markdown(_schedule_sentence())
st.markdown(shared_status())

for name in PLATFORMS:
    st.subheader(LABELS[name])
    with section(f"The {LABELS[name]} settings"):
        _platform_section(name)

st.subheader("Import data", help="Order CSV files and supplier items, checked whole before anything is written.")
with section("The imports"):
    imports_section(open_warehouse())

st.subheader("Sync status")
with section("The sync status"):
    _sync_status()

st.subheader("Run now", help="What the background jobs and the command line do, from here while the app runs.")
with section("The actions"):
    actions_section(open_warehouse())

st.subheader("Stock-alert digest", help="Where the daily stock-alert digest goes: email through a mail server, "
             "a webhook (a Slack incoming webhook works), or both.")
with section("The digest settings"):
    settings_form("digest", "stock-alert digest", specs_named(DIGEST_SETTINGS))

st.subheader("Customer privacy", help="Whether customers' names and emails are kept, and erasing one person's.")
with section("Customer privacy"):
    privacy_section(open_warehouse())

st.subheader("Users")
with section("The users"):
    from analytics.store_state import list_stores

    users_section({s.store_id: s.name for s in list_stores(open_warehouse())})

from ui.ai_settings import ai_settings_section  # noqa: E402 - the AI insights section closes the page
ai_settings_section(open_warehouse())

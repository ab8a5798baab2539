"""Settings (owners only): the store connections, trying their settings, syncing on demand, how fresh
each stream is, and the users.

Secrets are never shown back: a setting is "set" or "not set", with where its
value comes from. Values typed in a form are used for one connection test
and then dropped; saving is done in the environment or .streamlit/secrets.toml.
"""

from __future__ import annotations

import streamlit as st

from connectors.sync.cli import PLATFORMS
from connectors.sync.runner import SyncError
from connectors.sync.scheduler import interval_minutes
from connectors.sync.status import LABELS, not_configured, platform_settings, stream_status, sync_platform, test_connection
from data.settings import setting, setting_origin
from ui.cache import shared_status
from ui.downloads import table_download
from ui.errors import open_warehouse, section
from ui.login import require_owner
from ui.users import users_section

PENDING = "_settings_connection_tests"


def _field_key(platform: str, name: str) -> str:
    return f"settings_{platform}_{name}"


def _take_form_values(platform: str) -> None:
    """On "Test connection": keep the typed values for this run only, and empty the secret fields."""
    values: dict[str, str] = {}
    for spec in platform_settings(platform):
        key = _field_key(platform, spec.name)
        typed = str(st.session_state.get(key) or "").strip()
        if spec.secret:
            if typed:  # empty: the saved value is used
                values[spec.name] = typed
            st.session_state[key] = ""
        else:
            values[spec.name] = typed
    st.session_state.setdefault(PENDING, {})[platform] = values


def _state_line(name: str, secret: bool) -> str:
    origin = setting_origin(name)
    if origin is None:
        value = setting(name)
        return f"`{name}`: not set" + (f" (default {value})" if value else "")
    if secret:
        return f"`{name}`: set (from {'the environment' if origin == 'environment' else origin})"
    where = "the environment" if origin == "environment" else origin
    return f"`{name}`: {setting(name)} (from {where})"


def _schedule_sentence() -> str:
    minutes = interval_minutes()
    if minutes <= 0:
        return ("Automatic sync is off (SYNC_INTERVAL_MINUTES is 0); stores sync when you click Sync now "
                "or run python -m connectors sync.")
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
    specs = platform_settings(platform)
    st.markdown("\n".join(f"- {_state_line(s.name, s.secret)}" for s in specs))

    with st.form(f"settings_form_{platform}", border=True):
        for spec in specs:
            key = _field_key(platform, spec.name)
            if spec.secret:
                is_set = setting_origin(spec.name) is not None
                st.text_input(spec.name, key=key, type="password", help=spec.help,
                              placeholder="set: leave empty to use it" if is_set else "not set")
            else:
                st.text_input(spec.name, value=setting(spec.name) or "", key=key, help=spec.help)
        st.form_submit_button("Test connection", icon=":material/cable:", on_click=_take_form_values,
                              args=(platform,))

    pending = st.session_state.get(PENDING, {})
    if platform in pending:
        values = pending.pop(platform)
        with st.spinner(f"Connecting to {label}…"):
            ok, sentence = test_connection(platform, values)
        (st.success if ok else st.error)(sentence, icon=":material/check_circle:" if ok else ":material/error:")

    missing = not_configured(platform)
    if missing is not None:
        st.caption(f"{label} is not configured, so it does not sync: {missing}")
        return
    if st.button("Sync now", key=f"settings_sync_{platform}", icon=":material/sync:"):
        _sync_now(platform)


def _sync_status() -> None:
    frame = stream_status(open_warehouse())
    if frame.height == 0:
        st.info("No store has synced yet: configure a platform above and click Sync now.",
                icon=":material/hourglass_empty:")
        return
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "store_id": "Store", "stream": "Stream", "cursor": "Cursor",
            "started_at": st.column_config.DatetimeColumn("Last run started", format="YYYY-MM-DD HH:mm:ss"),
            "finished_at": st.column_config.DatetimeColumn("Finished", format="YYYY-MM-DD HH:mm:ss"),
            "status": "Status", "rows_read": "Rows read", "rows_written": "Rows written",
            "error": "Error", "note": "Note",
        },
    )
    table_download(frame, "settings_sync_status", key="settings_sync_status_csv")


require_owner()
st.title("Settings")
st.caption("Connect Shopify, WooCommerce and Stripe, test their settings, sync on demand, see how fresh "
           "each store's data is, and manage who can log in.")
st.info("Settings are saved by putting them in the environment or in .streamlit/secrets.toml (the environment "
        "wins; restart the app after a change). Values typed below are only used to test the connection, and "
        "secrets are never shown back.", icon=":material/info:")
st.markdown(_schedule_sentence())
st.markdown(shared_status())

for name in PLATFORMS:
    st.subheader(LABELS[name])
    with section(f"The {LABELS[name]} settings"):
        _platform_section(name)

st.subheader("Sync status")
with section("The sync status"):
    _sync_status()

st.subheader("Users")
with section("The users"):
    users_section()

from ui.ai_settings import ai_settings_section  # noqa: E402 - the AI insights section closes the page
ai_settings_section(open_warehouse())

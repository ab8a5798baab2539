"""Google Analytics 4: a store's daily sessions, engagement, funnel events and revenue.

``python -m connectors sync ga4`` reads the property ``GA4_PROPERTY_ID`` with
the service account whose JSON key is ``GA4_CREDENTIALS_FILE`` (add the
account's email as a Viewer of the property) into ``daily_traffic`` of the
store it measures: ``GA4_STORE_ID`` (default ``STORE_ID``; ``--store`` wins),
whose own platform or the demo writes its orders. ``GA4_API_BASE`` points the
client elsewhere (a local emulator). Paging, the replaced trailing window and
the first sync's history: :mod:`connectors.ga4.source`; quota and retries:
:mod:`connectors.ga4.api`.

Set the property's time zone to the store's: GA4 dates are the property's days.
"""

from __future__ import annotations

from connectors.ga4.api import GA4Api, load_credentials
from connectors.ga4.source import GA4Source
from connectors.sync.attached import api_base, target_store, whole_days
from connectors.sync.runner import SyncError

__all__ = ["GA4Api", "GA4Source", "source_from_settings"]


def source_from_settings(store_id: str | None = None) -> GA4Source:
    """The configured property as a source; SyncError naming the setting when one is missing (no network call)."""
    from data.settings import setting

    property_id = (setting("GA4_PROPERTY_ID") or "").strip().removeprefix("properties/")
    if not property_id:
        raise SyncError("GA4_PROPERTY_ID is not set: add the property's numeric id (Admin > Property details).")
    key_file = (setting("GA4_CREDENTIALS_FILE") or "").strip()
    if not key_file:
        raise SyncError("GA4_CREDENTIALS_FILE is not set: add the path of the service account's JSON key.")
    store = target_store("GA4", store_id)
    revision = whole_days("GA4_REVISION_DAYS", 3)
    history = max(1, whole_days("GA4_HISTORY_DAYS", 730))
    api = GA4Api(property_id, load_credentials(key_file), api_base=api_base("GA4_API_BASE"))
    return GA4Source(api, store_id=store, revision_days=revision, history_days=history)

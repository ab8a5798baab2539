"""Meta Ads: an ad account's daily spend, impressions, clicks, purchases and purchase value per campaign.

``python -m connectors sync meta`` reads the ad account ``META_AD_ACCOUNT_ID``
with ``META_ACCESS_TOKEN`` (ads_read; a system user's token does not expire)
into ``ad_spend`` (platform ``meta``, the campaign's name and id kept) of the
store it advertises: ``META_STORE_ID`` (default ``STORE_ID``; ``--store``
wins). ``META_API_BASE`` points the SDK elsewhere (a local emulator). The
late-attribution window, purchase action type and report runs:
:mod:`connectors.meta.source`; throttling, retries and the crash reporter
(kept off): :mod:`connectors.meta.api`.
"""

from __future__ import annotations

from connectors.meta.api import MetaApi
from connectors.meta.source import MetaSource
from connectors.sync.attached import api_base, target_store, whole_days
from connectors.sync.runner import SyncError

__all__ = ["MetaApi", "MetaSource", "source_from_settings"]


def source_from_settings(store_id: str | None = None) -> MetaSource:
    """The configured ad account as a source; SyncError naming the setting when one is missing (no network call)."""
    from data.settings import setting

    token = (setting("META_ACCESS_TOKEN") or "").strip()
    if not token:
        raise SyncError("META_ACCESS_TOKEN is not set: add an access token allowed to read ads (the ads read permission) on the ad account.")
    account = (setting("META_AD_ACCOUNT_ID") or "").strip().removeprefix("act_")
    if not account:
        raise SyncError("META_AD_ACCOUNT_ID is not set: add the ad account's id (act_ and its number).")
    if not account.isdigit():
        raise SyncError(f"META_AD_ACCOUNT_ID is {account!r}: give act_ followed by the account's number.")
    store = target_store("META", store_id)
    history = max(1, whole_days("META_HISTORY_DAYS", 730))
    api = MetaApi(token, account, api_base=api_base("META_API_BASE"))
    return MetaSource(api, store_id=store, history_days=history)

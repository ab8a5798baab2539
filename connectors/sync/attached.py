"""What the sources attached to a store (Google Analytics 4, Meta Ads) share.

They bring a store's traffic or ad spend, never its orders: they write to a
store named in the settings, whose own platform (or the demo) writes its
``stores`` row, and read their API over https (plain http only to this machine:
an emulator or a local proxy).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from connectors.sync.runner import SyncError


def target_store(prefix: str, store_id: str | None) -> str:
    """The store the source writes to: ``store_id`` (``--store``), else ``<prefix>_STORE_ID``, else ``STORE_ID``."""
    from data.settings import setting

    chosen = (store_id or setting(f"{prefix}_STORE_ID") or setting("STORE_ID") or "").strip()
    if not chosen:
        raise SyncError(f"{prefix}_STORE_ID is not set: name the store this data belongs to (for example "
                        "shopify:acme or demo).")
    return chosen


def whole_days(name: str, default: int) -> int:
    """A setting counting days (0 or more); SyncError naming it when it is not a whole number."""
    from data.settings import setting

    raw = (setting(name) or "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise SyncError(f"{name} is {raw!r}: give a whole number of days.") from None
    if value < 0:
        raise SyncError(f"{name} is {value}: give 0 or more days.")
    return value


def api_base(name: str) -> str | None:
    """The address setting ``name`` (None when unset); plain http is refused unless the host is this machine."""
    from data.settings import setting

    raw = (setting(name) or "").strip().rstrip("/")
    if not raw:
        return None
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncError(f"{name} is not an http(s) address.")
    if parts.scheme == "http" and not _local(parts.hostname):
        raise SyncError(f"{name} uses plain http to {parts.hostname}: use https (http only reaches this machine).")
    return raw


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

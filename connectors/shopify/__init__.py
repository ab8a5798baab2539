"""The Shopify connector: GraphQL Admin API through the official ``ShopifyAPI`` library.

``source_from_settings()`` builds the :class:`ShopifySource` the sync runner
reads (``python -m connectors sync shopify``); ``connectors.shopify.webhook``
takes Shopify's webhook deliveries.

Settings: ``SHOPIFY_STORE`` (``acme.myshopify.com``, or a full http(s) address
of a proxy or local emulator), ``SHOPIFY_ACCESS_TOKEN`` (secret),
``SHOPIFY_API_VERSION`` (default 2026-10), ``SHOPIFY_BULK_THRESHOLD`` (default
10000) and ``SHOPIFY_WEBHOOK_SECRET`` (secret).

A new default API version: put Shopify's introspection of it in
``tests/fixtures/shopify/admin-<version>.json.gz``, set ``SCHEMA_VERSION`` in
``tests/emulators/shopify.py``, ``DEFAULT_API_VERSION`` in ``source.py`` and the
setting's default, and run ``tests/test_shopify.py``: it validates every query
of ``queries.py`` against that schema and refuses deprecated fields.
"""

from __future__ import annotations

from connectors.shopify.source import (
    API_VERSION_FORMAT,
    DEFAULT_API_VERSION,
    DEFAULT_BULK_THRESHOLD,
    OLDEST_API_VERSION,
    ShopifySource,
)
from connectors.sync.runner import SyncError

__all__ = ["ShopifySource", "source_from_settings"]


def source_from_settings(store_id: str | None = None) -> ShopifySource:
    """The configured store; :class:`SyncError` naming the setting that is missing or wrong."""
    from data.settings import setting

    store = (setting("SHOPIFY_STORE") or "").strip()
    if not store:
        raise SyncError("Shopify is not configured: set SHOPIFY_STORE to the shop's myshopify domain.")
    token = (setting("SHOPIFY_ACCESS_TOKEN") or "").strip()
    if not token:
        raise SyncError("Shopify is not configured: set SHOPIFY_ACCESS_TOKEN to the custom app's Admin API token.")
    version = (setting("SHOPIFY_API_VERSION") or DEFAULT_API_VERSION).strip()
    if not API_VERSION_FORMAT.match(version):
        raise SyncError(f"SHOPIFY_API_VERSION {version!r} is not an API version such as {DEFAULT_API_VERSION}.")
    if version != "unstable" and version < OLDEST_API_VERSION:
        raise SyncError(f"SHOPIFY_API_VERSION {version} is too old: the connector needs {OLDEST_API_VERSION} or newer.")
    raw_threshold = (setting("SHOPIFY_BULK_THRESHOLD") or str(DEFAULT_BULK_THRESHOLD)).strip()
    try:
        threshold = int(raw_threshold)
    except ValueError:
        raise SyncError(f"SHOPIFY_BULK_THRESHOLD {raw_threshold!r} is not a whole number.") from None
    try:
        return ShopifySource(store, token, api_version=version, bulk_threshold=threshold, store_id=store_id)
    except ValueError:
        raise SyncError("SHOPIFY_STORE is neither a myshopify domain nor an http(s) address.") from None

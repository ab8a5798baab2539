"""PayPal: the sales, fees, refunds and chargebacks of one account, from Transaction Search.

``python -m connectors sync paypal`` reads the account whose REST app is
``PAYPAL_CLIENT_ID`` / ``PAYPAL_CLIENT_SECRET`` (``PAYPAL_API_BASE`` points
elsewhere: the sandbox, a proxy, a local emulator) into ``transactions``,
provider ``paypal``. The rows go to the store ``paypal:<account id>`` (in the
account's primary currency, UTC days), or with ``--store ID`` (or
``PAYPAL_STORE``) to an existing store, the shop PayPal was paid for, whose margin then counts PayPal's fees.

PayPal rows never create orders: they link to them by the ``invoice_id`` or
``custom_field`` the shop sent with each payment. Kinds, signs and links:
:mod:`connectors.paypal.normalize`; windows, the lag and the cursor:
:mod:`connectors.paypal.source`; the SDK, the token and retries:
:mod:`connectors.paypal.api`.
"""

from __future__ import annotations

from connectors.paypal.api import PayPalApi
from connectors.paypal.source import PayPalSource
from connectors.sync.runner import SyncError

__all__ = ["PayPalApi", "PayPalSource", "source_from_settings"]


def source_from_settings(store_id: str | None = None) -> PayPalSource:
    """The configured account as a source; SyncError naming the setting when one is missing."""
    from data.settings import setting

    client_id = (setting("PAYPAL_CLIENT_ID") or "").strip()
    secret = (setting("PAYPAL_CLIENT_SECRET") or "").strip()
    if not client_id or not secret:
        missing = "PAYPAL_CLIENT_ID" if not client_id else "PAYPAL_CLIENT_SECRET"
        raise SyncError(f"{missing} is not set: add the REST app's client id and secret "
                        "(developer.paypal.com > Apps & Credentials) to the settings.")
    api_base = (setting("PAYPAL_API_BASE") or "").strip() or None
    store_id = store_id or (setting("PAYPAL_STORE") or "").strip() or None
    return PayPalSource(PayPalApi(client_id, secret, api_base=api_base), store_id=store_id)

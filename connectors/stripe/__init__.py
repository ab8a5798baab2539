"""Stripe: payments, fees, refunds, disputes, payouts and customers of one account.

``python -m connectors sync stripe`` reads the account named by
``STRIPE_SECRET_KEY`` (``STRIPE_API_BASE`` points elsewhere, e.g. at a local
emulator) into the store ``stripe:<account id>``, whose currency and timezone
are the account's ``default_currency`` and ``settings.dashboard.timezone``.

What is read, and why
- **Charges, not PaymentIntents.** A charge is the payment that moved money:
  it carries the balance transaction (fee, net, exchange rate), every refund
  and dispute points at one, and a PaymentIntent may hold several (failed
  attempts, then the one that succeeded). The PaymentIntent id is kept as
  ``transactions.payment_reference``.
- **Stripe rows never create orders.** They enrich the payments of orders that
  a store platform (Shopify, WooCommerce) or the CSV import brings, and give
  METRICS.md's payment fees (Σ ``transactions.fee``).
- **Linking to an order.** ``transactions.order_id`` is the first of the
  metadata keys ``order_id``, ``woocommerce_order_id``, ``shopify_order_id`` on
  the refund or dispute, else on its charge (WooCommerce's Stripe gateway
  writes ``order_id``). Without metadata the link is the payment id the
  platform records for its order (WooCommerce ``transaction_id``, a Shopify
  transaction's ``authorization``): it matches ``transactions.transaction_id``
  (a charge id ``ch_…``) or ``payment_reference`` (a PaymentIntent id ``pi_…``);
  refunds and chargebacks name their charge in ``parent_id``.
- Money, kinds and statuses: see :mod:`connectors.stripe.normalize`; paging,
  cursors and the Events API: :mod:`connectors.stripe.source`; retries:
  :mod:`connectors.stripe.api`; webhooks: :mod:`connectors.stripe.webhook`.
"""

from __future__ import annotations

from connectors.stripe.api import StripeApi
from connectors.stripe.source import StripeSource
from connectors.sync.runner import SyncError

__all__ = ["StripeApi", "StripeSource", "source_from_settings"]


def source_from_settings(store_id: str | None = None) -> StripeSource:
    """The configured account as a source; SyncError naming the setting when the key is missing."""
    from data.settings import setting

    key = (setting("STRIPE_SECRET_KEY") or "").strip()
    if not key:
        raise SyncError("STRIPE_SECRET_KEY is not set: add the account's secret or restricted key to the settings.")
    api_base = (setting("STRIPE_API_BASE") or "").strip() or None
    return StripeSource(StripeApi(key, api_base=api_base), store_id=store_id)

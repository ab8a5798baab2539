"""WooCommerce connector: the REST API v3 (``/wp-json/wc/v3``) through the official ``woocommerce`` library.

Settings: ``WOOCOMMERCE_URL`` (the site's http(s) address), ``WOOCOMMERCE_KEY``
and ``WOOCOMMERCE_SECRET`` (a REST API key with Read access), and for webhooks
``WOOCOMMERCE_WEBHOOK_SECRET``. The store is ``woocommerce:<host>`` (plus a
non-default port, and the folder of a WordPress installed in a sub-folder).

The store
    Currency: ``settings/general`` -> ``woocommerce_currency``. Timezone: the
    WordPress REST index ``/wp-json/`` -> ``timezone_string`` (WooCommerce's
    own API has none: ``system_status`` shows PHP's default timezone, which
    WordPress pins to UTC); a site set to a bare UTC offset gets the matching
    ``Etc/GMT±N`` zone (or a zone that keeps a fractional offset all year).
    The name comes from the index; ``created_at`` is the first order's date.

Streams (the runner commits each batch with its cursor; cursor = the latest
``date_modified_gmt`` seen, read again from there minus the lookback)
    products    ``products`` with ``modified_after`` (GMT, ``dates_are_gmt=true``),
                ``orderby=modified&order=asc``, ``per_page=100``, ``page`` walked to
                ``X-WP-TotalPages``; ``modified_before`` pins the window at the sync's
                start. Simple (and external) products are their own variant.
    variations  ``products/<id>/variations`` of every variable product, with
                ``modified_after``: a variation's change does not touch its product.
    customers   ``customers`` (no ``modified_after`` there: all pages are read,
                customers changed since the cursor are written).
    orders      ``orders`` like products, with each order's refunds
                (``orders/<id>/refunds``, only for orders that list refunds). An
                order's lines and refunds are replaced by their current set.

Orders
    - line: ``unit_price`` = line ``subtotal`` / quantity (before discounts, excl.
      tax: WooCommerce stores line amounts without tax; to 4 places, so a subtotal
      that does not divide by its quantity is off by less than 0.0001 a unit);
      ``discount`` = ``subtotal``
      − ``total`` (the coupons' share of that line included); ``tax`` =
      ``total_tax``; ``variant_id`` = ``variation_id``, else ``product_id``.
    - fees (``fee_lines``): a positive fee (gift wrap, handling, surcharge) is a line
      of its own without product (title = fee name, quantity 1), so it counts in
      gross sales like a custom item; a negative fee is an order-level discount
      spread over the goods lines by their value (its tax likewise).
    - ``total_shipping`` = Σ ``shipping_lines.total`` (already after any shipping
      discount); ``total_tax`` = the order's ``total_tax`` (goods, fees and
      shipping); ``total_discounts`` = Σ line discounts; ``subtotal`` = Σ line
      gross − discounts; ``total_price`` = the order's ``total``, which equals
      subtotal + shipping + tax. Coupon codes go to ``discount_codes``.
    - amounts are in the order's ``currency`` (a multi-currency plugin's
      conversion to the shop currency is not applied); it is also the
      presentment currency.
    - ``financial_status`` from ``status``: pending, on-hold -> ``pending``;
      processing -> ``paid`` (fulfillment ``unfulfilled``); completed -> ``paid``
      (``fulfilled``); cancelled -> ``voided`` when never paid (``date_paid`` null),
      else it stays paid money (``paid``, ``partially_refunded`` or ``refunded``
      by its refunds) with ``cancelled_at`` = its last change (WooCommerce keeps
      no cancellation date); refunded -> ``refunded``; failed, checkout-draft ->
      ``voided``. A paid order with refunds is ``partially_refunded`` (or
      ``refunded`` once they reach its total). ``fulfillment_status`` is
      ``fulfilled`` once the order was completed (``date_completed`` set).
    - ``created_via`` -> ``channel`` (raw value in ``source_name``): checkout and
      store-api (block checkout) -> ``online_store``; admin, rest-api, empty ->
      ``other``; anything naming a point of sale (pos, pos-rest-api,
      woocommerce-pos) -> ``pos``; marketplace and social names -> ``marketplace``,
      ``social``; others -> ``other``.
    - customer: a registered customer's id; a guest checkout is customer
      ``guest:<email_hash>`` (a customers row with the hash only), as
      WooCommerce Analytics counts guests by email, and the registered
      customer's with that email when there is one (data/identity.py).
      Country: shipping, else billing.

Refunds (amounts negative at the source, stored positive)
    ``refund_lines`` per refunded line (``_refunded_item_id``): quantity,
    ``subtotal`` = |line ``total``| (goods value, after its discounts, before tax),
    ``tax`` = |``total_tax``|; refunded fees likewise. ``shipping_refunded`` =
    Σ |refund ``shipping_lines.total``|; ``tax_refunded`` = all tax paid back
    (lines, fees, shipping); ``total_refunded`` = the refund's ``amount``. A
    refund of an amount only (no items) is money paid back without goods:
    it is in ``total_refunded`` and not in returns.

Catalogue
    ``variants``: price = ``price``; ``unit_cost`` = WooCommerce's
    ``cost_of_goods_sold.total_value`` (9.5+), else meta ``_wc_cog_cost``
    (WooCommerce Cost of Goods), else ``_alg_wc_cog_cost`` (Cost of Goods for
    WooCommerce). Stock: ``stock_quantity`` of items with ``manage_stock`` true ->
    ``inventory_levels`` at the single location ``default``. Product status:
    publish -> active, draft/pending/future -> draft, private -> archived;
    product_type = first category.

Not read: trashed or deleted orders, products and customers (they come with
the ``*.deleted`` webhooks). A refund deleted at the source is dropped when its
order is read again (the lines of such a refund stay behind in
``refund_lines``, counted nowhere, unless a webhook removed them).
"""

from __future__ import annotations

from connectors.woocommerce.source import WooCommerceSource, make_source

__all__ = ["WooCommerceSource", "source_from_settings"]


def source_from_settings(store_id: str | None = None, **options) -> WooCommerceSource:
    """The configured store; SyncError naming any missing setting."""
    from data.settings import setting

    return make_source(setting, store_id, **options)

"""The key of every warehouse table (SCHEMA.md), used for upserts."""

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "stores": ("store_id",),
    "customers": ("store_id", "customer_id"),
    "products": ("store_id", "product_id"),
    "variants": ("store_id", "variant_id"),
    "locations": ("store_id", "location_id"),
    "orders": ("store_id", "order_id"),
    "order_lines": ("store_id", "line_id"),
    "refunds": ("store_id", "refund_id"),
    "refund_lines": ("store_id", "refund_id", "line_id"),
    "transactions": ("store_id", "transaction_id"),
    "payouts": ("store_id", "payout_id"),
    "disputes": ("store_id", "dispute_id"),
    "inventory_levels": ("store_id", "variant_id", "location_id"),
    "inventory_snapshots": ("store_id", "snapshot_date", "variant_id", "location_id"),
    "suppliers": ("supplier_id",),
    "supplier_items": ("supplier_id", "store_id", "variant_id"),
    "purchase_orders": ("po_id",),
    "purchase_order_lines": ("po_id", "store_id", "variant_id"),
    "web_events": ("store_id", "event_id"),
    "ad_spend": ("store_id", "spend_date", "platform", "campaign"),
    "fx_rates": ("rate_date", "base_currency", "quote_currency"),
    "forecasts": ("store_id", "variant_id", "ds", "model"),
    "forecast_accuracy": ("store_id", "variant_id", "model", "generated_at"),
    "customer_scores": ("store_id", "customer_id", "as_of"),
    "model_runs": ("run_id",),
    "sync_state": ("store_id", "stream"),
    "sync_runs": ("run_id",),
    "webhook_events": ("source", "event_id"),
    "order_facts": ("store_id", "order_id"),
    "refund_facts": ("store_id", "refund_id"),
    "variant_daily_sales": ("store_id", "local_date", "variant_id", "channel"),
    "app_settings": ("scope", "name"),
}

# Tables that hold one store's data and carry store_id.
STORE_TABLES = tuple(t for t, k in TABLE_KEYS.items() if "store_id" in k and t != "stores")

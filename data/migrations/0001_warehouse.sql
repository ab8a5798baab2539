-- The warehouse contract (see docs/SCHEMA.md). Portable SQL for DuckDB and
-- PostgreSQL; {json} is JSON on DuckDB and JSONB on PostgreSQL.
-- Money is DECIMAL(18,4) next to an ISO 4217 currency; timestamps are UTC.

CREATE TABLE stores (
    store_id TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    timezone TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    _synced_at TIMESTAMPTZ
);

CREATE TABLE customers (
    store_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    email_hash TEXT,
    created_at TIMESTAMPTZ,
    country TEXT,
    accepts_marketing BOOLEAN,
    tags TEXT,
    updated_at TIMESTAMPTZ,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, customer_id)
);

CREATE TABLE products (
    store_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    title TEXT,
    product_type TEXT,
    vendor TEXT,
    status TEXT,
    created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, product_id)
);

CREATE TABLE variants (
    store_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    product_id TEXT,
    sku TEXT,
    title TEXT,
    price DECIMAL(18,4),
    unit_cost DECIMAL(18,4),
    updated_at TIMESTAMPTZ,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, variant_id)
);

CREATE TABLE locations (
    store_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    name TEXT,
    country TEXT,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, location_id)
);

CREATE TABLE orders (
    store_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    order_number TEXT,
    customer_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    processed_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ,
    cancelled_at TIMESTAMPTZ,
    currency TEXT NOT NULL,
    presentment_currency TEXT,
    financial_status TEXT,
    fulfillment_status TEXT,
    channel TEXT,
    source_name TEXT,
    country TEXT,
    subtotal DECIMAL(18,4) NOT NULL DEFAULT 0,
    total_discounts DECIMAL(18,4) NOT NULL DEFAULT 0,
    total_shipping DECIMAL(18,4) NOT NULL DEFAULT 0,
    total_tax DECIMAL(18,4) NOT NULL DEFAULT 0,
    total_duties DECIMAL(18,4) NOT NULL DEFAULT 0,
    total_price DECIMAL(18,4) NOT NULL DEFAULT 0,
    presentment_total_price DECIMAL(18,4),
    discount_codes TEXT,
    is_test BOOLEAN NOT NULL DEFAULT FALSE,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, order_id)
);

CREATE TABLE order_lines (
    store_id TEXT NOT NULL,
    line_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    product_id TEXT,
    variant_id TEXT,
    sku TEXT,
    title TEXT,
    quantity INTEGER NOT NULL,
    unit_price DECIMAL(18,4) NOT NULL,
    discount DECIMAL(18,4) NOT NULL DEFAULT 0,
    tax DECIMAL(18,4) NOT NULL DEFAULT 0,
    is_gift_card BOOLEAN NOT NULL DEFAULT FALSE,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, line_id)
);

CREATE TABLE refunds (
    store_id TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    shipping_refunded DECIMAL(18,4) NOT NULL DEFAULT 0,
    tax_refunded DECIMAL(18,4) NOT NULL DEFAULT 0,
    total_refunded DECIMAL(18,4) NOT NULL DEFAULT 0,
    note TEXT,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, refund_id)
);

CREATE TABLE refund_lines (
    store_id TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    line_id TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    subtotal DECIMAL(18,4) NOT NULL,
    tax DECIMAL(18,4) NOT NULL DEFAULT 0,
    restock BOOLEAN NOT NULL DEFAULT FALSE,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, refund_id, line_id)
);

CREATE TABLE transactions (
    store_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    order_id TEXT,
    provider TEXT,
    kind TEXT,
    status TEXT,
    amount DECIMAL(18,4),
    fee DECIMAL(18,4),
    net DECIMAL(18,4),
    currency TEXT,
    created_at TIMESTAMPTZ,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, transaction_id)
);

CREATE TABLE payouts (
    store_id TEXT NOT NULL,
    payout_id TEXT NOT NULL,
    amount DECIMAL(18,4),
    currency TEXT,
    status TEXT,
    created_at TIMESTAMPTZ,
    arrival_date DATE,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, payout_id)
);

CREATE TABLE disputes (
    store_id TEXT NOT NULL,
    dispute_id TEXT NOT NULL,
    transaction_id TEXT,
    amount DECIMAL(18,4),
    currency TEXT,
    reason TEXT,
    status TEXT,
    created_at TIMESTAMPTZ,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, dispute_id)
);

CREATE TABLE inventory_levels (
    store_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    available INTEGER NOT NULL,
    updated_at TIMESTAMPTZ,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, variant_id, location_id)
);

CREATE TABLE inventory_snapshots (
    store_id TEXT NOT NULL,
    snapshot_date DATE NOT NULL,
    variant_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    available INTEGER NOT NULL,
    PRIMARY KEY (store_id, snapshot_date, variant_id, location_id)
);

CREATE TABLE suppliers (
    supplier_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    currency TEXT,
    lead_time_days INTEGER,
    notes TEXT
);

CREATE TABLE supplier_items (
    supplier_id TEXT NOT NULL,
    store_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    supplier_sku TEXT,
    unit_cost DECIMAL(18,4),
    moq INTEGER,
    pack_size INTEGER,
    lead_time_days INTEGER,
    PRIMARY KEY (supplier_id, store_id, variant_id)
);

CREATE TABLE purchase_orders (
    po_id TEXT PRIMARY KEY,
    supplier_id TEXT NOT NULL,
    store_id TEXT,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expected_at TIMESTAMPTZ,
    received_at TIMESTAMPTZ,
    currency TEXT
);

CREATE TABLE purchase_order_lines (
    po_id TEXT NOT NULL,
    store_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_cost DECIMAL(18,4),
    received_quantity INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (po_id, store_id, variant_id)
);

CREATE TABLE web_events (
    store_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    customer_id TEXT,
    occurred_at TIMESTAMPTZ NOT NULL,
    event_type TEXT NOT NULL,
    product_id TEXT,
    order_id TEXT,
    source TEXT,
    medium TEXT,
    device TEXT,
    PRIMARY KEY (store_id, event_id)
);

CREATE TABLE ad_spend (
    store_id TEXT NOT NULL,
    spend_date DATE NOT NULL,
    platform TEXT NOT NULL,
    campaign TEXT NOT NULL,
    channel TEXT,
    spend DECIMAL(18,4) NOT NULL,
    currency TEXT NOT NULL,
    impressions BIGINT,
    clicks BIGINT,
    PRIMARY KEY (store_id, spend_date, platform, campaign)
);

CREATE TABLE fx_rates (
    rate_date DATE NOT NULL,
    base_currency TEXT NOT NULL,
    quote_currency TEXT NOT NULL,
    rate DECIMAL(18,8) NOT NULL,
    PRIMARY KEY (rate_date, base_currency, quote_currency)
);

CREATE TABLE forecasts (
    store_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    ds DATE NOT NULL,
    model TEXT NOT NULL,
    yhat DOUBLE PRECISION,
    yhat_lo DOUBLE PRECISION,
    yhat_hi DOUBLE PRECISION,
    level INTEGER,
    generated_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, variant_id, ds, model)
);

CREATE TABLE forecast_accuracy (
    store_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    model TEXT NOT NULL,
    generated_at TIMESTAMPTZ NOT NULL,
    mase DOUBLE PRECISION,
    bias DOUBLE PRECISION,
    horizon INTEGER,
    chosen BOOLEAN,
    PRIMARY KEY (store_id, variant_id, model, generated_at)
);

CREATE TABLE customer_scores (
    store_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    as_of DATE NOT NULL,
    recency_days INTEGER,
    frequency INTEGER,
    monetary DECIMAL(18,4),
    r_score INTEGER,
    f_score INTEGER,
    m_score INTEGER,
    rfm_segment TEXT,
    p_alive DOUBLE PRECISION,
    expected_purchases DOUBLE PRECISION,
    predicted_clv DECIMAL(18,4),
    horizon_days INTEGER,
    PRIMARY KEY (store_id, customer_id, as_of)
);

CREATE TABLE model_runs (
    run_id TEXT PRIMARY KEY,
    store_id TEXT,
    kind TEXT NOT NULL,
    as_of DATE,
    params {json},
    metrics {json},
    status TEXT,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);

CREATE TABLE sync_state (
    store_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor TEXT,
    updated_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, stream)
);

CREATE TABLE sync_runs (
    run_id TEXT PRIMARY KEY,
    store_id TEXT,
    stream TEXT,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    status TEXT,
    rows_read BIGINT,
    rows_written BIGINT,
    error TEXT
);

CREATE TABLE webhook_events (
    source TEXT NOT NULL,
    event_id TEXT NOT NULL,
    store_id TEXT,
    topic TEXT,
    received_at TIMESTAMPTZ,
    processed_at TIMESTAMPTZ,
    payload_sha256 TEXT,
    payload TEXT,
    status TEXT,
    PRIMARY KEY (source, event_id)
);

-- Rollups kept by every write (data/rollups.py): sales per order and per
-- refund with the store-local day already worked out, and per local day x
-- variant x channel. Pages and the metric layer read these, not raw lines.
CREATE TABLE order_facts (
    store_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    local_date DATE NOT NULL,
    local_hour INTEGER NOT NULL,
    local_isodow INTEGER NOT NULL,
    customer_id TEXT,
    customer_order_index INTEGER,
    channel TEXT,
    country TEXT,
    currency TEXT,
    gross_sales DECIMAL(18,4) NOT NULL,
    discounts DECIMAL(18,4) NOT NULL,
    units_sold BIGINT NOT NULL,
    shipping DECIMAL(18,4) NOT NULL,
    taxes DECIMAL(18,4) NOT NULL,
    duties DECIMAL(18,4) NOT NULL,
    PRIMARY KEY (store_id, order_id)
);

CREATE TABLE refund_facts (
    store_id TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    local_date DATE NOT NULL,
    customer_id TEXT,
    channel TEXT,
    country TEXT,
    returns DECIMAL(18,4) NOT NULL,
    units_returned BIGINT NOT NULL,
    shipping_refunded DECIMAL(18,4) NOT NULL,
    tax_refunded DECIMAL(18,4) NOT NULL,
    PRIMARY KEY (store_id, refund_id)
);

CREATE TABLE variant_daily_sales (
    store_id TEXT NOT NULL,
    local_date DATE NOT NULL,
    variant_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    product_id TEXT,
    units_sold BIGINT NOT NULL,
    gross_sales DECIMAL(18,4) NOT NULL,
    discounts DECIMAL(18,4) NOT NULL,
    units_returned BIGINT NOT NULL,
    returns DECIMAL(18,4) NOT NULL,
    PRIMARY KEY (store_id, local_date, variant_id, channel)
);

-- Inventory planning: where a purchase order is received and when it was sent; the spread of a
-- forecast's backtest errors (safety stock reads it) and what kind of series it was fitted to;
-- and a log of the daily stock-alert digests, so a digest goes out at most once a day per store.

ALTER TABLE purchase_orders ADD COLUMN IF NOT EXISTS location_id TEXT;
ALTER TABLE purchase_orders ADD COLUMN IF NOT EXISTS sent_at TIMESTAMPTZ;
ALTER TABLE purchase_orders ADD COLUMN IF NOT EXISTS notes TEXT;

ALTER TABLE forecast_accuracy ADD COLUMN IF NOT EXISTS error_sd DOUBLE PRECISION;
ALTER TABLE forecast_accuracy ADD COLUMN IF NOT EXISTS scored_days INTEGER;
ALTER TABLE forecast_accuracy ADD COLUMN IF NOT EXISTS series_kind TEXT;

CREATE TABLE IF NOT EXISTS inventory_digests (
    store_id TEXT NOT NULL,
    digest_date DATE NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    channels TEXT NOT NULL,
    alerts INTEGER NOT NULL,
    PRIMARY KEY (store_id, digest_date)
);

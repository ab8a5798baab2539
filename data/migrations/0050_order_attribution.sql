-- orders: where the buyer came from, the first and the last visit before the
-- order (source, medium and campaign, as UTM parameters or the platform name
-- them): Shopify's customerJourneySummary, WooCommerce's order attribution
-- (the converting visit only, kept as the last), or an order CSV's columns.
-- Empty where the platform recorded none.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS first_visit_source TEXT;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS first_visit_medium TEXT;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS first_visit_campaign TEXT;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS last_visit_source TEXT;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS last_visit_medium TEXT;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS last_visit_campaign TEXT;

-- ad_spend: what the ad platform attributes to each campaign and day
-- (purchases and their value, as it counts them), its own campaign id, and
-- when the row was read (a platform's recent days change as attribution
-- arrives, so they are read again).
ALTER TABLE ad_spend ADD COLUMN campaign_id TEXT;
ALTER TABLE ad_spend ADD COLUMN purchases BIGINT;
ALTER TABLE ad_spend ADD COLUMN purchase_value DECIMAL(18,4);
ALTER TABLE ad_spend ADD COLUMN updated_at TIMESTAMPTZ;

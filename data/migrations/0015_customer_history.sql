-- customer_scores: each scored customer's orders, first and last order day and
-- historical value (net sales) up to the as-of day, written by the refresh with
-- the scores, so that the Customers page reads one table instead of summing
-- every order of every customer. The latest day of each store is filled by the
-- migration step 0015_customer_history_fill.
ALTER TABLE customer_scores ADD COLUMN IF NOT EXISTS orders_to_date INTEGER;
ALTER TABLE customer_scores ADD COLUMN IF NOT EXISTS first_order DATE;
ALTER TABLE customer_scores ADD COLUMN IF NOT EXISTS last_order DATE;
ALTER TABLE customer_scores ADD COLUMN IF NOT EXISTS historical_value DECIMAL(18,4);

-- customer_scores: the 90 % range of each customer's predicted lifetime value (the range of the
-- expected value given the uncertainty of the fitted parameters; see analytics/customers/clv_models.py),
-- written by the refresh's clv step beside predicted_clv.
ALTER TABLE customer_scores ADD COLUMN IF NOT EXISTS predicted_clv_low DECIMAL(18,4);
ALTER TABLE customer_scores ADD COLUMN IF NOT EXISTS predicted_clv_high DECIMAL(18,4);

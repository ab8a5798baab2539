-- The Customers page ranks the scored customers of a day by historical and by
-- predicted value (the customers at risk, the lifetime value table): with these
-- PostgreSQL reads the top of the ranking instead of sorting every customer.
CREATE INDEX IF NOT EXISTS customer_scores_value_idx ON customer_scores (store_id, as_of, historical_value);
CREATE INDEX IF NOT EXISTS customer_scores_clv_idx ON customer_scores (store_id, as_of, predicted_clv);

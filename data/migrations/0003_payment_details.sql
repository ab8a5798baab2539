-- Payment details that processors (Stripe) report beside the contract columns.
-- transactions: the charge a refund or chargeback belongs to (parent_id), the
-- payment reference a store platform records for the payment (a Stripe
-- PaymentIntent id), the amount as the buyer paid it with the balance's
-- exchange rate, and updated_at: the time of the source state the row holds,
-- so an older webhook or event never overwrites a newer state.
-- sync_runs.note: what a run wants the user to know (a full re-list, say).

ALTER TABLE transactions ADD COLUMN IF NOT EXISTS parent_id TEXT;
ALTER TABLE transactions ADD COLUMN IF NOT EXISTS payment_reference TEXT;
ALTER TABLE transactions ADD COLUMN IF NOT EXISTS presentment_amount DECIMAL(18,4);
ALTER TABLE transactions ADD COLUMN IF NOT EXISTS presentment_currency TEXT;
ALTER TABLE transactions ADD COLUMN IF NOT EXISTS exchange_rate DECIMAL(18,8);
ALTER TABLE transactions ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ;
ALTER TABLE disputes ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ;
ALTER TABLE payouts ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ;
ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS note TEXT;

-- webhook_events.error: why applying a stored delivery failed (status 'failed');
-- the delivery was still answered 200 and a later sync repairs the record.

ALTER TABLE webhook_events ADD COLUMN IF NOT EXISTS error TEXT;

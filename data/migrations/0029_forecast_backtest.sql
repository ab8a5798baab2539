-- A forecast's backtest in full: its mean absolute error in units (so it can be compared with the naive
-- forecast's on the same days), the units actually sold on the scored days (to pool bias over variants)
-- and the share of those days inside the prediction interval.

ALTER TABLE forecast_accuracy ADD COLUMN IF NOT EXISTS mae DOUBLE PRECISION;
ALTER TABLE forecast_accuracy ADD COLUMN IF NOT EXISTS actual_units DOUBLE PRECISION;
ALTER TABLE forecast_accuracy ADD COLUMN IF NOT EXISTS coverage DOUBLE PRECISION;

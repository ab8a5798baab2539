-- sync_runs.last_seen_at: when the run last committed (its start, then each write of its rows
-- and cursor). A run whose process died stays 'running' until the next sync of its store, or
-- the app's start, marks it 'interrupted'; this column then says when it was last seen alive.
ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS last_seen_at TIMESTAMPTZ;

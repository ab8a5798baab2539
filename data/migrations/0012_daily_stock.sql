-- daily_stock: units available per store x day x variant, summed over locations,
-- over inventory_snapshots. The inventory readers (forecast censoring, lost sales,
-- sell-through) read it on every backend; with TimescaleDB the migration step
-- 0013_timescaledb_daily_stock in data/timescale.py puts the same view over a
-- continuous aggregate.

CREATE VIEW daily_stock AS
SELECT store_id,
       snapshot_date AS day,
       variant_id,
       CAST(SUM(available) AS BIGINT) AS available,
       CAST(COUNT(*) AS BIGINT) AS locations
FROM inventory_snapshots
GROUP BY store_id, snapshot_date, variant_id;

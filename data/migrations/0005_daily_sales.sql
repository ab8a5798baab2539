-- daily_sales: sales per store-local day x channel x country, over the rollup
-- order_facts. Pages and BI tools read it the same way on every backend; with
-- TimescaleDB the migration step in data/timescale.py puts the same view over
-- a continuous aggregate.

CREATE VIEW daily_sales AS
SELECT store_id,
       local_date AS day,
       channel,
       country,
       CAST(COUNT(*) AS BIGINT) AS orders,
       CAST(SUM(gross_sales) AS DECIMAL(18,4)) AS gross_sales,
       CAST(SUM(discounts) AS DECIMAL(18,4)) AS discounts,
       CAST(SUM(units_sold) AS BIGINT) AS units_sold,
       CAST(SUM(shipping) AS DECIMAL(18,4)) AS shipping,
       CAST(SUM(taxes) AS DECIMAL(18,4)) AS taxes,
       CAST(SUM(duties) AS DECIMAL(18,4)) AS duties
FROM order_facts
GROUP BY store_id, local_date, channel, country;

-- Secondary indexes for PostgreSQL. DuckDB scans with zone maps and keeps
-- no secondary indexes (they slow its bulk loads).

CREATE INDEX orders_created_idx ON orders (store_id, created_at);
CREATE INDEX orders_customer_idx ON orders (store_id, customer_id);
CREATE INDEX order_lines_order_idx ON order_lines (store_id, order_id);
CREATE INDEX refunds_order_idx ON refunds (store_id, order_id);
CREATE INDEX order_facts_date_idx ON order_facts (store_id, local_date);
CREATE INDEX refund_facts_date_idx ON refund_facts (store_id, local_date);
CREATE INDEX web_events_time_idx ON web_events (store_id, occurred_at);

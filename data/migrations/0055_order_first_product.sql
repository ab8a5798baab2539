-- order_facts: on a customer's first order, its main product (the product of its line of the largest net
-- amount, gift cards and lines without a product left out, ties by product id then title) and that line's
-- title (its product id without one), kept by data/rollups.py, so the customer cohorts and the first
-- product → repeat figures read one row per customer instead of every line of every first order.
-- Existing stores are filled by the migration step 0055_order_first_product_fill.
ALTER TABLE order_facts ADD COLUMN IF NOT EXISTS first_product_id TEXT;
ALTER TABLE order_facts ADD COLUMN IF NOT EXISTS first_product_line_title TEXT;

-- order_facts, for the customer analyses (data/rollups.py keeps them): the store-local day of the
-- customer's first counted order and of the one before this order (none on the first), and on a
-- customer's first order its main product (the product of its line of the largest net amount, gift
-- cards and lines without a product left out, ties by product id then title) and that line's title (its
-- product id without one). Cohorts, time between orders and first product → repeat read them instead of
-- joining every order with its customer's first or previous one, or every line of every first order.
-- Existing stores are filled by the migration step 0055_order_customer_columns_fill.
ALTER TABLE order_facts ADD COLUMN IF NOT EXISTS customer_first_date DATE;
ALTER TABLE order_facts ADD COLUMN IF NOT EXISTS previous_order_date DATE;
ALTER TABLE order_facts ADD COLUMN IF NOT EXISTS first_product_id TEXT;
ALTER TABLE order_facts ADD COLUMN IF NOT EXISTS first_product_line_title TEXT;

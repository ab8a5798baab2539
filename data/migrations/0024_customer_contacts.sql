-- customer_contacts: each customer's name, email and phone as the platform or
-- import gave them, the only table holding a person's contact details (the
-- analytics tables keep an email hash). Left empty when
-- STORE_CUSTOMER_CONTACTS is off; python -m data erase-customer clears a row.
CREATE TABLE IF NOT EXISTS customer_contacts (
    store_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    name TEXT,
    email TEXT,
    phone TEXT,
    updated_at TIMESTAMPTZ,
    _synced_at TIMESTAMPTZ,
    PRIMARY KEY (store_id, customer_id)
);

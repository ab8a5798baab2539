-- session_facts: one row per web session, kept by data/rollups.py from
-- web_events: when it began (its first event), on which store-local day, the
-- source, medium and device of that first event, and which funnel events it
-- had. The Customers page's funnel reads it instead of every event. Existing
-- stores are filled by the migration step 0014_session_facts_fill.
CREATE TABLE session_facts (
    store_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    local_date DATE NOT NULL,
    source TEXT,
    medium TEXT,
    device TEXT,
    viewed_product BOOLEAN NOT NULL,
    added_to_cart BOOLEAN NOT NULL,
    began_checkout BOOLEAN NOT NULL,
    purchased BOOLEAN NOT NULL,
    PRIMARY KEY (store_id, session_id)
);

CREATE INDEX session_facts_date_idx ON session_facts (store_id, local_date);

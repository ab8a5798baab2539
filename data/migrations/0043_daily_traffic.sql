-- daily_traffic: a store's web sessions per day, traffic source and device, as
-- an analytics property counts them (Google Analytics 4 by the ga4 connector,
-- the demo store for its own). date is the property's day (set it to the
-- store's timezone); source, medium and campaign are the session's, with
-- '(not set)' where the property has none. add_to_carts, checkouts and
-- purchases count events, not sessions. purchase_revenue is the property's
-- own figure, in currency. The ga4 sync replaces the days it reads again.
CREATE TABLE daily_traffic (
    store_id TEXT NOT NULL,
    date DATE NOT NULL,
    source TEXT NOT NULL,
    medium TEXT NOT NULL,
    campaign TEXT NOT NULL,
    device TEXT NOT NULL,
    sessions BIGINT NOT NULL,
    engaged_sessions BIGINT NOT NULL,
    add_to_carts BIGINT NOT NULL,
    checkouts BIGINT NOT NULL,
    purchases BIGINT NOT NULL,
    purchase_revenue DECIMAL(18,4) NOT NULL,
    currency TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (store_id, date, source, medium, campaign, device)
);

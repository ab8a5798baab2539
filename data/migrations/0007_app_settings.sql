-- app_settings: choices a user makes in the app (thresholds, the insights provider, ...),
-- as opposed to deployment settings, which come from the environment or secrets.toml.
-- scope is '' for the whole app, or a store_id for one store's choices.

CREATE TABLE IF NOT EXISTS app_settings (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    value {json},
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (scope, name)
);

-- insights: written summaries of a period's facts (analytics/insights). One row per summary written;
-- the newest grounded answer of the same facts, provider and model is reused instead of asking again.
-- provider is who wrote the text (openai, anthropic or offline); requested_provider who was asked;
-- fallback_reason says in one sentence why the offline writer stood in (NULL when it did not).

CREATE TABLE IF NOT EXISTS insights (
    insight_id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL,
    facts_hash TEXT NOT NULL,
    topic TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    compare_start DATE,
    compare_end DATE,
    requested_provider TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    ungrounded_count INTEGER NOT NULL,
    grounding {json},
    facts {json},
    fallback_reason TEXT,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX IF NOT EXISTS insights_by_facts ON insights (facts_hash, provider, model);

-- The history the model learns from (one row per attempt after a memory-configuration or unclassified failure),
-- and the registry of trained models (PostgreSQL).
CREATE TABLE retry_records (
    seq               BIGSERIAL PRIMARY KEY,
    job_id            TEXT             NOT NULL,
    workflow          TEXT,
    owner             TEXT,
    cluster           TEXT,
    config            TEXT             NOT NULL,  -- JSON object of strings
    failure_category  TEXT             NOT NULL,
    failure_rule      TEXT,
    input_bytes       BIGINT,
    plan_operators    TEXT             NOT NULL,  -- JSON array of strings
    outcome           TEXT             NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    cost_dollars      DOUBLE PRECISION NOT NULL,
    runtime_seconds   DOUBLE PRECISION NOT NULL,
    peak_memory_bytes BIGINT,
    at                TIMESTAMPTZ      NOT NULL
);
CREATE INDEX retry_records_at ON retry_records (at);

CREATE TABLE models (
    version     TEXT PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL,
    artifact    TEXT        NOT NULL,
    description TEXT        NOT NULL,
    status      TEXT        NOT NULL CHECK (status IN ('candidate', 'promoted', 'retired'))
);

-- Every attempt of every job, first attempts and successes included, with its cost, its peak memory, what Spark
-- measured and what medic decided after it: the evidence right-sizing reads (PostgreSQL).
CREATE TABLE attempts (
    seq                 BIGSERIAL PRIMARY KEY,
    job_id              TEXT             NOT NULL,
    workflow            TEXT,
    owner               TEXT,
    cluster             TEXT,
    attempt             BIGINT           NOT NULL CHECK (attempt >= 1),
    config              TEXT             NOT NULL,  -- JSON object of strings
    applied_patches     TEXT             NOT NULL,  -- JSON array of patch ids
    outcome             TEXT             NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    exit_code           INTEGER,
    timed_out           BOOLEAN          NOT NULL,
    failure_category    TEXT,
    failure_rule        TEXT,
    follows_category    TEXT,
    decision            TEXT             NOT NULL,
    reason              TEXT             NOT NULL,
    recommended_changes TEXT             NOT NULL,  -- JSON object: setting to new value, or null to remove it
    patch_id            TEXT,
    runtime_seconds     DOUBLE PRECISION NOT NULL,
    cost_dollars        DOUBLE PRECISION NOT NULL,
    peak_memory_bytes   BIGINT,
    metrics             TEXT,                       -- JSON (medic_core::history::RunMetrics)
    at                  TIMESTAMPTZ      NOT NULL
);
-- Right-sizing reads one job's successful attempts, newest first.
CREATE INDEX attempts_job_outcome_at ON attempts (job_id, outcome, at);
CREATE INDEX attempts_at ON attempts (at);

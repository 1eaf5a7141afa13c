-- Every attempt of every job, first attempts and successes included, with its cost, its peak memory, what Spark
-- measured and what medic decided after it: the evidence right-sizing reads (SQLite).
CREATE TABLE attempts (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id              TEXT    NOT NULL,
    workflow            TEXT,
    owner               TEXT,
    cluster             TEXT,
    attempt             INTEGER NOT NULL CHECK (attempt >= 1),
    config              TEXT    NOT NULL,  -- JSON object of strings
    applied_patches     TEXT    NOT NULL,  -- JSON array of patch ids
    outcome             TEXT    NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    exit_code           INTEGER,
    timed_out           INTEGER NOT NULL CHECK (timed_out IN (0, 1)),
    failure_category    TEXT,
    failure_rule        TEXT,
    follows_category    TEXT,
    decision            TEXT    NOT NULL,
    reason              TEXT    NOT NULL,
    recommended_changes TEXT    NOT NULL,  -- JSON object: setting to new value, or null to remove it
    patch_id            TEXT,
    runtime_seconds     REAL    NOT NULL,
    cost_dollars        REAL    NOT NULL,
    peak_memory_bytes   INTEGER,
    metrics             TEXT,              -- JSON (medic_core::history::RunMetrics), when Spark's event log was read
    at                  TEXT    NOT NULL,  -- RFC 3339, as sqlx writes it
    at_us               INTEGER NOT NULL   -- the same instant in microseconds, for order and ranges
);
-- Right-sizing reads one job's successful attempts, newest first.
CREATE INDEX attempts_job_outcome_at ON attempts (job_id, outcome, at_us);
CREATE INDEX attempts_at ON attempts (at_us);

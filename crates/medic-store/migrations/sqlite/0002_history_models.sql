-- The history the model learns from (one row per attempt after a memory-configuration or unclassified failure),
-- and the registry of trained models (SQLite).
CREATE TABLE retry_records (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id            TEXT    NOT NULL,
    workflow          TEXT,
    owner             TEXT,
    cluster           TEXT,
    config            TEXT    NOT NULL,  -- JSON object of strings
    failure_category  TEXT    NOT NULL,
    failure_rule      TEXT,
    input_bytes       INTEGER,
    plan_operators    TEXT    NOT NULL,  -- JSON array of strings
    outcome           TEXT    NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    cost_dollars      REAL    NOT NULL,
    runtime_seconds   REAL    NOT NULL,
    peak_memory_bytes INTEGER,
    at                TEXT    NOT NULL,  -- RFC 3339, as sqlx writes it
    -- The same instant in microseconds since 1970: RFC 3339 text does not sort by time (offsets, variable
    -- fractions), so ranges and order use this column.
    at_us             INTEGER NOT NULL
);
CREATE INDEX retry_records_at ON retry_records (at_us);

CREATE TABLE models (
    version     TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL,
    artifact    TEXT NOT NULL,           -- where the weights and description are (a directory)
    description TEXT NOT NULL,           -- JSON: feature spec, metrics, training data range
    status      TEXT NOT NULL CHECK (status IN ('candidate', 'promoted', 'retired'))
);

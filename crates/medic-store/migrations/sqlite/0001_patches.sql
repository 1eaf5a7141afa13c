-- Scoped configuration patches and the audit trail of every change (SQLite).
CREATE TABLE patches (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    scope_job      TEXT,
    scope_workflow TEXT,
    scope_owner    TEXT,
    scope_cluster  TEXT,
    body           TEXT    NOT NULL,  -- JSON: an RFC 6902 array or an RFC 7386 object
    lifetime       TEXT    NOT NULL CHECK (lifetime IN ('one_shot', 'until_success', 'persistent')),
    provenance     TEXT    NOT NULL,  -- JSON object
    created_at     TEXT    NOT NULL,
    expires_at     TEXT,
    status         TEXT    NOT NULL CHECK (status IN ('active', 'consumed', 'revoked', 'superseded')),
    version        INTEGER NOT NULL
);
CREATE INDEX patches_active_job ON patches (status, scope_job);

CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    patch_seq INTEGER REFERENCES patches (seq),
    detail    TEXT NOT NULL           -- JSON object
);

-- Scoped configuration patches and the audit trail of every change (PostgreSQL).
CREATE TABLE patches (
    seq            BIGSERIAL PRIMARY KEY,
    scope_job      TEXT,
    scope_workflow TEXT,
    scope_owner    TEXT,
    scope_cluster  TEXT,
    body           TEXT        NOT NULL,  -- JSON: an RFC 6902 array or an RFC 7386 object
    lifetime       TEXT        NOT NULL CHECK (lifetime IN ('one_shot', 'until_success', 'persistent')),
    provenance     TEXT        NOT NULL,  -- JSON object
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ,
    status         TEXT        NOT NULL CHECK (status IN ('active', 'consumed', 'revoked', 'superseded')),
    version        BIGINT      NOT NULL
);
CREATE INDEX patches_active_job ON patches (status, scope_job);

CREATE TABLE audit (
    seq       BIGSERIAL PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    actor     TEXT        NOT NULL,
    action    TEXT        NOT NULL,
    patch_seq BIGINT REFERENCES patches (seq),
    detail    TEXT        NOT NULL        -- JSON object
);

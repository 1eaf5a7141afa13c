-- At most one active patch of medic's remediation flow per job (created by `medic`, until a success, scoped to
-- exactly the job), held by the database; and an index for reading one job's patches (SQLite).
--
-- Before this migration, the flow read a job's patches, checked its guards and wrote without a lock, so concurrent
-- remediations could leave several such patches active. All but the newest of each job are superseded first, and
-- audited as the store audits every change.
CREATE TEMPORARY TABLE duplicate_medic_patches AS
SELECT older.seq, older.version
FROM patches AS older
WHERE older.status = 'active' AND older.lifetime = 'until_success' AND older.scope_job IS NOT NULL
  AND older.scope_workflow IS NULL AND older.scope_owner IS NULL AND older.scope_cluster IS NULL
  AND json_extract(older.provenance, '$.created_by') = 'medic'
  AND older.seq < (
      SELECT MAX(newer.seq) FROM patches AS newer
      WHERE newer.scope_job = older.scope_job AND newer.status = 'active' AND newer.lifetime = 'until_success'
        AND newer.scope_workflow IS NULL AND newer.scope_owner IS NULL AND newer.scope_cluster IS NULL
        AND json_extract(newer.provenance, '$.created_by') = 'medic');

INSERT INTO audit (at, actor, action, patch_seq, detail)
SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'medic-migration', 'supersede', seq,
       json_object('status', 'superseded', 'from_version', version,
                   'reason', 'a newer active patch of medic''s for the job supersedes it (migration 0004)')
FROM duplicate_medic_patches;

UPDATE patches SET status = 'superseded', version = version + 1
WHERE seq IN (SELECT seq FROM duplicate_medic_patches);

DROP TABLE duplicate_medic_patches;

CREATE UNIQUE INDEX patches_one_active_medic_patch ON patches (scope_job)
WHERE status = 'active' AND lifetime = 'until_success' AND scope_job IS NOT NULL
  AND scope_workflow IS NULL AND scope_owner IS NULL AND scope_cluster IS NULL
  AND json_extract(provenance, '$.created_by') = 'medic';

-- One job's patches, oldest first, whatever their status (the remediation flow's read).
CREATE INDEX patches_job ON patches (scope_job, seq);

//! Several changes to patches made as one: revocations, a new patch, and the older patches it replaces, in one
//! transaction with their audit entries, so that a caller never leaves half of them done.

use medic_core::patch::{Patch, PatchStatus};
use time::OffsetDateTime;

use crate::{
    Backend, NewPatch, Result, Sql, Store, StoreError, audit_in, enum_name, json, parse_patch_id,
    patch_from_row, patch_id, storable,
};

/// A revocation [`Store::write_patches`] makes if the patch is still at `version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// The patch.
    pub id: String,
    /// The version the caller read; a patch changed since is left as it is (whoever changed it decided).
    pub version: u64,
    /// Why, for the audit trail.
    pub reason: String,
}

/// What a caller read of one job's patches before it decided on a write (every patch scoped to the job, as
/// [`Store::list_patches`] with that job returns them): [`PatchWrite::decided_on`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobPatchesRead {
    job: String,
    /// `(seq, version)` of each patch, oldest first.
    patches: Vec<(i64, i64)>,
}

impl JobPatchesRead {
    /// What `patches`, every patch scoped to `job` as read, says.
    pub fn of(job: &str, patches: &[Patch]) -> Self {
        JobPatchesRead {
            job: job.to_owned(),
            patches: patches
                .iter()
                .filter_map(|patch| {
                    Some((
                        parse_patch_id(&patch.id)?,
                        i64::try_from(patch.version).ok()?,
                    ))
                })
                .collect(),
        }
    }
}

/// Changes to patches that are made together or not at all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PatchWrite {
    /// The job's patches the write was decided on. When given, the write holds the job's lock (PostgreSQL: a
    /// transaction-level advisory lock; SQLite: the database's write lock) and is made only if the job's patches
    /// are still exactly these; otherwise nothing is written and the answer is [`StoreError::JobChanged`], so the
    /// caller decides again on what is there now. Two remediations of one job, from one server or several, are
    /// thereby made one after the other.
    pub decided_on: Option<JobPatchesRead>,
    /// Patches to revoke first.
    pub revoke: Vec<Revocation>,
    /// A patch to store after the revocations.
    pub create: Option<NewPatch>,
    /// Whether the new patch supersedes the older active patches of the same origin: scoped exactly as it is, with
    /// its lifetime and its `created_by`. They are found inside the transaction and superseded before the new
    /// patch is stored, so that the database's constraint of one active medic patch per job holds at every step.
    pub supersede_same_origin: bool,
}

/// What [`Store::write_patches`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PatchesWritten {
    /// The ids revoked (a revocation whose patch had moved on is not among them).
    pub revoked: Vec<String>,
    /// The patch stored.
    pub created: Option<Patch>,
    /// The ids the new patch superseded, oldest first.
    pub superseded: Vec<String>,
}

impl Store {
    /// Makes `write` in one transaction, audited as `actor`: all of it or, on any error, nothing. A new patch is
    /// validated first, as [`Store::create_patch`] does.
    pub async fn write_patches(&self, write: PatchWrite, actor: &str) -> Result<PatchesWritten> {
        let now = storable(self.clock.now());
        if let Some(new) = &write.create {
            validate(new, now)?;
        }
        let revoked = enum_name(&PatchStatus::Revoked)?;
        let superseded = enum_name(&PatchStatus::Superseded)?;
        let active = enum_name(&PatchStatus::Active)?;
        let created = write
            .create
            .as_ref()
            .map(|new| {
                Ok::<_, StoreError>((
                    json(&new.patch)?,
                    json(&new.provenance)?,
                    enum_name(&new.lifetime)?,
                ))
            })
            .transpose()?;
        // SQLite: take the write lock at the start (`BEGIN IMMEDIATE`), so that the patches read inside are the
        // latest and no other writer slips in between the read and the writes. PostgreSQL: the job's advisory
        // lock, held to the end of the transaction, serialises the writes decided on a job's patches.
        let written = on_backend!(self, pool, [
            (
                "BEGIN IMMEDIATE",
                None::<&str>,
                JOB_PATCH_VERSIONS.0,
                "UPDATE patches SET status = ?, version = version + 1 WHERE seq = ? AND version = ?",
                "INSERT INTO patches (scope_job, scope_workflow, scope_owner, scope_cluster, body, lifetime, provenance, created_at, expires_at, status, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING seq",
                ACTIVE_PATCHES_OF_SCOPE_JOB.0
            ),
            (
                "BEGIN",
                Some("SELECT pg_advisory_xact_lock($1, hashtext($2))"),
                JOB_PATCH_VERSIONS.1,
                "UPDATE patches SET status = $1, version = version + 1 WHERE seq = $2 AND version = $3",
                "INSERT INTO patches (scope_job, scope_workflow, scope_owner, scope_cluster, body, lifetime, provenance, created_at, expires_at, status, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1) RETURNING seq",
                ACTIVE_PATCHES_OF_SCOPE_JOB.1
            )
        ], sql => {
            let (begin, lock_job, job_patches, update, insert, older) = sql;
            let mut tx = pool.begin_with(begin).await?;
            if let Some(read) = &write.decided_on {
                if let Some(lock_job) = lock_job {
                    sqlx::query(lock_job).bind(JOB_LOCKS).bind(&read.job).execute(&mut *tx).await?;
                }
                let now_there: Vec<(i64, i64)> =
                    sqlx::query_as(job_patches).bind(&read.job).fetch_all(&mut *tx).await?;
                if now_there != read.patches {
                    return Err(StoreError::JobChanged {
                        job: read.job.clone(),
                        why: "another write changed its patches after they were read".to_owned(),
                    });
                }
            }
            let mut written = PatchesWritten::default();
            for revocation in &write.revoke {
                let (Some(seq), Ok(expected)) =
                    (parse_patch_id(&revocation.id), i64::try_from(revocation.version))
                else {
                    continue;
                };
                let done = sqlx::query(update).bind(&revoked).bind(seq).bind(expected).execute(&mut *tx).await?;
                if done.rows_affected() == 1 {
                    let detail = serde_json::json!({
                        "status": PatchStatus::Revoked,
                        "from_version": revocation.version,
                        "reason": revocation.reason,
                    });
                    audit_in(&mut tx, now, actor, "revoke", Some(seq), &detail).await?;
                    written.revoked.push(revocation.id.clone());
                }
            }
            if let (Some(new), Some((body, provenance, lifetime))) = (&write.create, &created) {
                if write.supersede_same_origin {
                    let rows = sqlx::query(older).bind(&active).bind(&new.scope.job).fetch_all(&mut *tx).await?;
                    for row in &rows {
                        let patch = patch_from_row(row)?;
                        let same_origin = patch.scope == new.scope
                            && patch.lifetime == new.lifetime
                            && patch.provenance.created_by == new.provenance.created_by;
                        let (Some(old_seq), Ok(version)) = (parse_patch_id(&patch.id), i64::try_from(patch.version)) else {
                            continue;
                        };
                        if !same_origin {
                            continue;
                        }
                        let done = sqlx::query(update).bind(&superseded).bind(old_seq).bind(version).execute(&mut *tx).await?;
                        if done.rows_affected() == 1 {
                            let detail = serde_json::json!({"status": PatchStatus::Superseded, "from_version": patch.version});
                            audit_in(&mut tx, now, actor, "supersede", Some(old_seq), &detail).await?;
                            written.superseded.push(patch.id.clone());
                        }
                    }
                }
                let seq: i64 = sqlx::query_scalar(insert)
                    .bind(&new.scope.job)
                    .bind(&new.scope.workflow)
                    .bind(&new.scope.owner)
                    .bind(&new.scope.cluster)
                    .bind(body)
                    .bind(lifetime)
                    .bind(provenance)
                    .bind(now)
                    .bind(new.expires_at)
                    .bind(&active)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|error| one_active_medic_patch(error, new))?;
                let detail = serde_json::json!({"scope": new.scope, "patch": new.patch, "lifetime": new.lifetime, "provenance": new.provenance});
                audit_in(&mut tx, now, actor, "create", Some(seq), &detail).await?;
                written.created = Some(Patch {
                    id: patch_id(seq),
                    scope: new.scope.clone(),
                    patch: new.patch.clone(),
                    lifetime: new.lifetime,
                    provenance: new.provenance.clone(),
                    created_at: now,
                    expires_at: new.expires_at,
                    status: PatchStatus::Active,
                    version: 1,
                });
            }
            tx.commit().await?;
            written
        });
        Ok(written)
    }
}

/// The ids and versions of a job's patches, to compare with what a write was decided on.
pub(crate) const JOB_PATCH_VERSIONS: Sql = (
    "SELECT seq, version FROM patches WHERE scope_job = ? ORDER BY seq",
    "SELECT seq, version FROM patches WHERE scope_job = $1 ORDER BY seq",
);
/// The active patches with a given `scope_job` (NULL too), which a new patch may supersede.
pub(crate) const ACTIVE_PATCHES_OF_SCOPE_JOB: Sql = (
    "SELECT * FROM patches WHERE status = ? AND scope_job IS ? ORDER BY seq",
    "SELECT * FROM patches WHERE status = $1 AND scope_job IS NOT DISTINCT FROM $2 ORDER BY seq",
);

/// The class of PostgreSQL advisory locks medic takes for a job (`pg_advisory_xact_lock(class, hashtext(job))`), so
/// that they do not collide with another application's locks in a shared database: "medc" in ASCII.
const JOB_LOCKS: i32 = 0x6d65_6463;

/// A new patch the database's unique index refuses: the job has an active patch of medic's remediation flow
/// already (migration 0004). Only the flow writes those, superseding the older one first, so this is a caller
/// writing as `medic` by another way; anything else is the database's error as it is.
fn one_active_medic_patch(error: sqlx::Error, new: &NewPatch) -> StoreError {
    match &error {
        sqlx::Error::Database(database) if database.is_unique_violation() => StoreError::JobChanged {
            job: new.scope.job.clone().unwrap_or_default(),
            why: "it has an active patch of medic's remediation flow already, and a job has at most one"
                .to_owned(),
        },
        _ => StoreError::Database(error),
    }
}

/// Refuses a scope, a body or a provenance that [`medic_core::patch::Scope::validate`],
/// [`medic_core::patch::PatchBody::validate`] or [`medic_core::patch::Provenance::validate`] finds fault with, or
/// an expiry that is not after `now`.
fn validate(new: &NewPatch, now: OffsetDateTime) -> Result<()> {
    for (what, problems) in [
        ("scope", new.scope.validate()),
        ("patch", new.patch.validate()),
        ("provenance", new.provenance.validate()),
    ] {
        if !problems.is_empty() {
            return Err(StoreError::Invalid { what, problems });
        }
    }
    if let Some(expires_at) = new.expires_at
        && expires_at <= now
    {
        return Err(StoreError::Invalid {
            what: "expiry",
            problems: vec![format!("`expires_at` {expires_at} is not in the future")],
        });
    }
    Ok(())
}

//! medic's persistent state, on SQLite (embedded, the default: one file, WAL, created on first use) or PostgreSQL
//! (shared by several medic servers).
//!
//! It holds the ConfigService's scoped patches ([`medic_core::patch::Patch`]) and an audit trail of every change,
//! the retry history the model learns from ([`medic_core::history::RetryRecord`]), the attempts history (every
//! attempt with its cost and peak memory, [`medic_core::history::AttemptEntry`]), and the registry of trained
//! models. The two backends sit behind one [`Store`]: each has its own DDL (`migrations/sqlite`,
//! `migrations/postgres`, applied on open) and its own SQL text, and the same test suite runs against both.
//!
//! Every change is one transaction with its audit entry, so a change is either stored and audited or not at all.
//! Updates name the version they expect, and a stale version is refused ([`StoreError::VersionConflict`]), so
//! concurrent writers never lose an update. How patches combine is not decided here:
//! [`Store::resolve`] loads the candidates and calls [`medic_core::patch::resolve`].

#[cfg(feature = "testing")]
pub mod testing;

use std::str::FromStr;
use std::sync::Arc;

use medic_core::clock::Clock;
use medic_core::patch::{Lifetime, Patch, PatchBody, PatchStatus, Provenance, Resolution, Scope};
use medic_core::{JobIdentity, RunOutcome, SparkConf};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is neither `sqlite://PATH` nor `postgres://...`.
    #[error("unsupported database URL `{0}` (expected sqlite://PATH or postgres://...)")]
    UnsupportedUrl(String),
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// No patch has this id.
    #[error("no patch `{0}`")]
    NotFound(String),
    /// The patch changed since the caller read it.
    #[error("patch `{id}` is at version {current}, not {expected}")]
    VersionConflict {
        /// The patch.
        id: String,
        /// The version the caller named.
        expected: u64,
        /// The version stored.
        current: u64,
    },
    /// A write decided on a job's patches found them changed, or would leave the job with two active patches of
    /// medic's remediation flow; nothing was written.
    #[error("the patches of job `{job}` cannot take this write: {why}")]
    JobChanged {
        /// The job.
        job: String,
        /// What happened.
        why: String,
    },
    /// A patch to store is not valid; every problem is listed.
    #[error("invalid {what}: {}", problems.join("; "))]
    Invalid {
        /// What was checked: `scope`, `patch`, `provenance`, `expiry`, `attempt`, `history`, `audit entry` or
        /// `model`.
        what: &'static str,
        /// Every problem found.
        problems: Vec<String>,
    },
    /// A stored row cannot be read back (edited by hand, or written by a newer medic).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// This crate's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A patch to store: everything but what the store assigns (id, creation time, status, version).
#[derive(Clone, Debug, PartialEq)]
pub struct NewPatch {
    /// Which jobs may use it.
    pub scope: Scope,
    /// The change.
    pub patch: PatchBody,
    /// How long it stays in force.
    pub lifetime: Lifetime,
    /// Who or what created it and why.
    pub provenance: Provenance,
    /// When it stops applying, if ever.
    pub expires_at: Option<OffsetDateTime>,
}

/// Which patches [`Store::list_patches`] returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchFilter {
    /// Only patches scoped to exactly this job id.
    pub job: Option<String>,
    /// Only patches in this status.
    pub status: Option<PatchStatus>,
}

/// One change, as the audit trail records it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Increasing with every change.
    pub seq: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who (a token's subject, or `medic`).
    pub actor: String,
    /// What: `create`, `revoke`, `consume`, `supersede`.
    pub action: String,
    /// The patch changed.
    pub patch_id: Option<String>,
    /// The details (the patch created, the status change).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
}

/// The store: SQLite or PostgreSQL behind one interface.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    clock: Arc<dyn Clock>,
}

#[derive(Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend_name())
            .finish_non_exhaustive()
    }
}

/// The text of a query on SQLite and on PostgreSQL.
type Sql = (&'static str, &'static str);

// The queries of one job's rows, each on an index; `testing::per_job_query_plans` lists them for a test that asks
// both databases for their plans.

/// Every patch scoped to a job (`patches_job`).
const PATCHES_OF_JOB: Sql = (
    "SELECT * FROM patches WHERE scope_job = ? ORDER BY seq",
    "SELECT * FROM patches WHERE scope_job = $1 ORDER BY seq",
);
/// A job's patches in one status.
const PATCHES_OF_JOB_IN_STATUS: Sql = (
    "SELECT * FROM patches WHERE scope_job = ? AND status = ? ORDER BY seq",
    "SELECT * FROM patches WHERE scope_job = $1 AND status = $2 ORDER BY seq",
);
/// The active patches whose scope admits a job: [`Store::active_patches_for`].
const ACTIVE_PATCHES_FOR: Sql = (
    "SELECT * FROM patches WHERE status = 'active' AND scope_job = ?1 AND (scope_workflow IS NULL OR scope_workflow = ?2) AND (scope_owner IS NULL OR scope_owner = ?3) AND (scope_cluster IS NULL OR scope_cluster = ?4) \
     UNION ALL SELECT * FROM patches WHERE status = 'active' AND scope_job IS NULL AND (scope_workflow IS NULL OR scope_workflow = ?2) AND (scope_owner IS NULL OR scope_owner = ?3) AND (scope_cluster IS NULL OR scope_cluster = ?4) ORDER BY seq",
    "SELECT * FROM patches WHERE status = 'active' AND scope_job = $1 AND (scope_workflow IS NULL OR scope_workflow = $2) AND (scope_owner IS NULL OR scope_owner = $3) AND (scope_cluster IS NULL OR scope_cluster = $4) \
     UNION ALL SELECT * FROM patches WHERE status = 'active' AND scope_job IS NULL AND (scope_workflow IS NULL OR scope_workflow = $2) AND (scope_owner IS NULL OR scope_owner = $3) AND (scope_cluster IS NULL OR scope_cluster = $4) ORDER BY seq",
);

/// Runs `$body` with `$pool` bound to the backend's pool and `$sql` to the backend's text of the query.
macro_rules! on_backend {
    ($store:expr, $pool:ident, [$sqlite:expr, $postgres:expr], $sql:ident => $body:expr) => {
        match &$store.backend {
            Backend::Sqlite($pool) => {
                let $sql = $sqlite;
                $body
            }
            Backend::Postgres($pool) => {
                let $sql = $postgres;
                $body
            }
        }
    };
}

mod attempts;
mod events;
mod history;
mod models;
mod write;

pub use attempts::AttemptFilter;
pub use history::RecordFilter;
pub use models::{ModelEntry, ModelStatus, NewModel};
pub use write::{JobPatchesRead, PatchWrite, PatchesWritten, Revocation};

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    /// `sqlite://PATH` is a file (created on first use, in WAL mode); `postgres://...` a server.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Store> {
        let backend = if let Some(path) = url.strip_prefix("sqlite://") {
            let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // Every commit reaches the disk before it is acknowledged: a `kill -9` loses nothing acknowledged.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            sqlx::migrate!("migrations/sqlite").run(&pool).await?;
            Backend::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            Backend::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Store { backend, clock })
    }

    /// The clock the store stamps changes with (a simulation's or a test's, or the system's).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
            Backend::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Stores a new active patch (version 1) and audits it. Refuses, storing nothing, a scope or a body that
    /// [`Scope::validate`] or [`PatchBody::validate`] finds fault with, or an expiry that is not in the future.
    pub async fn create_patch(&self, new: NewPatch, actor: &str) -> Result<Patch> {
        let written = self
            .write_patches(
                PatchWrite {
                    create: Some(new),
                    ..PatchWrite::default()
                },
                actor,
            )
            .await?;
        written
            .created
            .ok_or_else(|| StoreError::Corrupt("the new patch was not returned".to_owned()))
    }

    /// The patch with this id.
    pub async fn patch(&self, id: &str) -> Result<Option<Patch>> {
        let Some(seq) = parse_patch_id(id) else {
            return Ok(None);
        };
        on_backend!(self, pool, [
            "SELECT * FROM patches WHERE seq = ?",
            "SELECT * FROM patches WHERE seq = $1"
        ], sql => {
            let row = sqlx::query(sql).bind(seq).fetch_optional(pool).await?;
            row.as_ref().map(patch_from_row).transpose()
        })
    }

    /// Patches matching `filter`, oldest first.
    ///
    /// One text per combination of filters, each on an index (`patches_job` for a job, `patches_active_job` for a
    /// status): the one text `(? IS NULL OR scope_job = ?)` made SQLite read the whole table for one job's patches,
    /// which the remediation flow asks for on every failure.
    pub async fn list_patches(&self, filter: &PatchFilter) -> Result<Vec<Patch>> {
        let status = filter.status.as_ref().map(enum_name).transpose()?;
        let (sqlite, postgres) = match (&filter.job, &status) {
            (Some(_), Some(_)) => PATCHES_OF_JOB_IN_STATUS,
            (Some(_), None) => PATCHES_OF_JOB,
            (None, Some(_)) => (
                "SELECT * FROM patches WHERE status = ? ORDER BY seq",
                "SELECT * FROM patches WHERE status = $1 ORDER BY seq",
            ),
            (None, None) => (
                "SELECT * FROM patches ORDER BY seq",
                "SELECT * FROM patches ORDER BY seq",
            ),
        };
        on_backend!(self, pool, [sqlite, postgres], sql => {
            let mut query = sqlx::query(sql);
            if let Some(job) = &filter.job {
                query = query.bind(job);
            }
            if let Some(status) = &status {
                query = query.bind(status);
            }
            query.fetch_all(pool).await?.iter().map(patch_from_row).collect()
        })
    }

    /// Active patches whose scope admits `job` (expiry is left to [`medic_core::patch::resolve`], which knows
    /// the time of the run).
    ///
    /// Two index lookups on `(status, scope_job)`, the job's own patches and the patches that name no job, rather
    /// than one query with `scope_job IS NULL OR scope_job = ?`: SQLite cannot use the index for that `OR` and
    /// would read every active patch on every resolution (1 200 resolves/s instead of thousands with 10 000
    /// patches; docs/BENCHMARKS.md).
    pub async fn active_patches_for(&self, job: &JobIdentity) -> Result<Vec<Patch>> {
        on_backend!(self, pool, [
            ACTIVE_PATCHES_FOR.0,
            ACTIVE_PATCHES_FOR.1
        ], sql => {
            sqlx::query(sql)
                .bind(&job.id)
                .bind(&job.workflow)
                .bind(&job.owner)
                .bind(&job.cluster)
                .fetch_all(pool)
                .await?
                .iter()
                .map(patch_from_row)
                .collect()
        })
    }

    /// The configuration `job` should run with now: `config` with every applicable patch applied.
    pub async fn resolve(&self, job: &JobIdentity, config: &SparkConf) -> Result<Resolution> {
        let candidates = self.active_patches_for(job).await?;
        Ok(medic_core::patch::resolve(
            config,
            &candidates,
            job,
            self.clock.now(),
        ))
    }

    /// Moves a patch to `status` (revoked, consumed, superseded), if it is still at `expected_version`.
    pub async fn set_status(
        &self,
        id: &str,
        expected_version: u64,
        status: PatchStatus,
        actor: &str,
    ) -> Result<Patch> {
        self.set_status_because(id, expected_version, status, actor, None)
            .await
    }

    /// [`Store::set_status`], with the reason written to the audit trail.
    pub async fn set_status_because(
        &self,
        id: &str,
        expected_version: u64,
        status: PatchStatus,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Patch> {
        let seq = parse_patch_id(id).ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
        let now = storable(self.clock.now());
        let name = enum_name(&status)?;
        let action = match status {
            PatchStatus::Active => "reactivate",
            PatchStatus::Consumed => "consume",
            PatchStatus::Revoked => "revoke",
            PatchStatus::Superseded => "supersede",
        };
        let expected =
            i64::try_from(expected_version).map_err(|_| StoreError::VersionConflict {
                id: id.to_owned(),
                expected: expected_version,
                current: 0,
            })?;
        let updated = on_backend!(self, pool, [
            "UPDATE patches SET status = ?, version = version + 1 WHERE seq = ? AND version = ?",
            "UPDATE patches SET status = $1, version = version + 1 WHERE seq = $2 AND version = $3"
        ], sql => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(sql).bind(&name).bind(seq).bind(expected).execute(&mut *tx).await?;
            if done.rows_affected() == 1 {
                let mut detail = serde_json::json!({"status": status, "from_version": expected_version});
                if let Some(reason) = reason {
                    detail["reason"] = reason.into();
                }
                audit_in(&mut tx, now, actor, action, Some(seq), &detail).await?;
                tx.commit().await?;
                true
            } else {
                false
            }
        });
        let current = self
            .patch(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
        if updated {
            Ok(current)
        } else {
            Err(StoreError::VersionConflict {
                id: id.to_owned(),
                expected: expected_version,
                current: current.version,
            })
        }
    }

    /// Records that a run of `job` used the patches `applied` (as [`Store::resolve`] listed them) and ended with
    /// `outcome`: one-shot patches are consumed by any run, until-success patches by a successful one, persistent
    /// patches stay. Ids that are unknown, no longer active or not scoped to `job` are ignored, so a report can be
    /// repeated safely. Returns the patches consumed.
    pub async fn record_run(
        &self,
        job: &JobIdentity,
        applied: &[String],
        outcome: RunOutcome,
        actor: &str,
    ) -> Result<Vec<Patch>> {
        let mut consumed = Vec::new();
        for id in applied {
            // A concurrent change (a revoke, a second report) moves the version; re-read and decide again.
            loop {
                let Some(patch) = self.patch(id).await? else {
                    break;
                };
                let used_up = match patch.lifetime {
                    Lifetime::OneShot => true,
                    Lifetime::UntilSuccess => outcome == RunOutcome::Succeeded,
                    Lifetime::Persistent => false,
                };
                if patch.status != PatchStatus::Active || !patch.scope.contains(job) || !used_up {
                    break;
                }
                match self
                    .set_status(id, patch.version, PatchStatus::Consumed, actor)
                    .await
                {
                    Ok(patch) => {
                        consumed.push(patch);
                        break;
                    }
                    Err(StoreError::VersionConflict { .. }) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(consumed)
    }

    /// Revokes a patch (see [`Store::set_status`]).
    pub async fn revoke(&self, id: &str, expected_version: u64, actor: &str) -> Result<Patch> {
        self.set_status(id, expected_version, PatchStatus::Revoked, actor)
            .await
    }

    /// The newest `limit` audit entries, newest first.
    pub async fn audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        on_backend!(self, pool, [
            "SELECT seq, at, actor, action, patch_seq, detail FROM audit ORDER BY seq DESC LIMIT ?",
            "SELECT seq, at, actor, action, patch_seq, detail FROM audit ORDER BY seq DESC LIMIT $1"
        ], sql => {
            let rows = sqlx::query(sql).bind(i64::from(limit)).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    let detail: String = row.try_get("detail")?;
                    Ok(AuditEntry {
                        seq: row.try_get("seq")?,
                        at: row.try_get("at")?,
                        actor: row.try_get("actor")?,
                        action: row.try_get("action")?,
                        patch_id: row.try_get::<Option<i64>, _>("patch_seq")?.map(patch_id),
                        detail: serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    })
                })
                .collect()
        })
    }
}

/// The database URL `url` without its password (`postgres://user:***@host/db`), for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Records one change inside the transaction that makes it.
async fn audit_in<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    at: OffsetDateTime,
    actor: &str,
    action: &str,
    patch_seq: Option<i64>,
    detail: &serde_json::Value,
) -> Result<()>
where
    DB: sqlx::Database + AuditSql,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    OffsetDateTime: for<'q> sqlx::Encode<'q, DB> + Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + Type<DB>,
    Option<i64>: for<'q> sqlx::Encode<'q, DB> + Type<DB>,
{
    // Every change passes here: the one place that keeps control characters out of who did it and why (a revoke's
    // or a mode switch's reason), whichever way the change came. The caller's transaction then writes nothing.
    let mut problems: Vec<String> = medic_core::text::control_character("actor", actor)
        .into_iter()
        .collect();
    problems.extend(medic_core::text::control_characters(detail));
    if !problems.is_empty() {
        return Err(StoreError::Invalid {
            what: "audit entry",
            problems,
        });
    }
    sqlx::query(DB::INSERT_AUDIT)
        .bind(at)
        .bind(actor.to_owned())
        .bind(action.to_owned())
        .bind(patch_seq)
        .bind(detail.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Each backend's text of the audit insert.
trait AuditSql {
    const INSERT_AUDIT: &'static str;
}

impl AuditSql for sqlx::Sqlite {
    const INSERT_AUDIT: &'static str =
        "INSERT INTO audit (at, actor, action, patch_seq, detail) VALUES (?, ?, ?, ?, ?)";
}

impl AuditSql for sqlx::Postgres {
    const INSERT_AUDIT: &'static str =
        "INSERT INTO audit (at, actor, action, patch_seq, detail) VALUES ($1, $2, $3, $4, $5)";
}

/// `at` truncated to whole microseconds, the finest time PostgreSQL keeps, so that what a write returns is exactly
/// what a later read returns, on either backend.
fn storable(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at)
}

fn patch_id(seq: i64) -> String {
    format!("p{seq}")
}

fn parse_patch_id(id: &str) -> Option<i64> {
    id.strip_prefix('p')?.parse().ok()
}

fn json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The snake_case name serde gives a unit enum variant (`one_shot`, `active`).
fn enum_name(value: &impl serde::Serialize) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Ok(name),
        other => Err(StoreError::Corrupt(format!(
            "not a unit variant: {other:?}"
        ))),
    }
}

fn from_name<T: serde::de::DeserializeOwned>(name: String) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name))
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn patch_from_row<'r, R>(row: &'r R) -> Result<Patch>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    OffsetDateTime: Decode<'r, R::Database> + Type<R::Database>,
    Option<OffsetDateTime>: Decode<'r, R::Database> + Type<R::Database>,
{
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let body: String = row.try_get("body")?;
    let provenance: String = row.try_get("provenance")?;
    let version: i64 = row.try_get("version")?;
    Ok(Patch {
        id: patch_id(row.try_get("seq")?),
        scope: Scope {
            job: row.try_get("scope_job")?,
            workflow: row.try_get("scope_workflow")?,
            owner: row.try_get("scope_owner")?,
            cluster: row.try_get("scope_cluster")?,
        },
        patch: serde_json::from_str(&body).map_err(corrupt)?,
        lifetime: from_name(row.try_get("lifetime")?)?,
        provenance: serde_json::from_str(&provenance).map_err(corrupt)?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        status: from_name(row.try_get("status")?)?,
        version: u64::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("negative version {version}")))?,
    })
}

//! The attempts history: every attempt of every job, one row each, read back per job and outcome (right-sizing
//! reads a job's successful attempts and their peak memory).

use medic_core::history::AttemptEntry;
use medic_core::{Category, JobIdentity, RunOutcome};
use sqlx::{ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;

use crate::{Backend, Result, Store, StoreError, storable};

/// Which attempts [`Store::attempts`] returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttemptFilter {
    /// Only this job's attempts.
    pub job: Option<String>,
    /// Only attempts that ended so.
    pub outcome: Option<RunOutcome>,
    /// Only attempts that started at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only attempts that started before this time.
    pub until: Option<OffsetDateTime>,
    /// Only the newest this many.
    pub limit: Option<u32>,
}

impl Store {
    /// Adds one attempt to the attempts history. Refuses, storing nothing, an entry that
    /// [`AttemptEntry::validate`] finds fault with. Times are kept to the microsecond.
    pub async fn add_attempt(&self, entry: &AttemptEntry) -> Result<()> {
        self.add_attempts(std::slice::from_ref(entry)).await
    }

    /// Adds attempts to the attempts history in one transaction: all or none. Every entry is validated first, and
    /// every problem of every entry is reported.
    pub async fn add_attempts(&self, entries: &[AttemptEntry]) -> Result<()> {
        let problems: Vec<String> = entries
            .iter()
            .enumerate()
            .flat_map(|(index, entry)| {
                entry.validate().into_iter().map(move |problem| {
                    if entries.len() == 1 {
                        problem
                    } else {
                        format!("attempt {index}: {problem}")
                    }
                })
            })
            .collect();
        if !problems.is_empty() {
            return Err(StoreError::Invalid {
                what: "attempt",
                problems,
            });
        }
        let rows = entries
            .iter()
            .map(AttemptRow::of)
            .collect::<Result<Vec<_>>>()?;
        const COLUMNS: &str = "job_id, workflow, owner, cluster, attempt, config, applied_patches, outcome, exit_code, timed_out, failure_category, failure_rule, follows_category, decision, reason, recommended_changes, patch_id, runtime_seconds, cost_dollars, peak_memory_bytes, metrics, at";
        // The same binds on both backends; SQLite adds the integer time it orders by.
        macro_rules! bind_row {
            ($query:expr, $entry:expr, $row:expr) => {
                $query
                    .bind(&$entry.job.id)
                    .bind(&$entry.job.workflow)
                    .bind(&$entry.job.owner)
                    .bind(&$entry.job.cluster)
                    .bind(i64::from($entry.attempt))
                    .bind(&$row.config)
                    .bind(&$row.applied)
                    .bind(outcome_name($entry.outcome))
                    .bind($entry.exit_code)
                    .bind($entry.timed_out)
                    .bind($entry.failure_category.map(Category::as_str))
                    .bind(&$entry.failure_rule)
                    .bind($entry.follows_category.map(Category::as_str))
                    .bind(&$entry.decision)
                    .bind(&$entry.reason)
                    .bind(&$row.recommended)
                    .bind(&$entry.patch_id)
                    .bind($entry.runtime_seconds)
                    .bind($entry.cost_dollars)
                    .bind($row.peak)
                    .bind(&$row.metrics)
                    .bind($row.at)
            };
        }
        match &self.backend {
            Backend::Sqlite(pool) => {
                let sql = format!(
                    "INSERT INTO attempts ({COLUMNS}, at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                );
                let mut tx = pool.begin().await?;
                for (entry, row) in entries.iter().zip(&rows) {
                    bind_row!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), entry, row)
                        .bind(crate::history::micros(row.at))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
            Backend::Postgres(pool) => {
                let sql = format!(
                    "INSERT INTO attempts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
                );
                let mut tx = pool.begin().await?;
                for (entry, row) in entries.iter().zip(&rows) {
                    bind_row!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), entry, row)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// The attempts matching `filter`, oldest first (then in insertion order); with a limit, the newest that many.
    pub async fn attempts(&self, filter: &AttemptFilter) -> Result<Vec<AttemptEntry>> {
        let outcome = filter.outcome.map(outcome_name);
        let limit = filter.limit.map(i64::from);
        // A job's attempts on the index that starts with the job: `(? IS NULL OR job_id = ?)` would read them all.
        let (sqlite, postgres) = match &filter.job {
            Some(_) => ATTEMPTS_OF_JOB,
            None => (
                "SELECT * FROM attempts WHERE ?1 IS NULL AND (?2 IS NULL OR outcome = ?2) AND (?3 IS NULL OR at_us >= ?3) AND (?4 IS NULL OR at_us < ?4) ORDER BY at_us DESC, seq DESC LIMIT coalesce(?5, -1)",
                "SELECT * FROM attempts WHERE $1::text IS NULL AND ($2::text IS NULL OR outcome = $2) AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4) ORDER BY at DESC, seq DESC LIMIT $5",
            ),
        };
        let mut entries: Vec<AttemptEntry> = on_backend!(self, pool, [sqlite, postgres], sql => {
            let query = sqlx::query(sql).bind(&filter.job).bind(outcome);
            let query = if matches!(self.backend, Backend::Sqlite(_)) {
                query
                    .bind(filter.since.map(crate::history::micros))
                    .bind(filter.until.map(crate::history::micros))
            } else {
                query.bind(filter.since.map(storable)).bind(filter.until.map(storable))
            };
            query
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(attempt_from_row)
                .collect::<Result<_>>()?
        });
        entries.reverse();
        Ok(entries)
    }
}

/// A job's attempts, filtered by outcome and time, newest first (`attempts_job_outcome_at`).
pub(crate) const ATTEMPTS_OF_JOB: crate::Sql = (
    "SELECT * FROM attempts WHERE job_id = ?1 AND (?2 IS NULL OR outcome = ?2) AND (?3 IS NULL OR at_us >= ?3) AND (?4 IS NULL OR at_us < ?4) ORDER BY at_us DESC, seq DESC LIMIT coalesce(?5, -1)",
    "SELECT * FROM attempts WHERE job_id = $1 AND ($2::text IS NULL OR outcome = $2) AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4) ORDER BY at DESC, seq DESC LIMIT $5",
);

/// An entry's columns that are not stored as they are.
struct AttemptRow {
    at: OffsetDateTime,
    config: String,
    applied: String,
    recommended: String,
    metrics: Option<String>,
    peak: Option<i64>,
}

impl AttemptRow {
    fn of(entry: &AttemptEntry) -> Result<AttemptRow> {
        Ok(AttemptRow {
            at: storable(entry.at),
            config: crate::json(&entry.config)?,
            applied: crate::json(&entry.applied_patches)?,
            recommended: crate::json(&entry.recommended_changes)?,
            metrics: entry.metrics.as_ref().map(crate::json).transpose()?,
            // `validate` refuses byte counts above 2^63, so this conversion does not saturate.
            peak: entry
                .peak_memory_bytes
                .map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
        })
    }
}

fn outcome_name(outcome: RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Succeeded => "succeeded",
        RunOutcome::Failed => "failed",
    }
}

fn attempt_from_row<'r, R>(row: &'r R) -> Result<AttemptEntry>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    f64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    OffsetDateTime: Decode<'r, R::Database> + Type<R::Database>,
{
    let corrupt = |e: String| StoreError::Corrupt(e);
    let json = |column: &'static str| -> Result<String> { Ok(row.try_get(column)?) };
    let category = |column: &'static str| -> Result<Option<Category>> {
        row.try_get::<Option<String>, _>(column)?
            .map(|name| name.parse::<Category>().map_err(|e| corrupt(e.to_string())))
            .transpose()
    };
    let attempt: i64 = row.try_get("attempt")?;
    let outcome: String = row.try_get("outcome")?;
    let metrics: Option<String> = row.try_get("metrics")?;
    Ok(AttemptEntry {
        job: JobIdentity {
            id: row.try_get("job_id")?,
            workflow: row.try_get("workflow")?,
            owner: row.try_get("owner")?,
            cluster: row.try_get("cluster")?,
        },
        attempt: u32::try_from(attempt).map_err(|_| corrupt(format!("attempt {attempt}")))?,
        config: serde_json::from_str(&json("config")?).map_err(|e| corrupt(e.to_string()))?,
        applied_patches: serde_json::from_str(&json("applied_patches")?)
            .map_err(|e| corrupt(e.to_string()))?,
        outcome: match outcome.as_str() {
            "succeeded" => RunOutcome::Succeeded,
            "failed" => RunOutcome::Failed,
            other => return Err(corrupt(format!("unknown outcome `{other}`"))),
        },
        exit_code: row.try_get("exit_code")?,
        timed_out: row.try_get("timed_out")?,
        failure_category: category("failure_category")?,
        failure_rule: row.try_get("failure_rule")?,
        follows_category: category("follows_category")?,
        decision: row.try_get("decision")?,
        reason: row.try_get("reason")?,
        recommended_changes: serde_json::from_str(&json("recommended_changes")?)
            .map_err(|e| corrupt(e.to_string()))?,
        patch_id: row.try_get("patch_id")?,
        runtime_seconds: row.try_get("runtime_seconds")?,
        cost_dollars: row.try_get("cost_dollars")?,
        peak_memory_bytes: row
            .try_get::<Option<i64>, _>("peak_memory_bytes")?
            .map(|b| b.max(0) as u64),
        metrics: metrics
            .map(|text| serde_json::from_str(&text).map_err(|e| corrupt(e.to_string())))
            .transpose()?,
        at: row.try_get("at")?,
    })
}

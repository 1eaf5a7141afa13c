//! The retry history: many records written in one transaction, read back in time order.

use medic_core::history::RetryRecord;
use medic_core::{Category, JobIdentity, RunOutcome};
use sqlx::{ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;

use crate::{Backend, Result, Store, StoreError, storable};

/// Which records [`Store::records`] returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// Only records at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only records before this time.
    pub until: Option<OffsetDateTime>,
}

/// Rows per INSERT: 14 parameters each stays far below SQLite's and PostgreSQL's parameter limits.
const ROWS_PER_STATEMENT: usize = 1_000;

impl Store {
    /// Adds `records` to the history in one transaction: all of them or, if any is invalid or the database
    /// fails, none. Returns how many were added. Times are kept to the microsecond.
    pub async fn add_records(&self, records: &[RetryRecord]) -> Result<u64> {
        self.insert_records(records, None).await
    }

    /// Like [`Store::add_records`], with an audit entry (`import_history`: how many records, and their time range)
    /// naming `actor`, in the same transaction: for imports that arrive over the API, where the trail must say who
    /// fed the model's training data.
    pub async fn import_records(&self, records: &[RetryRecord], actor: &str) -> Result<u64> {
        self.insert_records(records, Some(actor)).await
    }

    async fn insert_records(&self, records: &[RetryRecord], audit_by: Option<&str>) -> Result<u64> {
        let problems: Vec<String> = records
            .iter()
            .enumerate()
            .flat_map(|(index, record)| {
                let mut problems = record.validate();
                if record
                    .input_bytes
                    .is_some_and(|b| i64::try_from(b).is_err())
                    || record
                        .peak_memory_bytes
                        .is_some_and(|b| i64::try_from(b).is_err())
                {
                    problems.push("a byte count above 2^63".to_owned());
                }
                problems
                    .into_iter()
                    .map(move |problem| format!("record {}: {problem}", index + 1))
            })
            .collect();
        if !problems.is_empty() {
            return Err(StoreError::Invalid {
                what: "history",
                problems,
            });
        }
        let rows: Vec<RecordRow> = records.iter().map(RecordRow::from).collect::<Result<_>>()?;
        const COLUMNS: &str = "INSERT INTO retry_records (job_id, workflow, owner, cluster, config, failure_category, failure_rule, input_bytes, plan_operators, outcome, cost_dollars, runtime_seconds, peak_memory_bytes, at";
        // Only SQLite has (and needs) the sortable `at_us` column.
        on_backend!(self, pool, [
            format!("{COLUMNS}, at_us) "),
            format!("{COLUMNS}) ")
        ], sql => {
            let with_micros = matches!(self.backend, Backend::Sqlite(_));
            let mut tx = pool.begin().await?;
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut insert = sqlx::QueryBuilder::new(sql.as_str());
                insert.push_values(chunk, |mut row, record| {
                    row.push_bind(record.job_id.clone())
                        .push_bind(record.workflow.clone())
                        .push_bind(record.owner.clone())
                        .push_bind(record.cluster.clone())
                        .push_bind(record.config.clone())
                        .push_bind(record.failure_category)
                        .push_bind(record.failure_rule.clone())
                        .push_bind(record.input_bytes)
                        .push_bind(record.plan_operators.clone())
                        .push_bind(record.outcome)
                        .push_bind(record.cost_dollars)
                        .push_bind(record.runtime_seconds)
                        .push_bind(record.peak_memory_bytes)
                        .push_bind(record.at);
                    if with_micros {
                        row.push_bind(micros(record.at));
                    }
                });
                insert.build().execute(&mut *tx).await?;
            }
            if let Some(actor) = audit_by {
                let detail = serde_json::json!({
                    "records": rows.len(),
                    "from": rows.iter().map(|row| row.at).min().and_then(rfc3339),
                    "until": rows.iter().map(|row| row.at).max().and_then(rfc3339),
                });
                crate::audit_in(&mut tx, storable(self.clock.now()), actor, "import_history", None, &detail).await?;
            }
            tx.commit().await?;
        });
        Ok(rows.len() as u64)
    }

    /// The records matching `filter`, oldest first (then in insertion order).
    pub async fn records(&self, filter: &RecordFilter) -> Result<Vec<RetryRecord>> {
        on_backend!(self, pool, [
            "SELECT * FROM retry_records WHERE (?1 IS NULL OR at_us >= ?1) AND (?2 IS NULL OR at_us < ?2) ORDER BY at_us, seq",
            "SELECT * FROM retry_records WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2) ORDER BY at, seq"
        ], sql => {
            let query = sqlx::query(sql);
            let query = if matches!(self.backend, Backend::Sqlite(_)) {
                query.bind(filter.since.map(micros)).bind(filter.until.map(micros))
            } else {
                query.bind(filter.since.map(storable)).bind(filter.until.map(storable))
            };
            query
                .fetch_all(pool)
                .await?
                .iter()
                .map(record_from_row)
                .collect()
        })
    }

    /// How many records the history holds.
    pub async fn record_count(&self) -> Result<u64> {
        let count: i64 = on_backend!(self, pool, ["SELECT COUNT(*) FROM retry_records", "SELECT COUNT(*) FROM retry_records"], sql => {
            sqlx::query_scalar(sql).fetch_one(pool).await?
        });
        Ok(count.max(0) as u64)
    }
}

/// `at` as RFC 3339 text, for the audit trail (a time that cannot be written as such is left out).
fn rfc3339(at: OffsetDateTime) -> Option<String> {
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Microseconds since 1970, the sortable form of a time in SQLite.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// A record as its columns hold it.
struct RecordRow {
    job_id: String,
    workflow: Option<String>,
    owner: Option<String>,
    cluster: Option<String>,
    config: String,
    failure_category: &'static str,
    failure_rule: Option<String>,
    input_bytes: Option<i64>,
    plan_operators: String,
    outcome: &'static str,
    cost_dollars: f64,
    runtime_seconds: f64,
    peak_memory_bytes: Option<i64>,
    at: OffsetDateTime,
}

impl RecordRow {
    fn from(record: &RetryRecord) -> Result<RecordRow> {
        let bytes = |value: Option<u64>| value.map(|b| i64::try_from(b).unwrap_or(i64::MAX));
        Ok(RecordRow {
            job_id: record.job.id.clone(),
            workflow: record.job.workflow.clone(),
            owner: record.job.owner.clone(),
            cluster: record.job.cluster.clone(),
            config: crate::json(&record.config)?,
            failure_category: record.failure_category.as_str(),
            failure_rule: record.failure_rule.clone(),
            input_bytes: bytes(record.input_bytes),
            plan_operators: crate::json(&record.plan_operators)?,
            outcome: match record.outcome {
                RunOutcome::Succeeded => "succeeded",
                RunOutcome::Failed => "failed",
            },
            cost_dollars: record.cost_dollars,
            runtime_seconds: record.runtime_seconds,
            peak_memory_bytes: bytes(record.peak_memory_bytes),
            at: storable(record.at),
        })
    }
}

fn record_from_row<'r, R>(row: &'r R) -> Result<RetryRecord>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    f64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    OffsetDateTime: Decode<'r, R::Database> + Type<R::Database>,
{
    let corrupt = |e: String| StoreError::Corrupt(e);
    let config: String = row.try_get("config")?;
    let operators: String = row.try_get("plan_operators")?;
    let category: String = row.try_get("failure_category")?;
    let outcome: String = row.try_get("outcome")?;
    let bytes = |value: Option<i64>| value.map(|b| b.max(0) as u64);
    Ok(RetryRecord {
        job: JobIdentity {
            id: row.try_get("job_id")?,
            workflow: row.try_get("workflow")?,
            owner: row.try_get("owner")?,
            cluster: row.try_get("cluster")?,
        },
        config: serde_json::from_str(&config).map_err(|e| corrupt(e.to_string()))?,
        failure_category: category
            .parse::<Category>()
            .map_err(|e| corrupt(e.to_string()))?,
        failure_rule: row.try_get("failure_rule")?,
        input_bytes: bytes(row.try_get("input_bytes")?),
        plan_operators: serde_json::from_str(&operators).map_err(|e| corrupt(e.to_string()))?,
        outcome: match outcome.as_str() {
            "succeeded" => RunOutcome::Succeeded,
            "failed" => RunOutcome::Failed,
            other => return Err(corrupt(format!("unknown outcome `{other}`"))),
        },
        cost_dollars: row.try_get("cost_dollars")?,
        runtime_seconds: row.try_get("runtime_seconds")?,
        peak_memory_bytes: bytes(row.try_get("peak_memory_bytes")?),
        at: row.try_get("at")?,
    })
}

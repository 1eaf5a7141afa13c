//! The history: one [`RetryRecord`] per attempt that followed a memory-configuration or unclassified failure (what
//! the model learns from), one [`AttemptEntry`] per attempt of any kind with what Spark measured in it
//! ([`RunMetrics`]; the evidence for right-sizing), and the [`Prices`] that turn an attempt's resources and runtime
//! into dollars.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::spark::Resources;
use crate::{Category, JobIdentity, RunOutcome, SparkConf};

/// One attempt after a failure: what it ran with, what it ran on, and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRecord {
    /// The job.
    pub job: JobIdentity,
    /// The Spark configuration the attempt ran with.
    pub config: SparkConf,
    /// The category of the failure this attempt followed.
    pub failure_category: Category,
    /// The rule that classified that failure, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_rule: Option<String>,
    /// Bytes of input, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_bytes: Option<u64>,
    /// Operator names of the Spark plan (`SortMergeJoin`, `HashAggregate`, ...), when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_operators: Vec<String>,
    /// How the attempt ended.
    pub outcome: RunOutcome,
    /// What it cost, in dollars (given, or computed by [`Prices::cost`]).
    pub cost_dollars: f64,
    /// How long it ran, in seconds.
    pub runtime_seconds: f64,
    /// The highest memory use seen (bytes), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory_bytes: Option<u64>,
    /// When the attempt started.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl RetryRecord {
    /// Every reason this record cannot be learned from (a negative or non-finite cost or runtime, an empty job
    /// id, a control character in any text). Empty when it is fine.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = crate::text::control_characters(self);
        if self.job.id.trim().is_empty() {
            problems.push("the job id is empty".to_owned());
        }
        for (name, value) in [
            ("cost_dollars", self.cost_dollars),
            ("runtime_seconds", self.runtime_seconds),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                problems.push(format!("`{name}` is {value}, not a non-negative number"));
            }
        }
        problems
    }
}

/// What Spark itself measured during an attempt, read from its event log. Sums are over every task of the
/// application; peaks are the highest values any executor (the driver included) reported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMetrics {
    /// The application's own runtime (application start to end), in seconds, when both were logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_runtime_seconds: Option<f64>,
    /// Tasks that ended, failed or not.
    #[serde(default)]
    pub tasks: u64,
    /// Tasks that ended in failure (an exception, a lost executor, a fetch failure, a kill).
    #[serde(default)]
    pub failed_tasks: u64,
    /// The highest JVM heap in use in any JVM of the application (`JVMHeapMemory` of the executor metrics), in
    /// bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_jvm_heap_bytes: Option<u64>,
    /// The highest JVM heap in use in the driver, in bytes. In local mode the executors run in the driver's JVM,
    /// so this is the whole application's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_driver_heap_bytes: Option<u64>,
    /// The highest JVM heap in use in any executor other than the driver, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_executor_heap_bytes: Option<u64>,
    /// The highest on-heap execution memory in use (`OnHeapExecutionMemory` of the executor metrics, or a task's
    /// `Peak Execution Memory`), in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_execution_memory_bytes: Option<u64>,
    /// The highest resident set of the JVM process (`ProcessTreeJVMRSSMemory`), in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_jvm_rss_bytes: Option<u64>,
    /// Bytes spilled from memory (their in-memory size).
    #[serde(default)]
    pub memory_spilled_bytes: u64,
    /// Bytes spilled to disk (their serialized size).
    #[serde(default)]
    pub disk_spilled_bytes: u64,
    /// Time tasks spent in garbage collection, in milliseconds.
    #[serde(default)]
    pub gc_time_ms: u64,
    /// Time tasks ran, in milliseconds.
    #[serde(default)]
    pub executor_run_time_ms: u64,
    /// CPU time tasks used, in milliseconds.
    #[serde(default)]
    pub executor_cpu_time_ms: u64,
    /// How many tasks the largest failed stage had: a job aborted for its results' size names only the tasks that
    /// had finished, and the rest would have sent theirs too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_stage_tasks: Option<u64>,
    /// Each executor as the cluster reported it (its History Server), where medic could ask: its peaks, and why it
    /// was removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executors: Vec<ExecutorPeaks>,
}

/// One executor's peaks in a run, and why it was removed, as its cluster reported them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorPeaks {
    /// The executor's id (`driver` for the driver).
    pub id: String,
    /// Its peak JVM heap in use, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_jvm_heap_bytes: Option<u64>,
    /// Its JVM's peak resident set, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_jvm_rss_bytes: Option<u64>,
    /// Its Python workers' peak resident set, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_python_rss_bytes: Option<u64>,
    /// Time its tasks spent in garbage collection, in milliseconds.
    #[serde(default)]
    pub gc_time_ms: u64,
    /// Why it was removed, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_because: Option<String>,
    /// The exit code in that reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// One attempt of a job as the attempts history keeps it: every attempt, first attempts and successes included,
/// with its cost, its peak memory and what medic decided after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptEntry {
    /// The job.
    pub job: JobIdentity,
    /// Which attempt of its run (1-based).
    pub attempt: u32,
    /// The Spark configuration it ran with.
    pub config: SparkConf,
    /// The ids of the patches that configuration came from.
    #[serde(default)]
    pub applied_patches: Vec<String>,
    /// How it ended.
    pub outcome: RunOutcome,
    /// The exit code; `None` when the process was killed by a signal or never started.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Whether it was killed for running past the job's timeout.
    #[serde(default)]
    pub timed_out: bool,
    /// The category of its failure, when it failed and was classified.
    #[serde(default)]
    pub failure_category: Option<Category>,
    /// The rule that classified its failure.
    #[serde(default)]
    pub failure_rule: Option<String>,
    /// The category of the previous attempt's failure, when this attempt is a retry after one.
    #[serde(default)]
    pub follows_category: Option<Category>,
    /// What the scheduler did next: `succeeded`, `retry`, `do_not_retry` or `attempts_exhausted`.
    pub decision: String,
    /// Why, in a sentence (in shadow mode: what medic would have done).
    #[serde(default)]
    pub reason: String,
    /// What medic recommended changing for the next attempt (key to new value, `None` to remove it), whether or
    /// not it was applied: in shadow mode nothing is.
    #[serde(default)]
    pub recommended_changes: BTreeMap<String, Option<String>>,
    /// The patch medic stored for the next attempt, if it stored one.
    #[serde(default)]
    pub patch_id: Option<String>,
    /// How long it ran, in seconds (wall time, start-up included).
    pub runtime_seconds: f64,
    /// What it cost, in dollars (measured by the runner, or computed by [`Prices::cost`]).
    pub cost_dollars: f64,
    /// Its highest memory use in bytes (the JVM heap, for Spark), when measured.
    #[serde(default)]
    pub peak_memory_bytes: Option<u64>,
    /// What Spark measured, when the runner read its event log.
    #[serde(default)]
    pub metrics: Option<RunMetrics>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The decisions an [`AttemptEntry`] may name.
pub const ATTEMPT_DECISIONS: [&str; 5] = [
    "succeeded",
    "retry",
    "do_not_retry",
    "attempts_exhausted",
    "runner_error",
];

impl AttemptEntry {
    /// Every reason this entry cannot be kept (an empty job id, attempt 0, an unknown decision, a negative or
    /// non-finite cost or runtime, a byte count above 2^63, a control character in any text). Empty when it is fine.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = crate::text::control_characters(self);
        if self.job.id.trim().is_empty() {
            problems.push("the job id is empty".to_owned());
        }
        if self.attempt == 0 {
            problems.push("`attempt` is 0; attempts count from 1".to_owned());
        }
        if !ATTEMPT_DECISIONS.contains(&self.decision.as_str()) {
            problems.push(format!(
                "unknown decision `{}` (expected one of: {})",
                self.decision,
                ATTEMPT_DECISIONS.join(", ")
            ));
        }
        for (name, value) in [
            ("cost_dollars", self.cost_dollars),
            ("runtime_seconds", self.runtime_seconds),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                problems.push(format!("`{name}` is {value}, not a non-negative number"));
            }
        }
        let metrics = self.metrics.as_ref();
        let bytes = [
            ("peak_memory_bytes", self.peak_memory_bytes),
            (
                "metrics.peak_jvm_heap_bytes",
                metrics.and_then(|m| m.peak_jvm_heap_bytes),
            ),
            (
                "metrics.peak_driver_heap_bytes",
                metrics.and_then(|m| m.peak_driver_heap_bytes),
            ),
            (
                "metrics.peak_executor_heap_bytes",
                metrics.and_then(|m| m.peak_executor_heap_bytes),
            ),
            (
                "metrics.peak_execution_memory_bytes",
                metrics.and_then(|m| m.peak_execution_memory_bytes),
            ),
            (
                "metrics.peak_jvm_rss_bytes",
                metrics.and_then(|m| m.peak_jvm_rss_bytes),
            ),
        ];
        for (name, value) in bytes {
            if value.is_some_and(|b| i64::try_from(b).is_err()) {
                problems.push(format!("`{name}` is above 2^63"));
            }
        }
        if let Some(runtime) = metrics.and_then(|m| m.app_runtime_seconds)
            && !(runtime.is_finite() && runtime >= 0.0)
        {
            problems.push(format!(
                "`metrics.app_runtime_seconds` is {runtime}, not a non-negative number"
            ));
        }
        problems
    }
}

/// What resources cost: the prices that turn an attempt's configuration and runtime into dollars.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// Dollars per core-hour.
    pub core_hour: f64,
    /// Dollars per GiB-hour of memory granted (heap plus overhead).
    pub gib_hour: f64,
}

impl Default for Prices {
    /// Roughly on-demand cloud prices in 2026 (a general-purpose instance split into cores and memory).
    fn default() -> Self {
        Prices {
            core_hour: 0.04,
            gib_hour: 0.005,
        }
    }
}

impl Prices {
    /// Dollars for running `config` for `runtime_seconds`, over the [`Resources`] it occupies (local mode aware;
    /// `local[*]` counts 1 core: see [`Prices::cost_of`] for a run whose cores are known).
    pub fn cost(&self, config: &SparkConf, runtime_seconds: f64) -> f64 {
        self.cost_of(Resources::of(config), runtime_seconds)
    }

    /// Dollars for occupying `resources` for `runtime_seconds`.
    pub fn cost_of(&self, resources: Resources, runtime_seconds: f64) -> f64 {
        let hours = runtime_seconds.max(0.0) / 3600.0;
        hours * (resources.cores * self.core_hour + resources.memory_gib * self.gib_hour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_the_runtime_over_the_resources() {
        let prices = Prices {
            core_hour: 0.1,
            gib_hour: 0.01,
        };
        let mut config = SparkConf::new();
        config.set("spark.executor.instances", "10");
        config.set("spark.executor.cores", "4");
        config.set("spark.executor.memory", "8g");
        config.set("spark.driver.memory", "not a size");
        // 41 cores, 10 × (8 GiB + 0.8 GiB) + driver 1.375 GiB, for half an hour.
        let cost = prices.cost(&config, 1800.0);
        assert!((cost - 0.5 * (41.0 * 0.1 + 89.375 * 0.01)).abs() < 1e-9);
        assert_eq!(cost, prices.cost_of(Resources::of(&config), 1800.0));
        // The same settings in local mode: the driver's JVM alone (1 GiB + 384 MiB) with 2 threads.
        config.set("spark.master", "local[2]");
        let local = prices.cost(&config, 1800.0);
        assert!((local - 0.5 * (2.0 * 0.1 + 1.375 * 0.01)).abs() < 1e-9);
        assert!(local < cost / 10.0);
        assert_eq!(prices.cost(&config, -5.0), 0.0);
    }
}

/// A record as files carry it: like [`RetryRecord`], but the cost may be left out, to be computed from the
/// configuration and the runtime with [`Prices`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordInput {
    job: JobIdentity,
    config: SparkConf,
    failure_category: Category,
    #[serde(default)]
    failure_rule: Option<String>,
    #[serde(default)]
    input_bytes: Option<u64>,
    #[serde(default)]
    plan_operators: Vec<String>,
    outcome: RunOutcome,
    #[serde(default)]
    cost_dollars: Option<f64>,
    runtime_seconds: f64,
    #[serde(default)]
    peak_memory_bytes: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

impl RecordInput {
    fn into_record(self, prices: &Prices) -> RetryRecord {
        let cost_dollars = self
            .cost_dollars
            .unwrap_or_else(|| prices.cost(&self.config, self.runtime_seconds));
        RetryRecord {
            job: self.job,
            config: self.config,
            failure_category: self.failure_category,
            failure_rule: self.failure_rule,
            input_bytes: self.input_bytes,
            plan_operators: self.plan_operators,
            outcome: self.outcome,
            cost_dollars,
            runtime_seconds: self.runtime_seconds,
            peak_memory_bytes: self.peak_memory_bytes,
            at: self.at,
        }
    }
}

/// One unusable line of a history file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordProblem {
    /// 1-based line (JSON Lines) or record (CSV, counting the header as line 1).
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for RecordProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The file formats of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryFormat {
    /// One JSON object per line ([`read_jsonl`], [`write_jsonl`]).
    Jsonl,
    /// CSV with a header; `config` is a JSON object, `plan_operators` are `;`-separated ([`read_csv`],
    /// [`write_csv`]).
    Csv,
}

impl HistoryFormat {
    /// The format a file name implies: `.csv` (any case) is CSV, anything else JSON Lines.
    pub fn of(path: &std::path::Path) -> HistoryFormat {
        if path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"))
        {
            HistoryFormat::Csv
        } else {
            HistoryFormat::Jsonl
        }
    }

    /// Reads every record of `reader` in this format, costing those without a cost with `prices`.
    pub fn read(self, reader: impl std::io::Read, prices: &Prices) -> ReadRecords {
        match self {
            HistoryFormat::Jsonl => read_jsonl(std::io::BufReader::new(reader), prices),
            HistoryFormat::Csv => read_csv(reader, prices),
        }
    }

    /// Writes `records` to `writer` in this format.
    pub fn write<'a>(
        self,
        writer: impl std::io::Write,
        records: impl IntoIterator<Item = &'a RetryRecord>,
    ) -> std::io::Result<()> {
        match self {
            HistoryFormat::Jsonl => write_jsonl(writer, records),
            HistoryFormat::Csv => write_csv(writer, records).map_err(std::io::Error::other),
        }
    }
}

/// What reading a history file gave: the records that are fine, and every problem with the others. Callers that
/// must not lose data refuse the whole file when `problems` is not empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadRecords {
    /// The usable records, in file order.
    pub records: Vec<RetryRecord>,
    /// Every unusable line.
    pub problems: Vec<RecordProblem>,
}

impl ReadRecords {
    fn push(&mut self, line: u64, parsed: Result<RecordInput, String>, prices: &Prices) {
        match parsed.map(|input| input.into_record(prices)) {
            Ok(record) => {
                let problems = record.validate();
                if problems.is_empty() {
                    self.records.push(record);
                } else {
                    self.problems.push(RecordProblem {
                        line,
                        reason: problems.join("; "),
                    });
                }
            }
            Err(reason) => self.problems.push(RecordProblem { line, reason }),
        }
    }
}

/// Reads JSON Lines, one [`RetryRecord`] per line (`cost_dollars` may be left out: it is then computed with
/// `prices`). Blank lines are skipped. Invalid UTF-8 and invalid lines are reported, never a panic.
pub fn read_jsonl(reader: impl std::io::BufRead, prices: &Prices) -> ReadRecords {
    let mut read = ReadRecords::default();
    for (index, line) in reader.split(b'\n').enumerate() {
        let number = index as u64 + 1;
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                read.problems.push(RecordProblem {
                    line: number,
                    reason: format!("cannot read: {e}"),
                });
                break;
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = serde_json::from_slice::<RecordInput>(&line).map_err(|e| e.to_string());
        read.push(number, parsed, prices);
    }
    read
}

/// Writes records as JSON Lines.
pub fn write_jsonl<'a>(
    mut writer: impl std::io::Write,
    records: impl IntoIterator<Item = &'a RetryRecord>,
) -> std::io::Result<()> {
    for record in records {
        serde_json::to_writer(&mut writer, record)?;
        writer.write_all(b"\n")?;
    }
    Ok(())
}

/// The CSV columns, in order. `config` is a JSON object of strings; `plan_operators` are separated by `;`; empty
/// optional cells mean "unknown", and an empty `cost_dollars` is computed with the prices.
pub const CSV_COLUMNS: [&str; 14] = [
    "job",
    "workflow",
    "owner",
    "cluster",
    "config",
    "failure_category",
    "failure_rule",
    "input_bytes",
    "plan_operators",
    "outcome",
    "cost_dollars",
    "runtime_seconds",
    "peak_memory_bytes",
    "at",
];

/// Reads CSV with the header [`CSV_COLUMNS`] (any order, no other column).
pub fn read_csv(reader: impl std::io::Read, prices: &Prices) -> ReadRecords {
    let mut read = ReadRecords::default();
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let header: Vec<String> = match csv.headers() {
        Ok(header) => header.iter().map(str::to_owned).collect(),
        Err(e) => {
            read.problems.push(RecordProblem {
                line: 1,
                reason: format!("cannot read the header: {e}"),
            });
            return read;
        }
    };
    let unknown: Vec<&String> = header
        .iter()
        .filter(|name| !CSV_COLUMNS.contains(&name.as_str()))
        .collect();
    if !unknown.is_empty() {
        read.problems.push(RecordProblem {
            line: 1,
            reason: format!(
                "unknown columns {unknown:?} (expected {})",
                CSV_COLUMNS.join(",")
            ),
        });
        return read;
    }
    for (index, row) in csv.byte_records().enumerate() {
        let line = index as u64 + 2;
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                read.problems.push(RecordProblem {
                    line,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let parsed = csv_row(&header, &row);
        read.push(line, parsed, prices);
    }
    read
}

fn csv_row(header: &[String], row: &csv::ByteRecord) -> Result<RecordInput, String> {
    let mut object = serde_json::Map::new();
    let mut job = serde_json::Map::new();
    for (name, cell) in header.iter().zip(row.iter()) {
        let cell = std::str::from_utf8(cell).map_err(|_| format!("`{name}` is not UTF-8"))?;
        if cell.is_empty() {
            continue;
        }
        let value = match name.as_str() {
            "job" => {
                job.insert("id".into(), cell.into());
                continue;
            }
            "workflow" | "owner" | "cluster" => {
                job.insert(name.clone(), cell.into());
                continue;
            }
            "config" => serde_json::from_str(cell).map_err(|e| format!("`config`: {e}"))?,
            "plan_operators" => cell
                .split(';')
                .map(str::trim)
                .filter(|op| !op.is_empty())
                .collect::<Vec<_>>()
                .into(),
            "input_bytes" | "peak_memory_bytes" => serde_json::Value::from(
                cell.parse::<u64>()
                    .map_err(|_| format!("`{name}` = `{cell}` is not a whole number of bytes"))?,
            ),
            "cost_dollars" | "runtime_seconds" => serde_json::Value::from(
                cell.parse::<f64>()
                    .map_err(|_| format!("`{name}` = `{cell}` is not a number"))?,
            ),
            _ => cell.into(),
        };
        object.insert(name.clone(), value);
    }
    object.insert("job".into(), job.into());
    serde_json::from_value(object.into()).map_err(|e| e.to_string())
}

/// Writes records as CSV with the header [`CSV_COLUMNS`].
pub fn write_csv<'a>(
    writer: impl std::io::Write,
    records: impl IntoIterator<Item = &'a RetryRecord>,
) -> Result<(), csv::Error> {
    let mut csv = csv::Writer::from_writer(writer);
    csv.write_record(CSV_COLUMNS)?;
    for record in records {
        let optional = |value: Option<u64>| value.map(|v| v.to_string()).unwrap_or_default();
        let at = record
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        csv.write_record([
            record.job.id.as_str(),
            record.job.workflow.as_deref().unwrap_or_default(),
            record.job.owner.as_deref().unwrap_or_default(),
            record.job.cluster.as_deref().unwrap_or_default(),
            &serde_json::to_string(&record.config).map_err(std::io::Error::other)?,
            record.failure_category.as_str(),
            record.failure_rule.as_deref().unwrap_or_default(),
            &optional(record.input_bytes),
            &record.plan_operators.join(";"),
            match record.outcome {
                RunOutcome::Succeeded => "succeeded",
                RunOutcome::Failed => "failed",
            },
            &record.cost_dollars.to_string(),
            &record.runtime_seconds.to_string(),
            &optional(record.peak_memory_bytes),
            &at,
        ])?;
    }
    csv.flush()?;
    Ok(())
}

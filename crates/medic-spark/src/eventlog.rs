//! Reading Spark event logs: what an application measured and why it failed, from the log Spark wrote.
//!
//! [`read`] takes a single event-log file, a rolling folder (`eventlog_v2_<app>`, Spark 3+ and the Spark 4
//! default), or the folder `spark.eventLog.dir` points at. Files are plain JSON lines or zstd (Spark 4's default
//! codec); other codecs are reported. Events are streamed line by line and folded into an [`EventLogSummary`] as
//! they come, so memory stays bounded whatever the log's size (a line longer than [`MAX_LINE_BYTES`] is skipped
//! and reported). A line that is not an event, a file cut short (an application killed while writing) or an
//! unreadable file is a [`LineProblem`] in the summary: reading goes on, and nothing panics.

mod event;
mod files;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use medic_core::history::RunMetrics;
use serde::Serialize;

use crate::error::{Error, Result};
use event::{Event, ExecutorMetrics, PlanNode, TaskEndReason};
use files::{Codec, Line};

/// The longest line read; a longer one (a huge plan, say) is skipped and reported.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// At most this many distinct failure messages of each kind are kept.
const MAX_MESSAGES: usize = 20;
/// At most this many line problems are kept (the rest are counted).
const MAX_PROBLEMS: usize = 20;
/// Lines of one failure message kept for classification (stack frames are dropped first).
const MAX_MESSAGE_LINES: usize = 40;

/// A line (or a file) that could not be read as an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineProblem {
    /// The file.
    pub file: PathBuf,
    /// The 1-based line, or 0 for a problem with the whole file.
    pub line: u64,
    /// What was wrong.
    pub message: String,
}

/// One kind of task failure and how often it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskFailure {
    /// Why the tasks failed (`java.lang.OutOfMemoryError: Java heap space`, `ExecutorLostFailure: ...`).
    pub reason: String,
    /// The exception chain's `Caused by:` lines, when Spark logged the stack trace.
    pub caused_by: Vec<String>,
    /// How many tasks failed so.
    pub count: u64,
}

/// What an application's event log says: how long it ran, what it measured and what failed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EventLogSummary {
    /// The event files read, in order.
    pub files: Vec<PathBuf>,
    /// Lines read as events.
    pub events: u64,
    /// Whether an application's log was still being written (the application had not ended).
    pub in_progress: bool,
    /// The Spark version that wrote the log.
    pub spark_version: Option<String>,
    /// The application's id (`local-1700000000000`, `application_..._0001`).
    pub app_id: Option<String>,
    /// The application's name.
    pub app_name: Option<String>,
    /// When the application started, in milliseconds since 1970.
    pub app_start_ms: Option<i64>,
    /// When it ended, in milliseconds since 1970.
    pub app_end_ms: Option<i64>,
    /// The driver's exit code, as Spark 4 logs it at the application's end.
    pub app_exit_code: Option<i32>,
    /// Executors added (the driver of a local-mode application counts as one).
    pub executors: u64,
    /// Their cores in all.
    pub executor_cores: u64,
    /// The time executors ran, summed over executors (the driver of a local-mode application not counted), in
    /// seconds: from each one's addition to its removal or the application's end.
    #[serde(default)]
    pub executor_seconds: f64,
    /// Tasks that ended.
    pub tasks: u64,
    /// Tasks that ended in failure.
    pub failed_tasks: u64,
    /// Why tasks failed, most frequent first.
    pub task_failures: Vec<TaskFailure>,
    /// Jobs that failed, with Spark's message.
    pub job_failures: Vec<String>,
    /// SQL executions that failed, with their error message (stack frames dropped). Driver-side failures (a
    /// `collect()` that runs the driver out of heap, a broadcast too large) appear only here: their jobs succeed.
    pub sql_errors: Vec<String>,
    /// The highest JVM heap in use in the driver.
    pub peak_driver_heap_bytes: Option<u64>,
    /// The highest JVM heap in use in any other executor.
    pub peak_executor_heap_bytes: Option<u64>,
    /// The highest on-heap execution memory in use (executor metrics, or a task's peak).
    pub peak_execution_memory_bytes: Option<u64>,
    /// The highest resident set of a JVM process.
    pub peak_jvm_rss_bytes: Option<u64>,
    /// Bytes spilled from memory.
    pub memory_spilled_bytes: u64,
    /// Bytes spilled to disk.
    pub disk_spilled_bytes: u64,
    /// Garbage-collection time in milliseconds: each JVM's total (from executor metrics), or the tasks' sum when
    /// no executor reported one.
    pub gc_time_ms: u64,
    /// Time tasks ran, in milliseconds.
    pub executor_run_time_ms: u64,
    /// CPU time tasks used, in milliseconds.
    pub executor_cpu_time_ms: u64,
    /// The tasks of the largest stage that failed (a result-size abort counts only the tasks that had finished).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_stage_tasks: Option<u64>,
    /// Bytes tasks read from their input.
    pub input_bytes: u64,
    /// The operators of the physical plans (`SortMergeJoin`, `BroadcastExchange`, ...), sorted.
    pub plan_operators: BTreeSet<String>,
    /// Lines and files that could not be read (at most 20; `problems_total` counts them all).
    pub problems: Vec<LineProblem>,
    /// How many problems there were.
    pub problems_total: u64,
}

impl EventLogSummary {
    /// The application's runtime in seconds, when its start and end were logged.
    pub fn app_runtime_seconds(&self) -> Option<f64> {
        let (start, end) = (self.app_start_ms?, self.app_end_ms?);
        (end >= start).then(|| (end - start) as f64 / 1000.0)
    }

    /// How many executors the application had on average over its run (their time over its own), when it had any
    /// and its start and end were logged.
    pub fn average_executors(&self) -> Option<f64> {
        let runtime = self.app_runtime_seconds().filter(|&t| t > 0.0)?;
        (self.executor_seconds > 0.0).then(|| self.executor_seconds / runtime)
    }

    /// The highest JVM heap in use in any JVM of the application.
    pub fn peak_jvm_heap_bytes(&self) -> Option<u64> {
        self.peak_driver_heap_bytes
            .max(self.peak_executor_heap_bytes)
    }

    /// The figures the history keeps.
    pub fn metrics(&self) -> RunMetrics {
        RunMetrics {
            app_runtime_seconds: self.app_runtime_seconds(),
            tasks: self.tasks,
            failed_tasks: self.failed_tasks,
            peak_jvm_heap_bytes: self.peak_jvm_heap_bytes(),
            peak_driver_heap_bytes: self.peak_driver_heap_bytes,
            peak_executor_heap_bytes: self.peak_executor_heap_bytes,
            peak_execution_memory_bytes: self.peak_execution_memory_bytes,
            peak_jvm_rss_bytes: self.peak_jvm_rss_bytes,
            memory_spilled_bytes: self.memory_spilled_bytes,
            disk_spilled_bytes: self.disk_spilled_bytes,
            gc_time_ms: self.gc_time_ms,
            executor_run_time_ms: self.executor_run_time_ms,
            executor_cpu_time_ms: self.executor_cpu_time_ms,
            failed_stage_tasks: self.failed_stage_tasks,
            executors: Vec::new(),
        }
    }

    /// Whether the log says something failed (a SQL execution, a job or a task).
    pub fn has_failures(&self) -> bool {
        !self.sql_errors.is_empty() || !self.job_failures.is_empty() || self.failed_tasks > 0
    }

    /// What failed, as log text for the classifier (the `eventlog` source): one block per failed SQL execution,
    /// failed job and kind of task failure, stack frames dropped. Empty when nothing failed.
    pub fn findings(&self) -> String {
        let mut text = String::new();
        if !self.has_failures() {
            return text;
        }
        let app = self.app_id.as_deref().unwrap_or("an application");
        let _ = writeln!(
            text,
            "Spark event log of {app} (Spark {}): {} failed SQL execution(s), {} failed job(s), {} failed task(s)",
            self.spark_version.as_deref().unwrap_or("?"),
            self.sql_errors.len(),
            self.job_failures.len(),
            self.failed_tasks
        );
        for error in &self.sql_errors {
            let _ = writeln!(text, "SQL execution failed: {error}");
        }
        for failure in &self.job_failures {
            let _ = writeln!(text, "Job failed: {failure}");
        }
        for failure in &self.task_failures {
            let _ = writeln!(
                text,
                "Task failed ({} time(s)): {}",
                failure.count, failure.reason
            );
            for cause in &failure.caused_by {
                let _ = writeln!(text, "{cause}");
            }
        }
        text
    }
}

/// Reads the event log(s) at `path` (a file, a rolling folder, or a folder of either). Only a `path` that cannot
/// be read at all is an error; everything else is a [`LineProblem`] in the summary.
pub fn read(path: &Path) -> Result<EventLogSummary> {
    let logs = files::app_logs(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = Reader::default();
    for log in logs {
        reader.summary.in_progress |= log.in_progress;
        for file in log.files {
            reader.read_file(&file);
        }
    }
    Ok(reader.finish())
}

#[derive(Default)]
struct Reader {
    summary: EventLogSummary,
    task_failures: BTreeMap<String, (Vec<String>, u64)>,
    /// Each JVM's highest total GC time.
    gc_by_executor: HashMap<String, u64>,
    task_gc_ms: u64,
    cpu_time_ns: u64,
    /// When each executor still running was added, in milliseconds since 1970.
    executors_running_since: HashMap<String, i64>,
    /// Executors' time until their removal, in milliseconds.
    executor_ms: i64,
    /// The latest time any event carried.
    last_event_ms: Option<i64>,
}

impl Reader {
    fn problem(&mut self, file: &Path, line: u64, message: impl Into<String>) {
        let summary = &mut self.summary;
        summary.problems_total += 1;
        if summary.problems.len() < MAX_PROBLEMS {
            summary.problems.push(LineProblem {
                file: file.to_path_buf(),
                line,
                message: message.into(),
            });
        }
    }

    fn read_file(&mut self, file: &Path) {
        self.summary.files.push(file.to_path_buf());
        let codec = match files::codec(file) {
            Ok(codec) => codec,
            Err(e) => return self.problem(file, 0, format!("cannot read: {e}")),
        };
        if let Codec::Unsupported(name) = codec {
            return self.problem(
                file,
                0,
                format!(
                    "compressed with {name}, which medic cannot read; use spark.eventLog.compression.codec=zstd"
                ),
            );
        }
        let mut input = match files::open(file, codec) {
            Ok(input) => input,
            Err(e) => return self.problem(file, 0, format!("cannot read: {e}")),
        };
        let mut buf = Vec::new();
        let mut number = 0u64;
        loop {
            let line = match files::read_line(&mut *input, &mut buf, MAX_LINE_BYTES) {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(e) => {
                    // A zstd file cut short (the application was killed while writing) ends here.
                    self.problem(file, number + 1, format!("cannot read further: {e}"));
                    break;
                }
            };
            number += 1;
            if let Line::TooLong(skipped) = line {
                self.problem(
                    file,
                    number,
                    format!(
                        "a line of {} bytes, longer than the {MAX_LINE_BYTES}-byte limit, was skipped",
                        buf.len() as u64 + skipped
                    ),
                );
                continue;
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Event>(&buf) {
                Ok(event) => {
                    self.summary.events += 1;
                    self.fold(event);
                }
                Err(e) => self.problem(file, number, format!("not a Spark event: {e}")),
            }
        }
    }

    fn fold(&mut self, event: Event) {
        self.last_event_ms = self.last_event_ms.max(event.timestamp);
        let summary = &mut self.summary;
        let name = event.event.rsplit('.').next().unwrap_or_default();
        match name {
            "SparkListenerLogStart" => {
                summary.spark_version = event.spark_version.or(summary.spark_version.take());
            }
            "SparkListenerApplicationStart" => {
                summary.app_id = event.app_id.or(summary.app_id.take());
                summary.app_name = event.app_name.or(summary.app_name.take());
                summary.app_start_ms = min_some(summary.app_start_ms, event.timestamp);
            }
            "SparkListenerApplicationEnd" => {
                summary.app_end_ms = summary.app_end_ms.max(event.timestamp);
                summary.app_exit_code = event.exit_code.or(summary.app_exit_code);
            }
            "SparkListenerExecutorAdded" => {
                summary.executors += 1;
                summary.executor_cores += event
                    .executor_info
                    .and_then(|info| info.total_cores)
                    .map_or(0, u64::from);
                if let (Some(id), Some(at)) = (&event.executor_id, event.timestamp)
                    && id != "driver"
                {
                    self.executors_running_since.insert(id.clone(), at);
                }
            }
            "SparkListenerExecutorRemoved" => {
                if let (Some(id), Some(at)) = (&event.executor_id, event.timestamp)
                    && let Some(since) = self.executors_running_since.remove(id)
                {
                    self.executor_ms += (at - since).max(0);
                }
            }
            "SparkListenerTaskEnd" => self.task_end(event),
            "SparkListenerStageExecutorMetrics" => {
                let executor = event.executor_id.unwrap_or_default();
                if let Some(metrics) = &event.executor_metrics {
                    self.executor_metrics(&executor, metrics);
                }
            }
            "SparkListenerExecutorMetricsUpdate" => {
                let executor = event.executor_id.unwrap_or_default();
                for stage in event.executor_metrics_updated.iter().flatten() {
                    if let Some(metrics) = &stage.executor_metrics {
                        self.executor_metrics(&executor, metrics);
                    }
                }
            }
            "SparkListenerJobEnd" => {
                let result = event.job_result.unwrap_or_default();
                if result
                    .result
                    .as_deref()
                    .is_some_and(|r| r != "JobSucceeded")
                {
                    let message = result
                        .exception
                        .and_then(|e| e.message)
                        .unwrap_or_else(|| result.result.unwrap_or_default());
                    let job = event.job_id.map_or("?".to_owned(), |id| id.to_string());
                    push_distinct(
                        &mut summary.job_failures,
                        format!("job {job}: {}", without_stack_frames(&message)),
                    );
                }
            }
            "SparkListenerSQLExecutionStart" => {
                if let Some(plan) = &event.spark_plan_info {
                    collect_operators(plan, &mut summary.plan_operators, 0);
                }
            }
            "SparkListenerStageCompleted" => {
                if let Some(stage) = event.stage_info
                    && stage.failure_reason.is_some_and(|r| !r.trim().is_empty())
                {
                    summary.failed_stage_tasks =
                        summary.failed_stage_tasks.max(stage.number_of_tasks);
                }
            }
            "SparkListenerSQLExecutionEnd" => {
                if let Some(error) = event.error_message.filter(|e| !e.trim().is_empty()) {
                    push_distinct(&mut summary.sql_errors, without_stack_frames(&error));
                }
            }
            _ => {}
        }
    }

    fn task_end(&mut self, event: Event) {
        let summary = &mut self.summary;
        summary.tasks += 1;
        if let Some(metrics) = &event.task_metrics {
            summary.executor_run_time_ms += non_negative(metrics.executor_run_time);
            self.cpu_time_ns += non_negative(metrics.executor_cpu_time);
            summary.memory_spilled_bytes += non_negative(metrics.memory_bytes_spilled);
            summary.disk_spilled_bytes += non_negative(metrics.disk_bytes_spilled);
            summary.input_bytes += non_negative(
                metrics
                    .input_metrics
                    .as_ref()
                    .and_then(|input| input.bytes_read),
            );
            self.task_gc_ms += non_negative(metrics.jvm_gc_time);
            let peak = metrics
                .peak_on_heap_execution_memory
                .max(metrics.peak_execution_memory);
            summary.peak_execution_memory_bytes = max_some(
                summary.peak_execution_memory_bytes,
                peak.filter(|&p| p > 0).map(|p| p as u64),
            );
        }
        let executor = event
            .task_info
            .and_then(|info| info.executor_id)
            .unwrap_or_default();
        if let Some(metrics) = &event.task_executor_metrics {
            self.executor_metrics(&executor, metrics);
        }
        let reason = event.task_end_reason.unwrap_or_default();
        if reason.reason.as_deref() != Some("Success") {
            self.summary.failed_tasks += 1;
            let (text, caused_by) = describe_failure(&reason);
            let entry = self.task_failures.entry(text);
            let kept = entry.or_insert_with(|| (caused_by, 0));
            kept.1 += 1;
        }
    }

    fn executor_metrics(&mut self, executor: &str, metrics: &ExecutorMetrics) {
        let summary = &mut self.summary;
        let positive = |value: Option<i64>| value.filter(|&v| v > 0).map(|v| v as u64);
        let heap = positive(metrics.jvm_heap_memory);
        if executor == "driver" {
            summary.peak_driver_heap_bytes = max_some(summary.peak_driver_heap_bytes, heap);
        } else {
            summary.peak_executor_heap_bytes = max_some(summary.peak_executor_heap_bytes, heap);
        }
        summary.peak_execution_memory_bytes = max_some(
            summary.peak_execution_memory_bytes,
            positive(metrics.on_heap_execution_memory),
        );
        summary.peak_jvm_rss_bytes = max_some(
            summary.peak_jvm_rss_bytes,
            positive(metrics.process_tree_jvm_rss_memory),
        );
        if let Some(gc) = positive(metrics.total_gc_time) {
            let seen = self.gc_by_executor.entry(executor.to_owned()).or_default();
            *seen = (*seen).max(gc);
        }
    }

    fn finish(mut self) -> EventLogSummary {
        let mut failures: Vec<TaskFailure> = self
            .task_failures
            .into_iter()
            .map(|(reason, (caused_by, count))| TaskFailure {
                reason,
                caused_by,
                count,
            })
            .collect();
        // Most frequent first; the map's order (by text) breaks ties, so the order is stable.
        failures.sort_by_key(|failure| std::cmp::Reverse(failure.count));
        failures.truncate(MAX_MESSAGES);
        self.summary.task_failures = failures;
        self.summary.executor_cpu_time_ms = self.cpu_time_ns / 1_000_000;
        // Executors never removed ran until the application's end (or, for a log cut short, its last event).
        let end = self.summary.app_end_ms.or(self.last_event_ms);
        let still_running: i64 = self
            .executors_running_since
            .values()
            .map(|&since| end.map_or(0, |end| (end - since).max(0)))
            .sum();
        self.summary.executor_seconds = (self.executor_ms + still_running) as f64 / 1e3;
        // Tasks of one JVM run at the same time, so their GC times overlap: each JVM's own total is the truer
        // figure when executor metrics were on.
        self.summary.gc_time_ms = if self.gc_by_executor.is_empty() {
            self.task_gc_ms
        } else {
            self.gc_by_executor.values().sum()
        };
        self.summary
    }
}

/// A failed task's reason in one line, and the `Caused by:` lines of its stack trace.
fn describe_failure(reason: &TaskEndReason) -> (String, Vec<String>) {
    let kind = reason.reason.as_deref().unwrap_or("UnknownReason");
    let first = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| t.lines().next())
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let text = match kind {
        "ExceptionFailure" => {
            let class = reason.class_name.as_deref().unwrap_or("an exception");
            match first(&reason.description) {
                description if description.is_empty() => class.to_owned(),
                description => format!("{class}: {description}"),
            }
        }
        "ExecutorLostFailure" => format!("ExecutorLostFailure: {}", first(&reason.loss_reason)),
        "FetchFailed" => format!("FetchFailed: {}", first(&reason.message)),
        "TaskKilled" => format!("TaskKilled: {}", first(&reason.kill_reason)),
        other => other.to_owned(),
    };
    let caused_by = reason
        .full_stack_trace
        .as_deref()
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("Caused by:"))
        .take(MAX_MESSAGE_LINES)
        .map(str::to_owned)
        .collect();
    (text, caused_by)
}

/// A Java error message without its stack frames (`\tat ...`, `... 12 more`): what a person, and a rule, reads.
fn without_stack_frames(message: &str) -> String {
    message
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !(line.starts_with("at ") || (line.starts_with("...") && line.ends_with("more")))
        })
        .take(MAX_MESSAGE_LINES)
        .collect::<Vec<_>>()
        .join("\n")
}

fn push_distinct(messages: &mut Vec<String>, message: String) {
    if messages.len() < MAX_MESSAGES && !messages.contains(&message) {
        messages.push(message);
    }
}

/// Plan nodes are nested; a plan deeper than this is not followed further (the JSON parser already bounds it).
const MAX_PLAN_DEPTH: usize = 256;

fn collect_operators(node: &PlanNode, operators: &mut BTreeSet<String>, depth: usize) {
    if depth > MAX_PLAN_DEPTH {
        return;
    }
    if let Some(name) = &node.node_name {
        // `WholeStageCodegen (3)` and `InputAdapter` wrap operators rather than being ones.
        let name = name.split(" (").next().unwrap_or_default().trim();
        if !name.is_empty() && name != "WholeStageCodegen" && name != "InputAdapter" {
            operators.insert(name.to_owned());
        }
    }
    for child in &node.children {
        collect_operators(child, operators, depth + 1);
    }
}

fn non_negative(value: Option<i64>) -> u64 {
    value.map_or(0, |v| v.max(0) as u64)
}

fn max_some(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_some(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_frames_are_dropped_and_causes_kept() {
        let message = "org.apache.spark.SparkException: Job aborted\n\tat org.apache.spark.A.b(A.scala:1)\n\t... 12 more\nCaused by: java.lang.OutOfMemoryError: Java heap space\n\tat x.y(z)";
        assert_eq!(
            without_stack_frames(message),
            "org.apache.spark.SparkException: Job aborted\nCaused by: java.lang.OutOfMemoryError: Java heap space"
        );
    }

    #[test]
    fn failed_tasks_read_as_their_exception() {
        let reason = TaskEndReason {
            reason: Some("ExceptionFailure".into()),
            class_name: Some("java.lang.OutOfMemoryError".into()),
            description: Some("Java heap space".into()),
            full_stack_trace: Some(
                "java.lang.OutOfMemoryError: Java heap space\n\tat a.b(c)\nCaused by: x: y".into(),
            ),
            ..TaskEndReason::default()
        };
        assert_eq!(
            describe_failure(&reason),
            (
                "java.lang.OutOfMemoryError: Java heap space".to_owned(),
                vec!["Caused by: x: y".to_owned()]
            )
        );
    }
}

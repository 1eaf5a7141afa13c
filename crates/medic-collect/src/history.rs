//! The Spark History Server's REST API (`/api/v1/applications/{id}/…`): what failed (jobs, stages and their
//! failure reasons, the failed tasks' error messages), and each executor: why it was removed (with its exit
//! code), and its peak memory and garbage collection.

use serde::Deserialize;

use crate::transport::{Transport, get_json};
use medic_core::history::ExecutorPeaks;

use crate::{ExecutorReport, exit_code_in};

/// Largest answer read from one endpoint.
const MAX_ANSWER_BYTES: u64 = 16 << 20;
/// Most failed stages whose tasks are read.
const MAX_STAGES: usize = 20;
/// Most failed tasks read per stage.
const MAX_TASKS: usize = 200;
/// Lines kept of one error message (its stack is in the executor's log).
const MESSAGE_LINES: usize = 12;

#[derive(Deserialize)]
struct Application {
    #[serde(default)]
    attempts: Vec<ApplicationAttempt>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationAttempt {
    #[serde(default)]
    attempt_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    job_id: i64,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stage {
    stage_id: i64,
    attempt_id: i64,
    #[serde(default)]
    failure_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    task_id: i64,
    index: i64,
    attempt: i64,
    #[serde(default)]
    executor_id: String,
    #[serde(default)]
    error_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Executor {
    id: String,
    #[serde(default)]
    host_port: String,
    #[serde(default)]
    total_cores: u64,
    #[serde(default)]
    failed_tasks: u64,
    #[serde(default)]
    total_duration: u64,
    #[serde(default, rename = "totalGCTime")]
    total_gc_time: u64,
    #[serde(default)]
    max_memory: u64,
    #[serde(default)]
    remove_reason: Option<String>,
    #[serde(default)]
    executor_logs: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    peak_memory_metrics: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

/// What the History Server says of an application.
#[derive(Debug, Default)]
pub struct HistoryFindings {
    /// Its failures as text for the classifier: failed jobs, failed stages with their reasons, the distinct error
    /// messages of failed tasks, removed executors with their reasons.
    pub text: String,
    /// Every executor (the driver included, as `driver`).
    pub executors: Vec<ExecutorReport>,
    /// Each executor's `stderr` log URL (standalone workers' log pages, YARN's NodeManager), by executor id.
    pub executor_log_urls: Vec<(String, String)>,
    /// Bytes read from the server.
    pub bytes_read: u64,
    /// Endpoints that gave no answer, with why.
    pub unreachable: Vec<String>,
}

/// Reads what the History Server at `base` (`http://host:18080`) knows of application `app_id`: its failures and
/// its executors.
pub fn read(base: &str, app_id: &str, transport: &dyn Transport) -> HistoryFindings {
    read_parts(base, app_id, transport, true)
}

/// Reads only the executors of application `app_id` (what a successful run needs: their peaks).
pub fn read_executors(base: &str, app_id: &str, transport: &dyn Transport) -> HistoryFindings {
    read_parts(base, app_id, transport, false)
}

fn read_parts(
    base: &str,
    app_id: &str,
    transport: &dyn Transport,
    failures: bool,
) -> HistoryFindings {
    let mut findings = HistoryFindings::default();
    let root = format!(
        "{}/api/v1/applications/{app_id}",
        base.trim_end_matches('/')
    );
    let Some(application) = get::<Application>(&root, transport, &mut findings) else {
        return findings;
    };
    // Applications with attempts of their own (YARN) are read through the last one.
    let app = match application
        .attempts
        .last()
        .and_then(|attempt| attempt.attempt_id.as_deref())
    {
        Some(attempt) => format!("{root}/{attempt}"),
        None => root,
    };
    let mut lines: Vec<String> = Vec::new();
    if failures {
        failed_parts(&app, transport, &mut findings, &mut lines);
    }
    executors(&app, transport, &mut findings, &mut lines);
    findings.text = lines.join("\n");
    if !findings.text.is_empty() {
        findings.text.push('\n');
    }
    findings
}

/// The failed jobs, stages and tasks of the application at `app`, as lines.
fn failed_parts(
    app: &str,
    transport: &dyn Transport,
    findings: &mut HistoryFindings,
    lines: &mut Vec<String>,
) {
    if let Some(jobs) = get::<Vec<Job>>(&format!("{app}/jobs?status=failed"), transport, findings) {
        for job in jobs {
            lines.push(format!(
                "History Server: job {} failed ({})",
                job.job_id, job.name
            ));
        }
    }
    let stages = get::<Vec<Stage>>(&format!("{app}/stages?status=failed"), transport, findings)
        .unwrap_or_default();
    for stage in stages.iter().take(MAX_STAGES) {
        if let Some(reason) = &stage.failure_reason {
            lines.push(format!(
                "History Server: stage {}.{} failed:\n{}",
                stage.stage_id,
                stage.attempt_id,
                first_lines(reason, MESSAGE_LINES)
            ));
        }
        let url = format!(
            "{app}/stages/{}/{}/taskList?status=FAILED&length={MAX_TASKS}",
            stage.stage_id, stage.attempt_id
        );
        let mut seen = std::collections::BTreeSet::new();
        for task in get::<Vec<Task>>(&url, transport, findings).unwrap_or_default() {
            let Some(message) = &task.error_message else {
                continue;
            };
            // The same error on every task is said once.
            if seen.insert(message.lines().next().unwrap_or("").to_owned()) {
                lines.push(format!(
                    "History Server: task {}.{} (TID {}) in stage {}.{} on executor {} failed:\n{}",
                    task.index,
                    task.attempt,
                    task.task_id,
                    stage.stage_id,
                    stage.attempt_id,
                    task.executor_id,
                    first_lines(message, MESSAGE_LINES)
                ));
            }
        }
    }
}

/// Every executor of the application at `app` as a report, and each removed one as a line.
fn executors(
    app: &str,
    transport: &dyn Transport,
    findings: &mut HistoryFindings,
    lines: &mut Vec<String>,
) {
    let Some(executors) = get::<Vec<Executor>>(&format!("{app}/allexecutors"), transport, findings)
    else {
        return;
    };
    for executor in executors {
        let peak = |name: &str| {
            executor
                .peak_memory_metrics
                .as_ref()
                .and_then(|metrics| metrics.get(name))
                .and_then(serde_json::Value::as_u64)
                .filter(|&bytes| bytes > 0)
        };
        let report = ExecutorReport {
            peaks: ExecutorPeaks {
                id: executor.id.clone(),
                peak_jvm_heap_bytes: peak("JVMHeapMemory"),
                peak_jvm_rss_bytes: peak("ProcessTreeJVMRSSMemory"),
                peak_python_rss_bytes: peak("ProcessTreePythonRSSMemory"),
                gc_time_ms: executor.total_gc_time,
                removed_because: executor.remove_reason.clone(),
                exit_code: executor.remove_reason.as_deref().and_then(exit_code_in),
            },
            host: executor.host_port.clone(),
            cores: executor.total_cores,
            failed_tasks: executor.failed_tasks,
            max_storage_memory_bytes: Some(executor.max_memory).filter(|&b| b > 0),
            peak_execution_memory_bytes: peak("OnHeapExecutionMemory"),
            task_time_ms: executor.total_duration,
        };
        if let Some(reason) = &report.peaks.removed_because {
            lines.push(format!(
                "History Server: executor {} ({}) removed: {reason}{}",
                report.peaks.id,
                report.host,
                report
                    .peaks
                    .peak_jvm_heap_bytes
                    .map(|bytes| format!(" (peak JVM heap {} MiB)", bytes >> 20))
                    .unwrap_or_default()
            ));
        }
        if let Some(url) = executor.executor_logs.get("stderr") {
            findings
                .executor_log_urls
                .push((executor.id.clone(), url.clone()));
        }
        findings.executors.push(report);
    }
}

/// The JSON at `url` as `T`; what could not be had is noted in `findings.unreachable`.
fn get<T: serde::de::DeserializeOwned>(
    url: &str,
    transport: &dyn Transport,
    findings: &mut HistoryFindings,
) -> Option<T> {
    get_json(
        transport,
        url,
        MAX_ANSWER_BYTES,
        "the History Server",
        &mut findings.bytes_read,
    )
    .map_err(|problem| findings.unreachable.push(problem))
    .ok()
}

/// The first `n` lines of `text`, as they were (the classifier's rules match a message's lines from their start).
fn first_lines(text: &str, n: usize) -> String {
    let mut lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .take(n + 1)
        .collect();
    if lines.len() > n {
        lines.truncate(n);
        lines.push("\t…");
    }
    lines.join("\n")
}

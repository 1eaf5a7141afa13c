//! medic on a real Spark standalone cluster, end to end through the real binary: `medic run
//! examples/spark/cluster/workflow.yaml --clusters examples/spark/cluster/clusters.yaml` submits PySpark jobs to the
//! Master that `scripts/start-spark-cluster.sh` starts (started here if it is not running; the script returns at once
//! when it is). Executors are JVMs of their own there: an executor out of heap exits with code 52 and the driver
//! only sees `ExecutorLostFailure`, so the evidence is in the executors' logs and the History Server, which medic
//! collects, and the fix is an executor setting, never the driver's heap.
//!
//! Spark must be installed (`scripts/install-spark.sh`): without it this test fails, it is never skipped. It takes
//! about five minutes on two cores.

#[path = "support/cli.rs"]
mod cli;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use cli::{attempts, attempts_history, fixed_within_two_retries, job, medic, repo};

/// The executors' settings: what a fix of an executor-side failure may change.
const EXECUTOR_SETTINGS: [&str; 4] = [
    "spark.executor.memory",
    "spark.executor.cores",
    "spark.executor.memoryOverhead",
    "spark.task.cpus",
];

/// The memory failures of the cluster workflow: job, the categories its first failure may have, the settings its
/// fix may change, and whether its executors die of the heap error (exit code 52, an `ExecutorLostFailure`).
const MEMORY_FAILURES: [(&str, &[&str], &[&str], bool); 6] = [
    ("executor-heap", &["executor_oom"], &EXECUTOR_SETTINGS, true),
    (
        "concurrent-tasks",
        &["executor_oom"],
        &EXECUTOR_SETTINGS,
        true,
    ),
    (
        "skewed-partition",
        &["executor_oom"],
        &EXECUTOR_SETTINGS,
        true,
    ),
    (
        "execution-memory",
        &["execution_memory_oom"],
        &EXECUTOR_SETTINGS,
        false,
    ),
    (
        "python-worker",
        &["python_worker_oom"],
        &[
            "spark.executor.pyspark.memory",
            "spark.executor.memoryOverhead",
        ],
        false,
    ),
    (
        "driver-heap",
        &["driver_oom"],
        &["spark.driver.memory"],
        false,
    ),
];

fn start_cluster() {
    let output = Command::new("bash")
        .arg("scripts/start-spark-cluster.sh")
        .current_dir(repo())
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "scripts/start-spark-cluster.sh failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn runs_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("medic-spark-cluster");
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn has_log(attempt: &Value, source: &str, file: &str) -> bool {
    attempt["logs"].as_array().is_some_and(|logs| {
        logs.iter().any(|log| {
            log["source"] == source && log["path"].as_str().is_some_and(|p| p.ends_with(file))
        })
    })
}

/// The executors (not the driver) the attempt's metrics list.
fn executors(attempt: &Value) -> Vec<&Value> {
    attempt["metrics"]["executors"]
        .as_array()
        .map(|all| all.iter().filter(|e| e["id"] != "driver").collect())
        .unwrap_or_default()
}

#[test]
fn executor_side_memory_failures_are_fixed_with_executor_settings_from_the_cluster_s_evidence() {
    start_cluster();
    let dir = tempfile::tempdir().expect("temp");
    let db = format!("sqlite://{}", dir.path().join("medic.db").display());
    let runs = runs_dir().display().to_string();
    let output = medic(&[
        "run",
        "examples/spark/cluster/workflow.yaml",
        "--clusters",
        "examples/spark/cluster/clusters.yaml",
        "--json",
        "--db",
        &db,
        "--runs",
        &runs,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // bad-column fails on purpose.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&output.stdout)));

    for (name, categories, settings, executors_died) in MEMORY_FAILURES {
        let tries = fixed_within_two_retries(&report, name);
        for failed in &tries[..tries.len() - 1] {
            assert!(
                categories.iter().any(|c| failed["category"] == *c),
                "{name}: one of {categories:?}: {failed:#}"
            );
            assert_eq!(failed["decision"], "retry", "{name}: {failed:#}");
            let changes = failed["config_changes"].as_object().expect("changes");
            assert!(!changes.is_empty(), "{name}: a retry changes something");
            assert!(
                changes.keys().all(|key| settings.contains(&key.as_str())),
                "{name}: only {settings:?} change: {failed:#}"
            );
            assert!(failed["evidence"]["text"].is_string(), "{failed:#}");
        }
        let first = &tries[0];
        // What the cluster kept reached the classifier, tagged by source.
        assert!(has_log(first, "eventlog", "eventlog.log"), "{first:#}");
        assert!(
            has_log(first, "executor", "executor-0.stderr.log"),
            "{name}: executor logs collected: {first:#}"
        );
        if name != "driver-heap" {
            assert!(
                has_log(first, "eventlog", "history-server.log"),
                "{name}: the History Server's findings collected: {first:#}"
            );
        }
        if executors_died {
            assert!(
                executors(first)
                    .iter()
                    .any(|e| e["exit_code"] == 52 && e["removed_because"].is_string()),
                "{name}: an executor removed with exit code 52: {first:#}"
            );
        }
        let last = tries.last().expect("an attempt");
        assert_eq!(last["exit_code"], 0, "{name}");
    }

    let bug = job(&report, "bad-column");
    assert_eq!(attempts(bug).len(), 1, "a bug is not retried: {bug:#}");
    assert_eq!(bug["attempts"][0]["category"], "user_code_error");
    assert_eq!(bug["attempts"][0]["decision"], "do_not_retry");

    // Every attempt is in the history with each executor's peaks, as the History Server reported them.
    let history = attempts_history(&db);
    let made: usize = report["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|job| attempts(job).len())
        .sum();
    assert_eq!(history.len(), made);
    for entry in &history {
        let peaks = executors(entry);
        assert!(!peaks.is_empty(), "every attempt's executors: {entry:#}");
        // bad-column fails while planning: its executor never ran a task, so it has no peaks.
        if entry["job"]["id"] != "spark-cluster-examples.bad-column" {
            assert!(
                peaks
                    .iter()
                    .any(|e| e["peak_jvm_heap_bytes"].as_u64().is_some_and(|b| b > 0)),
                "an executor's peak heap in every attempt that ran tasks: {entry:#}"
            );
        }
    }
}

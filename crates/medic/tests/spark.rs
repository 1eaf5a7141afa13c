//! medic driving real Spark, end to end through the real binary: `medic run examples/spark/workflow.yaml` submits
//! small PySpark jobs that fail for real reasons (a driver out of heap in `collect()`, results over
//! `spark.driver.maxResultSize`, a broadcast the driver cannot build, an executor heap error that kills the local
//! JVM with exit code 52, execution memory that cannot be acquired) and one with a bug. medic classifies the real
//! logs and event logs, recommends (with its heuristics: these stores have no model), patches and reruns; every
//! attempt lands in the attempts history with its cost and Spark's peak memory. In shadow mode the same run retries
//! nothing and only records what medic would have changed.
//!
//! Spark must be installed (`scripts/install-spark.sh`, which `scripts/test.sh` runs first): without it these tests
//! fail with that command, they are never skipped. Each takes a few minutes on two cores; the two run in parallel.

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};

use medic_store::testing::{TestBackend, TestDatabase};
use serde_json::Value;

use cli::{attempts, attempts_history as history, fixed_within_two_retries, job, medic};

/// The memory failures of the example workflow: job, the category and the rules its first failure may match, its
/// exit code, and the setting medic's fix must change. `collect()` runs the driver out of heap in the Py4J call's
/// thread or in one of the driver's own threads (the ones `driver-thread-oom` names), whichever allocates first:
/// CI has seen both, and both rules give the same fix.
const MEMORY_FAILURES: [(&str, &str, &[&str], i64, &str); 5] = [
    (
        "collect-to-driver",
        "driver_oom",
        &["py4j-driver-oom", "driver-thread-oom"],
        1,
        "spark.driver.memory",
    ),
    (
        "result-size",
        "result_size_exceeded",
        &["driver-max-result-size-exceeded"],
        1,
        "spark.driver.maxResultSize",
    ),
    (
        "broadcast-join",
        "broadcast_too_large",
        &["broadcast-not-enough-driver-memory"],
        1,
        "spark.sql.autoBroadcastJoinThreshold",
    ),
    (
        "executor-heap",
        "executor_oom",
        &["executor-task-oom"],
        52,
        "spark.driver.memory",
    ),
    (
        "execution-memory",
        "execution_memory_oom",
        &["spark-unable-to-acquire-memory"],
        1,
        "spark.driver.memory",
    ),
];

fn runs_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("medic-spark")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the example workflow from the repository's root, as its comment says, and returns the JSON report.
fn run_examples(db: &str, runs: &Path, extra: &[&str]) -> Value {
    let runs = runs.display().to_string();
    let mut args = vec![
        "run",
        "examples/spark/workflow.yaml",
        "--json",
        "--db",
        db,
        "--runs",
        &runs,
    ];
    args.extend_from_slice(extra);
    let output = medic(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("cannot find spark-submit"),
        "Spark is not installed: run `scripts/install-spark.sh` from the repository's root first.\n{stderr}"
    );
    // bad-column fails on purpose, so the exit status is 1; the report must still be complete.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&output.stdout)))
}

/// Every attempt is in the history, with a positive cost and the peak JVM heap Spark measured.
fn assert_every_attempt_recorded(report: &Value, history: &[Value]) {
    let made: usize = report["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|job| attempts(job).len())
        .sum();
    assert_eq!(history.len(), made, "{history:#?}");
    for entry in history {
        assert!(
            entry["cost_dollars"].as_f64().is_some_and(|c| c > 0.0),
            "{entry}"
        );
        assert!(
            entry["peak_memory_bytes"].as_u64().is_some_and(|b| b > 0),
            "{entry}"
        );
        assert!(
            entry["metrics"]["peak_driver_heap_bytes"]
                .as_u64()
                .is_some(),
            "{entry}"
        );
        assert!(entry["runtime_seconds"].as_f64().is_some_and(|r| r > 0.0));
        assert_eq!(entry["job"]["workflow"], "spark-examples");
    }
}

async fn memory_failures_are_fixed_and_bugs_are_not_retried(backend: TestBackend) {
    let database = TestDatabase::create(backend).await;
    let db = database.url();
    let report = run_examples(db, &runs_dir("remediated"), &[]);

    for (name, category, rules, exit_code, setting) in MEMORY_FAILURES {
        let tries = fixed_within_two_retries(&report, name);
        let first = &tries[0];
        assert_eq!(first["exit_code"], exit_code, "{name}: {first:#}");
        assert_eq!(first["category"], category, "{name}: {first:#}");
        assert!(
            rules.iter().any(|rule| first["rule"] == *rule),
            "{name}: matched one of {rules:?}: {first:#}"
        );
        assert_eq!(first["decision"], "retry", "{name}: {first:#}");
        assert!(
            first["config_changes"][setting].is_string(),
            "{name}: the fix changes {setting}: {first:#}"
        );
        // The event log's findings were classified with stdout and stderr.
        assert!(
            first["logs"]
                .as_array()
                .is_some_and(|logs| logs.iter().any(|log| log["source"] == "eventlog")),
            "{name}: {first:#}"
        );
        let last = tries.last().expect("an attempt");
        assert_eq!(last["decision"], "succeeded", "{name}");
        assert_eq!(last["exit_code"], 0, "{name}");
        assert_eq!(
            last["conf"][setting], first["config_changes"][setting],
            "{name}: the success ran with medic's change"
        );
    }
    // Turning broadcasts off, not a bigger driver, fixed the broadcast.
    assert_eq!(
        attempts(job(&report, "broadcast-join"))[0]["config_changes"]["spark.sql.autoBroadcastJoinThreshold"],
        "-1"
    );

    let bug = job(&report, "bad-column");
    assert_eq!(bug["status"], "failed");
    assert_eq!(attempts(bug).len(), 1, "a bug is not retried: {bug:#}");
    assert_eq!(bug["attempts"][0]["category"], "user_code_error");
    assert_eq!(bug["attempts"][0]["rule"], "sql-analysis-error");
    assert_eq!(bug["attempts"][0]["decision"], "do_not_retry");
    assert_eq!(job(&report, "publish")["status"], "skipped");

    let history = history(db);
    assert_every_attempt_recorded(&report, &history);
    let successes: Vec<&Value> = history
        .iter()
        .filter(|entry| entry["outcome"] == "succeeded")
        .collect();
    assert_eq!(successes.len(), MEMORY_FAILURES.len());
    assert!(
        successes
            .iter()
            .all(|entry| entry["follows_category"].is_string()
                && entry["applied_patches"] != serde_json::json!([])),
        "{successes:#?}"
    );

    // Each retry after a memory failure is also in the retry history the model learns from, and each fix's patch
    // was consumed by its success.
    let exported = medic(&["history", "export", "--db", db]);
    let retries = String::from_utf8_lossy(&exported.stdout).lines().count();
    assert_eq!(retries, history.len() - MEMORY_FAILURES.len() - 1);
    let patches = medic(&["patch", "list", "--db", db]);
    let listing = String::from_utf8_lossy(&patches.stdout);
    assert_eq!(
        listing.matches("consumed").count(),
        MEMORY_FAILURES.len(),
        "{listing}"
    );
}

async fn shadow_mode_retries_nothing_and_records_the_recommendations(backend: TestBackend) {
    let database = TestDatabase::create(backend).await;
    let db = database.url();
    let report = run_examples(db, &runs_dir("shadow"), &["--shadow"]);

    for (name, category, _, _, setting) in MEMORY_FAILURES {
        let job = job(&report, name);
        assert_eq!(job["status"], "failed", "{name}: {job:#}");
        assert_eq!(attempts(job).len(), 1, "{name}: no retry in shadow mode");
        let only = &job["attempts"][0];
        assert_eq!(only["category"], category, "{name}");
        assert_eq!(only["decision"], "do_not_retry", "{name}");
        assert_eq!(only["config_changes"], serde_json::json!({}), "{name}");
        assert!(
            only["recommended_changes"][setting].is_string(),
            "{name}: medic says what it would have changed: {only:#}"
        );
        assert!(
            only["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("shadow mode")),
            "{only:#}"
        );
    }
    assert_eq!(attempts(job(&report, "bad-column")).len(), 1);

    let history = history(db);
    assert_every_attempt_recorded(&report, &history);
    assert!(history.iter().all(|entry| entry["outcome"] == "failed"));
    let recommended = history
        .iter()
        .filter(|entry| {
            entry["recommended_changes"]
                .as_object()
                .is_some_and(|changes| !changes.is_empty())
        })
        .count();
    assert_eq!(recommended, MEMORY_FAILURES.len(), "{history:#?}");
    let patches = medic(&["patch", "list", "--db", db]);
    let listing = String::from_utf8_lossy(&patches.stdout);
    assert!(
        !listing.contains("spark-examples."),
        "shadow mode stored a patch: {listing}"
    );
}

#[tokio::test]
async fn on_sqlite_memory_failures_are_fixed_and_bugs_are_not_retried() {
    memory_failures_are_fixed_and_bugs_are_not_retried(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn on_sqlite_shadow_mode_retries_nothing_and_records_the_recommendations() {
    shadow_mode_retries_nothing_and_records_the_recommendations(TestBackend::Sqlite).await;
}

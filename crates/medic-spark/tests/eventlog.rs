//! The event-log reader on trimmed logs of real Spark 4.3 runs on this machine (`tests/data`, made with
//! `tests/data/trim.py`): a rolling zstd folder split in two files (an execution-memory failure), a plain single
//! file (a driver out of heap in `collect()`), and broken copies of both. The expected figures were computed from
//! the same files with an independent Python script. `standalone/` is a whole log of a run on the standalone cluster
//! of `scripts/start-spark-cluster.sh` (`examples/spark/jobs/executor_heap.py 1200000` with 512 MiB executors of 2
//! cores, recorded on 2026-12-06), beside the History Server's answers for the same application
//! (`/api/v1/applications/{id}` and `…/allexecutors`), which the executors' time is checked against.

use std::path::{Path, PathBuf};

use medic_spark::eventlog::{self, MAX_LINE_BYTES};

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

#[test]
fn a_rolling_zstd_log_reads_in_file_order_with_its_failures_and_peaks() {
    // The folder `spark.eventLog.dir` points at, holding one rolling application folder.
    let summary = eventlog::read(&data("rolling")).expect("readable");
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    let names: Vec<String> = summary
        .files
        .iter()
        .map(|f| {
            f.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "events_1_local-1795339254786.zstd",
            "events_2_local-1795339254786.zstd"
        ]
    );
    assert_eq!(summary.events, 38);
    assert!(!summary.in_progress);
    assert_eq!(summary.spark_version.as_deref(), Some("4.3.0"));
    assert_eq!(summary.app_id.as_deref(), Some("local-1795339254786"));
    assert_eq!(summary.app_runtime_seconds(), Some(8.278));
    assert_eq!((summary.executors, summary.executor_cores), (1, 2));
    assert_eq!((summary.tasks, summary.failed_tasks), (5, 1));
    assert_eq!(summary.peak_driver_heap_bytes, Some(270_406_144));
    assert_eq!(summary.peak_executor_heap_bytes, None);
    assert_eq!(summary.peak_jvm_heap_bytes(), Some(270_406_144));
    assert_eq!(summary.peak_execution_memory_bytes, Some(44_401_576));
    assert_eq!(summary.peak_jvm_rss_bytes, Some(808_058_880));
    assert_eq!(
        (summary.memory_spilled_bytes, summary.disk_spilled_bytes),
        (1_048_560, 85)
    );
    assert_eq!(summary.gc_time_ms, 266);
    assert_eq!(summary.executor_run_time_ms, 1085);
    assert_eq!(summary.executor_cpu_time_ms, 446);
    assert_eq!(summary.input_bytes, 0);
    assert!(
        summary.plan_operators.contains("Sort") && summary.plan_operators.contains("Exchange"),
        "{:?}",
        summary.plan_operators
    );

    let acquire = "[UNABLE_TO_ACQUIRE_MEMORY] Unable to acquire 58720284 bytes of memory, got 44401576. SQLSTATE: 53200";
    assert_eq!(summary.task_failures.len(), 1);
    assert_eq!(
        summary.task_failures[0].reason,
        format!("org.apache.spark.memory.SparkOutOfMemoryError: {acquire}")
    );
    assert_eq!(summary.task_failures[0].count, 1);
    assert_eq!(summary.job_failures.len(), 1);
    assert_eq!(summary.sql_errors.len(), 1);
    assert!(summary.sql_errors[0].contains(acquire));
    assert!(
        !summary.sql_errors[0].contains("\tat "),
        "stack frames are dropped"
    );

    let findings = summary.findings();
    assert!(findings.starts_with("Spark event log of local-1795339254786 (Spark 4.3.0)"));
    assert!(
        findings.lines().any(|line| line
            .starts_with("Task failed (1 time(s)): org.apache.spark.memory.SparkOutOfMemoryError")),
        "{findings}"
    );
    let metrics = summary.metrics();
    assert_eq!(metrics.peak_jvm_heap_bytes, Some(270_406_144));
    assert_eq!(metrics.failed_tasks, 1);
}

#[test]
fn a_plain_single_file_shows_a_driver_failure_that_no_job_shows() {
    let summary = eventlog::read(&data("plain/local-1795339219249")).expect("readable");
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    assert_eq!(summary.events, 21);
    assert_eq!((summary.tasks, summary.failed_tasks), (2, 0));
    // collect() ran the driver out of heap after every job had succeeded.
    assert!(summary.job_failures.is_empty());
    assert_eq!(
        summary.sql_errors,
        ["java.lang.OutOfMemoryError: Java heap space"]
    );
    assert!(summary.has_failures());
    assert_eq!(summary.peak_driver_heap_bytes, Some(187_371_400));
    assert_eq!(summary.peak_execution_memory_bytes, None);
    assert_eq!(summary.gc_time_ms, 2473);
    assert_eq!(summary.app_runtime_seconds(), Some(15.01));
    assert!(
        summary
            .findings()
            .contains("SQL execution failed: java.lang.OutOfMemoryError: Java heap space")
    );
}

#[test]
fn bad_lines_are_reported_and_skipped() {
    let summary = eventlog::read(&data("broken/local-1795339219249.inprogress")).expect("readable");
    assert!(summary.in_progress);
    // Every event of the original is still read; the blank line is no problem.
    assert_eq!(summary.events, 21);
    let lines: Vec<u64> = summary.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [9, 10], "{:?}", summary.problems);
    assert!(summary.problems[0].message.contains("not a Spark event"));
    assert_eq!(summary.problems_total, 2);
}

#[test]
fn a_zstd_log_cut_short_keeps_what_was_written() {
    let summary =
        eventlog::read(&data("broken/eventlog_v2_local-1795339236006")).expect("readable");
    assert!(summary.in_progress);
    assert!(summary.events > 0, "{summary:?}");
    assert_eq!(summary.app_id.as_deref(), Some("local-1795339236006"));
    assert_eq!(summary.problems_total, 1, "{:?}", summary.problems);
    assert!(
        summary.problems[0]
            .message
            .starts_with("cannot read further")
    );
}

#[test]
fn a_line_over_the_limit_is_skipped_not_loaded() {
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("local-1");
    let mut text =
        String::from("{\"Event\":\"SparkListenerLogStart\",\"Spark Version\":\"4.3.0\"}\n");
    text.push_str(&format!(
        "{{\"Event\":\"SparkListenerEnvironmentUpdate\",\"x\":\"{}\"}}\n",
        "y".repeat(MAX_LINE_BYTES)
    ));
    text.push_str(
        "{\"Event\":\"SparkListenerTaskEnd\",\"Task End Reason\":{\"Reason\":\"Success\"}}\n",
    );
    std::fs::write(&file, text).expect("write");
    let summary = eventlog::read(&file).expect("readable");
    assert_eq!(summary.events, 2);
    assert_eq!(summary.tasks, 1);
    assert_eq!(summary.problems.len(), 1);
    assert_eq!(summary.problems[0].line, 2);
    assert!(summary.problems[0].message.contains("longer than"));
}

#[test]
fn a_missing_log_is_an_error_and_an_unsupported_codec_a_problem() {
    assert!(eventlog::read(&data("no-such-log")).is_err());
    let dir = tempfile::tempdir().expect("temp");
    std::fs::write(dir.path().join("local-1.lz4"), b"\x04\x22\x4d\x18").expect("write");
    let summary = eventlog::read(dir.path()).expect("readable");
    assert_eq!(summary.events, 0);
    assert!(
        summary.problems[0].message.contains("lz4"),
        "{:?}",
        summary.problems
    );
}

/// Milliseconds into the day of a History Server time (`2026-12-06T23:35:02.950GMT`; the recorded run is within one
/// day).
fn ms_of_day(time: &str) -> i64 {
    let clock = time
        .split_once('T')
        .and_then(|(_, t)| t.strip_suffix("GMT"))
        .expect("a History Server time");
    let parts: Vec<f64> = clock
        .split(':')
        .map(|p| p.parse().expect("a number"))
        .collect();
    ((parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]) * 1000.0).round() as i64
}

#[test]
fn a_cluster_run_s_executor_time_is_what_the_history_server_says() {
    let app = "app-20261206233454-0000";
    let summary =
        eventlog::read(&data(&format!("standalone/eventlog_v2_{app}"))).expect("readable");
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    let json = |name: &str| -> serde_json::Value {
        let path = data(&format!("standalone/{name}-{app}.json"));
        serde_json::from_slice(&std::fs::read(path).expect("recorded")).expect("JSON")
    };
    let end = ms_of_day(
        json("application")["attempts"][0]["endTime"]
            .as_str()
            .expect("an end"),
    );
    // Every executor but the driver, from its addition to its removal (or the application's end).
    let expected_ms: i64 = json("allexecutors")
        .as_array()
        .expect("executors")
        .iter()
        .filter(|e| e["id"] != "driver")
        .map(|e| {
            let removed = e["removeTime"].as_str().map_or(end, ms_of_day);
            removed - ms_of_day(e["addTime"].as_str().expect("added"))
        })
        .sum();
    assert!(expected_ms > 10_000, "{expected_ms}");
    assert!(
        (summary.executor_seconds - expected_ms as f64 / 1e3).abs() < 0.05,
        "{} vs {expected_ms} ms",
        summary.executor_seconds
    );
    // About half the application's time had an executor (each lost one is replaced after a few seconds).
    let average = summary.average_executors().expect("a cluster run");
    assert!((0.3..1.0).contains(&average), "{average}");
}

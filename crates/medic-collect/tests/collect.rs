//! The collector on a recorded standalone cluster (tests/data/SOURCES.md): real answers of a real History Server,
//! real executor logs, each piece classified as a deployment would classify it.

mod support;

use std::path::{Path, PathBuf};

use medic_collect::transport::Recorded;
use medic_collect::{ClusterSources, collect};
use medic_core::{Category, LogSource};
use support::classify;

const APP: &str = "app-20261206184128-0000";
const HISTORY: &str = "http://127.0.0.1:18080";

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/standalone-executor-heap")
}

/// The History Server as it answered, at the URLs the collector asks.
fn history_server() -> Recorded {
    let app = format!("{HISTORY}/api/v1/applications/{APP}");
    let file = |name: &str| data().join("history").join(name);
    Recorded::new()
        .with(app.clone(), file("application.json"))
        .with(
            format!("{app}/jobs?status=failed"),
            file("jobs-failed.json"),
        )
        .with(
            format!("{app}/stages?status=failed"),
            file("stages-failed.json"),
        )
        .with(
            format!("{app}/stages/0/0/taskList?status=FAILED&length=200"),
            file("taskList-0-0-failed.json"),
        )
        .with(format!("{app}/allexecutors"), file("allexecutors.json"))
}

#[test]
fn a_standalone_application_s_executors_and_history_are_collected_and_tagged() {
    let sources = ClusterSources {
        history_server: Some(HISTORY.to_owned()),
        worker_dirs: vec![data().join("work")],
        executor_logs_over_http: true,
        ..ClusterSources::default()
    };
    let collection = collect(APP, &sources, &history_server());
    assert!(
        collection.unreachable.is_empty(),
        "{:?}",
        collection.unreachable
    );
    let names: Vec<&str> = collection.pieces.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "history-server.log",
            "executor-0.stderr.log",
            "executor-1.stderr.log",
            "executor-2.stderr.log",
            "executor-3.stderr.log",
            "executor-4.stderr.log"
        ]
    );
    let history = &collection.pieces[0];
    assert_eq!(history.source, LogSource::Eventlog);
    assert!(history.text.contains("History Server: stage 0.0 failed:\nJob aborted due to stage failure: Task 1 in stage 0.0 failed 4 times"), "{}", history.text);
    assert!(
        history
            .text
            .contains("removed: Command exited with code 52"),
        "{}",
        history.text
    );
    // The same error on eleven failed tasks is said once per distinct first line.
    assert_eq!(
        history
            .text
            .matches("failed:\njava.lang.OutOfMemoryError: Java heap space")
            .count(),
        1,
        "{}",
        history.text
    );
    let executor = &collection.pieces[1];
    assert_eq!(executor.source, LogSource::Executor);
    assert!(executor.text.contains("ERROR Executor: Exception in task 1.0 in stage 0.0 (TID 1)\njava.lang.OutOfMemoryError: Java heap space"), "{}", executor.text);
    // Executors 0 to 3 ran out of heap with exit code 52 and are reported with their peaks; the driver too.
    let lost: Vec<(&str, Option<i32>)> = collection
        .executors
        .iter()
        .map(|e| &e.peaks)
        .filter(|e| e.removed_because.is_some())
        .map(|e| (e.id.as_str(), e.exit_code))
        .collect();
    assert_eq!(
        lost,
        [
            ("0", Some(52)),
            ("1", Some(52)),
            ("2", Some(52)),
            ("3", Some(52))
        ]
    );
    // Each lost executor's heap peaked near its 512 MiB (Spark samples every 200 ms: the last peak may be missed).
    assert!(
        collection
            .executors
            .iter()
            .map(|e| &e.peaks)
            .filter(|e| e.exit_code == Some(52))
            .all(|e| e.peak_jvm_heap_bytes.is_some_and(|bytes| bytes > 300 << 20)),
        "{:?}",
        collection.executors
    );
    assert!(collection.executors.iter().any(|e| e.peaks.id == "driver"));
    // Bounded: the logs' ordinary lines are not kept.
    assert!(
        collection.bytes_kept * 2 < collection.bytes_read,
        "{} of {}",
        collection.bytes_kept,
        collection.bytes_read
    );
    // What was collected is enough to classify the failure, without the driver's output.
    let classification = classify(&collection.pieces);
    assert_eq!(
        classification.category,
        Category::ExecutorOom,
        "{classification:?}"
    );
}

#[test]
fn a_source_that_is_down_is_reported_and_the_others_still_collected() {
    // The History Server is down: the executors' logs are still read from the work directory.
    let sources = ClusterSources {
        history_server: Some(HISTORY.to_owned()),
        worker_dirs: vec![data().join("work")],
        ..ClusterSources::default()
    };
    let collection = collect(APP, &sources, &Recorded::new());
    assert_eq!(
        collection.unreachable.len(),
        1,
        "{:?}",
        collection.unreachable
    );
    assert!(
        collection.unreachable[0]
            .contains("/api/v1/applications/app-20261206184128-0000 did not answer")
    );
    assert_eq!(collection.pieces.len(), 5);
    assert_eq!(classify(&collection.pieces).category, Category::ExecutorOom);

    // No work directory here, and one worker's log endpoint answering: that executor's log comes over HTTP, the
    // others are reported.
    let worker = history_server().with(
        format!("http://127.0.0.1:8081/log/?appId={APP}&executorId=0&logType=stderr&offset=0&byteLength=1048576"),
        data().join("worker-log/executor-0-stderr-offset-0.txt"),
    );
    let sources = ClusterSources {
        history_server: Some(HISTORY.to_owned()),
        executor_logs_over_http: true,
        ..ClusterSources::default()
    };
    let collection = collect(APP, &sources, &worker);
    let names: Vec<&str> = collection.pieces.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["history-server.log", "executor-0.stderr.log"]);
    assert!(
        collection.pieces[1]
            .text
            .contains("java.lang.OutOfMemoryError: Java heap space")
    );
    assert_eq!(
        collection.unreachable.len(),
        3,
        "{:?}",
        collection.unreachable
    );
}

//! `SparkRunner` around a stand-in `spark-submit`: a script that prints its command line and environment, writes a
//! real (trimmed) event log where `spark.eventLog.dir` says, and fails. What the runner makes of it is what it makes
//! of a real run; the real thing is `crates/medic/tests/spark.rs`.

use std::path::{Path, PathBuf};

use medic_core::history::Prices;
use medic_core::spark::Resources;
use medic_core::{LogSource, SparkConf};
use medic_scheduler::{AttemptRequest, JobRunner, Workflow};
use medic_spark::{EVENT_LOG_FINDINGS_FILE, EVENT_LOG_SUMMARY_FILE, SparkInstall, SparkRunner};

const FAKE_SPARK_SUBMIT: &str = r#"#!/bin/sh
echo "argv: $*"
echo "SPARK_HOME=$SPARK_HOME"
for arg in "$@"; do
  case "$arg" in
    spark.eventLog.dir=file://*) dir="${arg#spark.eventLog.dir=file://}" ;;
  esac
done
cp -R "$FIXTURE" "$dir/"
exit 1
"#;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rolling/eventlog_v2_local-1795339254786")
}

/// A Spark distribution whose `spark-submit` is the stand-in.
fn fake_spark(dir: &Path) -> SparkInstall {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("spark/bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::create_dir_all(dir.join("spark/jars")).expect("mkdir");
    let script = bin.join("spark-submit");
    std::fs::write(&script, FAKE_SPARK_SUBMIT).expect("write");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = std::env::var_os("PATH");
    let mut install =
        SparkInstall::at(&dir.join("spark"), path.as_ref(), "test".to_owned()).expect("a Spark");
    install
        .env
        .push(("FIXTURE".to_owned(), fixture().display().to_string()));
    install
}

#[test]
fn a_spark_job_is_submitted_with_its_event_log_and_read_back() {
    let dir = tempfile::tempdir().expect("temp");
    let install = fake_spark(dir.path());
    let workflow = Workflow::parse(
        "w.yaml",
        "name: w\njobs:\n  - name: sort\n    spark: {application: jobs/sort.py, args: [48], master: 'local[2]'}\n    conf: {spark.driver.memory: 512m, spark.memory.fraction: '0.2'}\n  - name: plain\n    command: [echo, hello]\n",
        dir.path(),
    )
    .expect("valid");
    let runner = SparkRunner::new(install.clone(), Prices::default());
    let job = &workflow.jobs[0];
    let attempt_dir = dir.path().join("runs/sort/attempt-1");
    let outcome = runner
        .run(&AttemptRequest {
            job,
            attempt: 1,
            config: &job.conf,
            dir: &attempt_dir,
        })
        .expect("ran");

    let stderr = std::fs::read_to_string(&outcome.stderr).unwrap_or_default();
    assert_eq!(outcome.exit_code, Some(1), "{stderr}");
    let stdout = std::fs::read_to_string(&outcome.stdout).expect("stdout");
    assert!(
        stdout.contains(
            "--master local[2] --driver-memory 512m --conf spark.eventLog.compression.codec=zstd"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("--conf spark.memory.fraction=0.2"),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .lines()
            .next()
            .is_some_and(|l| l.ends_with("jobs/sort.py 48")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "SPARK_HOME={}",
            dir.path().join("spark").display()
        )),
        "{stdout}"
    );

    // What the event log says failed is a log of its own for the classifier.
    assert_eq!(outcome.logs.len(), 1, "{stderr}");
    assert_eq!(outcome.logs[0].source, LogSource::Eventlog);
    assert_eq!(
        outcome.logs[0].path,
        attempt_dir.join(EVENT_LOG_FINDINGS_FILE)
    );
    let findings = std::fs::read_to_string(&outcome.logs[0].path).expect("findings");
    assert!(findings.contains("UNABLE_TO_ACQUIRE_MEMORY"), "{findings}");
    assert!(attempt_dir.join(EVENT_LOG_SUMMARY_FILE).is_file());

    // And what it measured goes with the outcome.
    assert_eq!(outcome.peak_memory_bytes, Some(270_406_144));
    let metrics = outcome.metrics.expect("metrics");
    assert_eq!(metrics.failed_tasks, 1);
    assert_eq!(metrics.gc_time_ms, 266);
    assert!(outcome.plan_operators.iter().any(|op| op == "Sort"));
    // Local mode: one JVM with a 512 MiB heap (plus Spark's 384 MiB minimum overhead) and 2 threads, which is what
    // medic-core prices `local[2]` as.
    let mut local = SparkConf::new();
    local.set("spark.master", "local[2]");
    local.set("spark.driver.memory", "512m");
    let one_jvm = Resources {
        cores: 2.0,
        memory_gib: (512.0 + 384.0) / 1024.0,
    };
    assert_eq!(Resources::of(&local), one_jvm);
    let expected = Prices::default().cost_of(one_jvm, outcome.runtime_seconds);
    assert!(
        outcome
            .cost_dollars
            .is_some_and(|c| (c - expected).abs() < 1e-12),
        "{:?} vs {expected}",
        outcome.cost_dollars
    );

    // A job without a `spark:` section runs as the plain process it is.
    let plain = &workflow.jobs[1];
    let outcome = runner
        .run(&AttemptRequest {
            job: plain,
            attempt: 1,
            config: &plain.conf,
            dir: &dir.path().join("runs/plain/attempt-1"),
        })
        .expect("ran");
    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(
        std::fs::read_to_string(&outcome.stdout).expect("stdout"),
        "hello\n"
    );
    assert!(outcome.logs.is_empty() && outcome.metrics.is_none());
}

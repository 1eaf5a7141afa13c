//! The process runner on real shell scripts.

use std::time::Duration;

use medic_core::SparkConf;
use medic_scheduler::{
    AttemptOutcome, AttemptRequest, JobRunner, ProcessRunner, STDERR_FILE, STDOUT_FILE,
};

use crate::Flow;

/// Runs the workflow's job `name` once with `conf`, as attempt 2, in `<run dir>/attempt`.
fn run(flow: &Flow, name: &str, conf: &SparkConf) -> AttemptOutcome {
    let job = flow.workflow.job(name).expect("the job");
    let dir = flow.run_dir().join("attempt");
    ProcessRunner
        .run(&AttemptRequest {
            job,
            attempt: 2,
            config: conf,
            dir: &dir,
        })
        .expect("the runner runs it")
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn memory(value: &str) -> SparkConf {
    let mut conf = SparkConf::new();
    conf.set("spark.executor.memory", value);
    conf
}

#[test]
fn a_successful_script_runs_in_the_workflow_folder_with_its_environment_and_logs() {
    let flow =
        Flow::new("name: w\njobs:\n  - name: ok\n    command: sh succeed.sh {conf} --day 1\n");
    let outcome = run(&flow, "ok", &memory("2g"));
    assert!(outcome.succeeded(), "{outcome:?}");
    assert_eq!(
        (outcome.exit_code, outcome.signal, outcome.timed_out),
        (Some(0), None, false)
    );
    assert_eq!(
        outcome.stdout,
        flow.run_dir().join("attempt").join(STDOUT_FILE)
    );
    assert_eq!(
        outcome.stderr,
        flow.run_dir().join("attempt").join(STDERR_FILE)
    );
    assert_eq!(
        (
            outcome.cost_dollars,
            outcome.peak_memory_bytes,
            outcome.note
        ),
        (None, None, None)
    );
    let stdout = read(&outcome.stdout);
    let folder = std::fs::canonicalize(flow.dir.path()).expect("canonical");
    assert!(
        stdout.contains(&format!("cwd={}\n", folder.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("job=w.ok workflow=w attempt=2\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("arg=--conf\narg=spark.executor.memory=2g\narg=--day\narg=1\n"),
        "{stdout}"
    );
    assert_eq!(read(&outcome.stderr), "a line on standard error\n");
}

#[test]
fn the_oom_script_fails_until_it_gets_more_executor_memory() {
    let flow = Flow::new(
        "name: w\njobs:\n  - name: etl\n    command: [sh, spark-oom.sh, \"{conf}\", app.py]\n",
    );
    let failed = run(&flow, "etl", &memory("2g"));
    assert!(!failed.succeeded());
    assert_eq!(failed.exit_code, Some(1));
    assert!(read(&failed.stderr).contains("java.lang.OutOfMemoryError: Java heap space"));
    assert!(read(&failed.stdout).contains("Submitting 200 missing tasks"));

    let fixed = run(&flow, "etl", &memory("4g"));
    assert!(fixed.succeeded(), "{fixed:?}");
    // The same folder again: the logs are the new attempt's, not appended to the old ones.
    assert_eq!(read(&fixed.stderr), "");
}

#[test]
fn an_attempt_past_its_timeout_is_killed_and_says_so() {
    let flow = Flow::new(
        "name: w\njobs:\n  - name: slow\n    command: [sh, sleep.sh]\n    timeout_s: 0.3\n",
    );
    let outcome = run(&flow, "slow", &SparkConf::new());
    assert!(outcome.timed_out, "{outcome:?}");
    assert!(!outcome.succeeded());
    assert_eq!((outcome.exit_code, outcome.signal), (None, Some(9)));
    assert!(
        outcome.runtime_seconds >= 0.3 && outcome.runtime_seconds < 10.0,
        "{}",
        outcome.runtime_seconds
    );
    let stderr = read(&outcome.stderr);
    assert!(stderr.contains("medic: killed after"), "{stderr}");
    assert!(stderr.contains("the job's timeout is 0.3 s"), "{stderr}");
    assert_eq!(
        outcome
            .note
            .as_deref()
            .map(|n| n.starts_with("killed after")),
        Some(true)
    );
}

#[test]
fn a_fast_job_is_not_held_back_by_its_timeout() {
    let flow = Flow::new(
        "name: w\njobs:\n  - name: ok\n    command: [sh, succeed.sh]\n    timeout_s: 60\n",
    );
    let started = std::time::Instant::now();
    let outcome = run(&flow, "ok", &SparkConf::new());
    assert!(outcome.succeeded(), "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_command_that_cannot_start_is_a_failed_attempt_with_the_reason_in_stderr() {
    let flow = Flow::new(
        "name: w\njobs:\n  - name: typo\n    command: [spark-submitt-not-installed, app.py]\n",
    );
    let outcome = run(&flow, "typo", &SparkConf::new());
    assert!(!outcome.succeeded());
    assert_eq!((outcome.exit_code, outcome.signal), (None, None));
    let stderr = read(&outcome.stderr);
    assert!(
        stderr.starts_with("medic: cannot start `spark-submitt-not-installed` in "),
        "{stderr}"
    );
    assert!(stderr.contains("No such file or directory"), "{stderr}");
    assert_eq!(
        outcome.note.as_deref(),
        stderr.strip_prefix("medic: ").map(str::trim_end)
    );
}

#[test]
fn a_job_killed_by_a_signal_has_no_exit_code_but_the_signal() {
    let flow = Flow::new("name: w\njobs:\n  - name: k\n    command: [sh, killed.sh]\n");
    let outcome = run(&flow, "k", &SparkConf::new());
    assert_eq!((outcome.exit_code, outcome.signal), (None, Some(15)));
    assert!(!outcome.succeeded());
}

#[test]
fn a_relative_program_path_is_taken_from_the_workflow_folder() {
    let flow = Flow::new("name: w\njobs:\n  - name: ok\n    command: ./succeed.sh\n");
    // The tests run in the crate's folder, not the workflow's: the scheduler's own folder must not matter.
    let outcome = run(&flow, "ok", &SparkConf::new());
    assert!(outcome.succeeded(), "{outcome:?} {}", read(&outcome.stderr));
}

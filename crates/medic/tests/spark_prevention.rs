//! Prevention on real Spark, end to end through the real binary: `examples/spark/prevention/workflow.yaml` is one
//! small PySpark job whose `spark.driver.maxResultSize` is too small every day. Its first run fails and medic's
//! retry fixes it; medic carries that fix forward as a persistent patch of the job, so the second run succeeds on
//! its first attempt with it; after a right-sizing round, a third run still does. The attempts and the carried fix
//! go to stderr for the CI log.
//!
//! Spark must be installed (`scripts/install-spark.sh`, which `scripts/test.sh` runs first): without it this test
//! fails with that command, it is never skipped. It runs Spark four times, one after the other (about 1.5 minutes
//! on two cores).

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};

use serde_json::Value;

use cli::{json, medic, medic_ok};

const WORKFLOW: &str = "examples/spark/prevention/workflow.yaml";
const JOB: &str = "spark-prevention.result-size";
const RESULT_SIZE: &str = "spark.driver.maxResultSize";

/// Runs the workflow, which must succeed, and returns the one job's attempts.
fn run_workflow(db: &str, runs: &Path, label: &str) -> Vec<Value> {
    let runs = runs.display().to_string();
    let output = medic(&["run", WORKFLOW, "--json", "--db", db, "--runs", &runs]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("cannot find spark-submit"),
        "Spark is not installed: run `scripts/install-spark.sh` from the repository's root first.\n{stderr}"
    );
    let report = json(&String::from_utf8_lossy(&output.stdout));
    assert!(output.status.success(), "{report:#}\n{stderr}");
    let job = &report["jobs"][0];
    assert_eq!(job["status"], "succeeded", "{job:#}");
    let attempts = job["attempts"].as_array().expect("attempts").clone();
    for attempt in &attempts {
        eprintln!(
            "{label}, attempt {}: {} = {}, {}, {:.1} s, patches {}",
            attempt["attempt"],
            RESULT_SIZE,
            attempt["conf"][RESULT_SIZE],
            attempt["decision"],
            attempt["runtime_s"].as_f64().unwrap_or(f64::NAN),
            attempt["applied_patches"]
        );
    }
    attempts
}

fn carried_fixes(db: &str) -> Vec<Value> {
    json(&medic_ok(&["patch", "list", "--db", db, "--json"]))
        .as_array()
        .expect("a list of patches")
        .iter()
        .filter(|patch| patch["provenance"]["carried"].is_object())
        .cloned()
        .collect()
}

#[test]
fn a_fix_that_worked_is_carried_to_the_next_run_which_succeeds_at_once() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let db = format!("sqlite://{}", folder.path().join("medic.sqlite").display());
    let db = db.as_str();
    let runs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("medic-spark-prevention");
    let _ = std::fs::remove_dir_all(&runs);

    // Run 1: the results are bigger than the cap; medic's retry raises it and succeeds.
    let first = run_workflow(db, &runs, "run 1");
    assert_eq!(
        first.len(),
        2,
        "failed, then fixed by one retry: {first:#?}"
    );
    assert_eq!(
        first[0]["category"], "result_size_exceeded",
        "{:#}",
        first[0]
    );
    assert_eq!(first[0]["conf"][RESULT_SIZE], "32m", "{:#}", first[0]);
    let fixed = first[1]["conf"][RESULT_SIZE].clone();
    assert_ne!(fixed, "32m", "{:#}", first[1]);

    // The fix is carried: one active persistent patch of the job, made by medic, with where it came from.
    let carried = carried_fixes(db);
    assert_eq!(carried.len(), 1, "{carried:#?}");
    let patch = &carried[0];
    eprintln!("carried fix: {patch:#}");
    assert_eq!(patch["status"], "active", "{patch:#}");
    assert_eq!(patch["lifetime"], "persistent", "{patch:#}");
    assert_eq!(patch["scope"]["job"], JOB, "{patch:#}");
    assert_eq!(patch["provenance"]["created_by"], "medic", "{patch:#}");
    assert_eq!(patch["patch"][RESULT_SIZE], fixed, "{patch:#}");
    assert!(patch["expires_at"].is_string(), "{patch:#}");
    let carried_id = patch["id"].as_str().expect("an id").to_owned();

    // Run 2: the carried fix applies from the first attempt, which succeeds.
    let second = run_workflow(db, &runs, "run 2");
    assert_eq!(second.len(), 1, "succeeded at once: {second:#?}");
    assert_eq!(second[0]["conf"][RESULT_SIZE], fixed, "{:#}", second[0]);
    assert!(
        second[0]["applied_patches"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|id| id == carried_id.as_str())),
        "{:#}",
        second[0]
    );
    assert_eq!(carried_fixes(db).len(), 1, "nothing more carried");

    // A right-sizing round (the job has a memory failure in its window: it is left alone), then run 3, which still
    // succeeds on its first attempt.
    let round = json(&medic_ok(&["rightsize", "--db", db, "--json", "--apply"]));
    eprintln!("right-sizing: {round:#}");
    let third = run_workflow(db, &runs, "run 3");
    assert_eq!(third.len(), 1, "succeeded at once: {third:#?}");
    assert_eq!(third[0]["decision"], "succeeded", "{:#}", third[0]);
}

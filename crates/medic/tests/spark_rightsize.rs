//! Right-sizing real Spark, end to end through the real binary: `examples/spark/rightsize/workflow.yaml` is one
//! small PySpark job that asks for a 4 GiB driver and uses a fraction of it. After two successful runs,
//! `medic rightsize` (with the example's policy, which needs two runs instead of a week of them) plans a smaller
//! `spark.driver.memory` from the driver's peak heap, stores nothing in a dry run, stores a persistent patch with
//! its evidence with `--apply`, and the next run uses that patch and still succeeds on its first attempt; after it,
//! the plan steps down again. The measured peaks, sizes and runtimes go to stderr for the CI log.
//!
//! Spark must be installed (`scripts/install-spark.sh`, which `scripts/test.sh` runs first): without it this test
//! fails with that command, it is never skipped. It runs Spark three times, one after the other (about 2 minutes
//! on two cores).

#[path = "support/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use cli::{json, medic, medic_ok};

const WORKFLOW: &str = "examples/spark/rightsize/workflow.yaml";
const POLICY: &str = "examples/spark/rightsize/policy.yaml";
const JOB: &str = "spark-rightsize.aggregate";
const DRIVER_MEMORY: &str = "spark.driver.memory";
const MIB: u64 = 1024 * 1024;
/// What the workflow asks for.
const REQUESTED: u64 = 4096 * MIB;
/// The policy's floor (`min_heap_mib`): Spark refuses to start a driver below 450 MiB.
const FLOOR: u64 = 640 * MIB;

fn runs_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("medic-spark-rightsize");
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the workflow, which must succeed, and returns the one job's report and the run's wall time.
fn run_workflow(db: &str, runs: &Path) -> (Value, f64) {
    let runs = runs.display().to_string();
    let started = Instant::now();
    let output = medic(&["run", WORKFLOW, "--json", "--db", db, "--runs", &runs]);
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("cannot find spark-submit"),
        "Spark is not installed: run `scripts/install-spark.sh` from the repository's root first.\n{stderr}"
    );
    let report = json(&String::from_utf8_lossy(&output.stdout));
    assert!(output.status.success(), "{report:#}\n{stderr}");
    let job = report["jobs"][0].clone();
    assert_eq!(job["status"], "succeeded", "{job:#}");
    (job, seconds)
}

/// The attempts history, as `medic history attempts --json` prints it: one JSON object per line.
fn history(db: &str) -> Vec<Value> {
    medic_ok(&["history", "attempts", "--db", db, "--json"])
        .lines()
        .map(json)
        .collect()
}

fn patches(db: &str) -> Vec<Value> {
    json(&medic_ok(&["patch", "list", "--db", db, "--json"]))
        .as_array()
        .expect("a list of patches")
        .clone()
}

fn mib(bytes: &Value) -> String {
    bytes
        .as_u64()
        .map_or_else(|| "-".to_owned(), |b| format!("{} MiB", b / MIB))
}

/// The peaks and runtime of one attempt, for the CI log.
fn report_attempt(label: &str, entry: &Value) {
    eprintln!(
        "{label}: {} = {}, {}, runtime {:.1} s, peak memory {}, driver heap {}, JVM heap {}, JVM RSS {}",
        DRIVER_MEMORY,
        entry["config"][DRIVER_MEMORY],
        entry["outcome"],
        entry["runtime_seconds"].as_f64().unwrap_or(f64::NAN),
        mib(&entry["peak_memory_bytes"]),
        mib(&entry["metrics"]["peak_driver_heap_bytes"]),
        mib(&entry["metrics"]["peak_jvm_heap_bytes"]),
        mib(&entry["metrics"]["peak_jvm_rss_bytes"]),
    );
}

/// The plan's line for the job, and its `spark.driver.memory` setting.
fn planned(plan: &Value) -> (&Value, &Value) {
    let job = plan["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|job| job["job"]["id"] == JOB))
        .unwrap_or_else(|| panic!("no plan for {JOB}: {plan:#}"));
    let setting = job["settings"]
        .as_array()
        .and_then(|settings| settings.iter().find(|s| s["key"] == DRIVER_MEMORY))
        .unwrap_or_else(|| panic!("no {DRIVER_MEMORY} in the plan: {job:#}"));
    (job, setting)
}

#[test]
fn an_oversized_local_job_is_right_sized_and_still_succeeds() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let db = format!("sqlite://{}", folder.path().join("medic.sqlite").display());
    let db = db.as_str();
    let runs = runs_dir();

    // Two successful runs as the owner wrote the job: a 4 GiB driver.
    for run in 1..=2 {
        let (job, seconds) = run_workflow(db, &runs);
        assert_eq!(job["attempts"].as_array().map(Vec::len), Some(1), "{job:#}");
        eprintln!("run {run} with 4g: medic run took {seconds:.1} s");
    }
    let before = history(db);
    assert_eq!(before.len(), 2, "{before:#?}");
    for (i, entry) in before.iter().enumerate() {
        assert_eq!(entry["config"][DRIVER_MEMORY], "4g", "{entry:#}");
        report_attempt(&format!("run {}", i + 1), entry);
    }

    // The dry run plans a smaller driver from the driver's peak heap, and stores nothing.
    let plan = json(&medic_ok(&[
        "rightsize",
        "--db",
        db,
        "--policy",
        POLICY,
        "--json",
    ]));
    let (job, setting) = planned(&plan);
    eprintln!("dry run: {job:#}");
    assert_eq!(job["action"], "resize", "{job:#}");
    assert_eq!(job["patch_id"], Value::Null, "{job:#}");
    assert_eq!(plan["applied"], false, "{plan:#}");
    assert_eq!(setting["requested_bytes"], REQUESTED, "{setting:#}");
    let used = setting["used_bytes"].as_u64().expect("used_bytes");
    let recommended = setting["recommended_bytes"]
        .as_u64()
        .expect("recommended_bytes");
    let peak = before
        .iter()
        .filter_map(|entry| entry["metrics"]["peak_driver_heap_bytes"].as_u64())
        .max()
        .expect("the driver's peak heap was measured");
    assert_eq!(used, peak, "sized from the driver's peak heap: {setting:#}");
    assert!(
        recommended <= REQUESTED / 2 && recommended >= FLOOR.max(used),
        "well below 4 GiB, above the peak and not below 640 MiB: {setting:#}"
    );
    assert!(
        job["saving_per_month"].as_f64().is_some_and(|s| s > 0.0),
        "{job:#}"
    );
    assert_eq!(patches(db), Vec::<Value>::new(), "a dry run stores nothing");

    // --apply stores the plan as a persistent patch scoped to the job, with its evidence.
    let applied = json(&medic_ok(&[
        "rightsize",
        "--db",
        db,
        "--policy",
        POLICY,
        "--json",
        "--apply",
    ]));
    let (job, setting) = planned(&applied);
    assert_eq!(applied["applied"], true, "{applied:#}");
    assert_eq!(setting["recommended_bytes"], recommended, "{applied:#}");
    let patch_id = job["patch_id"].as_str().expect("a patch id").to_owned();
    let stored = patches(db);
    assert_eq!(stored.len(), 1, "{stored:#?}");
    let patch = &stored[0];
    eprintln!("stored: {patch:#}");
    assert_eq!(patch["id"], patch_id.as_str());
    assert_eq!(patch["lifetime"], "persistent", "{patch:#}");
    assert_eq!(patch["status"], "active", "{patch:#}");
    assert_eq!(patch["scope"]["job"], JOB, "{patch:#}");
    let provenance = &patch["provenance"];
    assert_eq!(provenance["created_by"], "medic-rightsize", "{patch:#}");
    let evidence = &provenance["rightsize"];
    assert_eq!(evidence["runs"], 2, "{patch:#}");
    let sized = evidence["settings"]
        .as_array()
        .and_then(|settings| settings.iter().find(|s| s["key"] == DRIVER_MEMORY))
        .unwrap_or_else(|| panic!("no evidence for {DRIVER_MEMORY}: {patch:#}"));
    assert_eq!(sized["used_bytes"], used, "{patch:#}");
    assert_eq!(sized["recommended_bytes"], recommended, "{patch:#}");
    assert_eq!(sized["original_bytes"], REQUESTED, "{patch:#}");

    // The next run resolves the patch, runs with the smaller driver, and succeeds at once.
    let (job, seconds) = run_workflow(db, &runs);
    let tries = job["attempts"].as_array().expect("attempts");
    assert_eq!(tries.len(), 1, "succeeded on its first attempt: {job:#}");
    let after = history(db);
    assert_eq!(after.len(), 3, "{after:#?}");
    let last = &after[2];
    report_attempt("run 3 (right-sized)", last);
    eprintln!("run 3: medic run took {seconds:.1} s");
    assert_eq!(last["outcome"], "succeeded", "{last:#}");
    assert_eq!(last["attempt"], 1, "{last:#}");
    let driver = last["config"][DRIVER_MEMORY]
        .as_str()
        .expect("a driver memory");
    assert_eq!(
        patch["patch"][DRIVER_MEMORY], driver,
        "the run used the patch's driver memory: {last:#}"
    );
    assert_eq!(
        size_bytes(driver),
        recommended,
        "the run used the recommended driver memory: {last:#}"
    );
    assert!(
        last["applied_patches"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|id| id == patch_id.as_str())),
        "{last:#}"
    );

    // One run with the right-size settles it (the example's `settle_runs: 1`): the next plan steps down again,
    // still above the floor, and would supersede the first patch.
    let next = json(&medic_ok(&[
        "rightsize",
        "--db",
        db,
        "--policy",
        POLICY,
        "--json",
    ]));
    let (job, setting) = planned(&next);
    eprintln!("after the right-sized run: {}", job["reason"]);
    assert_eq!(job["action"], "resize", "{job:#}");
    assert_eq!(job["patch_id"], patch_id.as_str(), "{job:#}");
    assert_eq!(setting["requested_bytes"], recommended, "{setting:#}");
    let second = setting["recommended_bytes"]
        .as_u64()
        .expect("recommended_bytes");
    assert!(second < recommended && second >= FLOOR, "{setting:#}");
    eprintln!(
        "right-sized {DRIVER_MEMORY}: 4096 MiB -> {} MiB, next step {} MiB (driver peak heap {} MiB)",
        recommended / MIB,
        second / MIB,
        used / MIB
    );
}

/// A Spark size (`2048m`, `2g`, `1024k`; a bare number is MiB, as for `spark.driver.memory`) in bytes.
fn size_bytes(text: &str) -> u64 {
    let text = text.trim().to_ascii_lowercase();
    let text = text.strip_suffix('b').unwrap_or(&text);
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "m"),
    };
    let shift = match unit {
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => panic!("not a Spark size: {text}"),
    };
    number.parse::<u64>().expect("a Spark size") << shift
}

//! The real-job benchmark's fast subset, through the real binary: `medic bench spark` runs real PySpark jobs from
//! the configurations they were verified to fail with (examples/spark/bench/tuning.yaml), from a fresh database,
//! and scores what medic did. The whole benchmark, both sets, is a figure in docs/BENCHMARKS.md
//! (`medic bench spark examples/spark/bench/tuning.yaml examples/spark/bench/held_out.yaml`); this runs one job of
//! each kind, the memory one a Python worker's, whose knob is not the heap.
//!
//! Spark must be installed (`scripts/install-spark.sh`, which `scripts/test.sh` runs first): without it this test
//! fails with that command, it is never skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The subset: a Python worker out of its own memory limit, a job reading a path that does not exist, a healthy
/// job.
const SUBSET: &str = "python-udf-memory,missing-input,healthy-aggregate";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_fast_subset_of_the_real_job_benchmark_meets_its_bars() {
    let runs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("medic-spark-bench");
    let _ = std::fs::remove_dir_all(&runs);
    let output = Command::new(env!("CARGO_BIN_EXE_medic"))
        .args([
            "bench",
            "spark",
            "examples/spark/bench/tuning.yaml",
            "--jobs",
            SUBSET,
            "--json",
            "--runs",
        ])
        .arg(&runs)
        .current_dir(repo())
        .env_remove("MEDIC_DB")
        .env_remove("MEDIC_SERVER")
        .output()
        .expect("medic runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let value: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let jobs = value["score"]["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 3, "{value:#}");
    for job in jobs {
        assert_eq!(job["passed"], true, "{job:#}\n{stderr}");
    }
    let python = jobs
        .iter()
        .find(|job| job["name"] == "python-udf-memory")
        .expect("scored");
    assert_eq!(python["first_category"], "python_worker_oom", "{python:#}");
    assert_eq!(python["fixed_on_first_retry"], true);
    assert_eq!(python["identical_config_retries"], 0);
    let set = &value["score"]["sets"][0];
    assert_eq!(set["set"], "tuning");
    assert_eq!(
        (
            set["memory_jobs"].as_u64(),
            set["fixed_on_first_retry"].as_u64(),
            set["changed_config_retries"].as_u64(),
            set["healthy_touched"].as_u64()
        ),
        (Some(1), Some(1), Some(0), Some(0)),
        "{set:#}"
    );
    // The retry changed the Python workers' limit, never the heap.
    let report_job = value["report"]["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|job| job["name"] == "python-udf-memory"))
        .expect("in the report");
    let changes = &report_job["attempts"][0]["config_changes"];
    assert!(
        changes.get("spark.executor.pyspark.memory").is_some(),
        "{changes:#}"
    );
    assert!(changes.get("spark.driver.memory").is_none(), "{changes:#}");
}

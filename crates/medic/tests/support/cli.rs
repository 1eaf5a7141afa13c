//! The real `medic` binary run from the repository's root, as a user would, for the end-to-end tests (included
//! with `#[path]`). medic's environment variables are cleared so that a developer's own settings do not leak in.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The repository's root: workflow files name their scripts relative to it.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `medic ARGS` from the repository's root.
pub fn medic(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medic"))
        .args(args)
        .current_dir(repo())
        .env_remove("MEDIC_DB")
        .env_remove("MEDIC_SERVER")
        .env_remove("MEDIC_TOKEN")
        .env_remove("MEDIC_CLUSTERS")
        .output()
        .expect("medic runs")
}

/// `medic ARGS`, which must succeed; its standard output.
#[allow(dead_code)] // not every test reads a command's output as text
pub fn medic_ok(args: &[&str]) -> String {
    let output = medic(args);
    assert!(
        output.status.success(),
        "medic {}: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `text` as JSON, or a panic that shows it.
#[allow(dead_code)] // not every test reads JSON
pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The job called `name` in a `medic run --json` report.
#[allow(dead_code)] // only the run tests read reports
pub fn job<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|j| j["name"] == name))
        .unwrap_or_else(|| panic!("no job {name} in {report}"))
}

/// A reported job's attempts.
#[allow(dead_code)] // only the run tests read reports
pub fn attempts(job: &Value) -> &Vec<Value> {
    job["attempts"].as_array().expect("attempts")
}

/// The attempts of the job `name` of a report, checked to have succeeded within two retries.
#[allow(dead_code)] // only the Spark tests read fixes
pub fn fixed_within_two_retries<'a>(report: &'a Value, name: &str) -> &'a Vec<Value> {
    let job = job(report, name);
    let tries = attempts(job);
    assert_eq!(job["status"], "succeeded", "{name}: {job:#}");
    assert!(
        (2..=3).contains(&tries.len()),
        "{name}: fixed within 2 retries: {job:#}"
    );
    tries
}

/// The attempts history of the store at `db`, as `medic history attempts --json` prints it.
#[allow(dead_code)] // only the run tests read the history
pub fn attempts_history(db: &str) -> Vec<Value> {
    let output = medic(&["history", "attempts", "--db", db, "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

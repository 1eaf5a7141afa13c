//! The `medic` binary end to end: what a user types, what comes out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn medic(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_medic"))
        .args(args)
        .current_dir(repo(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("medic starts");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default())
        .expect("write stdin");
    drop(input);
    child.wait_with_output().expect("medic runs")
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn classify_json_reports_the_documented_fields() {
    let output = medic(&["classify", "--json", "examples/logs/failed-run"], None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = json_lines(&output);
    assert_eq!(results.len(), 1);
    let c = &results[0];
    assert_eq!(c["input"], "examples/logs/failed-run");
    assert_eq!(c["category"], "container_memory_exceeded");
    assert_eq!(c["memory_config"], true);
    assert_eq!(c["restartable"], false);
    assert!(c["rule"].is_string() && c["summary"].is_string());
    assert_eq!(c["evidence"]["source"], "stderr");
    assert_eq!(c["evidence"]["line"], 8);
    assert!(
        c["evidence"]["text"]
            .as_str()
            .expect("text")
            .contains("Container killed by YARN")
    );
    assert_eq!(c["captures"]["used"], "4.5 GB");
    assert!(
        c["also_matched"]
            .as_array()
            .expect("list")
            .iter()
            .any(|m| m["category"] == "shuffle_fetch_failure")
    );
}

#[test]
fn classify_reads_stdin_and_one_object_per_input() {
    let log = b"INFO starting\nERROR Executor: Exception in task 0.0: java.lang.OutOfMemoryError: Java heap space\n";
    let output = medic(
        &["classify", "--json", "--source", "stderr", "-"],
        Some(log),
    );
    assert!(output.status.success());
    let results = json_lines(&output);
    assert_eq!(
        (results.len(), results[0]["category"].as_str()),
        (1, Some("executor_oom"))
    );
    assert_eq!(results[0]["evidence"]["source"], "stderr");

    let two = medic(
        &[
            "classify",
            "--json",
            "examples/logs/failed-run/stdout",
            "examples/logs/failed-run/stderr",
        ],
        None,
    );
    assert_eq!(json_lines(&two).len(), 2);
}

#[test]
fn classify_never_fails_on_missing_or_garbage_input() {
    let output = medic(&["classify", "--json", "no/such/file.log"], None);
    assert!(output.status.success());
    let c = &json_lines(&output)[0];
    assert_eq!(c["category"], "unclassified");
    assert!(
        c["warnings"][0]
            .as_str()
            .expect("warning")
            .contains("cannot open")
    );

    let garbage: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let output = medic(&["classify", "--json"], Some(&garbage));
    assert!(output.status.success());
    assert_eq!(json_lines(&output).len(), 1);
}

#[test]
fn user_rules_come_first_and_scoped_rules_need_their_job() {
    let pack = "crates/medic-rules/tests/data/packs/team-overrides.yaml";
    let log = b"java.sql.SQLException: Connection reset to warehouse.internal:5439\n";
    let scoped = medic(
        &[
            "classify",
            "--json",
            "--rules",
            pack,
            "--job",
            "nightly-etl",
        ],
        Some(log),
    );
    assert_eq!(
        json_lines(&scoped)[0]["rule"],
        "nightly-etl-warehouse-flake"
    );
    let other = medic(
        &["classify", "--json", "--rules", pack, "--job", "hourly"],
        Some(log),
    );
    assert_ne!(json_lines(&other)[0]["rule"], "nightly-etl-warehouse-flake");
}

#[test]
fn rules_check_lists_every_problem_and_fails() {
    let output = medic(
        &[
            "rules",
            "check",
            "crates/medic-rules/tests/data/bad-packs/every-problem.yaml",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 15, "{stdout}");
    assert!(
        stdout.contains(
            "every-problem.yaml:9: rule bad-regex: bad regex at column 19: unclosed group"
        )
    );

    let ok = medic(&["rules", "check", "rules/spark.yaml"], None);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("ok: spark-default"));
}

#[test]
fn classify_refuses_a_bad_pack_with_its_problems() {
    let output = medic(
        &[
            "classify",
            "--rules",
            "crates/medic-rules/tests/data/bad-packs/top-level.yaml",
            "-",
        ],
        Some(b""),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing field `rules`"));
}

#[test]
fn rules_list_shows_user_rules_before_builtin_ones() {
    let output = medic(
        &[
            "rules",
            "list",
            "--json",
            "--rules",
            "crates/medic-rules/tests/data/packs/team-overrides.yaml",
        ],
        None,
    );
    let rules: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let rules = rules.as_array().expect("array");
    assert_eq!(rules[0]["name"], "nightly-etl-warehouse-flake");
    assert!(rules.len() > 60);
}

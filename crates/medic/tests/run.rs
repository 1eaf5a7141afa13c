//! `medic run` end to end through the real binary: a workflow of small scripts that fail with real Spark failure
//! texts until their configuration is right. medic classifies, recommends (with the heuristics: these stores have
//! no model), stores the patch, the scheduler retries with the patched configuration, and the history gets the
//! retry. Run in process over SQLite and PostgreSQL, and over HTTP through a real `medic serve` on both.

#[path = "support/server.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use medic_store::testing::{TestBackend, TestDatabase};
use serde_json::Value;

const ADMIN: &str = "admin-token-for-run-tests";

fn workflow() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/run/workflow.yaml")
        .display()
        .to_string()
}

fn runs_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("medic-run")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn medic(args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_medic"));
    command
        .args(args)
        .env_remove("MEDIC_DB")
        .env_remove("MEDIC_SERVER");
    match token {
        Some(token) => command.env("MEDIC_TOKEN", token),
        None => command.env_remove("MEDIC_TOKEN"),
    };
    command.output().expect("medic runs")
}

fn run_json(target: &[&str], extra: &[&str], runs: &Path, token: Option<&str>) -> Value {
    let workflow = workflow();
    let runs = runs.display().to_string();
    let mut args = vec!["run", workflow.as_str(), "--json", "--runs", runs.as_str()];
    args.extend_from_slice(target);
    args.extend_from_slice(extra);
    let output = medic(&args, token);
    // Jobs fail on purpose (the buggy one), so the exit status is 1; the report must still be complete.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn job<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|j| j["name"] == name))
        .unwrap_or_else(|| panic!("no job {name} in {report}"))
}

/// The decisions of a run with medic on: the heap error is fixed on the first retry, the bug is not retried, and
/// the dependents follow.
fn assert_remediated(report: &Value) {
    let hungry = job(report, "heap-hungry");
    assert_eq!(hungry["status"], "succeeded", "{report}");
    let attempts = hungry["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 2, "{report}");
    assert_eq!(attempts[0]["category"], "executor_oom");
    assert_eq!(attempts[0]["decision"], "retry");
    assert_eq!(
        attempts[0]["config_changes"]["spark.executor.memory"],
        "16384m"
    );
    assert_eq!(attempts[1]["decision"], "succeeded");
    assert!(attempts[0]["cost"].as_f64().is_some_and(|c| c >= 0.0));
    assert!(attempts[0]["runtime_s"].as_f64().is_some());

    let buggy = job(report, "buggy");
    assert_eq!(buggy["status"], "failed");
    assert_eq!(
        buggy["attempts"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
    assert_eq!(buggy["attempts"][0]["category"], "user_code_error");
    assert_eq!(buggy["attempts"][0]["decision"], "do_not_retry");
    assert_eq!(job(report, "report")["status"], "succeeded");
    assert_eq!(job(report, "publish")["status"], "skipped");
}

/// What the store kept: the retry in the history (for `medic train`), and the patch consumed by the success.
fn assert_stored(db: &str) {
    let exported = medic(&["history", "export", "--db", db], None);
    let history = String::from_utf8_lossy(&exported.stdout);
    let records: Vec<Value> = history
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(records.len(), 1, "{history}");
    assert_eq!(records[0]["job"]["id"], "nightly.heap-hungry");
    assert_eq!(records[0]["failure_category"], "executor_oom");
    assert_eq!(records[0]["outcome"], "succeeded");
    assert_eq!(records[0]["config"]["spark.executor.memory"], "16384m");
    let patches = medic(&["patch", "list", "--db", db], None);
    let listing = String::from_utf8_lossy(&patches.stdout);
    assert!(
        listing.contains("consumed") && listing.contains("job=nightly.heap-hungry"),
        "{listing}"
    );
    // Every attempt is in the attempts history, with its cost and what medic did: heap-hungry twice (the failure
    // and its fix), buggy and report once.
    let output = medic(&["history", "attempts", "--db", db, "--json"], None);
    let attempts: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    let summary: Vec<(String, u64, String)> = attempts
        .iter()
        .map(|a| {
            (
                a["job"]["id"].as_str().unwrap_or_default().to_owned(),
                a["attempt"].as_u64().unwrap_or_default(),
                a["decision"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("nightly.heap-hungry", 1, "retry"),
        ("nightly.heap-hungry", 2, "succeeded"),
        ("nightly.buggy", 1, "do_not_retry"),
        ("nightly.report", 1, "succeeded"),
    ]
    .map(|(job, attempt, decision)| (job.to_owned(), attempt, decision.to_owned()));
    assert_eq!(summary, expected, "{attempts:#?}");
    assert_eq!(
        attempts[0]["recommended_changes"]["spark.executor.memory"],
        "16384m"
    );
    assert!(
        attempts
            .iter()
            .all(|a| a["cost_dollars"].as_f64().is_some_and(|c| c >= 0.0))
    );
}

async fn remediates_in_process(backend: TestBackend) {
    let database = TestDatabase::create(backend).await;
    let report = run_json(
        &["--db", database.url()],
        &[],
        &runs_dir(&format!("local-{backend:?}")),
        None,
    );
    assert_remediated(&report);
    assert_stored(database.url());
}

async fn remediates_over_http(backend: TestBackend) {
    let database = TestDatabase::create(backend).await;
    let server = support::Server::start(database.url(), ADMIN, "warn");
    let address = format!("http://{}", server.address());
    let report = run_json(
        &["--server", &address],
        &[],
        &runs_dir(&format!("http-{backend:?}")),
        Some(ADMIN),
    );
    assert_remediated(&report);
    drop(server);
    assert_stored(database.url());
}

/// The roles split over two processes on one store (the recommender alone in one, the remediation flow and the
/// ConfigService in the other, calling it over HTTP) decide as one process does.
async fn split_roles_decide_alike(backend: TestBackend) {
    let database = TestDatabase::create(backend).await;
    let recommender =
        support::Server::start_with(database.url(), ADMIN, "warn", &["--roles", "recommend"]);
    let recommend_url = format!("http://{}", recommender.address());
    let front = support::Server::start_with(
        database.url(),
        ADMIN,
        "warn",
        &[
            "--roles",
            "classify,config",
            "--recommend-url",
            &recommend_url,
        ],
    );
    let address = format!("http://{}", front.address());
    let report = run_json(
        &["--server", &address],
        &[],
        &runs_dir(&format!("split-{backend:?}")),
        Some(ADMIN),
    );
    assert_remediated(&report);
    // The front server does not serve the recommender's route, and the recommender not the ConfigService's.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let status = |url: String| {
        agent
            .post(&url)
            .send_json(serde_json::json!({}))
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    assert_eq!(status(format!("{address}/v1/recommend")), 404);
    assert_eq!(status(format!("{recommend_url}/v1/config/resolve")), 404);
    drop(front);
    drop(recommender);
    assert_stored(database.url());
}

async fn shadow_mode_changes_nothing(backend: TestBackend) {
    let database = TestDatabase::create(backend).await;
    let report = run_json(
        &["--db", database.url()],
        &["--shadow"],
        &runs_dir(&format!("shadow-{backend:?}")),
        None,
    );
    // The heap error's rule says a plain retry does not help: without medic acting, no retry.
    let hungry = job(&report, "heap-hungry");
    assert_eq!(hungry["status"], "failed", "{report}");
    assert_eq!(hungry["attempts"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        hungry["attempts"][0]["config_changes"],
        serde_json::json!({})
    );
    assert_eq!(job(&report, "report")["status"], "skipped");
    let patches = medic(&["patch", "list", "--db", database.url()], None);
    let listing = String::from_utf8_lossy(&patches.stdout);
    assert!(
        !listing.contains("nightly.heap-hungry"),
        "shadow mode stored a patch: {listing}"
    );
}

/// `medic recommend` answers the same through a server and straight from the database (no model yet: the
/// heuristics decide), for a person and as JSON.
async fn recommend_answers_alike_through_a_server_and_the_database(backend: TestBackend) {
    let database = TestDatabase::create(backend).await;
    let dir = runs_dir(&format!("recommend-{backend:?}"));
    std::fs::create_dir_all(&dir).expect("dir");
    let conf = dir.join("failed.conf");
    std::fs::write(&conf, "spark.executor.memory 4g\nspark.executor.cores 4\n").expect("conf");
    let conf = conf.display().to_string();
    let log = dir.join("stderr");
    std::fs::write(&log, "26/11/22 10:01:57 ERROR Executor: Exception in task 17.0\njava.lang.OutOfMemoryError: Java heap space\n").expect("log");
    let log = log.display().to_string();
    let args = [
        "recommend",
        "--conf",
        conf.as_str(),
        "--log",
        log.as_str(),
        "--job",
        "etl.daily",
        "--json",
    ];
    let answer = |target: &[&str]| -> Value {
        let mut all = args.to_vec();
        all.extend_from_slice(target);
        let output = medic(&all, None);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut value: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        value["elapsed_ms"] = Value::Null;
        value
    };
    let local = answer(&["--db", database.url()]);
    assert_eq!(local["retry"], true, "{local}");
    assert_eq!(local["heuristic"], "heap_jump");
    assert_eq!(local["config"]["spark.executor.memory"], "16384m");
    let server = support::Server::start(database.url(), ADMIN, "warn");
    let address = format!("http://{}", server.address());
    assert_eq!(answer(&["--server", &address]), local);
    // A negative λ is refused with the reason, not taken for a flag.
    let mut refused = args.to_vec();
    refused.extend_from_slice(&["--db", database.url(), "--lambda", "-1"]);
    let output = medic(&refused, None);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("lambda"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::TestBackend::Sqlite).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::TestBackend::Postgres).await;
                }
            )*
        }
    };
}

both_backends!(
    remediates_in_process,
    remediates_over_http,
    shadow_mode_changes_nothing,
    recommend_answers_alike_through_a_server_and_the_database,
    split_roles_decide_alike,
);

//! `medic demo` and `medic simulate` through the real binary on a small fleet: the comparison JSON has every
//! policy and the documented fields, medic beats blind retry, the report and its plots are written, the same seed
//! gives the same numbers, and a kept database lets `medic serve` answer with the model the demo trained (on
//! SQLite and PostgreSQL).

#[path = "support/server.rs"]
mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use medic_store::testing::{TestBackend, TestDatabase};
use serde_json::{Value, json};

fn medic(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medic"))
        .args(args)
        .env_remove("MEDIC_DB")
        .output()
        .expect("medic runs")
}

fn ok_json(output: Output) -> Value {
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("medic-simulate")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const SMALL: [&str; 6] = ["--jobs", "300", "--days", "3", "--history-days", "14"];

async fn demo_keeps_a_database_that_serves_the_trained_model(backend: TestBackend) {
    let database = TestDatabase::create(backend).await;
    let out = out_dir(&format!("{backend:?}"));
    let out_text = out.display().to_string();
    let mut args = vec!["demo", "--json", "--db", database.url(), "--out", &out_text];
    args.extend(SMALL);
    let comparison = ok_json(medic(&args));

    let policies = &comparison["policies"];
    for name in [
        "blind_retry",
        "rules_only",
        "vpa_bump",
        "double_memory",
        "medic",
        "medic_rightsizing",
        "medic_prevention",
    ] {
        for field in [
            "memory_fixed_first_retry",
            "failures_fixed",
            "failure_cost",
            "wasted_retries",
            "retries_correctly_disabled",
            "retries_wrongly_disabled",
            "unfixed",
            "human_cost",
            "failure_cost_with_humans",
            "mean_minutes_to_recovery",
        ] {
            assert!(
                policies[name][field].is_number(),
                "{name}.{field}: {comparison}"
            );
        }
    }
    let medic_stats = &policies["medic"];
    let blind = &policies["blind_retry"];
    assert!(blind["memory_failures"].as_u64() > Some(10), "{comparison}");
    assert_eq!(blind["memory_fixed_first_retry"], 0.0);
    assert!(
        medic_stats["memory_fixed_first_retry"].as_f64() >= Some(0.56),
        "{medic_stats}"
    );
    assert!(
        medic_stats["failure_cost"].as_f64() < blind["failure_cost"].as_f64().map(|c| 0.6 * c),
        "{comparison}"
    );
    // Right-sizing, against the same remediation without it, on the same days: less memory asked for, a cheaper
    // fleet, and (on this small sample) no more than a point more memory failures.
    let rightsizing = &comparison["rightsizing"];
    let number = |field: &str| {
        rightsizing[field]
            .as_f64()
            .unwrap_or_else(|| panic!("rightsizing.{field}: {comparison}"))
    };
    assert!(number("requested_over_used_before") > 3.0, "{rightsizing}");
    assert!(
        number("requested_over_used_after") < 0.6 * number("requested_over_used_before"),
        "{rightsizing}"
    );
    assert!(number("cost_saved_fraction") > 0.03, "{rightsizing}");
    assert!(
        number("memory_failure_rate_after") <= number("memory_failure_rate_before") + 0.01,
        "{rightsizing}"
    );
    assert!(
        rightsizing["patches_stored"].as_u64() > Some(100),
        "{rightsizing}"
    );
    // Unfixed runs cost an engineer's hour each (the default fleet's `prices.human_fix`).
    let cost = |name: &str, field: &str| policies[name][field].as_f64().expect("a number");
    assert_eq!(
        cost("blind_retry", "human_cost"),
        100.0 * cost("blind_retry", "unfixed")
    );
    assert!(
        (cost("medic", "failure_cost_with_humans")
            - cost("medic", "failure_cost")
            - cost("medic", "human_cost"))
        .abs()
            < 1e-6
    );
    // Prevention, against remediation alone: fixes carried forward, and no more recurring memory failures.
    let prevention = &comparison["prevention"];
    let count = |field: &str| {
        prevention[field]
            .as_u64()
            .unwrap_or_else(|| panic!("prevention.{field}: {comparison}"))
    };
    assert!(count("carried_fixes") > 0, "{prevention}");
    assert!(
        count("recurring_memory_failures_with") <= count("recurring_memory_failures_without"),
        "{prevention}"
    );
    assert!(
        prevention["first_attempt_memory_failure_rate_with"].as_f64()
            <= prevention["first_attempt_memory_failure_rate_without"].as_f64(),
        "{prevention}"
    );
    assert!(
        prevention["sizing"]["requested_over_used_after"].as_f64() > Some(1.0),
        "{prevention}"
    );
    // The kept database is the full medic's: its right-size patches carry their evidence, and its carried fixes
    // where they came from.
    let listed = ok_json(medic(&["patch", "list", "--json", "--db", database.url()]));
    assert!(
        listed
            .as_array()
            .is_some_and(|patches| patches.iter().any(|p| {
                p["lifetime"] == "persistent"
                    && p["provenance"]["carried"]["from_patch"].is_string()
            })),
        "no carried fix in the kept database"
    );
    let evidence = listed
        .as_array()
        .and_then(|patches| {
            patches
                .iter()
                .find(|p| p["provenance"]["created_by"] == "medic-rightsize")
        })
        .map(|p| p["provenance"]["rightsize"].clone())
        .unwrap_or_else(|| panic!("no right-size patch"));
    assert!(evidence["runs"].as_u64() >= Some(3), "{evidence}");
    assert!(evidence["settings"][0]["used_bytes"].is_u64(), "{evidence}");
    for file in ["report.md", "fix-rate.svg", "failure-cost.svg"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("| medic |"), "{report}");

    // The kept database serves the model the demo promoted last (on a fleet this small the gate may have
    // promoted none; then the server says so).
    let version = comparison["model"]["last_promoted"]["version"]
        .as_str()
        .map(str::to_owned);
    let server = support::Server::start(database.url(), "admin-token-for-demo-tests", "warn");
    let answer: Value = ureq::post(&format!("{}/v1/recommend", server.base))
        .send_json(json!({
            "job": {"id": "job-0001", "owner": "analytics", "cluster": "yarn-b"},
            "config": {
                "spark.executor.memory": "4g",
                "spark.executor.cores": "4",
                "spark.executor.instances": "4"
            },
            "category": "executor_oom",
            "rule": "executor-task-oom",
            "input_bytes": 8_000_000_000u64
        }))
        .expect("an answer")
        .body_mut()
        .read_json()
        .expect("json");
    // The server consulted that model: it answers with it, or (on a fleet this small) says how few failures of
    // the category it was trained on, a number only the model's description holds.
    let reason = answer["reason"].as_str().unwrap_or_default();
    match version {
        Some(version) => assert!(
            answer["model_version"] == version.as_str()
                || reason.contains("the model was trained on"),
            "{answer}"
        ),
        None => assert!(
            comparison["model"]["trainings"].as_u64() > Some(0)
                && reason.contains("no promoted model"),
            "{answer} {}",
            comparison["model"]
        ),
    }
}

#[tokio::test]
async fn demo_on_sqlite() {
    demo_keeps_a_database_that_serves_the_trained_model(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn demo_on_postgres() {
    demo_keeps_a_database_that_serves_the_trained_model(TestBackend::Postgres).await;
}

#[test]
fn the_same_seed_gives_the_same_numbers_and_a_bad_fleet_is_refused() {
    let run = |name: &str| {
        let out = out_dir(name).display().to_string();
        let mut args = vec![
            "simulate",
            "--json",
            "--out",
            &out,
            "--policies",
            "vpa_bump,medic",
        ];
        args.extend(["--jobs", "150", "--days", "2", "--history-days", "7"]);
        ok_json(medic(&args))
    };
    let first = run("seed-1");
    let second = run("seed-2");
    assert_eq!(first["policies"], second["policies"]);
    assert_eq!(
        first["policies"].as_object().map(|p| p.len()),
        Some(2),
        "{first}"
    );

    let fleet = out_dir("bad-fleet").with_extension("yaml");
    std::fs::write(&fleet, "seed: 1\njobs: 0\n").expect("write");
    let output = medic(&["simulate", "--fleet", fleet.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing field"), "{stderr}");
}

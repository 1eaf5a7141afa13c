//! The remediation flow's guard-rails under concurrency: two real `medic serve` replicas on one database (the real
//! PostgreSQL server, and one SQLite file), and many simultaneous `POST /v1/remediate` calls for the same job split
//! between them. Every guard must hold exactly, as if the calls had come one after the other: at most one active
//! medic patch per job, no more recommendations without a success than the loop guard allows, no more patches a
//! day than the daily cap allows, and every answer that says "retry" backed by a stored patch.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use medic_core::clock::SystemClock;
use medic_core::patch::{Lifetime, PatchStatus};
use medic_store::testing::{TestBackend, TestDatabase};
use medic_store::{PatchFilter, Store};
use serde_json::{Value, json};

#[path = "support/server.rs"]
mod support;

use support::Server;

const ADMIN_TOKEN: &str = "admin-token-for-race-tests-0123";
/// Jobs per scenario; each gets `CALLS_PER_JOB` simultaneous calls.
const JOBS: usize = 12;
const CALLS_PER_JOB: usize = 8;

/// What one scenario expects of every job after its calls: how many answers retry with a patch, and which guard
/// stops the others.
struct Expected {
    retries: usize,
    guard: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_postgres_hold_every_guard() {
    guards_hold_across_replicas(TestDatabase::create(TestBackend::Postgres).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_sqlite_file_hold_every_guard() {
    guards_hold_across_replicas(TestDatabase::create(TestBackend::Sqlite).await).await;
}

async fn guards_hold_across_replicas(database: TestDatabase) {
    let folder = tempfile::tempdir().expect("temp dir");
    // The loop guard: 2 recommendations without a success (the default), daily cap out of the way.
    let loop_guard = folder.path().join("loop.yaml");
    std::fs::write(&loop_guard, "max_retries_per_job_per_day: 100\n").expect("write");
    // The daily cap: 3 patches a day, loop guard out of the way.
    let daily_cap = folder.path().join("cap.yaml");
    std::fs::write(
        &daily_cap,
        "max_retries_per_job_per_day: 3\nmax_recommendations_without_success: 100\n",
    )
    .expect("write");

    let mut violations = Vec::new();
    for (scenario, guards, expected) in [
        (
            "loop",
            &loop_guard,
            Expected {
                retries: 2,
                guard: "loop",
            },
        ),
        (
            "cap",
            &daily_cap,
            Expected {
                retries: 3,
                guard: "daily_cap",
            },
        ),
    ] {
        let guards = guards.to_str().expect("UTF-8 path");
        let replicas = [
            Server::start_with(database.url(), ADMIN_TOKEN, "warn", &["--guards", guards]),
            Server::start_with(database.url(), ADMIN_TOKEN, "warn", &["--guards", guards]),
        ];
        let bases: Vec<String> = replicas.iter().map(|server| server.base.clone()).collect();
        let answers = remediate_all_at_once(scenario, &bases);
        drop(replicas);
        violations.extend(check(scenario, &answers, &expected, database.url()).await);
    }
    assert!(
        violations.is_empty(),
        "{} guard violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// `CALLS_PER_JOB` threads send attempt 1 of each job's heap failure at the same moment (a barrier per job), half
/// of them to each replica; the answers, per job.
fn remediate_all_at_once(scenario: &str, bases: &[String]) -> Vec<Vec<(u16, Value)>> {
    let barrier = Arc::new(Barrier::new(CALLS_PER_JOB));
    let callers: Vec<_> = (0..CALLS_PER_JOB)
        .map(|caller| {
            let base = bases[caller % bases.len()].clone();
            let barrier = barrier.clone();
            let scenario = scenario.to_owned();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(60)))
                    .build()
                    .into();
                (0..JOBS)
                    .map(|job| {
                        let body = json!({
                            "job": {"id": format!("{scenario}-job-{job}"), "workflow": "race"},
                            "attempt": 1,
                            "config": {"spark.executor.memory": "2g"},
                            "logs": [{"source": "stderr", "text": "ERROR Executor: Exception in task 0.0 in stage 1.0 (TID 1)\njava.lang.OutOfMemoryError: Java heap space\n"}],
                        });
                        barrier.wait();
                        let mut response = agent
                            .post(format!("{base}/v1/remediate"))
                            .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
                            .send_json(&body)
                            .expect("the replica answers");
                        let status = response.status().as_u16();
                        let answer = response.body_mut().read_json::<Value>().unwrap_or(Value::Null);
                        (status, answer)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let by_caller: Vec<Vec<(u16, Value)>> = callers
        .into_iter()
        .map(|caller| caller.join().expect("caller"))
        .collect();
    (0..JOBS)
        .map(|job| {
            by_caller
                .iter()
                .map(|answers| answers[job].clone())
                .collect()
        })
        .collect()
}

/// Every way the answers and the stored patches of `scenario`'s jobs differ from calls made one after the other.
async fn check(
    scenario: &str,
    answers: &[Vec<(u16, Value)>],
    expected: &Expected,
    db: &str,
) -> Vec<String> {
    let store = Store::open(db, Arc::new(SystemClock))
        .await
        .expect("the store opens");
    let mut violations = Vec::new();
    let (mut jobs_broken, mut jobs_with_two_active, mut stored) = (0, 0, 0);
    for (job, answers) in answers.iter().enumerate() {
        let violations_before = violations.len();
        let id = format!("{scenario}-job-{job}");
        let failed: Vec<&(u16, Value)> = answers
            .iter()
            .filter(|(status, _)| *status != 200)
            .collect();
        if !failed.is_empty() {
            violations.push(format!(
                "{id}: {} calls not answered with 200: {failed:?}",
                failed.len()
            ));
        }
        let retried: Vec<&Value> = answers
            .iter()
            .filter(|(_, answer)| answer["retry"] == true)
            .map(|(_, answer)| answer)
            .collect();
        let guarded = answers
            .iter()
            .filter(|(_, answer)| answer["guard"] == expected.guard)
            .count();
        if retried.len() != expected.retries || guarded != CALLS_PER_JOB - expected.retries {
            violations.push(format!(
                "{id}: {} retries and {guarded} stopped by guard `{}`, expected {} and {}",
                retried.len(),
                expected.guard,
                expected.retries,
                CALLS_PER_JOB - expected.retries
            ));
        }
        let patches = store
            .list_patches(&PatchFilter {
                job: Some(id.clone()),
                status: None,
            })
            .await
            .expect("the job's patches");
        let medics: Vec<_> = patches
            .iter()
            .filter(|patch| {
                patch.provenance.created_by.as_deref() == Some("medic")
                    && patch.lifetime == Lifetime::UntilSuccess
            })
            .collect();
        let active = medics
            .iter()
            .filter(|patch| patch.status == PatchStatus::Active)
            .count();
        if active != 1 {
            jobs_with_two_active += usize::from(active > 1);
            violations.push(format!("{id}: {active} active medic patches, expected 1"));
        }
        if medics.len() != expected.retries {
            violations.push(format!(
                "{id}: {} medic patches stored, expected {}",
                medics.len(),
                expected.retries
            ));
        }
        let mut answered_ids: Vec<&str> = retried
            .iter()
            .filter_map(|answer| answer["patch_id"].as_str())
            .collect();
        answered_ids.sort_unstable();
        let mut stored_ids: Vec<&str> = medics.iter().map(|patch| patch.id.as_str()).collect();
        stored_ids.sort_unstable();
        if answered_ids != stored_ids {
            violations.push(format!(
                "{id}: the answers name patches {answered_ids:?}, the store holds {stored_ids:?}"
            ));
        }
        stored += medics.len();
        jobs_broken += usize::from(violations.len() > violations_before);
    }
    // The figures for the closing note and docs/BENCHMARKS.md (run with --nocapture to see them).
    eprintln!(
        "{scenario} ({}): {} jobs × {CALLS_PER_JOB} calls over 2 replicas: {jobs_broken} jobs with a guard broken, \
         {jobs_with_two_active} with more than one active medic patch; {stored} medic patches stored, {} allowed",
        store.backend_name(),
        answers.len(),
        answers.len() * expected.retries
    );
    violations
}

//! `POST /v1/remediate` latency of `medic serve` as the patches table grows: the remediation-flow benchmark of
//! docs/BENCHMARKS.md.
//!
//! For each backend (SQLite in a temporary file, then a fresh database on the local PostgreSQL) and each history
//! size (`MEDIC_BENCH_HISTORY`, default `0,100000` patches), this writes that many patches straight into the
//! database (10 per job, over jobs `old-job-N`: medic's consumed recommendations, as a year of remediations leaves
//! them), starts the real `medic serve` binary, and sends `MEDIC_BENCH_REQUESTS` (default 300) remediations one
//! after the other, each for a job with 10 patches of history (or a new job on the empty database): a heap failure
//! medic answers with a new patch, so that every request reads the job's patches, checks the guards and writes. It
//! reports the client's p50, p99 and maximum and checks every answer (200, retry with a patch). A summary goes to
//! target/medic-bench/remediate-summary.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use medic_store::testing::{TestBackend, TestDatabase};
use serde_json::{Value, json};

#[path = "../tests/support/server.rs"]
mod support;

const TOKEN: &str = "bench-admin-token-0123456789";
const PATCHES_PER_JOB: usize = 10;

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|item| item.trim().parse().expect("a number"))
        .collect()
}

/// `count` patches in one statement: medic's consumed until-success patches of jobs `old-job-0`, ... 10 each.
fn history_sql(backend: TestBackend, count: usize) -> String {
    let numbers = match backend {
        TestBackend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {count}) \
             SELECT i FROM n"
        ),
        TestBackend::Postgres => format!("SELECT i FROM generate_series(0, {count} - 1) AS i"),
    };
    format!(
        "INSERT INTO patches (scope_job, body, lifetime, provenance, created_at, status, version) \
         SELECT 'old-job-' || (i / {PATCHES_PER_JOB}), '{{\"spark.executor.memory\":\"8192m\"}}', 'until_success', \
         '{{\"created_by\":\"medic\",\"classification\":\"executor_oom\"}}', '2026-01-01T00:00:00Z', 'consumed', 2 \
         FROM ({numbers}) AS numbers"
    )
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn main() {
    let history_sizes = env_list("MEDIC_BENCH_HISTORY", "0,100000");
    let requests = env_list("MEDIC_BENCH_REQUESTS", "300")[0];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut summary = vec![
        "| backend | patches stored | requests | p50 | p99 | max |".to_owned(),
        "|---|---:|---:|---:|---:|---:|".to_owned(),
    ];
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        for &history in &history_sizes {
            let database = runtime.block_on(TestDatabase::create(backend));
            // The schema first (the store's own migrations), then the history in one statement.
            runtime.block_on(async {
                medic_store::Store::open(database.url(), Arc::new(medic_core::clock::SystemClock))
                    .await
                    .expect("the store opens");
                if history > 0 {
                    medic_store::testing::execute(database.url(), &history_sql(backend, history))
                        .await;
                }
            });
            let server = support::Server::start(database.url(), TOKEN, "warn");
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into();
            let jobs_with_history = (history / PATCHES_PER_JOB).max(1);
            let remediate = |index: usize| -> Duration {
                // Jobs spread over the history, each asked about once.
                let job = if history == 0 {
                    format!("new-job-{index}")
                } else {
                    format!("old-job-{}", index * jobs_with_history / requests)
                };
                let body = json!({
                    "job": {"id": job, "workflow": "bench"},
                    "attempt": 1,
                    "config": {"spark.executor.memory": "4g"},
                    "logs": [{"source": "stderr", "text": "java.lang.OutOfMemoryError: Java heap space\n"}],
                });
                let started = Instant::now();
                let mut response = agent
                    .post(format!("{}/v1/remediate", server.base))
                    .header("Authorization", format!("Bearer {TOKEN}"))
                    .send_json(&body)
                    .expect("the server answers");
                let answer: Value = response.body_mut().read_json().expect("JSON");
                let took = started.elapsed();
                assert_eq!(response.status().as_u16(), 200, "{answer}");
                assert!(
                    answer["retry"] == true && answer["patch_id"].is_string(),
                    "{answer}"
                );
                took
            };
            // Warm-up: the rule pack, the connections, the caches.
            for index in 0..10 {
                let _ = remediate(requests + index);
            }
            let mut latencies: Vec<Duration> = (0..requests).map(remediate).collect();
            latencies.sort_unstable();
            let name = match backend {
                TestBackend::Sqlite => "sqlite",
                TestBackend::Postgres => "postgres",
            };
            let line = format!(
                "| {name} | {history} | {requests} | {:.2} ms | {:.2} ms | {:.2} ms |",
                percentile(&latencies, 0.5).as_secs_f64() * 1e3,
                percentile(&latencies, 0.99).as_secs_f64() * 1e3,
                latencies.last().expect("a request").as_secs_f64() * 1e3,
            );
            println!("{line}");
            summary.push(line);
        }
    }
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/medic-bench");
    std::fs::create_dir_all(&folder).expect("summary folder");
    std::fs::write(
        folder.join("remediate-summary.md"),
        summary.join("\n") + "\n",
    )
    .expect("summary");
}

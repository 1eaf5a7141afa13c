//! Resolve throughput of `medic serve` over real HTTP: the ConfigService benchmark of docs/BENCHMARKS.md.
//!
//! For each backend (SQLite in a temporary file, then a fresh database on the local PostgreSQL), this starts the
//! real `medic serve` binary, stores 10 000 patches across 1 000 jobs through `POST /v1/patches`, then keeps
//! `MEDIC_BENCH_CONNECTIONS` keep-alive connections (default 32) busy with `POST /v1/config/resolve` for
//! `MEDIC_BENCH_SECONDS` (default 10, after 2 s of warm-up), the jobs taken in a fixed order. It reports
//! resolves/s and the latency percentiles seen by the client, and checks every answer (200, 10 patches applied).
//! The load generator runs on one thread on the same 2-core machine as the server, so the figures include its
//! cost. `MEDIC_BENCH_BACKENDS=sqlite` skips PostgreSQL. A summary goes to target/medic-bench/resolve-summary.md.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use medic_store::testing::{TestBackend, TestDatabase};
use serde_json::{Value, json};

const TOKEN: &str = "bench-admin-token-0123456789";
const JOBS: usize = 1_000;
const PATCHES_PER_JOB: usize = 10;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

#[path = "../tests/support/server.rs"]
mod support;

async fn connect(address: &str) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

async fn post(
    sender: &mut SendRequest<Full<Bytes>>,
    address: &str,
    path: &str,
    body: &Value,
    token: bool,
) -> (u16, Bytes) {
    let mut request = hyper::Request::post(path)
        .header("host", address)
        .header("content-type", "application/json");
    if token {
        request = request.header("authorization", format!("Bearer {TOKEN}"));
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    sender.ready().await.expect("connection ready");
    let response = sender.send_request(request).await.expect("response");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, bytes)
}

fn job(index: usize) -> Value {
    json!({
        "id": format!("job-{index:04}"),
        "workflow": format!("workflow-{:02}", index % 100),
        "owner": format!("team-{:02}", index % 20),
        "cluster": format!("cluster-{}", index % 4),
    })
}

/// The `n`-th patch of job `index`: alternately a merge patch and an RFC 6902 patch, every one of them applicable.
fn patch(index: usize, n: usize) -> Value {
    let body = if n.is_multiple_of(2) {
        json!({format!("spark.medic.bench.key{n}"): format!("{}m", 512 * (n + 1))})
    } else {
        json!([{"op": "add", "path": format!("/spark.medic.bench.key{n}"), "value": format!("{n}")}])
    };
    json!({
        "scope": {"job": format!("job-{index:04}")},
        "patch": body,
        "lifetime": "persistent",
        "reason": "benchmark"
    })
}

struct Figures {
    backend: &'static str,
    seed_per_second: f64,
    requests: usize,
    per_second: f64,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
}

async fn run(backend: TestBackend, name: &'static str) -> Figures {
    let database = TestDatabase::create(backend).await;
    let server = support::Server::start(database.url(), TOKEN, "warn");
    let address = server.address().to_owned();
    let connections = env_number("MEDIC_BENCH_CONNECTIONS", 32) as usize;

    // Seed: 10 patches for each of 1 000 jobs, written by 8 concurrent clients.
    let started = Instant::now();
    let mut seeders = Vec::new();
    for worker in 0..8 {
        let address = address.clone();
        seeders.push(tokio::spawn(async move {
            let mut sender = connect(&address).await;
            for index in (worker..JOBS).step_by(8) {
                for n in 0..PATCHES_PER_JOB {
                    let (status, body) =
                        post(&mut sender, &address, "/v1/patches", &patch(index, n), true).await;
                    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
                }
            }
        }));
    }
    for seeder in seeders {
        seeder.await.expect("seeder");
    }
    let seed_per_second = (JOBS * PATCHES_PER_JOB) as f64 / started.elapsed().as_secs_f64();

    let warm_up = Duration::from_secs(2);
    let measured = Duration::from_secs(env_number("MEDIC_BENCH_SECONDS", 10));
    let begin = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..connections {
        let address = address.clone();
        workers.push(tokio::spawn(async move {
            let mut sender = connect(&address).await;
            let mut latencies = Vec::new();
            let mut index = worker * 37;
            loop {
                let sent = Instant::now();
                if sent >= begin + warm_up + measured {
                    break;
                }
                index = (index + 7919) % JOBS;
                let request = json!({
                    "job": job(index),
                    "config": {"spark.executor.memory": "4g", "spark.executor.cores": "4"}
                });
                let (status, body) =
                    post(&mut sender, &address, "/v1/config/resolve", &request, false).await;
                let elapsed = sent.elapsed();
                let answer: Value = serde_json::from_slice(&body).expect("JSON answer");
                assert_eq!(status, 200, "{answer}");
                assert_eq!(
                    answer["applied"].as_array().map(Vec::len),
                    Some(PATCHES_PER_JOB),
                    "{answer}"
                );
                if sent >= begin + warm_up {
                    latencies.push(elapsed);
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figures {
        backend: name,
        seed_per_second,
        requests: latencies.len(),
        per_second: latencies.len() as f64 / measured.as_secs_f64(),
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: at(1.0),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let backends =
        std::env::var("MEDIC_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_owned());
    let mut rows = Vec::new();
    for name in backends.split(',') {
        let backend = match name.trim() {
            "sqlite" => (TestBackend::Sqlite, "SQLite"),
            "postgres" => (TestBackend::Postgres, "PostgreSQL"),
            other => panic!("unknown backend `{other}` in MEDIC_BENCH_BACKENDS"),
        };
        eprintln!("resolve_load: {} ...", backend.1);
        rows.push(runtime.block_on(run(backend.0, backend.1)));
    }
    let connections = env_number("MEDIC_BENCH_CONNECTIONS", 32);
    let mut summary = format!(
        "Resolve throughput, {JOBS} jobs x {PATCHES_PER_JOB} patches, {connections} keep-alive connections\n\n\
         | backend | resolves/s | p50 | p90 | p99 | max | requests | seeding (writes/s) |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    for row in &rows {
        summary.push_str(&format!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} | {:.0} |\n",
            row.backend,
            row.per_second,
            row.p50.as_secs_f64() * 1e3,
            row.p90.as_secs_f64() * 1e3,
            row.p99.as_secs_f64() * 1e3,
            row.max.as_secs_f64() * 1e3,
            row.requests,
            row.seed_per_second,
        ));
    }
    println!("{summary}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/medic-bench");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("resolve-summary.md"), summary);
    }
}

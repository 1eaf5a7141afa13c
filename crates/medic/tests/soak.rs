//! The soak: two real `medic serve` replicas on one database (the real PostgreSQL server, and one SQLite file),
//! writers of every kind at once (patches, remediations that supersede each other, run reports with their
//! attempts), slow clients that hold connections open with half-sent headers, a prober on `/healthz`, and every
//! cycle one replica killed with SIGKILL and started again on the same database. Afterwards every write a replica
//! acknowledged must be in the database as acknowledged, and no job may hold two active patches of medic's
//! remediation flow. Prints acknowledged against lost.
//!
//! CI runs `SOAK_CYCLES` (default 2) cycles of `SOAK_CYCLE_MS` (default 1500) on each backend;
//! `scripts/soak.sh CYCLES` runs more.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use medic_core::clock::SystemClock;
use medic_core::patch::{Lifetime, PatchStatus};
use medic_store::testing::{TestBackend, TestDatabase};
use medic_store::{AttemptFilter, PatchFilter, Store};
use serde_json::{Value, json};

#[path = "support/server.rs"]
mod support;

use support::Server;

const ADMIN_TOKEN: &str = "admin-token-for-soak-tests-01234";
/// Slow clients per replica, each holding one connection with a request's headers half sent.
const SLOW_CLIENTS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_on_postgres() {
    soak(TestDatabase::create(TestBackend::Postgres).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_on_one_sqlite_file() {
    soak(TestDatabase::create(TestBackend::Sqlite).await).await;
}

/// What the writers were told was stored.
#[derive(Default)]
struct Acknowledged {
    /// `POST /v1/patches` answers (201), as returned.
    patches: Vec<Value>,
    /// Patch ids that `POST /v1/remediate` answered with, by job.
    remediations: BTreeMap<String, Vec<String>>,
    /// Attempt numbers whose `POST /v1/runs` was answered 200, by job.
    attempts: BTreeMap<String, Vec<u32>>,
}

/// The replicas' current addresses (`None` while one is down) and what to start them with.
struct Replicas {
    bases: RwLock<Vec<Option<String>>>,
}

impl Replicas {
    /// The address of replica `preferred`, or of the other one while it is down.
    fn base(&self, preferred: usize) -> Option<String> {
        let bases = self.bases.read().expect("lock");
        bases[preferred % bases.len()]
            .clone()
            .or_else(|| bases.iter().flatten().next().cloned())
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

async fn soak(database: TestDatabase) {
    let cycles = setting("SOAK_CYCLES", 2);
    let cycle = Duration::from_millis(setting("SOAK_CYCLE_MS", 1500));
    let folder = tempfile::tempdir().expect("temp dir");
    // The guards out of the way, so that every remediation stores a patch and supersedes the job's last one.
    let guards = folder.path().join("guards.yaml");
    std::fs::write(
        &guards,
        "max_retries_per_job_per_day: 100000\nmax_recommendations_without_success: 100000\n",
    )
    .expect("write");
    let guards = guards.to_str().expect("UTF-8 path").to_owned();
    let start = |db: &str| Server::start_with(db, ADMIN_TOKEN, "warn", &["--guards", &guards]);

    let mut servers = vec![Some(start(database.url())), Some(start(database.url()))];
    let replicas = Arc::new(Replicas {
        bases: RwLock::new(
            servers
                .iter()
                .flatten()
                .map(|s| Some(s.base.clone()))
                .collect(),
        ),
    });
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let cut = Arc::new(AtomicU64::new(0));
    let slow_connections = Arc::new(AtomicU64::new(0));
    let probes = Arc::new(Mutex::new(Vec::<Duration>::new()));

    let mut threads = Vec::new();
    for writer in 0..2 {
        let (replicas, acknowledged, stop, cut) = (
            replicas.clone(),
            acknowledged.clone(),
            stop.clone(),
            cut.clone(),
        );
        threads.push(std::thread::spawn(move || {
            write_patches(writer, &replicas, &acknowledged, &stop, &cut)
        }));
    }
    for writer in 0..2 {
        let (replicas, acknowledged, stop, cut) = (
            replicas.clone(),
            acknowledged.clone(),
            stop.clone(),
            cut.clone(),
        );
        threads.push(std::thread::spawn(move || {
            remediate(writer, &replicas, &acknowledged, &stop, &cut)
        }));
    }
    {
        let (replicas, acknowledged, stop, cut) = (
            replicas.clone(),
            acknowledged.clone(),
            stop.clone(),
            cut.clone(),
        );
        threads.push(std::thread::spawn(move || {
            report_runs(&replicas, &acknowledged, &stop, &cut)
        }));
    }
    for client in 0..2 * SLOW_CLIENTS {
        let (replicas, stop, slow_connections) =
            (replicas.clone(), stop.clone(), slow_connections.clone());
        threads.push(std::thread::spawn(move || {
            hold_half_sent_requests(client, &replicas, &stop, &slow_connections)
        }));
    }
    {
        let (replicas, stop, probes) = (replicas.clone(), stop.clone(), probes.clone());
        threads.push(std::thread::spawn(move || probe(&replicas, &stop, &probes)));
    }

    for round in 0..cycles {
        std::thread::sleep(cycle);
        // Killed while the writers are still sending to it, then started again on the same database.
        let victim = usize::try_from(round % 2).expect("0 or 1");
        servers[victim].take().expect("running").kill_9();
        replicas.bases.write().expect("lock")[victim] = None;
        let restarted = start(database.url());
        replicas.bases.write().expect("lock")[victim] = Some(restarted.base.clone());
        servers[victim] = Some(restarted);
    }
    std::thread::sleep(cycle);
    stop.store(true, Ordering::SeqCst);
    for thread in threads {
        thread.join().expect("a soak thread");
    }
    drop(servers);

    let acknowledged = std::mem::take(&mut *acknowledged.lock().expect("lock"));
    let store = Store::open(database.url(), Arc::new(SystemClock))
        .await
        .expect("the store opens");
    let mut lost = Vec::new();
    let mut changed = Vec::new();
    for stored in &acknowledged.patches {
        let id = stored["id"].as_str().expect("an id");
        match store.patch(id).await.expect("read") {
            None => lost.push(format!("patch {id}")),
            Some(read) if serde_json::to_value(&read).expect("json") != *stored => {
                changed.push(format!(
                    "patch {id}: acknowledged {stored}, stored {read:?}"
                ));
            }
            Some(_) => {}
        }
    }
    let mut jobs_with_two_active = 0;
    for (job, ids) in &acknowledged.remediations {
        let patches = store
            .list_patches(&PatchFilter {
                job: Some(job.clone()),
                status: None,
            })
            .await
            .expect("the job's patches");
        for id in ids {
            if !patches.iter().any(|patch| &patch.id == id) {
                lost.push(format!("remediation patch {id} of {job}"));
            }
        }
        let active = patches
            .iter()
            .filter(|patch| {
                patch.status == PatchStatus::Active
                    && patch.lifetime == Lifetime::UntilSuccess
                    && patch.provenance.created_by.as_deref() == Some("medic")
            })
            .count();
        jobs_with_two_active += usize::from(active > 1);
    }
    for (job, numbers) in &acknowledged.attempts {
        let stored = store
            .attempts(&AttemptFilter {
                job: Some(job.clone()),
                ..AttemptFilter::default()
            })
            .await
            .expect("the job's attempts");
        for number in numbers {
            if !stored.iter().any(|entry| entry.attempt == *number) {
                lost.push(format!("attempt {number} of {job}"));
            }
        }
    }

    let patches = acknowledged.patches.len();
    let remediations: usize = acknowledged.remediations.values().map(Vec::len).sum();
    let attempts: usize = acknowledged.attempts.values().map(Vec::len).sum();
    let mut probes = probes.lock().expect("lock").clone();
    probes.sort_unstable();
    let quantile = |q: f64| {
        probes
            .get(((probes.len() as f64 * q) as usize).min(probes.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    // The figures for the closing note and docs/BENCHMARKS.md (run with --nocapture to see them).
    eprintln!(
        "soak ({}): {cycles} kill -9 cycles of {} ms, 2 replicas, 5 writers, {} slow clients ({} connections held): \
         acknowledged {} (patches {patches}, remediation patches {remediations}, attempts {attempts}), lost {}, \
         changed {}; {} requests cut off unanswered; jobs with 2+ active medic patches {jobs_with_two_active}; \
         /healthz {} probes p50 {:.1} ms p99 {:.1} ms",
        store.backend_name(),
        cycle.as_millis(),
        2 * SLOW_CLIENTS,
        slow_connections.load(Ordering::SeqCst),
        patches + remediations + attempts,
        lost.len(),
        changed.len(),
        cut.load(Ordering::SeqCst),
        probes.len(),
        quantile(0.5),
        quantile(0.99),
    );
    assert!(
        patches > 0 && remediations > 0 && attempts > 0,
        "every kind of writer was acknowledged at least once"
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(changed.is_empty(), "changed: {changed:?}");
    assert_eq!(
        jobs_with_two_active, 0,
        "jobs with two active medic patches"
    );
    assert!(
        slow_connections.load(Ordering::SeqCst) >= 2 * SLOW_CLIENTS as u64,
        "the slow clients connected"
    );
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Sends `body` to `path` of replica `preferred` (or the other one) as the admin: the answer's status and JSON, or
/// `None` when no replica is up or the request was cut off (then nothing was acknowledged).
fn send(
    agent: &ureq::Agent,
    replicas: &Replicas,
    preferred: usize,
    path: &str,
    body: &Value,
) -> Option<(u16, Value)> {
    let base = replicas.base(preferred)?;
    let mut response = agent
        .post(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send_json(body)
        .ok()?;
    let status = response.status().as_u16();
    let answer = response.body_mut().read_json::<Value>().ok()?;
    Some((status, answer))
}

/// Stores persistent patches, one new job each time, alternating between the replicas.
fn write_patches(
    writer: usize,
    replicas: &Replicas,
    acknowledged: &Mutex<Acknowledged>,
    stop: &AtomicBool,
    cut: &AtomicU64,
) {
    let agent = agent();
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let body = json!({
            "scope": {"job": format!("soak-patch-{writer}-{n}")},
            "patch": {"spark.executor.memory": format!("{}m", 1024 + n)},
            "lifetime": "persistent",
            "reason": format!("soak writer {writer}, write {n}"),
        });
        match send(&agent, replicas, n, "/v1/patches", &body) {
            Some((201, stored)) => acknowledged.lock().expect("lock").patches.push(stored),
            Some((status, answer)) => panic!("a patch write answered {status}: {answer}"),
            None => {
                cut.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Remediates a heap failure of one of five jobs, so that every job's medic patch supersedes its last one.
fn remediate(
    writer: usize,
    replicas: &Replicas,
    acknowledged: &Mutex<Acknowledged>,
    stop: &AtomicBool,
    cut: &AtomicU64,
) {
    let agent = agent();
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // Both writers remediate the same five jobs: their calls for one job collide, across the replicas too.
        let job = format!("soak-remediate-{}", n % 5);
        let body = json!({
            "job": {"id": job, "workflow": "soak"},
            "attempt": 1,
            "config": {"spark.executor.memory": "2g"},
            "logs": [{"source": "stderr", "text": "ERROR Executor: Exception in task 0.0 in stage 1.0 (TID 1)\njava.lang.OutOfMemoryError: Java heap space\n"}],
        });
        match send(&agent, replicas, n + writer, "/v1/remediate", &body) {
            Some((200, answer)) => {
                let id = answer["patch_id"].as_str().unwrap_or_else(|| {
                    panic!("a remediation with the guards out of the way stored nothing: {answer}")
                });
                acknowledged
                    .lock()
                    .expect("lock")
                    .remediations
                    .entry(job)
                    .or_default()
                    .push(id.to_owned());
            }
            // Two calls for one job that kept colliding: an answer, not a failure.
            Some((409, _)) => {}
            Some((status, answer)) => panic!("a remediation answered {status}: {answer}"),
            None => {
                cut.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Reports successful runs with their attempts, each attempt number once.
fn report_runs(
    replicas: &Replicas,
    acknowledged: &Mutex<Acknowledged>,
    stop: &AtomicBool,
    cut: &AtomicU64,
) {
    let agent = agent();
    for n in 0..u32::MAX {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let job = format!("soak-run-{}", n % 3);
        let attempt = n + 1;
        let body = json!({
            "job": {"id": job},
            "applied": [],
            "outcome": "succeeded",
            "attempt": {
                "job": {"id": job}, "attempt": attempt, "config": {"spark.executor.memory": "2g"},
                "outcome": "succeeded", "decision": "succeeded", "runtime_seconds": 12.5,
                "cost_dollars": 0.01, "at": "2026-12-03T10:00:00Z"
            },
        });
        match send(&agent, replicas, n as usize, "/v1/runs", &body) {
            Some((200, _)) => acknowledged
                .lock()
                .expect("lock")
                .attempts
                .entry(job)
                .or_default()
                .push(attempt),
            Some((status, answer)) => panic!("a run report answered {status}: {answer}"),
            None => {
                cut.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Holds one connection with a request's headers half sent, a header line every 500 ms, and opens another when
/// the server closes it (its header-read timeout) or dies.
fn hold_half_sent_requests(
    client: usize,
    replicas: &Replicas,
    stop: &AtomicBool,
    connections: &AtomicU64,
) {
    while !stop.load(Ordering::SeqCst) {
        let Some(base) = replicas.base(client) else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let Ok(mut socket) = TcpStream::connect(base.trim_start_matches("http://")) else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        connections.fetch_add(1, Ordering::SeqCst);
        let mut sent = socket.write_all(b"POST /v1/patches HTTP/1.1\r\nHost: soak\r\n");
        while sent.is_ok() && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(500));
            sent = socket.write_all(b"X-Slow: still-sending\r\n");
        }
    }
}

/// Asks each live replica's `/healthz` every 50 ms and keeps how long the answers took.
fn probe(replicas: &Replicas, stop: &AtomicBool, probes: &Mutex<Vec<Duration>>) {
    let agent = agent();
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if let Some(base) = replicas.base(n) {
            let started = Instant::now();
            if let Ok(response) = agent.get(format!("{base}/healthz")).call()
                && response.status() == 200
            {
                probes.lock().expect("lock").push(started.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

//! `medic serve`, `medic patch` and `medic config` through the real binary and a real socket, on SQLite and the
//! real PostgreSQL server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use medic_store::testing::{TestBackend, TestDatabase};
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "admin-token-for-tests-0123";

#[path = "support/server.rs"]
mod support;

use support::Server;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn medic(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_medic"));
    command
        .args(args)
        .env_remove("MEDIC_DB")
        .env_remove("MEDIC_SERVER")
        .env_remove("MEDIC_TOKEN");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("medic runs")
}

fn stdout_json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

async fn database(backend: TestBackend) -> TestDatabase {
    TestDatabase::create(backend).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    acknowledged_writes_survive_kill_9(database(TestBackend::Sqlite).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgres() {
    acknowledged_writes_survive_kill_9(database(TestBackend::Postgres).await);
}

/// Four clients write patches as fast as they can; the server is killed with SIGKILL in the middle of that. After a
/// restart, every write the server had acknowledged (201) is there, exactly as acknowledged.
fn acknowledged_writes_survive_kill_9(database: TestDatabase) {
    let server = Server::start(database.url(), ADMIN_TOKEN, "info");
    let acknowledged = Arc::new(Mutex::new(Vec::<Value>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (base, acknowledged, stop) =
                (server.base.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = agent();
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let body = json!({
                        "scope": {"job": format!("job-{writer}")},
                        "patch": {"spark.executor.memory": format!("{n}m")},
                        "lifetime": "persistent",
                        "reason": format!("writer {writer} write {n}")
                    });
                    let response = agent
                        .post(format!("{base}/v1/patches"))
                        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
                        .send_json(&body);
                    // After the kill, requests fail to connect or are cut off: those were never acknowledged.
                    let Ok(mut response) = response else { break };
                    if response.status() != 201 {
                        break;
                    }
                    let Ok(stored) = response.body_mut().read_json::<Value>() else {
                        break;
                    };
                    acknowledged.lock().expect("lock").push(stored);
                }
            })
        })
        .collect();
    let started = Instant::now();
    while acknowledged.lock().expect("lock").len() < 200
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill_9();
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.join().expect("writer");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 200,
        "only {} writes acknowledged",
        acknowledged.len()
    );

    let restarted = Server::start(database.url(), ADMIN_TOKEN, "info");
    let agent = agent();
    for stored in &acknowledged {
        let id = stored["id"].as_str().expect("id");
        let mut response = agent
            .get(format!("{}/v1/patches/{id}", restarted.base))
            .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
            .call()
            .expect("read back");
        assert_eq!(response.status(), 200, "acknowledged patch {id} was lost");
        let read: Value = response.body_mut().read_json().expect("json");
        assert_eq!(&read, stored, "acknowledged patch {id} changed");
    }
    // The audit trail has every acknowledged creation too.
    let mut audit = agent
        .get(format!("{}/v1/audit?limit=10000", restarted.base))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .call()
        .expect("audit");
    let audit: Value = audit.body_mut().read_json().expect("json");
    let audited: Vec<&str> = audit
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|entry| entry["patch_id"].as_str())
        .collect();
    for stored in &acknowledged {
        assert!(audited.contains(&stored["id"].as_str().expect("id")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_gives_the_same_answers_through_a_server_and_a_database() {
    let database = database(TestBackend::Sqlite).await;
    let db = database.url().to_owned();
    let server = Server::start(&db, ADMIN_TOKEN, "info");
    let via_server = [
        ("MEDIC_SERVER", server.base.as_str()),
        ("MEDIC_TOKEN", ADMIN_TOKEN),
    ];
    let via_db = [("MEDIC_DB", db.as_str())];

    let global = stdout_json(&medic(
        &[
            "patch",
            "add",
            "--set",
            "spark.sql.adaptive.enabled=true",
            "--lifetime",
            "persistent",
        ],
        &via_server,
    ));
    assert_eq!(global["provenance"]["created_by"], "admin");
    let by_job = stdout_json(&medic(
        &[
            "patch",
            "add",
            "--job",
            "rollup",
            "--set",
            "spark.executor.memory=8g",
            "--unset",
            "spark.dynamicAllocation.enabled",
            "--lifetime",
            "until-success",
            "--reason",
            "executor OOM",
        ],
        &via_db,
    ));
    assert_eq!(by_job["provenance"]["reason"], "executor OOM");

    let conf = std::env::temp_dir().join(format!("medic-cli-conf-{}.conf", std::process::id()));
    std::fs::write(
        &conf,
        "spark.executor.memory 4g\nspark.dynamicAllocation.enabled true\nspark.executor.cores 4\n",
    )
    .expect("write conf");
    let conf_arg = conf.to_str().expect("utf-8");
    let resolve = ["config", "resolve", "--job", "rollup", "--conf", conf_arg];
    let from_server = stdout_json(&medic(&resolve, &via_server));
    let from_db = stdout_json(&medic(&resolve, &via_db));
    assert_eq!(from_server, from_db);
    assert_eq!(
        from_server["config"],
        json!({"spark.executor.cores": "4", "spark.executor.memory": "8g", "spark.sql.adaptive.enabled": "true"})
    );
    assert_eq!(from_server["applied"], json!([global["id"], by_job["id"]]));

    let defaults = medic(
        &[
            "config",
            "resolve",
            "--job",
            "rollup",
            "--conf",
            conf_arg,
            "--format",
            "conf-args",
        ],
        &via_db,
    );
    assert_eq!(
        String::from_utf8_lossy(&defaults.stdout),
        "--conf spark.executor.cores=4\n--conf spark.executor.memory=8g\n--conf spark.sql.adaptive.enabled=true\n"
    );
    std::fs::remove_file(&conf).ok();

    // A stale version is refused through either path, with the server's reason.
    let id = by_job["id"].as_str().expect("id");
    stdout_json(&medic(
        &["patch", "revoke", id, "--expected-version", "1"],
        &via_server,
    ));
    for env in [&via_server[..], &via_db[..]] {
        let stale = medic(&["patch", "revoke", id, "--expected-version", "1"], env);
        assert!(!stale.status.success());
        assert!(
            String::from_utf8_lossy(&stale.stderr).contains("version 2, not 1"),
            "{}",
            String::from_utf8_lossy(&stale.stderr)
        );
    }
    let listed = stdout_json(&medic(
        &["patch", "list", "--status", "revoked", "--json"],
        &via_db,
    ));
    assert_eq!(listed.as_array().map(Vec::len), Some(1));

    // Without a token the server refuses changes and says why.
    let refused = medic(
        &["patch", "add", "--set", "a=b", "--lifetime", "one-shot"],
        &[("MEDIC_SERVER", server.base.as_str())],
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401 unauthorized"));
}

/// `medic serve --rightsize-every` right-sizes on its own: a job with four successful runs that peaked at 1 GiB of
/// its 8 GiB executors gets a persistent right-size patch (halved: the first bounded step), with its evidence,
/// without anyone calling `medic rightsize`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_right_sizes_on_its_schedule() {
    use medic_core::clock::{Clock, SystemClock};
    use medic_core::history::{AttemptEntry, RunMetrics};

    let database = database(TestBackend::Sqlite).await;
    let store = medic_store::Store::open(database.url(), Arc::new(SystemClock))
        .await
        .expect("store");
    let mut config = medic_core::SparkConf::new();
    config.set("spark.executor.memory", "8g");
    config.set("spark.executor.instances", "4");
    let runs: Vec<AttemptEntry> = (1..=4)
        .map(|hours_ago| AttemptEntry {
            job: medic_core::JobIdentity::new("hourly-rollup"),
            attempt: 1,
            config: config.clone(),
            applied_patches: Vec::new(),
            outcome: medic_core::RunOutcome::Succeeded,
            exit_code: Some(0),
            timed_out: false,
            failure_category: None,
            failure_rule: None,
            follows_category: None,
            decision: "succeeded".into(),
            reason: String::new(),
            recommended_changes: Default::default(),
            patch_id: None,
            runtime_seconds: 600.0,
            cost_dollars: 0.1,
            peak_memory_bytes: Some(1 << 30),
            metrics: Some(RunMetrics {
                peak_executor_heap_bytes: Some(1 << 30),
                ..RunMetrics::default()
            }),
            at: SystemClock.now() - time::Duration::hours(hours_ago),
        })
        .collect();
    store.add_attempts(&runs).await.expect("history");

    let server = Server::start_with(
        database.url(),
        ADMIN_TOKEN,
        "info",
        &["--rightsize-every", "1s"],
    );
    let started = Instant::now();
    let patch = loop {
        let patches: Value = agent()
            .get(&format!("{}/v1/patches", server.base))
            .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
            .call()
            .expect("list")
            .body_mut()
            .read_json()
            .expect("json");
        let found = patches.as_array().and_then(|patches| {
            patches
                .iter()
                .find(|p| p["provenance"]["created_by"] == "medic-rightsize")
                .cloned()
        });
        if let Some(patch) = found {
            break patch;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no right-size after 30 s: {patches}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(patch["lifetime"], "persistent", "{patch}");
    assert_eq!(patch["scope"], json!({"job": "hourly-rollup"}), "{patch}");
    assert_eq!(patch["patch"]["spark.executor.memory"], "4096m", "{patch}");
    assert_eq!(patch["provenance"]["rightsize"]["runs"], 4, "{patch}");
}

/// What a client that sent `sent` and then went quiet reads until the server closes the connection (at most
/// `patience`): the server's answer, if any. Panics if the server keeps the connection open longer.
fn read_until_closed(mut stream: TcpStream, patience: Duration) -> String {
    stream
        .set_read_timeout(Some(patience))
        .expect("read timeout");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => answer.extend_from_slice(&buffer[..read]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(error) => {
                panic!("the server kept a slow client's connection open for {patience:?}: {error}")
            }
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// A connection to `server` that sends `bytes` and then nothing more.
fn stalled(server: &Server, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(server.address()).expect("connect");
    stream.write_all(bytes).expect("write");
    stream
}

/// A hundred clients that send half a request's headers and stop neither keep `/healthz` from answering nor hold
/// their connections beyond the header-read timeout; a request whose body stalls is answered 408 at the request
/// deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_do_not_starve_the_server() {
    let database = database(TestBackend::Sqlite).await;
    let server = Server::start_with(
        database.url(),
        ADMIN_TOKEN,
        "warn",
        &["--header-read-timeout", "1s", "--request-timeout", "2s"],
    );
    let slow: Vec<TcpStream> = (0..100)
        .map(|_| {
            stalled(
                &server,
                b"POST /v1/patches HTTP/1.1\r\nHost: medic\r\nContent-Ty",
            )
        })
        .collect();
    let healthz = agent()
        .get(format!("{}/healthz", server.base))
        .call()
        .expect("healthz answers");
    assert_eq!(healthz.status(), 200);
    for stream in slow {
        read_until_closed(stream, Duration::from_secs(10));
    }
    let body_stalls = stalled(
        &server,
        format!(
            "POST /v1/patches HTTP/1.1\r\nHost: medic\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"scope\""
        )
        .as_bytes(),
    );
    let answer = read_until_closed(body_stalls, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

/// With `--max-connections 4` and four idle connections, a fifth client waits until the header-read timeout frees
/// a place, then gets its answer: the cap holds, and idle clients cannot keep others out for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_and_idle_clients_make_way() {
    let database = database(TestBackend::Sqlite).await;
    let server = Server::start_with(
        database.url(),
        ADMIN_TOKEN,
        "warn",
        &["--header-read-timeout", "2s", "--max-connections", "4"],
    );
    let idle: Vec<TcpStream> = (0..4).map(|_| stalled(&server, b"")).collect();
    // Let the server accept the four before the fifth comes.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let healthz = agent()
        .get(format!("{}/healthz", server.base))
        .call()
        .expect("healthz answers once a place is free");
    assert_eq!(healthz.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "answered after {:?}: the fifth connection was served beside four others",
        started.elapsed()
    );
    for stream in idle {
        read_until_closed(stream, Duration::from_secs(10));
    }
}

/// SIGTERM while a client holds a request half-sent: the server stops within its shutdown grace, successfully.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_within_its_grace_despite_slow_clients() {
    let database = database(TestBackend::Sqlite).await;
    let mut server = Server::start_with(
        database.url(),
        ADMIN_TOKEN,
        "warn",
        &["--shutdown-grace", "1s", "--request-timeout", "60s"],
    );
    let _in_flight = stalled(
        &server,
        format!(
            "POST /v1/patches HTTP/1.1\r\nHost: medic\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
        )
        .as_bytes(),
    );
    let _idle = stalled(&server, b"GET /healthz HTTP/1.1\r\n");
    std::thread::sleep(Duration::from_millis(300));
    let status = server
        .terminate(Duration::from_secs(15))
        .expect("the server stops after SIGTERM while clients hold their connections");
    assert!(status.success(), "{status}");
}

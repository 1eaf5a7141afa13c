//! The API through its router (`app(state).oneshot(request)`, no socket), on SQLite and on the real PostgreSQL
//! server. Tests of the real binary and socket (durability across `kill -9`) live in `crates/medic/tests`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use medic_core::clock::ManualClock;
use medic_server::{AppState, Role, Tokens, app};
use medic_store::Store;
use medic_store::testing::{TestBackend, TestDatabase};
use serde::Deserialize;
use serde_json::{Value, json};
use time::macros::datetime;
use tower::ServiceExt;

const READER: &str = "reader-token-0123456789";
const WRITER: &str = "writer-token-0123456789";
const ADMIN: &str = "admin-token-0123456789";

struct TestApp {
    router: Router,
    clock: Arc<ManualClock>,
    store: Store,
    /// The state the router was built from, to build another over the same store (`reconfigured`).
    state: AppState,
    _database: TestDatabase,
}

impl TestApp {
    async fn start(backend: TestBackend) -> TestApp {
        let database = TestDatabase::create(backend).await;
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-22 10:00 UTC)));
        let store = Store::open(database.url(), clock.clone())
            .await
            .expect("store opens");
        let mut tokens = Tokens::new();
        for (name, role, token) in [
            ("report-viewer", Role::Reader, READER),
            ("scheduler", Role::Writer, WRITER),
            ("oncall", Role::Admin, ADMIN),
        ] {
            tokens.add(name, role, token).expect("token");
        }
        let mut state = AppState::new(store.clone(), tokens);
        state.body_limit = 64 * 1024;
        TestApp {
            router: app(state.clone()),
            clock,
            store,
            state,
            _database: database,
        }
    }

    /// The same store and clock behind a router whose state `change` has changed, as the binary would set it.
    fn reconfigured(mut self, change: impl FnOnce(&mut AppState)) -> TestApp {
        change(&mut self.state);
        self.router = app(self.state.clone());
        self
    }

    /// Sends a request; `body` is sent as JSON text.
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
        content_type: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let content_type = body.as_ref().map(|_| "application/json");
        self.send(
            method,
            path,
            token,
            body.map(|body| body.to_string()),
            content_type,
        )
        .await
    }

    async fn create(&self, body: Value) -> Value {
        let (status, patch) = self
            .call("POST", "/v1/patches", Some(WRITER), Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{patch}");
        patch
    }
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::TestApp::start(super::TestBackend::Sqlite).await).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::TestApp::start(super::TestBackend::Postgres).await).await;
                }
            )*
        }
    };
}

both_backends!(
    bad_requests_are_refused_and_store_nothing,
    the_scheduler_gets_the_patched_configuration,
    revokes_name_the_version_they_expect,
    runs_consume_patches_by_lifetime,
    run_reports_add_their_attempt_to_the_history,
    expired_patches_stop_applying,
    changes_are_audited_with_the_tokens_name,
    health_metrics_and_openapi,
    recommendations_use_the_promoted_model_once_there_is_one,
    remediation_patches_the_job_when_a_configuration_can_help,
    shadow_mode_stores_nothing_and_retries_as_without_medic,
    a_run_stops_at_its_attempts,
    the_daily_cap_counts_the_last_24_hours,
    a_new_recommendation_supersedes_the_last_until_a_loop_stops_it,
    a_memory_failure_revokes_the_jobs_right_size,
    history_is_stored_all_or_nothing_and_audited,
    secrets_are_redacted_where_shown_and_applied_on_resolve,
    resolve_opens_to_anonymous_callers_only_when_asked,
);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BadRequest {
    name: String,
    method: String,
    path: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_size: Option<usize>,
    #[serde(default)]
    content_type: Option<String>,
    status: u16,
    code: String,
    #[serde(default)]
    message_contains: Option<String>,
}

async fn bad_requests_are_refused_and_store_nothing(app: TestApp) {
    let text = include_str!("data/bad-requests.yaml");
    let cases: Vec<BadRequest> = serde_saphyr::from_str(text).expect("bad-requests.yaml");
    assert!(cases.len() >= 25);
    let mut failures = Vec::new();
    for case in &cases {
        let token = case.token.as_deref().map(|role| match role {
            "reader" => READER,
            "writer" => WRITER,
            "admin" => ADMIN,
            _ => "not-a-known-token-0000",
        });
        let body = match case.body_size {
            Some(size) => {
                let reason = "x".repeat(size);
                Some(
                    json!({"scope": {"job": "rollup"}, "patch": {"spark.a": "1"}, "lifetime": "one_shot", "reason": reason})
                        .to_string(),
                )
            }
            None => case.body.clone(),
        };
        let content_type = match case.content_type.as_deref() {
            Some("none") => None,
            Some(other) => Some(other),
            None => body.as_ref().map(|_| "application/json"),
        };
        let (status, response) = app
            .send(&case.method, &case.path, token, body, content_type)
            .await;
        let code = response.pointer("/error/code").and_then(Value::as_str);
        let message = response
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let shape_ok = response.as_object().is_some_and(|o| o.len() == 1)
            && response["error"].as_object().is_some_and(|o| o.len() == 2);
        if status.as_u16() != case.status
            || code != Some(case.code.as_str())
            || !shape_ok
            || case
                .message_contains
                .as_deref()
                .is_some_and(|needle| !message.contains(needle))
        {
            failures.push(format!(
                "{}: expected {} {} (message containing {:?}), got {status} {response}",
                case.name, case.status, case.code, case.message_contains
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let (_, patches) = app.call("GET", "/v1/patches", Some(READER), None).await;
    assert_eq!(patches, json!([]), "a refused request stored something");
    let (_, audit) = app.call("GET", "/v1/audit", Some(READER), None).await;
    assert_eq!(audit, json!([]), "a refused request was audited");
    let (_, attempts) = app.call("GET", "/v1/attempts", Some(READER), None).await;
    assert_eq!(attempts, json!([]), "a refused request stored an attempt");
}

async fn the_scheduler_gets_the_patched_configuration(app: TestApp) {
    let job =
        json!({"id": "rollup", "workflow": "nightly", "owner": "data-eng", "cluster": "emr-1"});
    let by_job = app
        .create(json!({
            "scope": {"job": "rollup"},
            "patch": [{"op": "replace", "path": "/spark.executor.memory", "value": "8g"}],
            "lifetime": "until_success",
            "reason": "java.lang.OutOfMemoryError on executors",
            "provenance": {"rule": "executor-oom", "classification": "memory.executor_oom"}
        }))
        .await;
    let global = app
        .create(json!({"scope": {}, "patch": {"spark.sql.adaptive.enabled": "true", "spark.executor.memory": "2g"}, "lifetime": "persistent"}))
        .await;
    let by_owner = app
        .create(json!({"scope": {"owner": "data-eng"}, "patch": {"spark.executor.memoryOverhead": "1g"}, "lifetime": "persistent"}))
        .await;
    let failing = app
        .create(json!({
            "scope": {"workflow": "nightly"},
            "patch": [{"op": "remove", "path": "/spark.not.set"}, {"op": "add", "path": "/spark.x", "value": "1"}],
            "lifetime": "persistent"
        }))
        .await;
    let other_job = app
        .create(json!({"scope": {"job": "hourly"}, "patch": {"spark.executor.memory": "1g"}, "lifetime": "one_shot"}))
        .await;
    assert_eq!(by_job["version"], 1);
    assert_eq!(by_job["status"], "active");
    assert_eq!(by_job["provenance"]["created_by"], "scheduler");
    assert_eq!(by_job["provenance"]["rule"], "executor-oom");

    let (status, resolution) = app
        .call(
            "POST",
            "/v1/config/resolve",
            Some(READER),
            Some(json!({"job": job, "config": {"spark.executor.memory": "4g", "spark.executor.cores": "4"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resolution}");
    assert_eq!(
        resolution["config"],
        json!({
            "spark.executor.cores": "4",
            "spark.executor.memory": "8g",
            "spark.executor.memoryOverhead": "1g",
            "spark.sql.adaptive.enabled": "true"
        })
    );
    assert_eq!(
        resolution["applied"],
        json!([global["id"], by_owner["id"], by_job["id"]])
    );
    assert_eq!(resolution["skipped"][0]["id"], failing["id"]);
    assert!(
        resolution["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );

    let (_, listed) = app
        .call("GET", "/v1/patches?job=hourly", Some(READER), None)
        .await;
    assert_eq!(listed, json!([other_job]));
    let (_, shown) = app
        .call(
            "GET",
            &format!("/v1/patches/{}", by_job["id"].as_str().expect("id")),
            Some(READER),
            None,
        )
        .await;
    assert_eq!(shown, by_job);
    let (_, active) = app
        .call("GET", "/v1/patches?status=active", Some(READER), None)
        .await;
    assert_eq!(active.as_array().map(Vec::len), Some(5));
}

async fn revokes_name_the_version_they_expect(app: TestApp) {
    let patch = app
        .create(json!({"scope": {"job": "rollup"}, "patch": {"spark.a": "1"}, "lifetime": "persistent"}))
        .await;
    let path = format!("/v1/patches/{}", patch["id"].as_str().expect("id"));
    let (status, revoked) = app
        .call("DELETE", &format!("{path}?version=1"), Some(WRITER), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(
        (revoked["status"].clone(), revoked["version"].clone()),
        (json!("revoked"), json!(2))
    );
    let (status, conflict) = app
        .call("DELETE", &format!("{path}?version=1"), Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"]["code"], "version_conflict");

    let second = app
        .create(json!({"scope": {"job": "rollup"}, "patch": {"spark.b": "1"}, "lifetime": "persistent"}))
        .await;
    let request = Request::builder()
        .method("DELETE")
        .uri(format!(
            "/v1/patches/{}",
            second["id"].as_str().expect("id")
        ))
        .header(header::AUTHORIZATION, format!("Bearer {WRITER}"))
        .header(header::IF_MATCH, "\"1\"")
        .body(Body::empty())
        .expect("request");
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);

    let (_, resolution) = app
        .call(
            "POST",
            "/v1/config/resolve",
            Some(READER),
            Some(json!({"job": {"id": "rollup"}})),
        )
        .await;
    assert_eq!(resolution["applied"], json!([]));
}

async fn runs_consume_patches_by_lifetime(app: TestApp) {
    let one_shot = app
        .create(
            json!({"scope": {"job": "rollup"}, "patch": {"spark.a": "1"}, "lifetime": "one_shot"}),
        )
        .await;
    let until_success = app
        .create(json!({"scope": {"job": "rollup"}, "patch": {"spark.b": "1"}, "lifetime": "until_success"}))
        .await;
    let resolve = json!({"job": {"id": "rollup"}, "config": {}});
    let (_, first) = app
        .call(
            "POST",
            "/v1/config/resolve",
            Some(READER),
            Some(resolve.clone()),
        )
        .await;
    assert_eq!(
        first["applied"],
        json!([one_shot["id"], until_success["id"]])
    );

    let (status, _) = app
        .call(
            "POST",
            "/v1/runs",
            Some(READER),
            Some(
                json!({"job": {"id": "rollup"}, "applied": first["applied"], "outcome": "failed"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, recorded) = app
        .call(
            "POST",
            "/v1/runs",
            Some(WRITER),
            Some(
                json!({"job": {"id": "rollup"}, "applied": first["applied"], "outcome": "failed"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["consumed"][0]["id"], one_shot["id"]);
    let (_, second) = app
        .call(
            "POST",
            "/v1/config/resolve",
            Some(READER),
            Some(resolve.clone()),
        )
        .await;
    assert_eq!(second["applied"], json!([until_success["id"]]));

    let (_, recorded) = app
        .call(
            "POST",
            "/v1/runs",
            Some(WRITER),
            Some(json!({"job": {"id": "rollup"}, "applied": second["applied"], "outcome": "succeeded"})),
        )
        .await;
    assert_eq!(recorded["consumed"][0]["status"], "consumed");
    let (_, third) = app
        .call("POST", "/v1/config/resolve", Some(READER), Some(resolve))
        .await;
    assert_eq!(third["applied"], json!([]));
    assert_eq!(third["config"], json!({}));
}

async fn run_reports_add_their_attempt_to_the_history(app: TestApp) {
    let attempt = |number: u32, outcome: &str, peak: u64| {
        json!({
            "job": {"id": "rollup", "workflow": "nightly"},
            "attempt": number,
            "config": {"spark.driver.memory": format!("{}m", 512 * number)},
            "outcome": outcome,
            "exit_code": if outcome == "failed" { 52 } else { 0 },
            "failure_category": if outcome == "failed" { json!("executor_oom") } else { json!(null) },
            "decision": if outcome == "failed" { "retry" } else { "succeeded" },
            "recommended_changes": if outcome == "failed" { json!({"spark.driver.memory": "1024m"}) } else { json!({}) },
            "runtime_seconds": 20.5,
            "cost_dollars": 0.0002,
            "peak_memory_bytes": peak,
            "metrics": {"tasks": 4, "peak_jvm_heap_bytes": peak, "gc_time_ms": 120},
            "at": format!("2026-11-22T10:0{number}:00Z"),
        })
    };
    for (number, outcome, peak) in [(1, "failed", 500_000_000u64), (2, "succeeded", 700_000_000)] {
        let (status, recorded) = app
            .call(
                "POST",
                "/v1/runs",
                Some(WRITER),
                Some(json!({
                    "job": {"id": "rollup", "workflow": "nightly"},
                    "applied": [],
                    "outcome": outcome,
                    "attempt": attempt(number, outcome, peak),
                })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{recorded}");
        assert_eq!(recorded["attempt_recorded"], true);
    }
    // A report without an attempt still works, and records none.
    let (_, recorded) = app
        .call(
            "POST",
            "/v1/runs",
            Some(WRITER),
            Some(json!({"job": {"id": "other"}, "applied": [], "outcome": "succeeded"})),
        )
        .await;
    assert_eq!(recorded["attempt_recorded"], false);

    let (status, _) = app.call("GET", "/v1/attempts", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, all) = app.call("GET", "/v1/attempts", Some(READER), None).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");
    assert_eq!(all[0]["decision"], "retry");
    assert_eq!(
        all[0]["recommended_changes"]["spark.driver.memory"],
        "1024m"
    );
    assert_eq!(all[1]["metrics"]["gc_time_ms"], 120);
    let (_, succeeded) = app
        .call(
            "GET",
            "/v1/attempts?job=rollup&outcome=succeeded",
            Some(READER),
            None,
        )
        .await;
    assert_eq!(succeeded.as_array().map(Vec::len), Some(1), "{succeeded}");
    assert_eq!(succeeded[0]["peak_memory_bytes"], 700_000_000u64);
    assert_eq!(succeeded[0]["at"], "2026-11-22T10:02:00Z");
}

async fn expired_patches_stop_applying(app: TestApp) {
    app.create(json!({
        "scope": {"cluster": "emr-1"},
        "patch": {"spark.executor.memory": "6g"},
        "lifetime": "persistent",
        "expires_at": "2026-11-22T11:00:00Z"
    }))
    .await;
    let resolve = json!({"job": {"id": "rollup", "cluster": "emr-1"}, "config": {"spark.executor.memory": "4g"}});
    let (_, before) = app
        .call(
            "POST",
            "/v1/config/resolve",
            Some(READER),
            Some(resolve.clone()),
        )
        .await;
    assert_eq!(before["config"]["spark.executor.memory"], "6g");
    app.clock.advance(time::Duration::hours(1));
    let (_, after) = app
        .call("POST", "/v1/config/resolve", Some(READER), Some(resolve))
        .await;
    assert_eq!(after["config"]["spark.executor.memory"], "4g");
}

async fn changes_are_audited_with_the_tokens_name(app: TestApp) {
    let patch = app
        .create(json!({"scope": {"job": "rollup"}, "patch": {"spark.a": "1"}, "lifetime": "persistent"}))
        .await;
    let (status, _) = app
        .call(
            "DELETE",
            &format!(
                "/v1/patches/{}?version=1",
                patch["id"].as_str().expect("id")
            ),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, audit) = app
        .call("GET", "/v1/audit?limit=10", Some(READER), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let summary: Vec<(&str, &str)> = audit
        .as_array()
        .expect("array")
        .iter()
        .map(|entry| {
            (
                entry["actor"].as_str().unwrap_or_default(),
                entry["action"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(summary, [("oncall", "revoke"), ("scheduler", "create")]);
    assert!(!audit.to_string().contains(WRITER) && !audit.to_string().contains(ADMIN));
}

async fn health_metrics_and_openapi(app: TestApp) {
    let (status, health) = app.call("GET", "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    app.call(
        "POST",
        "/v1/config/resolve",
        Some(READER),
        Some(json!({"job": {"id": "a"}})),
    )
    .await;
    let (status, metrics) = app.call("GET", "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = metrics.as_str().expect("text");
    assert!(
        metrics.contains(
            r#"medic_http_requests_total{method="POST",route="/v1/config/resolve",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("medic_http_request_duration_seconds_bucket"));

    let (status, document) = app.call("GET", "/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    let mut paths: Vec<&str> = document["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/healthz",
            "/metrics",
            "/v1/attempts",
            "/v1/audit",
            "/v1/classify",
            "/v1/config/resolve",
            "/v1/history",
            "/v1/mode",
            "/v1/patches",
            "/v1/patches/{id}",
            "/v1/recommend",
            "/v1/remediate",
            "/v1/runs"
        ]
    );
    for schema in [
        "Patch",
        "PatchBody",
        "Scope",
        "Resolution",
        "ResolveRequest",
        "CreatePatch",
        "ErrorBody",
        "RemediateRequest",
        "Remediation",
        "Mode",
        "HistoryImport",
    ] {
        assert!(
            document["components"]["schemas"].get(schema).is_some(),
            "no schema {schema}"
        );
    }
}

/// A small model of the synthetic fleet, trained once for every test that needs one.
fn trained_model() -> &'static medic_model::TrainedModel {
    static MODEL: std::sync::OnceLock<medic_model::TrainedModel> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        let records = medic_model::synthetic::generate(&Default::default(), 4_000);
        let config = medic_model::TrainConfig {
            max_epochs: 2,
            ..Default::default()
        };
        medic_model::train(&records, &config, |_, _| {}).expect("train")
    })
}

/// Registers the model saved in `dir` as `version` and promotes it.
async fn promote(app: &TestApp, version: &str, dir: &std::path::Path) {
    app.store
        .register_model(
            medic_store::NewModel {
                version: version.to_owned(),
                artifact: dir.display().to_string(),
                description: json!({}),
            },
            "test",
        )
        .await
        .expect("register");
    app.store
        .promote_model(version, "test")
        .await
        .expect("promote");
}

async fn recommendations_use_the_promoted_model_once_there_is_one(app: TestApp) {
    let failed = json!({
        "job": {"id": "etl.daily", "owner": "data-eng"},
        "config": {"spark.executor.memory": "4g", "spark.executor.cores": "4", "spark.executor.instances": "10"},
        "logs": [{"source": "stderr", "text": "INFO ok\njava.lang.OutOfMemoryError: Java heap space\n"}],
        "input_bytes": 20_000_000_000u64,
    });
    // A new installation: the heuristics answer, and say so.
    let (status, answer) = app
        .call("POST", "/v1/recommend", None, Some(failed.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["category"], "executor_oom", "{answer}");
    assert_eq!(answer["retry"], true);
    assert_eq!(answer["optimizer"], "heuristic");
    assert_eq!(answer["heuristic"], "heap_jump");
    assert_eq!(answer["config"]["spark.executor.memory"], "16384m");
    assert!(answer.get("model_version").is_none());

    // A user error is not a configuration problem, whatever the model.
    let (status, answer) = app
        .call(
            "POST",
            "/v1/recommend",
            None,
            Some(json!({"job": {"id": "x"}, "config": {}, "category": "user_code_error"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["retry"], false);
    assert_eq!(answer["optimizer"], "none");

    // Once a model is promoted, the next request uses it.
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("medic-server-model")
        .join(app.store.backend_name());
    let _ = std::fs::remove_dir_all(&dir);
    medic_model::save(&dir, trained_model(), None, datetime!(2026-11-22 10:00 UTC)).expect("save");
    promote(&app, "m-test", &dir).await;
    let (status, answer) = app
        .call("POST", "/v1/recommend", None, Some(failed.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["model_version"], "m-test", "{answer}");
    assert_eq!(answer["optimizer"], "batched");
    assert!(
        answer["evaluations"].as_u64().unwrap_or(0) > 100,
        "{answer}"
    );
    assert!(
        answer["predicted"]["original"]["p_fail"].is_number(),
        "{answer}"
    );
    assert!(answer["elapsed_ms"].as_f64().unwrap_or(f64::MAX) < 10_000.0);
    if answer["retry"] == true {
        assert!(
            answer["predicted"]["recommended"]["p_fail"]
                .as_f64()
                .unwrap_or(1.0)
                <= 0.2,
            "{answer}"
        );
    }
    // The Bayesian optimiser answers the same request within its deadline.
    let mut bayesian = failed.clone();
    bayesian["optimizer"] = json!("bayesian");
    bayesian["deadline_ms"] = json!(2000);
    let (status, answer) = app
        .call("POST", "/v1/recommend", None, Some(bayesian))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["optimizer"], "bayesian");

    // A model that cannot be loaded: the heuristics answer and the note says why.
    std::fs::remove_file(dir.join("weights.safetensors")).expect("remove");
    promote(&app, "m-broken", &dir).await;
    let (status, answer) = app.call("POST", "/v1/recommend", None, Some(failed)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["optimizer"], "heuristic");
    assert!(
        answer["notes"]
            .to_string()
            .contains("m-broken could not be loaded"),
        "{answer}"
    );

    let (_, metrics) = app.call("GET", "/metrics", None, None).await;
    assert!(
        metrics
            .as_str()
            .unwrap_or_default()
            .contains(r#"medic_recommendations_total{decision="retry",optimizer="heuristic"}"#),
        "{metrics}"
    );
}

const HEAP_OOM: &str = "INFO ok\njava.lang.OutOfMemoryError: Java heap space\n";
const CONTAINER_KILLED: &str = "WARN YarnAllocator: Container killed by YARN for exceeding physical memory limits. 5.5 GB of 5.5 GB physical memory used.\n";
const PREEMPTED: &str = "WARN YarnAllocator: Container preempted by scheduler\n";
const MISSING_TABLE: &str = "org.apache.spark.sql.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `sales` cannot be found.\n";

/// A `/v1/remediate` body for attempt `attempt` of job `rollup`, failed with `logs` and configured with `config`.
fn failed_attempt(attempt: u32, config: Value, logs: &str) -> Value {
    json!({
        "job": {"id": "rollup", "workflow": "nightly", "owner": "data-eng"},
        "attempt": attempt,
        "config": config,
        "logs": [{"source": "stderr", "text": logs}],
    })
}

impl TestApp {
    /// Asks for a remediation as the scheduler (writer) and expects an answer.
    async fn remediate(&self, body: Value) -> Value {
        let (status, answer) = self
            .call("POST", "/v1/remediate", Some(WRITER), Some(body))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    /// The configuration `/v1/config/resolve` gives job `rollup` with `config` as its own, and the ids applied.
    async fn resolved(&self, config: Value) -> (Value, Value) {
        let (status, resolution) = self
            .call(
                "POST",
                "/v1/config/resolve",
                Some(READER),
                Some(json!({"job": {"id": "rollup", "workflow": "nightly", "owner": "data-eng"}, "config": config})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{resolution}");
        (resolution["config"].clone(), resolution["applied"].clone())
    }

    async fn patches(&self) -> Vec<Value> {
        let (_, patches) = self.call("GET", "/v1/patches", Some(READER), None).await;
        patches.as_array().cloned().unwrap_or_default()
    }

    async fn audit_actions(&self) -> Vec<(String, String)> {
        let (_, audit) = self
            .call("GET", "/v1/audit?limit=1000", Some(READER), None)
            .await;
        audit
            .as_array()
            .into_iter()
            .flatten()
            .rev()
            .map(|entry| {
                (
                    entry["actor"].as_str().unwrap_or_default().to_owned(),
                    entry["action"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

async fn remediation_patches_the_job_when_a_configuration_can_help(app: TestApp) {
    // Each failure: the decision, whether a patch is stored, and what the classification says.
    struct Case {
        logs: &'static str,
        category: &'static str,
        retry: bool,
        patched: bool,
        recommended: bool,
    }
    let cases = [
        Case {
            logs: MISSING_TABLE,
            category: "user_code_error",
            retry: false,
            patched: false,
            recommended: false,
        },
        Case {
            logs: PREEMPTED,
            category: "transient_infra",
            retry: true,
            patched: false,
            recommended: false,
        },
        Case {
            logs: "INFO nothing anyone recognises\n",
            category: "unclassified",
            retry: true,
            patched: false,
            recommended: true,
        },
        Case {
            logs: HEAP_OOM,
            category: "executor_oom",
            retry: true,
            patched: true,
            recommended: true,
        },
    ];
    let config = json!({"spark.executor.memory": "4g", "spark.executor.cores": "4"});
    for case in &cases {
        let answer = app
            .remediate(failed_attempt(1, config.clone(), case.logs))
            .await;
        assert_eq!(
            answer["classification"]["category"], case.category,
            "{answer}"
        );
        assert_eq!(answer["retry"], case.retry, "{answer}");
        assert_eq!(answer["patch_id"].is_string(), case.patched, "{answer}");
        assert_eq!(
            answer["recommendation"].is_object(),
            case.recommended,
            "{answer}"
        );
        assert_eq!(
            (answer["shadow"].clone(), answer["guard"].clone()),
            (json!(false), Value::Null)
        );
        assert!(answer["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    // Only the heap error stored a patch: scoped to the job, until a success, by medic, saying why.
    let patches = app.patches().await;
    assert_eq!(patches.len(), 1, "{patches:?}");
    let patch = &patches[0];
    assert_eq!(patch["scope"], json!({"job": "rollup"}));
    assert_eq!(patch["lifetime"], "until_success");
    assert_eq!(patch["patch"], json!({"spark.executor.memory": "16384m"}));
    assert_eq!(patch["provenance"]["created_by"], "medic");
    assert_eq!(patch["provenance"]["classification"], "executor_oom");
    assert!(
        patch["provenance"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("heuristic heap_jump")),
        "{patch}"
    );
    assert_eq!(
        app.audit_actions().await,
        [("scheduler".to_owned(), "create".to_owned())]
    );

    // The next attempt gets it from the ConfigService; another job does not.
    let (resolved, applied) = app.resolved(config.clone()).await;
    assert_eq!(
        resolved,
        json!({"spark.executor.memory": "16384m", "spark.executor.cores": "4"})
    );
    assert_eq!(applied, json!([patch["id"]]));
    let (_, other) = app
        .call(
            "POST",
            "/v1/config/resolve",
            Some(READER),
            Some(json!({"job": {"id": "hourly"}, "config": config})),
        )
        .await;
    assert_eq!(other["applied"], json!([]));

    // A classification or a category given instead of logs decides alike; a named rule gives `restartable`.
    let by_category = app
        .remediate(json!({"job": {"id": "other"}, "attempt": 1, "config": {}, "category": "transient_infra", "rule": "yarn-container-preempted"}))
        .await;
    assert_eq!(by_category["retry"], true, "{by_category}");
    assert_eq!(by_category["classification"]["restartable"], true);
    let (_, metrics) = app.call("GET", "/metrics", None, None).await;
    assert!(
        metrics.as_str().unwrap_or_default().contains(
            r#"medic_remediations_total{decision="do_not_retry",guard="none",shadow="false"} 1"#
        ),
        "{metrics}"
    );
}

async fn shadow_mode_stores_nothing_and_retries_as_without_medic(app: TestApp) {
    let (status, mode) = app.call("GET", "/v1/mode", None, None).await;
    assert_eq!((status, mode), (StatusCode::OK, json!({"shadow": false})));
    // Switching needs an admin.
    for (token, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(WRITER), StatusCode::FORBIDDEN),
        (Some(ADMIN), StatusCode::OK),
    ] {
        let (status, answer) = app
            .call("PUT", "/v1/mode", token, Some(json!({"shadow": true})))
            .await;
        assert_eq!(status, expected, "{answer}");
    }
    let (_, mode) = app.call("GET", "/v1/mode", None, None).await;
    assert_eq!(mode, json!({"shadow": true}));

    let config = json!({"spark.executor.memory": "4g"});
    // A heap error is not restartable: without medic the scheduler gives up, and medic only says what it would do.
    let answer = app
        .remediate(failed_attempt(1, config.clone(), HEAP_OOM))
        .await;
    assert_eq!(answer["shadow"], true, "{answer}");
    assert_eq!(answer["retry"], false, "{answer}");
    assert_eq!(answer["patch_id"], Value::Null);
    assert_eq!(
        answer["recommendation"]["config"]["spark.executor.memory"],
        "12288m"
    );
    let reason = answer["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("would have retried with a patch setting spark.executor.memory=12288m"),
        "{reason}"
    );
    // A preemption is restartable: retried, even past the attempts guard medic would have applied.
    let answer = app
        .remediate(failed_attempt(4, config.clone(), PREEMPTED))
        .await;
    assert_eq!(
        (answer["retry"].clone(), answer["guard"].clone()),
        (json!(true), json!("attempts")),
        "{answer}"
    );
    assert!(app.patches().await.is_empty(), "shadow mode stored a patch");
    let (resolved, applied) = app.resolved(config.clone()).await;
    assert_eq!((resolved, applied), (config.clone(), json!([])));

    // Back on: medic acts again.
    let (status, _) = app
        .call(
            "PUT",
            "/v1/mode",
            Some(ADMIN),
            Some(json!({"shadow": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let answer = app
        .remediate(failed_attempt(1, config.clone(), HEAP_OOM))
        .await;
    assert_eq!(
        (answer["shadow"].clone(), answer["retry"].clone()),
        (json!(false), json!(true))
    );
    assert!(answer["patch_id"].is_string(), "{answer}");

    // Both switches are in the audit trail under the admin's name, with the mode before and after.
    let (_, audit) = app
        .call("GET", "/v1/audit?limit=10", Some(READER), None)
        .await;
    let switches: Vec<(&str, &Value)> = audit
        .as_array()
        .expect("array")
        .iter()
        .filter(|entry| entry["action"] == "set_mode")
        .map(|entry| {
            (
                entry["actor"].as_str().unwrap_or_default(),
                &entry["detail"],
            )
        })
        .collect();
    assert_eq!(
        switches,
        [
            ("oncall", &json!({"shadow": false, "was_shadow": true})),
            ("oncall", &json!({"shadow": true, "was_shadow": false})),
        ]
    );
    let (_, metrics) = app.call("GET", "/metrics", None, None).await;
    assert!(
        metrics.as_str().unwrap_or_default().contains(
            r#"medic_remediations_total{decision="retry",guard="attempts",shadow="true"} 1"#
        ),
        "{metrics}"
    );

    // The binary sets the mode a server starts in.
    let app = app.reconfigured(|state| {
        state.service.shadow = Arc::new(std::sync::atomic::AtomicBool::new(true));
    });
    let (_, mode) = app.call("GET", "/v1/mode", None, None).await;
    assert_eq!(mode, json!({"shadow": true}));
}

async fn a_run_stops_at_its_attempts(app: TestApp) {
    let config = json!({"spark.executor.memory": "4g"});
    let answer = app
        .remediate(failed_attempt(4, config.clone(), HEAP_OOM))
        .await;
    assert_eq!(
        (answer["retry"].clone(), answer["guard"].clone()),
        (json!(false), json!("attempts")),
        "{answer}"
    );
    assert_eq!(answer["recommendation"], Value::Null);
    assert!(
        answer["reason"]
            .as_str()
            .is_some_and(|r| r.contains("attempt 4") && r.contains("guard `attempts`")),
        "{answer}"
    );
    // The scheduler's own limit, when lower, is the limit.
    let mut lower = failed_attempt(2, config.clone(), PREEMPTED);
    lower["max_attempts"] = json!(2);
    let answer = app.remediate(lower).await;
    assert_eq!(answer["guard"], "attempts", "{answer}");
    assert_eq!(answer["retry"], false);
    // A failure that is not retried anyway names no guard.
    let answer = app
        .remediate(failed_attempt(4, config.clone(), MISSING_TABLE))
        .await;
    assert_eq!(
        (answer["retry"].clone(), answer["guard"].clone()),
        (json!(false), Value::Null)
    );
    // A stricter policy, as the binary may set it.
    let app = app.reconfigured(|state| state.service.policy.max_attempts_per_run = 2);
    let answer = app
        .remediate(failed_attempt(2, config.clone(), HEAP_OOM))
        .await;
    assert_eq!(answer["guard"], "attempts", "{answer}");
    assert!(app.patches().await.is_empty());
}

async fn the_daily_cap_counts_the_last_24_hours(app: TestApp) {
    let config = json!({"spark.executor.memory": "4g"});
    // Ten failures, each fixed by medic's patch: no loop, but ten patches today.
    for _ in 0..10 {
        let answer = app
            .remediate(failed_attempt(1, config.clone(), HEAP_OOM))
            .await;
        let patch_id = answer["patch_id"].clone();
        assert!(patch_id.is_string(), "{answer}");
        let (status, _) = app
            .call(
                "POST",
                "/v1/runs",
                Some(WRITER),
                Some(
                    json!({"job": {"id": "rollup"}, "applied": [patch_id], "outcome": "succeeded"}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        app.clock.advance(time::Duration::minutes(30));
    }
    let answer = app
        .remediate(failed_attempt(1, config.clone(), HEAP_OOM))
        .await;
    assert_eq!(
        (
            answer["retry"].clone(),
            answer["guard"].clone(),
            answer["patch_id"].clone()
        ),
        (json!(false), json!("daily_cap"), Value::Null),
        "{answer}"
    );
    // A plain retry counts against the cap too: the job has been retried enough today.
    let answer = app
        .remediate(failed_attempt(1, config.clone(), PREEMPTED))
        .await;
    assert_eq!(answer["guard"], "daily_cap", "{answer}");
    // The first patch was stored at 10:00: it counts until 10:00 the next day.
    app.clock
        .advance(time::Duration::hours(19) - time::Duration::minutes(1));
    let answer = app
        .remediate(failed_attempt(1, config.clone(), HEAP_OOM))
        .await;
    assert_eq!(answer["guard"], "daily_cap", "{answer}");
    app.clock.advance(time::Duration::minutes(1));
    let answer = app
        .remediate(failed_attempt(1, config.clone(), HEAP_OOM))
        .await;
    assert_eq!(
        (answer["retry"].clone(), answer["guard"].clone()),
        (json!(true), Value::Null),
        "{answer}"
    );
    assert!(answer["patch_id"].is_string());
    // Another job has its own count.
    let mut other = failed_attempt(1, config, HEAP_OOM);
    other["job"] = json!({"id": "hourly"});
    assert_eq!(app.remediate(other).await["retry"], true);
}

async fn a_new_recommendation_supersedes_the_last_until_a_loop_stops_it(app: TestApp) {
    let base = json!({"spark.executor.memory": "4g"});
    // Attempt 1: the container was killed; medic raises the overhead.
    let first = app
        .remediate(failed_attempt(1, base.clone(), CONTAINER_KILLED))
        .await;
    assert_eq!(
        first["classification"]["category"],
        "container_memory_exceeded"
    );
    let first_id = first["patch_id"].as_str().expect("patch").to_owned();
    let (config, applied) = app.resolved(base.clone()).await;
    assert_eq!(applied, json!([first_id]));
    // 5.5 GB used, plus a quarter: a 7168 MiB container over the 4096 MiB heap.
    assert_eq!(config["spark.executor.memoryOverhead"], "3072m", "{config}");

    // Attempt 2, with that configuration, runs out of heap: a new patch replaces the first, and keeps its overhead.
    let second = app
        .remediate(failed_attempt(2, config.clone(), HEAP_OOM))
        .await;
    let second_id = second["patch_id"].as_str().expect("patch").to_owned();
    assert!(
        second["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("supersedes {first_id}"))),
        "{second}"
    );
    let (config, applied) = app.resolved(base.clone()).await;
    assert_eq!(applied, json!([second_id]), "the patches stacked");
    assert_eq!(
        config,
        json!({"spark.executor.memory": "12288m", "spark.executor.memoryOverhead": "3072m"})
    );
    let (_, first_now) = app
        .call(
            "GET",
            &format!("/v1/patches/{first_id}"),
            Some(READER),
            None,
        )
        .await;
    assert_eq!(
        (first_now["status"].clone(), first_now["version"].clone()),
        (json!("superseded"), json!(2))
    );
    // The older patch is superseded before the new one is stored: a job never has two active medic patches.
    assert_eq!(
        app.audit_actions().await,
        [
            ("scheduler".to_owned(), "create".to_owned()),
            ("scheduler".to_owned(), "supersede".to_owned()),
            ("scheduler".to_owned(), "create".to_owned()),
        ]
    );

    // Attempt 3 fails again with medic's configuration: two recommendations without a success, no third bump.
    let third = app
        .remediate(failed_attempt(3, config.clone(), HEAP_OOM))
        .await;
    assert_eq!(
        (
            third["retry"].clone(),
            third["guard"].clone(),
            third["patch_id"].clone()
        ),
        (json!(false), json!("loop"), Value::Null),
        "{third}"
    );
    assert!(
        third["reason"]
            .as_str()
            .is_some_and(|r| r.contains("guard `loop`"))
    );
    // A failure that needs no new configuration is still retried.
    let preempted = app
        .remediate(failed_attempt(3, config.clone(), PREEMPTED))
        .await;
    assert_eq!(
        (preempted["retry"].clone(), preempted["guard"].clone()),
        (json!(true), Value::Null)
    );

    // A success with the second patch consumes it, carries its fix forward for the job's next runs, and ends the
    // loop: the next failure is remediated again.
    let (status, recorded) = app
        .call(
            "POST",
            "/v1/runs",
            Some(WRITER),
            Some(json!({"job": {"id": "rollup"}, "applied": [second_id], "outcome": "succeeded"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        recorded["carried_fix"]["provenance"]["carried"]["from_patch"], second_id,
        "{recorded}"
    );
    let again = app.remediate(failed_attempt(1, base, HEAP_OOM)).await;
    assert_eq!(
        (again["retry"].clone(), again["guard"].clone()),
        (json!(true), Value::Null),
        "{again}"
    );
    let statuses: Vec<(Value, Value)> = app
        .patches()
        .await
        .iter()
        .map(|patch| (patch["status"].clone(), patch["lifetime"].clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (json!("superseded"), json!("until_success")),
            (json!("consumed"), json!("until_success")),
            (json!("active"), json!("persistent")),
            (json!("active"), json!("until_success")),
        ]
    );
}

async fn a_memory_failure_revokes_the_jobs_right_size(app: TestApp) {
    let evidence = json!({
        "estimator": "autopilot", "window_days": 14, "runs": 9, "saving_per_month": 41.5,
        "settings": [{"key": "spark.executor.memory", "original_bytes": 12884901888u64,
                      "requested_bytes": 12884901888u64, "used_bytes": 2147483648u64,
                      "estimate_bytes": 2576980378u64, "recommended_bytes": 2600468480u64}]
    });
    let rightsize = app
        .create(json!({
            "scope": {"job": "rollup"},
            "patch": {"spark.executor.memory": "2480m"},
            "lifetime": "persistent",
            "provenance": {"rightsize": evidence}
        }))
        .await;
    let id = rightsize["id"].as_str().expect("id").to_owned();
    let own = json!({"spark.executor.memory": "12g"});
    let (config, applied) = app.resolved(own.clone()).await;
    assert_eq!(applied, json!([id]));

    // A failure that is not about memory leaves the right-size alone.
    let transient = app
        .remediate(failed_attempt(1, config.clone(), PREEMPTED))
        .await;
    assert!(transient.get("revoked").is_none(), "{transient}");
    // An out-of-memory error revokes it: the retry starts from the job's own 12g plus the recommendation.
    let answer = app
        .remediate(failed_attempt(1, config.clone(), HEAP_OOM))
        .await;
    assert_eq!(answer["revoked"], json!([id]), "{answer}");
    assert!(
        answer["reason"]
            .as_str()
            .is_some_and(|r| r.contains("revoked")),
        "{answer}"
    );
    let (status, patch) = app
        .call("GET", &format!("/v1/patches/{id}"), Some(READER), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patch["status"], "revoked", "{patch}");
    let (retry, applied) = app.resolved(own).await;
    assert!(
        !applied.as_array().is_some_and(|a| a.contains(&json!(id))),
        "{applied}"
    );
    assert_ne!(retry["spark.executor.memory"], "2480m", "{retry}");
    let (_, audit) = app
        .call("GET", "/v1/audit?limit=10", Some(READER), None)
        .await;
    let revoke = audit
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["action"] == "revoke"))
        .cloned()
        .unwrap_or_else(|| panic!("no revoke audited: {audit}"));
    assert!(
        revoke["detail"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("executor_oom")),
        "{revoke}"
    );
}

async fn history_is_stored_all_or_nothing_and_audited(app: TestApp) {
    let records = json!([
        {"job": {"id": "rollup", "cluster": "emr-1"}, "config": {"spark.executor.memory": "6144m"},
         "failure_category": "executor_oom", "failure_rule": "jvm-oom-bare", "outcome": "succeeded",
         "cost_dollars": 1.25, "runtime_seconds": 600.0, "at": "2026-11-21T10:00:00Z"},
        {"job": {"id": "hourly"}, "config": {}, "failure_category": "unclassified", "outcome": "failed",
         "cost_dollars": 0.5, "runtime_seconds": 60.5, "peak_memory_bytes": 1073741824u64,
         "at": "2026-11-21T11:00:00.123456Z"}
    ]);
    let (status, answer) = app
        .call(
            "POST",
            "/v1/history",
            Some(WRITER),
            Some(json!({"records": records})),
        )
        .await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"stored": 2})));
    let expected: Vec<medic_core::history::RetryRecord> =
        serde_json::from_value(records.clone()).expect("records");
    let stored = app
        .store
        .records(&medic_store::RecordFilter::default())
        .await
        .expect("records");
    assert_eq!(stored, expected);

    // One bad record: every problem reported, nothing stored.
    let mut bad = records.clone();
    bad[0]["cost_dollars"] = json!(-1.0);
    bad[1]["job"]["id"] = json!(" ");
    let (status, answer) = app
        .call(
            "POST",
            "/v1/history",
            Some(WRITER),
            Some(json!({"records": bad})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_history");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("record 1: `cost_dollars`")
            && message.contains("record 2: the job id is empty"),
        "{message}"
    );
    assert_eq!(app.store.record_count().await.expect("count"), 2);

    let (_, audit) = app
        .call("GET", "/v1/audit?limit=10", Some(READER), None)
        .await;
    assert_eq!(audit.as_array().map(Vec::len), Some(1), "{audit}");
    assert_eq!(audit[0]["actor"], "scheduler");
    assert_eq!(audit[0]["action"], "import_history");
    assert_eq!(
        audit[0]["detail"],
        json!({"records": 2, "from": "2026-11-21T10:00:00Z", "until": "2026-11-21T11:00:00.123456Z"})
    );
}

/// A patch carrying a secret shows its value redacted in the patch list, the patch itself and the audit trail,
/// and resolution applies the real value.
async fn secrets_are_redacted_where_shown_and_applied_on_resolve(app: TestApp) {
    let created = app
        .create(json!({
            "scope": {"job": "rollup"},
            "patch": {"spark.hadoop.fs.s3a.secret.key": "s3cr3t-value", "spark.executor.memory": "8g"},
            "lifetime": "persistent",
        }))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let redacted = "*********(redacted)";
    let (_, listed) = app.call("GET", "/v1/patches", Some(READER), None).await;
    let (_, shown) = app
        .call("GET", &format!("/v1/patches/{id}"), Some(READER), None)
        .await;
    let (_, audit) = app.call("GET", "/v1/audit", Some(READER), None).await;
    for (what, body) in [
        ("list", &listed[0]["patch"]),
        ("show", &shown["patch"]),
        ("audit", &audit[0]["detail"]["patch"]),
    ] {
        assert_eq!(
            body["spark.hadoop.fs.s3a.secret.key"], redacted,
            "{what}: {body}"
        );
        assert_eq!(body["spark.executor.memory"], "8g", "{what}: {body}");
    }
    for answer in [&listed, &shown, &audit] {
        assert!(!answer.to_string().contains("s3cr3t-value"), "{answer}");
    }
    let (config, applied) = app.resolved(json!({})).await;
    assert_eq!(config["spark.hadoop.fs.s3a.secret.key"], "s3cr3t-value");
    assert_eq!(applied, json!([id]));
}

/// Resolution needs a reader's token unless the server opens it to anonymous callers; an unknown token is refused
/// either way.
async fn resolve_opens_to_anonymous_callers_only_when_asked(app: TestApp) {
    let body = json!({"job": {"id": "rollup"}, "config": {"spark.executor.memory": "2g"}});
    let (status, _) = app
        .call("POST", "/v1/config/resolve", None, Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let app = app.reconfigured(|state| state.anonymous_resolve = true);
    let (status, resolution) = app
        .call("POST", "/v1/config/resolve", None, Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{resolution}");
    assert_eq!(resolution["config"]["spark.executor.memory"], "2g");
    let (status, _) = app
        .call(
            "POST",
            "/v1/config/resolve",
            Some("not-a-token-at-all"),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// The role each operation of the API needs: `None` for the open ones. Every operation of the OpenAPI document
/// must be here, so that a new route cannot slip in without a decision on who may call it.
fn needed_role(method: &str, path: &str) -> Option<Option<Role>> {
    Some(match (method, path) {
        ("GET", "/healthz" | "/metrics" | "/v1/openapi.json" | "/v1/mode")
        | ("POST", "/v1/classify" | "/v1/recommend") => None,
        ("POST", "/v1/config/resolve")
        | ("GET", "/v1/attempts" | "/v1/patches" | "/v1/patches/{id}" | "/v1/audit") => {
            Some(Role::Reader)
        }
        ("POST", "/v1/runs" | "/v1/history" | "/v1/patches" | "/v1/remediate")
        | ("DELETE", "/v1/patches/{id}") => Some(Role::Writer),
        ("PUT", "/v1/mode") => Some(Role::Admin),
        _ => return None,
    })
}

/// Every operation of the OpenAPI document × every kind of caller (no token, an unknown token, reader, writer,
/// admin) × a request that is wrong besides (no body, a malformed body, an unknown query parameter): a caller
/// without the role gets 401 (no or unknown token) or 403 (too weak a role) before anything else about the request
/// is looked at, and a caller with it never does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_checks_the_role_before_anything_else() {
    let app = TestApp::start(TestBackend::Sqlite).await;
    let document = medic_server::openapi::document();
    let mut operations = Vec::new();
    for (path, item) in &document.paths.paths {
        for (method, operation) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ] {
            if operation.is_some() {
                operations.push((method, path.as_str()));
            }
        }
    }
    assert!(operations.len() >= 16, "{operations:?}");
    let callers = [
        ("no token", None, None),
        ("an unknown token", Some("not-a-token-of-this-server"), None),
        ("a reader", Some(READER), Some(Role::Reader)),
        ("a writer", Some(WRITER), Some(Role::Writer)),
        ("an admin", Some(ADMIN), Some(Role::Admin)),
    ];
    let mut cases = 0;
    let mut wrong = Vec::new();
    for (method, path) in &operations {
        let needed = needed_role(method, path)
            .unwrap_or_else(|| panic!("{method} {path}: no role decided for it in needed_role"));
        let uri = path.replace("{id}", "p999999");
        for (who, token, role) in callers {
            for (what, uri, body, content_type) in [
                ("no body", uri.clone(), None, None),
                (
                    "a malformed body",
                    uri.clone(),
                    Some("{\"not json".to_owned()),
                    Some("application/json"),
                ),
                (
                    "an unknown query parameter",
                    format!("{uri}?bogus=1"),
                    None,
                    None,
                ),
            ] {
                cases += 1;
                let (status, answer) = app.send(method, &uri, token, body, content_type).await;
                let expected = match needed {
                    None => None,
                    Some(needed) => match (token, role) {
                        (None, _) | (Some(_), None) => Some(StatusCode::UNAUTHORIZED),
                        (Some(_), Some(role)) if role < needed => Some(StatusCode::FORBIDDEN),
                        _ => None,
                    },
                };
                let denied = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
                let right = match expected {
                    Some(expected) => status == expected,
                    None => !denied,
                };
                if !right {
                    wrong.push(format!(
                        "{method} {path} by {who} with {what}: {status} {answer}, expected {}",
                        expected.map_or("neither 401 nor 403".to_owned(), |s| s.to_string())
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {cases} cases:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    eprintln!("{cases} cases over {} operations", operations.len());
}

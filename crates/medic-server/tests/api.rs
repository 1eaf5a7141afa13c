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
        let mut state = AppState::new(store, tokens, clock.clone());
        state.body_limit = 64 * 1024;
        TestApp {
            router: app(state),
            clock,
            _database: database,
        }
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
    expired_patches_stop_applying,
    changes_are_audited_with_the_tokens_name,
    health_metrics_and_openapi,
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
    let (_, patches) = app.call("GET", "/v1/patches", None, None).await;
    assert_eq!(patches, json!([]), "a refused request stored something");
    let (_, audit) = app.call("GET", "/v1/audit", Some(READER), None).await;
    assert_eq!(audit, json!([]), "a refused request was audited");
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
            None,
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

    let (_, listed) = app.call("GET", "/v1/patches?job=hourly", None, None).await;
    assert_eq!(listed, json!([other_job]));
    let (_, shown) = app
        .call(
            "GET",
            &format!("/v1/patches/{}", by_job["id"].as_str().expect("id")),
            None,
            None,
        )
        .await;
    assert_eq!(shown, by_job);
    let (_, active) = app
        .call("GET", "/v1/patches?status=active", None, None)
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
            None,
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
        .call("POST", "/v1/config/resolve", None, Some(resolve.clone()))
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
        .call("POST", "/v1/config/resolve", None, Some(resolve.clone()))
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
        .call("POST", "/v1/config/resolve", None, Some(resolve))
        .await;
    assert_eq!(third["applied"], json!([]));
    assert_eq!(third["config"], json!({}));
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
        .call("POST", "/v1/config/resolve", None, Some(resolve.clone()))
        .await;
    assert_eq!(before["config"]["spark.executor.memory"], "6g");
    app.clock.advance(time::Duration::hours(1));
    let (_, after) = app
        .call("POST", "/v1/config/resolve", None, Some(resolve))
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
        None,
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
            "/v1/audit",
            "/v1/config/resolve",
            "/v1/patches",
            "/v1/patches/{id}",
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
    ] {
        assert!(
            document["components"]["schemas"].get(schema).is_some(),
            "no schema {schema}"
        );
    }
}

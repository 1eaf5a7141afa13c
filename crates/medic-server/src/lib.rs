//! medic's HTTP API: the ConfigService over [`medic_store::Store`], plus health, metrics and an OpenAPI document.
//!
//! The router is built by [`app`], so tests drive it without a socket (`app(state).oneshot(request)`) and
//! [`serve`] runs the same router on a real listener. This is the only medic crate that knows HTTP: status codes
//! are chosen in one place ([`error::ApiError`]'s `IntoResponse`), every failure has one JSON shape
//! (`{"error": {"code", "message"}}`), and nothing is stored unless the whole request was valid.
//!
//! | Route | Needs | Does |
//! |---|---|---|
//! | `GET /healthz`, `GET /metrics`, `GET /v1/openapi.json` | — | health (store ping), Prometheus text, the API |
//! | `POST /v1/patches` | writer | store a scoped patch |
//! | `GET /v1/patches?job=&status=`, `GET /v1/patches/{id}` | — | read patches |
//! | `DELETE /v1/patches/{id}?version=N` | writer | revoke, if still at version N (409 otherwise) |
//! | `POST /v1/config/resolve` | — | the patched configuration of a job, the patches applied and skipped |
//! | `POST /v1/runs` | writer | a run's outcome: consumes one-shot and until-success patches; with `attempt`, adds it to the attempts history |
//! | `GET /v1/attempts?job=&outcome=&limit=` | reader | the attempts history (every attempt, its cost and peak memory), oldest first |
//! | `POST /v1/classify` | — | the classification of a run's logs with the server's rule packs |
//! | `POST /v1/recommend` | — | the retry's configuration for a failed run, or "do not retry" |
//! | `POST /v1/remediate` | writer | classify a failed attempt, store the recommended patch, decide the retry |
//! | `GET /v1/mode`, `PUT /v1/mode` | —, admin | shadow mode (the kill switch): read, switch (audited) |
//! | `POST /v1/history` | writer | add retry records to the history, all or none (audited) |
//! | `GET /v1/audit` | reader | every change, newest first |
//!
//! A server serves the routes of the roles it plays ([`Roles`]): `classify` (classify, remediate, mode),
//! `recommend` and `config` (patches, resolve, runs, history, audit); all three by default.

pub mod auth;
pub mod error;
mod extract;
pub mod metrics;
pub mod openapi;
pub mod recommender;
pub mod remediation;
pub mod roles;
pub mod routes;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use medic_core::clock::Clock;
use medic_recommend::SearchSpaces;
use medic_rules::RuleSet;
use medic_store::Store;

pub use auth::{Principal, Role, Tokens};
pub use error::ApiError;
pub use metrics::Metrics;
pub use recommender::RecommendService;
pub use remediation::RemediationPolicy;
pub use roles::{Roles, ServiceRole};

/// Request bodies larger than this are refused with 413 unless configured otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Where patches live.
    pub store: Store,
    /// Who may change them.
    pub tokens: Arc<Tokens>,
    /// The time (injectable, for tests of expiry).
    pub clock: Arc<dyn Clock>,
    /// Request counts and latencies.
    pub metrics: Arc<Metrics>,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The rule packs that classify logs sent to `/v1/recommend`.
    pub rules: Arc<RuleSet>,
    /// The search spaces and the promoted model.
    pub recommender: Arc<RecommendService>,
    /// The guard-rails of `/v1/remediate` (defaults: 4 attempts, 10 patches per job a day, 2 recommendations
    /// without a success).
    pub policy: RemediationPolicy,
    /// Shadow mode, the kill switch: `/v1/remediate` stores nothing and answers as the scheduler would without
    /// medic. Off by default; the binary sets the initial value (`state.shadow.store(true, Ordering::SeqCst)`),
    /// `PUT /v1/mode` switches it. Shared by every clone of the state.
    pub shadow: Arc<AtomicBool>,
    /// The roles this server plays (all three by default) and where the recommender is otherwise.
    pub roles: Roles,
}

impl AppState {
    /// A state over `store` with `tokens`, the default body limit, fresh metrics, the built-in rule pack and the
    /// built-in search spaces.
    pub fn new(store: Store, tokens: Tokens, clock: Arc<dyn Clock>) -> Self {
        AppState {
            store,
            tokens: Arc::new(tokens),
            clock,
            metrics: Arc::new(Metrics::new()),
            body_limit: DEFAULT_BODY_LIMIT,
            rules: Arc::new(
                RuleSet::builtin()
                    .expect("the built-in rule pack compiles (medic-rules' tests check it)"),
            ),
            recommender: Arc::new(RecommendService::new(SearchSpaces::built_in())),
            policy: RemediationPolicy::default(),
            shadow: Arc::new(AtomicBool::new(false)),
            roles: Roles::default(),
        }
    }
}

/// The API's router.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(routes::system::healthz))
        .route("/metrics", get(routes::system::metrics))
        .route("/v1/openapi.json", get(routes::system::openapi));
    if state.roles.plays(ServiceRole::Config) {
        router = router
            .route("/v1/audit", get(routes::system::audit))
            .route(
                "/v1/patches",
                post(routes::patches::create).get(routes::patches::list),
            )
            .route(
                "/v1/patches/{id}",
                get(routes::patches::show).delete(routes::patches::revoke),
            )
            .route("/v1/config/resolve", post(routes::config::resolve))
            .route("/v1/runs", post(routes::config::report_run))
            .route("/v1/attempts", get(routes::config::attempts))
            .route("/v1/history", post(routes::history::import));
    }
    if state.roles.plays(ServiceRole::Recommend) {
        router = router.route("/v1/recommend", post(routes::recommend::recommend));
    }
    if state.roles.plays(ServiceRole::Classify) {
        router = router
            .route("/v1/classify", post(routes::recommend::classify))
            .route("/v1/remediate", post(routes::remediate::remediate))
            .route("/v1/mode", get(routes::mode::show).put(routes::mode::set));
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(state.body_limit))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no route `{}` (or not on this server: see its --roles)",
        uri.path()
    ))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::BadRequest {
        status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!("`{method}` is not allowed on `{}`", uri.path()),
    }
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

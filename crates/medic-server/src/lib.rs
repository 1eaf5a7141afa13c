//! medic's HTTP API: the operations of [`medic_service::Service`] (the remediation flow, recommendations, the
//! ConfigService), plus health, metrics and an OpenAPI document.
//!
//! The router is built by [`app`], so tests drive it without a socket (`app(state).oneshot(request)`) and
//! [`serve`] runs the same router on a real listener. Handlers are glue: they authenticate, read the request
//! (`medic-api`'s types), call the service and write its answer. This is the only medic crate that serves HTTP:
//! status codes are chosen in one place ([`error::ApiError`]'s `IntoResponse`), every failure has one JSON shape
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
mod remote;
pub mod roles;
mod routes;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use medic_service::Service;
use medic_store::Store;

pub use auth::{Principal, Role, Tokens};
pub use error::ApiError;
pub use metrics::Metrics;
pub use remote::RemoteRecommender;
pub use roles::{Roles, ServiceRole};

/// Request bodies larger than this are refused with 413 unless configured otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// medic's operations: the store, the rule packs, the recommender, the remediation policy, shadow mode.
    pub service: Service,
    /// Who may change what.
    pub tokens: Arc<Tokens>,
    /// Request counts and latencies.
    pub metrics: Arc<Metrics>,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The roles this server plays (all three by default) and where the recommender is otherwise.
    pub roles: Roles,
}

impl AppState {
    /// A state over `store` with `tokens`, the default body limit, fresh metrics and [`Service::new`]'s defaults
    /// (the built-in rule pack and search spaces, the promoted model).
    pub fn new(store: Store, tokens: Tokens) -> Self {
        AppState {
            service: Service::new(store),
            tokens: Arc::new(tokens),
            metrics: Arc::new(Metrics::new()),
            body_limit: DEFAULT_BODY_LIMIT,
            roles: Roles::default(),
        }
    }

    /// This state playing `roles`. A server that remediates without recommending asks the recommender at
    /// `roles.recommend_url` over HTTP.
    pub fn with_roles(mut self, roles: Roles) -> Self {
        if let Some(url) = roles
            .recommend_url
            .clone()
            .filter(|_| !roles.plays(ServiceRole::Recommend))
        {
            self.service.recommender = Arc::new(RemoteRecommender::new(&url));
        }
        self.roles = roles;
        self
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

/// Completes on Ctrl-C or SIGTERM; the server then finishes the requests in flight.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

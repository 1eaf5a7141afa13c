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
//! | `GET /v1/patches?job=&status=`, `GET /v1/patches/{id}` | reader | read patches (secrets' values redacted) |
//! | `DELETE /v1/patches/{id}?version=N` | writer | revoke, if still at version N (409 otherwise) |
//! | `POST /v1/config/resolve` | reader (anyone with `--anonymous-resolve`) | the patched configuration of a job, the patches applied and skipped |
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
use std::time::Duration;

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
    /// Whether `POST /v1/config/resolve` answers callers without a token (off by default: the configurations it
    /// returns carry the patches' secrets).
    pub anonymous_resolve: bool,
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
            anonymous_resolve: false,
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

/// How long the server waits for its clients, and how many it takes at once: what stops slow or idle clients from
/// holding connections without end. Every field has a flag of `medic serve`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// A connection that has not sent a request's whole headers this long after it opened, or after its last
    /// answer (an idle keep-alive connection), is closed. Default 10 s.
    pub header_read_timeout: Duration,
    /// A request whose body is not read and answered within this is answered 408 and its connection closed.
    /// Default 60 s (a recommendation's own deadline is at most 10 s).
    pub request_timeout: Duration,
    /// At most this many connections are served at once; more wait in the listen backlog until one closes.
    /// Default 1 024.
    pub max_connections: usize,
    /// After the shutdown signal, the requests in flight get this long to finish; connections still open then are
    /// dropped. Default 10 s.
    pub shutdown_grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves the API on `listener` within `limits` until `shutdown` completes, then lets the requests in flight finish
/// for at most `limits.shutdown_grace`.
///
/// HTTP/1.1 with hyper's header-read timeout (which also closes idle keep-alive connections), a semaphore of
/// `max_connections` taken before each accept, and the request deadline as the router's outermost layer.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let router = app(state).layer(axum::middleware::from_fn_with_state(
        limits.request_timeout,
        within_deadline,
    ));
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait a little rather than spin, and keep serving.
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away, a header-read timeout: nothing to report beyond the connection's end.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?limits.shutdown_grace,
            "connections still open after the shutdown grace are dropped"
        );
    }
    Ok(())
}

/// Answers 408 for a request not done within `deadline` (its body read and its answer written).
async fn within_deadline(
    axum::extract::State(deadline): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = ApiError::BadRequest {
                status: axum::http::StatusCode::REQUEST_TIMEOUT,
                code: "request_timeout",
                message: format!(
                    "the request was not read and answered within {} s",
                    deadline.as_secs_f64()
                ),
            }
            .into_response();
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            response
        }
    }
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

//! Health, metrics, the OpenAPI document and the audit trail.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use medic_store::AuditEntry;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::AsReader;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;

/// The server is up and its store answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// medic's version.
    pub version: &'static str,
}

/// `GET /healthz`.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses(
        (status = 200, description = "Up, and the store answers", body = Health),
        (status = 500, description = "The store does not answer", body = ErrorBody),
    ))]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.service.store.ping().await?;
    Ok(Json(Health {
        status: "ok",
        store: state.service.store.backend_name(),
        version: env!("CARGO_PKG_VERSION"),
    }))
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Metrics in the Prometheus/OpenMetrics text format", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// How much of the audit trail to return.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// At most this many entries, newest first (default 100, at most 10 000).
    pub limit: Option<u32>,
}

/// `GET /v1/audit`: every change, newest first (reader role).
#[utoipa::path(get, path = "/v1/audit", params(AuditQuery), tag = "system", security(("bearer" = [])),
    responses(
        (status = 200, description = "Changes, newest first", body = Vec<AuditEntry>),
        (status = 401, description = "No or unknown token", body = ErrorBody),
    ))]
pub async fn audit(
    State(state): State<AppState>,
    _reader: AsReader,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let limit = query.limit.unwrap_or(100).min(10_000);
    Ok(Json(state.service.audit(limit).await?))
}

/// `GET /v1/openapi.json`: this API, generated from the code.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

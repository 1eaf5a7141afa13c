//! `/v1/config/resolve` and `/v1/runs`: what the scheduler calls before and after a run; `/v1/attempts`: the
//! attempts history those reports build.

use axum::Json;
use axum::extract::State;
use medic_api::{AttemptsQuery, ResolveRequest, RunRecorded, RunReport};
use medic_core::history::AttemptEntry;
use medic_core::patch::Resolution;

use crate::AppState;
use crate::auth::{AsReader, AsResolver, AsWriter};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};

/// `POST /v1/config/resolve`: the configuration the job should run with (reader role: patches may carry
/// secrets, such as an S3 key; anyone on a server started with `--anonymous-resolve`).
#[utoipa::path(post, path = "/v1/config/resolve", request_body = ResolveRequest, tag = "config", security(("bearer" = [])),
    responses(
        (status = 200, description = "The patched configuration, the patches applied in order, and those skipped", body = Resolution),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 422, description = "Not a job identity and a map of strings", body = ErrorBody),
    ))]
pub async fn resolve(
    State(state): State<AppState>,
    _resolver: AsResolver,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> ApiResult<Json<Resolution>> {
    let resolution = state.service.resolve(&request).await?;
    state
        .metrics
        .record_resolution(resolution.applied.len(), resolution.skipped.len());
    Ok(Json(resolution))
}

/// `POST /v1/runs`: reports a run's outcome so that one-shot and until-success patches are consumed, and, with
/// `attempt`, adds the attempt to the attempts history (writer role). The attempt is checked before anything is
/// stored, and stored before the patches are consumed. Repeating a report consumes nothing more, but adds its
/// attempt again.
#[utoipa::path(post, path = "/v1/runs", request_body = RunReport, tag = "config", security(("bearer" = [])),
    responses(
        (status = 200, description = "The patches consumed, and whether the attempt was recorded", body = RunRecorded),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "The token is not a writer", body = ErrorBody),
        (status = 422, description = "The attempt is invalid or is not the report's job or outcome; nothing is stored", body = ErrorBody),
    ))]
pub async fn report_run(
    State(state): State<AppState>,
    AsWriter(principal): AsWriter,
    ApiJson(report): ApiJson<RunReport>,
) -> ApiResult<Json<RunRecorded>> {
    Ok(Json(
        state.service.report_run(report, &principal.name).await?,
    ))
}

/// `GET /v1/attempts`: the attempts history, oldest first (reader role).
#[utoipa::path(get, path = "/v1/attempts", params(AttemptsQuery), tag = "config", security(("bearer" = [])),
    responses(
        (status = 200, description = "Attempts, oldest first (each a `medic_core::history::AttemptEntry`)", body = Vec<Object>),
        (status = 401, description = "No or unknown token", body = ErrorBody),
    ))]
pub async fn attempts(
    State(state): State<AppState>,
    _reader: AsReader,
    ApiQuery(query): ApiQuery<AttemptsQuery>,
) -> ApiResult<Json<Vec<AttemptEntry>>> {
    Ok(Json(state.service.attempts(&query).await?))
}

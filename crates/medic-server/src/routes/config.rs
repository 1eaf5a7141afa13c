//! `/v1/config/resolve` and `/v1/runs`: what the scheduler calls before and after a run.

use axum::Json;
use axum::extract::State;
use medic_core::patch::{Patch, Resolution};
use medic_core::{JobIdentity, RunOutcome, SparkConf};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// A job about to run, with its original configuration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// The job.
    pub job: JobIdentity,
    /// Its configuration before medic's patches: a flat map of Spark keys to string values.
    #[serde(default)]
    pub config: SparkConf,
}

/// `POST /v1/config/resolve`: the configuration the job should run with. Reads only; needs no token.
#[utoipa::path(post, path = "/v1/config/resolve", request_body = ResolveRequest, tag = "config",
    responses(
        (status = 200, description = "The patched configuration, the patches applied in order, and those skipped", body = Resolution),
        (status = 422, description = "Not a job identity and a map of strings", body = ErrorBody),
    ))]
pub async fn resolve(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> ApiResult<Json<Resolution>> {
    let resolution = state.store.resolve(&request.job, &request.config).await?;
    state
        .metrics
        .record_resolution(resolution.applied.len(), resolution.skipped.len());
    Ok(Json(resolution))
}

/// How a run that used resolved patches ended.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    /// The job.
    pub job: JobIdentity,
    /// The ids the resolution applied (`applied` of its answer).
    pub applied: Vec<String>,
    /// How the run ended.
    pub outcome: RunOutcome,
}

/// What a run report changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunRecorded {
    /// Patches now consumed: one-shot patches after any run, until-success patches after a success.
    pub consumed: Vec<Patch>,
}

/// `POST /v1/runs`: reports a run's outcome so that one-shot and until-success patches are consumed (writer role).
/// Repeating a report changes nothing more.
#[utoipa::path(post, path = "/v1/runs", request_body = RunReport, tag = "config", security(("bearer" = [])),
    responses(
        (status = 200, description = "The patches consumed", body = RunRecorded),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "The token is not a writer", body = ErrorBody),
    ))]
pub async fn report_run(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(report): ApiJson<RunReport>,
) -> ApiResult<Json<RunRecorded>> {
    let principal = caller.require(Role::Writer)?;
    let consumed = state
        .store
        .record_run(
            &report.job,
            &report.applied,
            report.outcome,
            &principal.name,
        )
        .await?;
    Ok(Json(RunRecorded { consumed }))
}

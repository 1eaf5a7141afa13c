//! `/v1/config/resolve` and `/v1/runs`: what the scheduler calls before and after a run; `/v1/attempts`: the
//! attempts history those reports build.

use axum::Json;
use axum::extract::State;
use medic_core::history::AttemptEntry;
use medic_core::patch::{Patch, Resolution};
use medic_core::{JobIdentity, RunOutcome, SparkConf};
use medic_store::AttemptFilter;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};

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
    /// The attempt, for the attempts history (as `medic_core::history::AttemptEntry`: the job, the attempt's
    /// number, configuration, outcome, decision, cost, peak memory, Spark's metrics, ...). Its job and outcome
    /// must be the report's.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub attempt: Option<AttemptEntry>,
}

/// What a run report changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunRecorded {
    /// Patches now consumed: one-shot patches after any run, until-success patches after a success.
    pub consumed: Vec<Patch>,
    /// Whether the attempt was added to the attempts history.
    pub attempt_recorded: bool,
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
    caller: Caller,
    ApiJson(report): ApiJson<RunReport>,
) -> ApiResult<Json<RunRecorded>> {
    let principal = caller.require(Role::Writer)?;
    if let Some(attempt) = &report.attempt {
        let mut problems = attempt.validate();
        if attempt.job != report.job {
            problems.push("the attempt's job is not the report's".to_owned());
        }
        if attempt.outcome != report.outcome {
            problems.push("the attempt's outcome is not the report's".to_owned());
        }
        if !problems.is_empty() {
            return Err(ApiError::Invalid {
                code: "invalid_attempt",
                what: "attempt",
                problems,
            });
        }
        state.store.add_attempt(attempt).await?;
    }
    let consumed = state
        .store
        .record_run(
            &report.job,
            &report.applied,
            report.outcome,
            &principal.name,
        )
        .await?;
    Ok(Json(RunRecorded {
        consumed,
        attempt_recorded: report.attempt.is_some(),
    }))
}

/// Which attempts to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttemptsQuery {
    /// Only this job's attempts.
    pub job: Option<String>,
    /// Only attempts that ended so (`succeeded`, `failed`).
    pub outcome: Option<RunOutcome>,
    /// Only the newest this many.
    pub limit: Option<u32>,
}

/// `GET /v1/attempts`: the attempts history, oldest first (reader role).
#[utoipa::path(get, path = "/v1/attempts", params(AttemptsQuery), tag = "config", security(("bearer" = [])),
    responses(
        (status = 200, description = "Attempts, oldest first (each a `medic_core::history::AttemptEntry`)", body = Vec<Object>),
        (status = 401, description = "No or unknown token", body = ErrorBody),
    ))]
pub async fn attempts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AttemptsQuery>,
) -> ApiResult<Json<Vec<AttemptEntry>>> {
    caller.require(Role::Reader)?;
    let filter = AttemptFilter {
        job: query.job,
        outcome: query.outcome,
        limit: query.limit,
        ..AttemptFilter::default()
    };
    Ok(Json(state.store.attempts(&filter).await?))
}

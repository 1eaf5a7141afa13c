//! `POST /v1/remediate`: the remediation flow for one failed attempt ([`medic_service::Service::remediate`]).

use axum::Json;
use axum::extract::State;
use medic_api::{RemediateRequest, Remediation};

use crate::AppState;
use crate::auth::AsWriter;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// `POST /v1/remediate`: classify a failed attempt, recommend and store the retry's configuration, and decide
/// whether to retry (writer role, because it stores patches).
#[utoipa::path(post, path = "/v1/remediate", request_body = RemediateRequest, tag = "remediate",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decision, the classification, the recommendation and the patch stored", body = Remediation),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "The token is not a writer", body = ErrorBody),
        (status = 422, description = "No way to know the failure, an attempt 0, a negative cost or runtime", body = ErrorBody),
    ))]
pub async fn remediate(
    State(state): State<AppState>,
    AsWriter(principal): AsWriter,
    ApiJson(request): ApiJson<RemediateRequest>,
) -> ApiResult<Json<Remediation>> {
    let answer = state.service.remediate(request, &principal.name).await?;
    if let Some(recommendation) = &answer.recommendation {
        state.metrics.record_recommendation(recommendation);
    }
    state.metrics.record_remediation(
        answer.retry,
        answer.guard.map(|g| g.as_str()),
        answer.shadow,
    );
    Ok(Json(answer))
}

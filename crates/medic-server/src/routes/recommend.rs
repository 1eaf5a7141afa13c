//! `POST /v1/recommend`: the configuration of a failed run's retry, or "do not retry"; `POST /v1/classify`: the
//! classification of a run's logs.

use axum::Json;
use axum::extract::State;
use medic_api::{ClassifyRequest, RecommendRequest};
use medic_core::Classification;
use medic_core::recommendation::Recommendation;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// `POST /v1/recommend`: the retry's configuration with the numbers that justify it, or "do not retry". Reads
/// only; needs no token.
#[utoipa::path(post, path = "/v1/recommend", request_body = RecommendRequest, tag = "recommend",
    responses(
        (status = 200, description = "The decision, the configuration and the model's numbers", body = Recommendation),
        (status = 422, description = "No way to know the failure, or an invalid λ, cost or deadline", body = ErrorBody),
    ))]
pub async fn recommend(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RecommendRequest>,
) -> ApiResult<Json<Recommendation>> {
    let answer = state.service.recommend(request).await?;
    state.metrics.record_recommendation(&answer);
    Ok(Json(answer))
}

/// `POST /v1/classify`: the classification of a run's logs with the server's rule packs. Reads only; needs no
/// token.
#[utoipa::path(post, path = "/v1/classify", request_body = ClassifyRequest, tag = "classify",
    responses(
        (status = 200, description = "The category, whether a plain retry helps, the rule and the evidence", body = Classification),
        (status = 422, description = "No logs", body = ErrorBody),
    ))]
pub async fn classify(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ClassifyRequest>,
) -> ApiResult<Json<Classification>> {
    Ok(Json(state.service.classify(&request)?))
}

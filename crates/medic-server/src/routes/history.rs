//! `POST /v1/history`: retry records for the model to learn from, pushed by a scheduler after its attempts.

use axum::Json;
use axum::extract::State;
use medic_api::{HistoryImport, HistoryStored};

use crate::AppState;
use crate::auth::AsWriter;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// `POST /v1/history`: adds retry records to the history, all or none (writer role). The import is audited
/// (`import_history`) under the token's name. The body limit bounds how many records one request carries.
#[utoipa::path(post, path = "/v1/history", request_body = HistoryImport, tag = "history",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every record was stored", body = HistoryStored),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "The token is not a writer", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 422, description = "A record is unreadable or invalid; every problem is listed and nothing is stored", body = ErrorBody),
    ))]
pub async fn import(
    State(state): State<AppState>,
    AsWriter(principal): AsWriter,
    ApiJson(request): ApiJson<HistoryImport>,
) -> ApiResult<Json<HistoryStored>> {
    Ok(Json(
        state.service.add_history(request, &principal.name).await?,
    ))
}

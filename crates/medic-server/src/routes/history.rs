//! `POST /v1/history`: retry records for the model to learn from, pushed by a scheduler after its attempts.

use axum::Json;
use axum::extract::State;
use medic_core::history::RetryRecord;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// Records to add to the history. An object rather than a bare array, so that the request can grow fields (a
/// source, a batch id) without breaking its callers.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryImport {
    /// The records, each as `medic history import` reads a JSON line, with `cost_dollars` required.
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<RetryRecord>,
}

/// What an import stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryStored {
    /// How many records were added: all of the request's.
    pub stored: u64,
}

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
    caller: Caller,
    ApiJson(request): ApiJson<HistoryImport>,
) -> ApiResult<Json<HistoryStored>> {
    let principal = caller.require(Role::Writer)?;
    // Checked here too (the store checks again), so that nothing invalid reaches the store whatever it checks.
    let problems: Vec<String> = request
        .records
        .iter()
        .enumerate()
        .flat_map(|(index, record)| {
            record
                .validate()
                .into_iter()
                .map(move |problem| format!("record {}: {problem}", index + 1))
        })
        .collect();
    if !problems.is_empty() {
        return Err(ApiError::Invalid {
            code: "invalid_history",
            what: "history",
            problems,
        });
    }
    let stored = state
        .store
        .import_records(&request.records, &principal.name)
        .await?;
    Ok(Json(HistoryStored { stored }))
}

//! `/v1/mode`: the kill switch. In shadow mode `/v1/remediate` computes everything and stores nothing, and its
//! retry decision is the classification's `restartable`, what the scheduler does without medic.
//!
//! The mode lives in this server's memory: with several servers on one store, switch each of them.

use axum::Json;
use axum::extract::State;
use medic_api::Mode;

use crate::AppState;
use crate::auth::AsAdmin;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// `GET /v1/mode`: whether the server is in shadow mode. Needs no token.
#[utoipa::path(get, path = "/v1/mode", tag = "remediate",
    responses((status = 200, description = "The mode", body = Mode)))]
pub async fn show(State(state): State<AppState>) -> Json<Mode> {
    Json(state.service.mode())
}

/// `PUT /v1/mode`: switches shadow mode on or off (admin role). The switch is audited (`set_mode`, with the mode
/// before and after) under the token's name before it takes effect, so no switch goes unrecorded.
#[utoipa::path(put, path = "/v1/mode", request_body = Mode, tag = "remediate", security(("bearer" = [])),
    responses(
        (status = 200, description = "The mode now", body = Mode),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "The token is not an admin", body = ErrorBody),
    ))]
pub async fn set(
    State(state): State<AppState>,
    AsAdmin(principal): AsAdmin,
    ApiJson(request): ApiJson<Mode>,
) -> ApiResult<Json<Mode>> {
    Ok(Json(
        state.service.set_mode(request, &principal.name).await?,
    ))
}

//! `/v1/patches`: store, list, read and revoke scoped patches.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use medic_api::{CreatePatch, PatchesQuery};
use medic_core::patch::Patch;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{AsReader, AsWriter};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};

/// `POST /v1/patches`: stores a patch (writer role).
#[utoipa::path(post, path = "/v1/patches", request_body = CreatePatch, tag = "patches",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = Patch),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "The token is not a writer", body = ErrorBody),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 422, description = "Invalid scope, patch or field", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    AsWriter(principal): AsWriter,
    ApiJson(request): ApiJson<CreatePatch>,
) -> ApiResult<(StatusCode, Json<Patch>)> {
    let stored = state.service.create_patch(request, &principal.name).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// `GET /v1/patches`: patches, oldest first (reader role: patches may carry secrets).
#[utoipa::path(get, path = "/v1/patches", params(PatchesQuery), tag = "patches", security(("bearer" = [])),
    responses(
        (status = 200, description = "Patches, oldest first", body = Vec<Patch>),
        (status = 401, description = "No or unknown token", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _reader: AsReader,
    ApiQuery(query): ApiQuery<PatchesQuery>,
) -> ApiResult<Json<Vec<Patch>>> {
    Ok(Json(state.service.patches(&query).await?))
}

/// `GET /v1/patches/{id}` (reader role).
#[utoipa::path(get, path = "/v1/patches/{id}", tag = "patches", security(("bearer" = [])),
    params(("id" = String, Path, description = "The patch's id")),
    responses(
        (status = 200, description = "The patch", body = Patch),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 404, description = "No such patch", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    _reader: AsReader,
    Path(id): Path<String>,
) -> ApiResult<Json<Patch>> {
    Ok(Json(state.service.patch(&id).await?))
}

/// The version a revoke expects.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RevokeQuery {
    /// The version the caller last read; alternatively an `If-Match: "<version>"` header.
    pub version: Option<u64>,
}

/// `DELETE /v1/patches/{id}`: revokes a patch if it is still at the version named (writer role).
#[utoipa::path(delete, path = "/v1/patches/{id}", tag = "patches", security(("bearer" = [])),
    params(("id" = String, Path, description = "The patch's id"), RevokeQuery),
    responses(
        (status = 200, description = "Revoked; the patch at its new version", body = Patch),
        (status = 404, description = "No such patch", body = ErrorBody),
        (status = 409, description = "The patch is not at that version", body = ErrorBody),
        (status = 428, description = "No version named", body = ErrorBody),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    AsWriter(principal): AsWriter,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<RevokeQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<Patch>> {
    let version = match (query.version, headers.get(header::IF_MATCH)) {
        (Some(version), _) => version,
        (None, Some(value)) => value
            .to_str()
            .ok()
            .map(|value| value.trim().trim_matches('"'))
            .and_then(|value| value.parse().ok())
            .ok_or_else(|| ApiError::BadRequest {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_version",
                message: "If-Match must be a patch version such as \"3\"".to_owned(),
            })?,
        (None, None) => {
            return Err(ApiError::PreconditionRequired(
                "name the version you expect: ?version=N or If-Match: \"N\"",
            ));
        }
    };
    Ok(Json(
        state
            .service
            .revoke_patch(&id, version, &principal.name)
            .await?,
    ))
}

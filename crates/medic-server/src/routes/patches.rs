//! `/v1/patches`: store, list, read and revoke scoped patches.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use medic_core::patch::{Lifetime, Patch, PatchBody, PatchStatus, Provenance, Scope};
use medic_store::{NewPatch, PatchFilter};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};

/// A patch to store.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePatch {
    /// Which jobs may use it; `{}` is global.
    pub scope: Scope,
    /// An RFC 6902 array of operations or an RFC 7386 merge-patch object over the flat Spark configuration
    /// (`/spark.executor.memory`).
    pub patch: PatchBody,
    /// `one_shot`, `until_success` or `persistent`.
    pub lifetime: Lifetime,
    /// Why, for people.
    #[serde(default)]
    pub reason: Option<String>,
    /// When it stops applying (RFC 3339); must be in the future.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// Where it came from: rule, classification, recommendation id, model version. `created_by` is set from the
    /// token and may not be given.
    #[serde(default)]
    pub provenance: Option<Provenance>,
}

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
    caller: Caller,
    ApiJson(request): ApiJson<CreatePatch>,
) -> ApiResult<(StatusCode, Json<Patch>)> {
    let principal = caller.require(Role::Writer)?;
    let mut provenance = request.provenance.unwrap_or_default();
    if provenance.created_by.is_some() {
        return Err(ApiError::Invalid {
            code: "invalid_request",
            what: "provenance",
            problems: vec!["`created_by` is set by the server from the token".to_owned()],
        });
    }
    provenance.created_by = Some(principal.name.clone());
    if request.reason.is_some() {
        provenance.reason = request.reason;
    }
    let stored = state
        .store
        .create_patch(
            NewPatch {
                scope: request.scope,
                patch: request.patch,
                lifetime: request.lifetime,
                provenance,
                expires_at: request.expires_at,
            },
            &principal.name,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// Which patches to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only patches scoped to exactly this job id.
    pub job: Option<String>,
    /// Only patches in this status.
    pub status: Option<PatchStatus>,
}

/// `GET /v1/patches`: patches, oldest first.
#[utoipa::path(get, path = "/v1/patches", params(ListQuery), tag = "patches",
    responses((status = 200, description = "Patches, oldest first", body = Vec<Patch>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<Patch>>> {
    let filter = PatchFilter {
        job: query.job,
        status: query.status,
    };
    Ok(Json(state.store.list_patches(&filter).await?))
}

/// `GET /v1/patches/{id}`.
#[utoipa::path(get, path = "/v1/patches/{id}", tag = "patches",
    params(("id" = String, Path, description = "The patch's id")),
    responses(
        (status = 200, description = "The patch", body = Patch),
        (status = 404, description = "No such patch", body = ErrorBody),
    ))]
pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Patch>> {
    state
        .store
        .patch(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no patch `{id}`")))
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
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<RevokeQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<Patch>> {
    let principal = caller.require(Role::Writer)?;
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
        state.store.revoke(&id, version, &principal.name).await?,
    ))
}

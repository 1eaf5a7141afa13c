//! The API's one error type, and the one place where failures become HTTP status codes.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use medic_store::StoreError;
use serde::Serialize;

/// Why a request failed. Client errors keep their status and are not logged; internal errors become a generic 500,
/// logged once here with the detail the client does not see.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body or query could not be read: malformed JSON, unknown fields, a wrong type, a wrong content type, a
    /// body over the size limit. Carries the status axum chose (400, 413, 415, 422).
    #[error("{message}")]
    BadRequest {
        /// The status for this kind of problem.
        status: StatusCode,
        /// `invalid_json`, `invalid_request`, `payload_too_large`, `unsupported_media_type`, `invalid_query`, ...
        code: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The request was readable but describes something invalid (a patch that cannot address a configuration, an
    /// empty scope, an expiry in the past). Every problem is listed.
    #[error("invalid {what}: {}", problems.join("; "))]
    Invalid {
        /// `invalid_patch`, `invalid_scope`, `invalid_expiry`, `invalid_history`, `invalid_attempt`,
        /// `invalid_request`.
        code: &'static str,
        /// What was being checked (`patch`, `scope`, ...).
        what: &'static str,
        /// Every problem found.
        problems: Vec<String>,
    },
    /// No `Authorization: Bearer` token, or one that is not known.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The token's role does not allow this.
    #[error("this needs the {needed} role; the token `{name}` has {has}")]
    Forbidden {
        /// The role needed.
        needed: &'static str,
        /// The token's name (never the token).
        name: String,
        /// The token's role.
        has: &'static str,
    },
    /// Nothing at this path or with this id.
    #[error("{0}")]
    NotFound(String),
    /// A change named a version that is no longer current.
    #[error("{0}")]
    Conflict(String),
    /// A change must name the version it expects and did not.
    #[error("{0}")]
    PreconditionRequired(&'static str),
    /// The store failed; the detail is logged, not returned.
    #[error("internal error")]
    Internal(String),
}

/// This crate's result type.
pub type ApiResult<T> = Result<T, ApiError>;

/// The one error shape every endpoint returns: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A machine-readable code and a message for people.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `invalid_json`, `payload_too_large`, `unauthorized`, `version_conflict`, ...
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { status, code, .. } => (*status, code),
            ApiError::Invalid { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "version_conflict"),
            ApiError::PreconditionRequired(_) => {
                (StatusCode::PRECONDITION_REQUIRED, "precondition_required")
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: self.to_string(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<medic_service::Error> for ApiError {
    fn from(error: medic_service::Error) -> Self {
        match error {
            medic_service::Error::Invalid {
                code,
                what,
                problems,
            } => ApiError::Invalid {
                code,
                what,
                problems,
            },
            medic_service::Error::NotFound(message) => ApiError::NotFound(message),
            medic_service::Error::Conflict(message) => ApiError::Conflict(message),
            medic_service::Error::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        medic_service::Error::from(error).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
            _ => "invalid_json",
        };
        ApiError::BadRequest {
            status,
            code,
            message: rejection.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_query",
            message: rejection.body_text(),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_path",
            message: rejection.body_text(),
        }
    }
}

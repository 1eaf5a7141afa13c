//! Why an operation failed, in terms a front end can turn into its own answer (an HTTP status in the server, a
//! [`medic_api::MedicError`] for in-process callers).

use medic_api::MedicError;
use medic_store::StoreError;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request describes something invalid; every problem is listed and nothing was stored.
    #[error("invalid {what}: {}", problems.join("; "))]
    Invalid {
        /// `invalid_request`, `invalid_patch`, `invalid_scope`, `invalid_expiry`, `invalid_history`,
        /// `invalid_attempt`.
        code: &'static str,
        /// What was being checked (`request`, `patch`, `scope`, ...).
        what: &'static str,
        /// Every problem found.
        problems: Vec<String>,
    },
    /// Nothing has that id.
    #[error("{0}")]
    NotFound(String),
    /// A change named a version that is no longer current.
    #[error("{0}")]
    Conflict(String),
    /// The store or the recommender failed; the detail is for the operator's logs.
    #[error("{0}")]
    Internal(String),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An invalid request, for one problem.
    pub(crate) fn invalid_request(problem: impl Into<String>) -> Self {
        Error::Invalid {
            code: "invalid_request",
            what: "request",
            problems: vec![problem.into()],
        }
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(id) => Error::NotFound(format!("no patch `{id}`")),
            conflict @ StoreError::VersionConflict { .. } => Error::Conflict(conflict.to_string()),
            StoreError::Invalid { what, problems } => Error::Invalid {
                code: match what {
                    "scope" => "invalid_scope",
                    "patch" => "invalid_patch",
                    "history" => "invalid_history",
                    "attempt" => "invalid_attempt",
                    "expiry" => "invalid_expiry",
                    // The reason, the actor, a model's name: fields of the request itself.
                    _ => "invalid_request",
                },
                what,
                problems,
            },
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<Error> for MedicError {
    fn from(error: Error) -> Self {
        match error {
            invalid @ Error::Invalid { code, .. } => MedicError::Invalid {
                code: code.to_owned(),
                message: invalid.to_string(),
            },
            Error::NotFound(message) => MedicError::NotFound(message),
            Error::Conflict(message) => MedicError::Conflict(message),
            Error::Internal(message) => MedicError::Internal(message),
        }
    }
}

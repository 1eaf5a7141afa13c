//! Why a call to a [`crate::Medic`] failed.

/// Why a call failed. The first four are refusals: the request cannot be done as given, and repeating it will not
/// help. The last two mean medic could not answer: a caller that must go on (a scheduler) falls back to what it
/// does without medic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MedicError {
    /// The request is invalid; the message lists every problem.
    #[error("{message}")]
    Invalid {
        /// A stable code: `invalid_request`, `invalid_patch`, `invalid_attempt`, `invalid_history`, ...
        code: String,
        /// Every problem, for people.
        message: String,
    },
    /// Nothing has that id.
    #[error("{0}")]
    NotFound(String),
    /// A change named a version that is no longer current.
    #[error("{0}")]
    Conflict(String),
    /// No token, an unknown one, or one whose role does not allow the call.
    #[error("{0}")]
    Unauthorized(String),
    /// medic cannot be reached, or answered with something that is not an answer.
    #[error("{0}")]
    Unavailable(String),
    /// medic failed while answering (its store, its recommender).
    #[error("{0}")]
    Internal(String),
}

impl MedicError {
    /// An [`MedicError::Invalid`] with code `invalid_request` listing `problems`.
    pub fn invalid(problems: &[String]) -> Self {
        MedicError::Invalid {
            code: "invalid_request".to_owned(),
            message: format!("invalid request: {}", problems.join("; ")),
        }
    }

    /// Whether medic refused the request (rather than failing to answer it).
    pub fn is_refusal(&self) -> bool {
        !matches!(self, MedicError::Unavailable(_) | MedicError::Internal(_))
    }
}

/// This crate's result type.
pub type Result<T, E = MedicError> = std::result::Result<T, E>;

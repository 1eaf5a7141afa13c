//! The recommender's errors.

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A search-spaces file with problems; every problem is listed.
    #[error("{origin}: invalid search spaces:\n  {}", problems.join("\n  "))]
    InvalidSpaces {
        /// The file (or `built-in spaces`).
        origin: String,
        /// Every problem found.
        problems: Vec<String>,
    },
    /// A request that cannot be answered as asked.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The model failed to evaluate candidates.
    #[error("model: {0}")]
    Model(#[from] medic_model::Error),
    /// The Bayesian optimiser failed.
    #[error("bayesian optimiser: {0}")]
    Optimizer(String),
}

//! What can go wrong when right-sizing.

/// A right-sizing error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy file is not valid; every problem is listed.
    #[error("invalid right-sizing policy {origin}: {}", problems.join("; "))]
    InvalidPolicy {
        /// Where the policy came from.
        origin: String,
        /// Every problem found.
        problems: Vec<String>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] medic_store::StoreError),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

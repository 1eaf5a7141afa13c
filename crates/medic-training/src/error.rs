//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong in a training round.
///
/// The model's and the store's errors are kept whole (`transparent`), so that a caller printing the chain of
/// causes sees exactly what those crates say.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Training, evaluating, saving or loading a model failed.
    #[error(transparent)]
    Model(#[from] medic_model::Error),
    /// The store (the promoted model, the registry) failed.
    #[error(transparent)]
    Store(#[from] medic_store::StoreError),
    /// A plot could not be drawn or written.
    #[error("{message}")]
    Plot {
        /// The SVG file.
        path: PathBuf,
        /// What plotters said.
        message: String,
    },
    /// The blocking task that trained or judged the model was cancelled (the runtime is shutting down).
    #[error("the training round was cancelled: {0}")]
    Cancelled(String),
    /// A promotion by hand was refused (no such model, or it fails the gate), and why.
    #[error("{0}")]
    Refused(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

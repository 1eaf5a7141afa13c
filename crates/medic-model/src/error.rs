//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong in training, saving, loading or predicting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor operation failed (a shape mismatch inside the model is a bug; a bad saved tensor is reported by
    /// the more specific variants below).
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// A model or training setting is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// Too few usable records to train or evaluate.
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The model description is not valid JSON of the expected shape.
    #[error("{path}: not a model description: {message}")]
    Description {
        /// The file.
        path: PathBuf,
        /// What serde said.
        message: String,
    },
    /// The description was written by an incompatible version of this crate.
    #[error("{path}: model format {found} is not supported (this build reads format {supported})")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// The format the file declares.
        found: u32,
        /// The format this build reads and writes.
        supported: u32,
    },
    /// The weights file is not valid safetensors, or does not match its description.
    #[error("{path}: {message}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong (unreadable, checksum mismatch, missing or unexpected tensor, wrong shape or type).
        message: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! This crate's errors. A bad line of an event log is not one: it is a [`crate::eventlog::LineProblem`] in the
//! summary, and reading goes on.

use std::path::PathBuf;

/// What stops reading an event log, or finding Spark.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The event log (or its folder) cannot be read at all.
    #[error("cannot read the event log {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No `spark-submit` was found where medic looks for one.
    #[error("{0}")]
    SparkNotFound(String),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

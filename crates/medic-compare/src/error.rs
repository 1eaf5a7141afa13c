//! Why a comparison could not be made.

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The simulator failed (a day's workflow, the scheduler).
    #[error(transparent)]
    Sim(#[from] medic_sim::Error),
    /// medic's service failed (opening a database).
    #[error(transparent)]
    Service(#[from] medic_service::Error),
    /// A database failed.
    #[error(transparent)]
    Store(#[from] medic_store::StoreError),
    /// The database to keep already holds history.
    #[error(
        "{url} already holds {existing} history record(s); the simulation needs a database of its own (give a new one, or remove it)"
    )]
    NotEmpty {
        /// The database.
        url: String,
        /// How many records it holds.
        existing: u64,
    },
    /// A file or folder could not be written.
    #[error("{what}: {error}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        error: std::io::Error,
    },
    /// A plot of the report could not be drawn.
    #[error("{message}")]
    Plot {
        /// The SVG file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The calibration plot (drawn as `medic train` draws it) could not be drawn.
    #[error(transparent)]
    Training(#[from] medic_training::Error),
    /// A thread of the comparison panicked.
    #[error("{0}")]
    Thread(&'static str),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

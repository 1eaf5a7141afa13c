//! The simulator's errors.

/// What stops a simulation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The fleet spec cannot be used; every problem found is listed.
    #[error("{} problem(s) in the fleet spec {origin}:\n  {}", problems.len(), problems.join("\n  "))]
    InvalidFleet {
        /// Where the spec came from.
        origin: String,
        /// The problems.
        problems: Vec<String>,
    },
    /// The scheduler could not run a day (its run folder cannot be created).
    #[error(transparent)]
    Scheduler(#[from] medic_scheduler::Error),
    /// A policy failed between days (a learning policy that cannot learn, say).
    #[error("policy {policy}: {message}")]
    Policy {
        /// The policy.
        policy: String,
        /// What went wrong.
        message: String,
    },
    /// The working folder cannot be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The simulator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

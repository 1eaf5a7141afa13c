//! Errors: [`Error`] for what stops the scheduler, and the errors of its two seams, [`RunnerError`] and
//! [`RemediationError`], which the scheduler survives.

use std::fmt;
use std::path::PathBuf;

/// One problem in a workflow file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The workflow file (or the name given to [`crate::Workflow::parse`]).
    pub file: String,
    /// 1-based line in that file, when known.
    pub line: Option<u64>,
    /// The job's name (or `#3` for a job without a usable name), when the problem is in one job.
    pub job: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(job) = &self.job {
            write!(f, ": job {job}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What stops the scheduler before or outside a job's attempts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The workflow cannot be used. Every problem found is listed, never only the first.
    #[error("{} problem(s) in workflow {file}:\n{}", problems.len(), DisplayAll(problems))]
    InvalidWorkflow {
        /// The workflow file.
        file: String,
        /// The problems, in file order.
        problems: Vec<Problem>,
    },
    /// The folder where the run's files go cannot be created.
    #[error("cannot create the run folder {}: {source}", path.display())]
    RunFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The workflow's problems; empty for other errors.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Error::InvalidWorkflow { problems, .. } => problems,
            Error::RunFolder { .. } => &[],
        }
    }
}

struct DisplayAll<'a>(&'a [Problem]);

impl fmt::Display for DisplayAll<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {problem}")?;
        }
        Ok(())
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A runner could not run an attempt at all (as opposed to an attempt that ran and failed, which is an
/// [`crate::AttemptOutcome`]). The scheduler reports it on the attempt and gives up on the job, because a runner
/// that cannot write its own files will not do better a minute later.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// A file or folder of the attempt cannot be created or written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The job's process was started but could not be waited for.
    #[error("lost track of the job's process: {0}")]
    Wait(#[source] std::io::Error),
    /// Any other runner's failure (a simulated or remote runner), in its own words.
    #[error("{0}")]
    Other(String),
}

/// The remediator could not answer. The scheduler never stops for it: it logs a warning and falls back to the
/// plain retry policy with the configuration unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RemediationError {
    /// medic cannot be reached (a remote server is down, times out, or answers garbage).
    #[error("medic is unreachable: {0}")]
    Unavailable(String),
    /// medic was reached and failed or refused the request (a store error, a rejected token).
    #[error("medic failed: {0}")]
    Failed(String),
}

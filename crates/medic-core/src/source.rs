//! Where a log line came from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The log a piece of text was read from. Rules may restrict themselves to one source; text whose source is
/// [`LogSource::Unknown`] (a plain file, stdin) is checked against every rule.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LogSource {
    /// The submitting process's standard output (PySpark tracebacks land here).
    Stdout,
    /// The submitting process's standard error (Spark's log4j lines land here).
    Stderr,
    /// The driver's own log, where the deployment keeps it apart (YARN cluster mode, Kubernetes driver pod).
    Driver,
    /// An executor's log.
    Executor,
    /// Spark's JSON event log.
    Eventlog,
    /// The scheduler's own record of the run (exit code, resource-manager diagnostics).
    Scheduler,
    /// Not known: a plain file or standard input.
    #[default]
    Unknown,
}

impl LogSource {
    /// Every tagged source (all but [`LogSource::Unknown`]).
    pub const TAGGED: [LogSource; 6] = [
        LogSource::Stdout,
        LogSource::Stderr,
        LogSource::Driver,
        LogSource::Executor,
        LogSource::Eventlog,
        LogSource::Scheduler,
    ];

    /// The name used on the command line, in rule packs and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LogSource::Stdout => "stdout",
            LogSource::Stderr => "stderr",
            LogSource::Driver => "driver",
            LogSource::Executor => "executor",
            LogSource::Eventlog => "eventlog",
            LogSource::Scheduler => "scheduler",
            LogSource::Unknown => "unknown",
        }
    }
}

impl fmt::Display for LogSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A source name that medic does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown log source `{0}` (expected one of: stdout, stderr, driver, executor, eventlog, scheduler, unknown)"
)]
pub struct UnknownSource(pub String);

impl FromStr for LogSource {
    type Err = UnknownSource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogSource::TAGGED
            .into_iter()
            .chain([LogSource::Unknown])
            .find(|source| source.as_str() == s)
            .ok_or_else(|| UnknownSource(s.to_owned()))
    }
}

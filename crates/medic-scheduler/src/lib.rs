//! The scheduler: runs a workflow's Spark jobs in dependency order and retries failed ones, asking medic what to
//! run with and whether another attempt is worth it.
//!
//! * [`Workflow`] reads a YAML workflow file. Loading reports every problem, with file and line, and refuses a
//!   workflow with any.
//! * [`JobRunner`] runs one attempt. [`ProcessRunner`] runs the job's command as a local process, with the
//!   configuration as `--conf` flags and the logs streamed to files.
//! * [`Remediator`] is medic as the scheduler sees it: `resolve` before every attempt, `remediate` after every
//!   failed one, `record` after every one. Implementations that call medic in-process or over HTTP live above this
//!   crate; here there is only [`NoRemediation`] (blind retries).
//! * [`Scheduler`] is the loop: attempts with exponential backoff (through an injected [`Sleeper`]) until one
//!   succeeds, the remediator advises against another, or the [`RetryPolicy`] runs out. It returns a
//!   [`WorkflowReport`] and tells a progress display what it does through [`Event`]s.
//!
//! The scheduler survives its seams: a remediator that cannot answer leaves the configuration as it was and the
//! decision to the retry policy, and a command that cannot start is a failed attempt. Nothing here reads the wall
//! clock except through [`medic_core::clock::Clock`], and nothing sleeps except through a [`Sleeper`], so the
//! tests run the whole loop in milliseconds.

mod engine;
mod error;
mod remediate;
mod report;
mod runner;
mod workflow;
mod yaml_tree;

pub use engine::{Event, RecordingSleeper, Scheduler, Sleeper, ThreadSleeper};
pub use error::{Error, Problem, RemediationError, Result, RunnerError};
pub use remediate::{
    AttemptRecord, Decision, FailedAttempt, LogFile, NoRemediation, PreviousFailure, Remediator,
    ResolvedConfig,
};
pub use report::{AttemptDecision, AttemptReport, JobReport, JobStatus, WorkflowReport};
pub use runner::{
    AttemptOutcome, AttemptRequest, JobRunner, ProcessRunner, STDERR_FILE, STDOUT_FILE,
};
pub use workflow::{CONF_PLACEHOLDER, Job, RetryPolicy, SparkApp, Workflow};

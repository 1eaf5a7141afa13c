//! What a run did, job by job and attempt by attempt. Its JSON is part of medic's interface:
//! `{"workflow", "jobs": [{"name", "id", "status", "attempts": [{"exit_code", "category", "rule", "decision",
//! "config_changes", "runtime_s", "cost", ...}]}]}`. Fields may be added; none may be renamed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use medic_core::history::{Prices, RunMetrics};
use medic_core::{Category, SparkConf};
use serde::{Deserialize, Serialize};

use crate::remediate::LogFile;

/// A run of a workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowReport {
    /// The workflow's name.
    pub workflow: String,
    /// Every job of the workflow, in file order, whether it ran or not.
    pub jobs: Vec<JobReport>,
}

impl WorkflowReport {
    /// Whether every job succeeded.
    pub fn succeeded(&self) -> bool {
        self.jobs
            .iter()
            .all(|job| job.status == JobStatus::Succeeded)
    }

    /// The report of the job called `name`.
    pub fn job(&self, name: &str) -> Option<&JobReport> {
        self.jobs.iter().find(|job| job.name == name)
    }

    /// Prices the attempts whose runner measured time but not money (a plain process) from their configuration
    /// and runtime, as the history prices them.
    pub fn price_unpriced(&mut self, prices: &Prices) {
        for attempt in self.jobs.iter_mut().flat_map(|job| job.attempts.iter_mut()) {
            if attempt.cost_dollars.is_none() {
                attempt.cost_dollars = Some(prices.cost(&attempt.config, attempt.runtime_seconds));
            }
        }
    }
}

/// One job of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobReport {
    /// The job's name in the workflow.
    pub name: String,
    /// The job's id (its identity for medic).
    pub id: String,
    /// How it ended.
    pub status: JobStatus,
    /// Its attempts, in order; empty when it was skipped.
    pub attempts: Vec<AttemptReport>,
    /// For a skipped job, the dependencies that did not succeed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_because: Vec<String>,
}

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// An attempt succeeded.
    Succeeded,
    /// Every attempt made failed.
    Failed,
    /// Not run, because a dependency did not succeed.
    Skipped,
}

impl JobStatus {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Skipped => "skipped",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the scheduler did after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptDecision {
    /// The attempt succeeded; the job is done.
    Succeeded,
    /// Another attempt follows, after the backoff.
    Retry,
    /// The remediator advised against another attempt (a retry would fail the same way).
    DoNotRetry,
    /// Another attempt was advised, but the retry policy allows no more.
    AttemptsExhausted,
    /// The runner could not run the attempt at all; the job is given up.
    RunnerError,
}

impl AttemptDecision {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptDecision::Succeeded => "succeeded",
            AttemptDecision::Retry => "retry",
            AttemptDecision::DoNotRetry => "do_not_retry",
            AttemptDecision::AttemptsExhausted => "attempts_exhausted",
            AttemptDecision::RunnerError => "runner_error",
        }
    }
}

impl fmt::Display for AttemptDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attempt of a job. The fields of the interface are always present (`null` when unknown).
///
/// The Rust names are the attempt vocabulary of every crate (`config`, `runtime_seconds`, `cost_dollars`,
/// `failure_category`, `failure_rule`); the JSON keeps the names `medic run --json` has always documented
/// (`conf`, `runtime_s`, `cost`, `category`, `rule`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptReport {
    /// Which attempt (1-based).
    pub attempt: u32,
    /// The exit code; `null` when the process was killed by a signal or never started.
    pub exit_code: Option<i32>,
    /// The failure's category, when it failed and was classified.
    #[serde(rename = "category")]
    pub failure_category: Option<Category>,
    /// The rule that classified the failure.
    #[serde(rename = "rule")]
    pub failure_rule: Option<String>,
    /// The line that rule matched, and the log (its source) it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<medic_core::Evidence>,
    /// What the scheduler did next.
    pub decision: AttemptDecision,
    /// Why, in a sentence.
    pub reason: String,
    /// What the remediator changed for the next attempt: key to new value, `null` for a removed key.
    pub config_changes: BTreeMap<String, Option<String>>,
    /// What medic recommended changing, applied or not (in shadow mode it is not, and `config_changes` is empty).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recommended_changes: BTreeMap<String, Option<String>>,
    /// Wall time, in seconds.
    #[serde(rename = "runtime_s")]
    pub runtime_seconds: f64,
    /// What the attempt cost in dollars, when the runner measured it.
    #[serde(rename = "cost")]
    pub cost_dollars: Option<f64>,
    /// The signal that ended the process, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Whether it was killed for running past the job's timeout.
    #[serde(default)]
    pub timed_out: bool,
    /// The patch the remediator stored for the next attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_id: Option<String>,
    /// The patches the attempt's configuration came from.
    #[serde(default)]
    pub applied_patches: Vec<String>,
    /// The configuration the attempt ran with.
    #[serde(default, rename = "conf")]
    pub config: SparkConf,
    /// The highest memory use in bytes, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory_bytes: Option<u64>,
    /// What Spark measured, when the runner read its event log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<RunMetrics>,
    /// The captured standard output (absent when the runner could not run the attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<PathBuf>,
    /// The captured standard error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<PathBuf>,
    /// The attempt's other logs, tagged by source (a Spark runner's event-log findings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogFile>,
    /// What went wrong around the attempt without stopping it (medic unreachable, a record not kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

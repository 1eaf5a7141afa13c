//! The scheduler's view of medic: the [`Remediator`] it asks for a job's configuration before every attempt, for
//! a decision after every failed one, and tells about every attempt.
//!
//! Implementations live elsewhere (one calling the libraries in-process, one calling a remote `medic serve`), so
//! the same scheduler runs embedded or against a shared deployment. This module has only [`NoRemediation`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use medic_core::history::{AttemptEntry, Prices, RetryRecord, RunMetrics};
use medic_core::{Category, JobIdentity, LogSource, RunOutcome, SparkConf};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::RemediationError;
use crate::report::AttemptDecision;

/// A job's configuration with medic's patches applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedConfig {
    /// The configuration to run with.
    pub config: SparkConf,
    /// The ids of the patches that made it, in the order they applied. They come back in [`AttemptRecord`] so
    /// that one-shot and until-success patches can be consumed.
    pub applied_patches: Vec<String>,
}

/// One log of an attempt, tagged with where it came from so that rules restricted to a source see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFile {
    /// Where the text came from.
    pub source: LogSource,
    /// The file.
    pub path: PathBuf,
}

/// Everything known about a failed attempt when the scheduler asks what to do next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedAttempt {
    /// The job.
    pub job: JobIdentity,
    /// Which attempt failed (1-based).
    pub attempt: u32,
    /// How many attempts the retry policy allows in all.
    pub max_attempts: u32,
    /// The configuration the attempt ran with.
    pub config: SparkConf,
    /// The patches that configuration came from.
    pub applied_patches: Vec<String>,
    /// The exit code; `None` when the process was killed by a signal or never started.
    pub exit_code: Option<i32>,
    /// The signal that ended the process, if one did.
    pub signal: Option<i32>,
    /// Whether the scheduler killed the attempt for running past the job's timeout.
    pub timed_out: bool,
    /// The attempt's logs (standard output and standard error for a process).
    pub logs: Vec<LogFile>,
    /// How long the attempt ran, in seconds.
    pub runtime_seconds: f64,
    /// Bytes the attempt read, when the runner could tell.
    #[serde(default)]
    pub input_bytes: Option<u64>,
    /// The operators of its Spark plan, when the runner could tell.
    #[serde(default)]
    pub plan_operators: Vec<String>,
    /// What Spark measured in it (its event log), when the runner could tell: evidence for the retry's size.
    #[serde(default)]
    pub metrics: Option<medic_core::history::RunMetrics>,
}

/// What to do after a failed attempt.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether another attempt is worth it. The retry policy still has the last word: no attempt is made beyond
    /// `max_attempts`.
    pub retry: bool,
    /// Why, in a sentence, for the report.
    pub reason: String,
    /// The failure's category, when it was classified.
    pub category: Option<Category>,
    /// The rule that classified it.
    pub rule: Option<String>,
    /// The line the rule matched, and which log (which source) it came from.
    pub evidence: Option<medic_core::Evidence>,
    /// The patch stored for the next attempt, if one was.
    pub patch_id: Option<String>,
    /// What that patch changes: key to new value, `None` for a key it removes. For the report only: the changed
    /// configuration reaches the next attempt through [`Remediator::resolve`], the one place configuration comes
    /// from, so a patch revoked in the meantime is honoured.
    pub config_changes: BTreeMap<String, Option<String>>,
    /// What medic recommends changing, whether or not a patch was stored: in shadow mode this is what medic would
    /// have done, and `config_changes` is empty. For the report and the history.
    pub recommended_changes: BTreeMap<String, Option<String>>,
}

impl Decision {
    /// A decision that leaves it to the retry policy, with `reason` and nothing else known.
    pub fn retry(reason: impl Into<String>) -> Self {
        Decision {
            retry: true,
            reason: reason.into(),
            ..Decision::default()
        }
    }

    /// A decision not to try again, with `reason`.
    pub fn do_not_retry(reason: impl Into<String>) -> Self {
        Decision {
            retry: false,
            reason: reason.into(),
            ..Decision::default()
        }
    }

    /// What the scheduler decides itself when the remediator cannot answer: the plain retry policy, with the
    /// configuration unchanged.
    pub fn fallback(error: &RemediationError) -> Self {
        Decision::retry(format!(
            "no decision from medic ({error}); falling back to the retry policy with the configuration unchanged"
        ))
    }
}

/// The failure an attempt followed, so that the history can learn which configuration fixed which failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousFailure {
    /// Its category.
    pub category: Category,
    /// The rule that classified it.
    pub rule: Option<String>,
}

/// Everything known about a finished attempt, successful or not, for the history and for consuming patches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// The job.
    pub job: JobIdentity,
    /// Which attempt (1-based).
    pub attempt: u32,
    /// The configuration it ran with.
    pub config: SparkConf,
    /// The patches that configuration came from.
    pub applied_patches: Vec<String>,
    /// How it ended.
    pub outcome: RunOutcome,
    /// The exit code; `None` when the process was killed by a signal or never started.
    pub exit_code: Option<i32>,
    /// Whether it was killed for running past the job's timeout.
    pub timed_out: bool,
    /// The category of its failure, when it failed and was classified.
    pub failure_category: Option<Category>,
    /// The rule that classified its failure.
    pub failure_rule: Option<String>,
    /// The classified failure of the previous attempt, if this attempt is a retry after one.
    pub follows: Option<PreviousFailure>,
    /// What the scheduler did next.
    pub decision: AttemptDecision,
    /// Why, in a sentence.
    pub reason: String,
    /// The patch the remediator stored for the next attempt, if one was.
    pub patch_id: Option<String>,
    /// What medic recommended changing, applied or not.
    #[serde(default)]
    pub recommended_changes: BTreeMap<String, Option<String>>,
    /// How long it ran, in seconds.
    pub runtime_seconds: f64,
    /// What it cost in dollars, when the runner measured it.
    pub cost_dollars: Option<f64>,
    /// Its highest memory use in bytes, when the runner measured it.
    pub peak_memory_bytes: Option<u64>,
    /// What Spark measured, when the runner read its event log.
    #[serde(default)]
    pub metrics: Option<RunMetrics>,
    /// Bytes it read, when the runner could tell.
    #[serde(default)]
    pub input_bytes: Option<u64>,
    /// The operators of its Spark plan, when the runner could tell.
    #[serde(default)]
    pub plan_operators: Vec<String>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl AttemptRecord {
    /// The history record of this attempt, when it is a retry after a classified failure (the history learns which
    /// configuration fixed which failure; first attempts teach it nothing). A cost the runner did not measure is
    /// computed from the configuration and runtime with `prices`. Callers that keep only memory-configuration and
    /// unclassified failures filter on `failure_category`.
    pub fn retry_record(&self, prices: &Prices) -> Option<RetryRecord> {
        let follows = self.follows.as_ref()?;
        Some(RetryRecord {
            job: self.job.clone(),
            config: self.config.clone(),
            failure_category: follows.category,
            failure_rule: follows.rule.clone(),
            input_bytes: self.input_bytes,
            plan_operators: self.plan_operators.clone(),
            outcome: self.outcome,
            cost_dollars: self
                .cost_dollars
                .unwrap_or_else(|| prices.cost(&self.config, self.runtime_seconds)),
            runtime_seconds: self.runtime_seconds,
            peak_memory_bytes: self.peak_memory_bytes,
            at: self.at,
        })
    }

    /// The attempts-history entry of this attempt (every attempt has one). A cost the runner did not measure is
    /// computed from the configuration and runtime with `prices`.
    pub fn attempt_entry(&self, prices: &Prices) -> AttemptEntry {
        AttemptEntry {
            job: self.job.clone(),
            attempt: self.attempt,
            config: self.config.clone(),
            applied_patches: self.applied_patches.clone(),
            outcome: self.outcome,
            exit_code: self.exit_code,
            timed_out: self.timed_out,
            failure_category: self.failure_category,
            failure_rule: self.failure_rule.clone(),
            follows_category: self.follows.as_ref().map(|f| f.category),
            decision: self.decision.as_str().to_owned(),
            reason: self.reason.clone(),
            recommended_changes: self.recommended_changes.clone(),
            patch_id: self.patch_id.clone(),
            runtime_seconds: self.runtime_seconds,
            cost_dollars: self
                .cost_dollars
                .unwrap_or_else(|| prices.cost(&self.config, self.runtime_seconds)),
            peak_memory_bytes: self.peak_memory_bytes,
            metrics: self.metrics.clone(),
            at: self.at,
        }
    }
}

/// medic as the scheduler sees it.
///
/// Reporting a run (which consumes one-shot and until-success patches) is folded into [`Remediator::record`]: the
/// record carries the applied patch ids and the outcome, so one call per attempt keeps the history and the patches'
/// lifetimes in step.
///
/// Every error is survivable: the scheduler logs it, runs with the configuration it already has, and lets the retry
/// policy decide. A scheduler must not stop retrying because medic is down.
pub trait Remediator {
    /// The configuration to run `job` with, from the workflow's `base` and the patches that apply. Called before
    /// every attempt.
    fn resolve(
        &self,
        job: &JobIdentity,
        base: &SparkConf,
    ) -> Result<ResolvedConfig, RemediationError>;

    /// Whether and how to retry after a failed attempt (classifying its logs, and storing a patch for the next
    /// attempt when a configuration change can help). Called after every failed attempt, the last one included, so
    /// that a patch can still help the job's next scheduled run.
    fn remediate(&self, failed: &FailedAttempt) -> Result<Decision, RemediationError>;

    /// Takes note of a finished attempt, successful or not. Called once per attempt, after [`Remediator::remediate`]
    /// when the attempt failed, so that its category is known.
    fn record(&self, attempt: &AttemptRecord) -> Result<(), RemediationError>;
}

impl<T: Remediator + ?Sized> Remediator for &T {
    fn resolve(
        &self,
        job: &JobIdentity,
        base: &SparkConf,
    ) -> Result<ResolvedConfig, RemediationError> {
        (**self).resolve(job, base)
    }

    fn remediate(&self, failed: &FailedAttempt) -> Result<Decision, RemediationError> {
        (**self).remediate(failed)
    }

    fn record(&self, attempt: &AttemptRecord) -> Result<(), RemediationError> {
        (**self).record(attempt)
    }
}

impl<T: Remediator + ?Sized> Remediator for Box<T> {
    fn resolve(
        &self,
        job: &JobIdentity,
        base: &SparkConf,
    ) -> Result<ResolvedConfig, RemediationError> {
        (**self).resolve(job, base)
    }

    fn remediate(&self, failed: &FailedAttempt) -> Result<Decision, RemediationError> {
        (**self).remediate(failed)
    }

    fn record(&self, attempt: &AttemptRecord) -> Result<(), RemediationError> {
        (**self).record(attempt)
    }
}

/// No medic at all: the workflow's configuration as written, and blind retries up to the policy's limit.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRemediation;

impl Remediator for NoRemediation {
    fn resolve(
        &self,
        _job: &JobIdentity,
        base: &SparkConf,
    ) -> Result<ResolvedConfig, RemediationError> {
        Ok(ResolvedConfig {
            config: base.clone(),
            applied_patches: Vec::new(),
        })
    }

    fn remediate(&self, _failed: &FailedAttempt) -> Result<Decision, RemediationError> {
        Ok(Decision::retry(
            "no remediation: the retry policy decides, with the configuration unchanged",
        ))
    }

    fn record(&self, _attempt: &AttemptRecord) -> Result<(), RemediationError> {
        Ok(())
    }
}

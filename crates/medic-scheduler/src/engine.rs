//! The retry loop: jobs in dependency order, each attempted until it succeeds, the remediator advises against
//! another attempt, or the retry policy runs out, with backoff between attempts.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use medic_core::clock::{Clock, ManualClock};
use medic_core::{Category, LogSource, RunOutcome, SparkConf};

use crate::error::{Error, Result};
use crate::remediate::{
    AttemptRecord, Decision, FailedAttempt, LogFile, PreviousFailure, Remediator,
};
use crate::report::{AttemptDecision, AttemptReport, JobReport, JobStatus, WorkflowReport};
use crate::runner::{AttemptRequest, JobRunner};
use crate::workflow::{Job, Workflow};

/// Waits between attempts. Injected so that tests and simulations never really sleep.
pub trait Sleeper {
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration);
}

impl<T: Sleeper + ?Sized> Sleeper for &T {
    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration);
    }
}

impl<T: Sleeper + ?Sized> Sleeper for Box<T> {
    fn sleep(&self, duration: Duration) {
        (**self).sleep(duration);
    }
}

/// Really waits (`std::thread::sleep`).
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadSleeper;

impl Sleeper for ThreadSleeper {
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// Waits for nothing and remembers what it was asked to wait; with a [`ManualClock`], moves it forward by as
/// much, so that attempt times look as they would have.
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    sleeps: Mutex<Vec<Duration>>,
    clock: Option<Arc<ManualClock>>,
}

impl RecordingSleeper {
    /// A sleeper that only records.
    pub fn new() -> Self {
        RecordingSleeper::default()
    }

    /// A sleeper that records and moves `clock` forward by each wait.
    pub fn with_clock(clock: Arc<ManualClock>) -> Self {
        RecordingSleeper {
            sleeps: Mutex::new(Vec::new()),
            clock: Some(clock),
        }
    }

    /// The waits asked for, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) {
        self.sleeps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(duration);
        if let Some(clock) = &self.clock {
            clock.advance(time::Duration::try_from(duration).unwrap_or(time::Duration::MAX));
        }
    }
}

/// What the scheduler is doing, for a live progress display. Events come in this order for a job: `JobStarted`,
/// then per attempt `AttemptStarted`, `AttemptFinished`, `Decided` and, before another attempt, `Backoff`, and
/// finally `JobFinished`; or only `JobSkipped`. `Warning`s come whenever medic does not answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A job's first attempt is about to start.
    JobStarted {
        /// The job's name.
        job: String,
        /// Attempts it may have.
        max_attempts: u32,
    },
    /// A job will not run because a dependency did not succeed.
    JobSkipped {
        /// The job's name.
        job: String,
        /// The dependencies that did not succeed.
        because: Vec<String>,
    },
    /// An attempt is about to start.
    AttemptStarted {
        /// The job's name.
        job: String,
        /// Which attempt (1-based).
        attempt: u32,
        /// The configuration it runs with.
        conf: SparkConf,
        /// The patches that configuration came from.
        applied_patches: Vec<String>,
    },
    /// An attempt ended (or could not run: then `exit_code` is `None` and `runtime_seconds` 0).
    AttemptFinished {
        /// The job's name.
        job: String,
        /// Which attempt.
        attempt: u32,
        /// Whether it succeeded.
        succeeded: bool,
        /// Its exit code.
        exit_code: Option<i32>,
        /// Whether it was killed at its timeout.
        timed_out: bool,
        /// Wall time, in seconds.
        runtime_seconds: f64,
    },
    /// What follows an attempt.
    Decided {
        /// The job's name.
        job: String,
        /// Which attempt.
        attempt: u32,
        /// The decision.
        decision: AttemptDecision,
        /// Why.
        reason: String,
        /// The failure's category, when known.
        category: Option<Category>,
        /// What the remediator changed for the next attempt.
        config_changes: BTreeMap<String, Option<String>>,
    },
    /// The scheduler waits before the next attempt.
    Backoff {
        /// The job's name.
        job: String,
        /// The attempt that follows the wait.
        next_attempt: u32,
        /// How long.
        delay: Duration,
    },
    /// medic did not answer, or a record was not kept; the run goes on.
    Warning {
        /// The job's name.
        job: String,
        /// What happened and what the scheduler did instead.
        message: String,
    },
    /// A job is done.
    JobFinished {
        /// The job's name.
        job: String,
        /// How it ended.
        status: JobStatus,
    },
}

/// Runs workflows: a runner for attempts, a remediator for configurations and decisions, a sleeper for backoff
/// and a clock for the attempts' start times.
pub struct Scheduler<R, M, S> {
    runner: R,
    remediator: M,
    sleeper: S,
    clock: Arc<dyn Clock>,
}

impl<R: JobRunner, M: Remediator, S: Sleeper> Scheduler<R, M, S> {
    /// A scheduler made of these parts.
    pub fn new(runner: R, remediator: M, sleeper: S, clock: Arc<dyn Clock>) -> Self {
        Scheduler {
            runner,
            remediator,
            sleeper,
            clock,
        }
    }

    /// Runs `workflow`, one job at a time: a job runs once all its dependencies have succeeded (the first such job
    /// in file order goes first) and is skipped once one of them has not. Each attempt's files go to
    /// `run_dir/<job>/attempt-<n>/`. Only a run folder that cannot be created stops the run; everything else
    /// (failed attempts, a broken runner, medic unreachable) ends up in the report.
    pub fn run(
        &self,
        workflow: &Workflow,
        run_dir: &Path,
        mut progress: impl FnMut(Event),
    ) -> Result<WorkflowReport> {
        std::fs::create_dir_all(run_dir).map_err(|source| Error::RunFolder {
            path: run_dir.to_path_buf(),
            source,
        })?;
        let jobs = &workflow.jobs;
        let position: HashMap<&str, usize> = jobs
            .iter()
            .enumerate()
            .map(|(i, job)| (job.name.as_str(), i))
            .rev()
            .collect();
        let mut reports: Vec<Option<JobReport>> = vec![None; jobs.len()];
        let status_of = |reports: &[Option<JobReport>], dep: &str| {
            position
                .get(dep)
                .and_then(|&i| reports[i].as_ref())
                .map(|report| report.status)
        };
        loop {
            // The first job not yet done whose dependencies are all done; a validated workflow always has one
            // until every job is done. A hand-built one with a cycle or an unknown dependency leaves jobs that
            // are never ready, and those are skipped below.
            let ready = (0..jobs.len()).find(|&i| {
                reports[i].is_none()
                    && jobs[i]
                        .depends_on
                        .iter()
                        .all(|dep| status_of(&reports, dep).is_some())
            });
            let Some(index) = ready else { break };
            let job = &jobs[index];
            let failed: Vec<String> = job
                .depends_on
                .iter()
                .filter(|dep| status_of(&reports, dep) != Some(JobStatus::Succeeded))
                .cloned()
                .collect();
            reports[index] = Some(if failed.is_empty() {
                self.run_job(job, &run_dir.join(&job.name), &mut progress)
            } else {
                skip(job, failed, &mut progress)
            });
        }
        let jobs = jobs
            .iter()
            .zip(reports)
            .map(|(job, report)| {
                report.unwrap_or_else(|| {
                    let never_ready = job.depends_on.clone();
                    skip(job, never_ready, &mut progress)
                })
            })
            .collect();
        Ok(WorkflowReport {
            workflow: workflow.name.clone(),
            jobs,
        })
    }

    fn run_job(&self, job: &Job, job_dir: &Path, progress: &mut impl FnMut(Event)) -> JobReport {
        let max_attempts = job.retry.max_attempts.max(1);
        progress(Event::JobStarted {
            job: job.name.clone(),
            max_attempts,
        });
        let mut attempts = Vec::new();
        let mut status = JobStatus::Failed;
        let mut previous: Option<(SparkConf, Vec<String>)> = None;
        let mut follows: Option<PreviousFailure> = None;
        for attempt in 1..=max_attempts {
            let mut warnings = Vec::new();
            let mut warn = |message: String, progress: &mut dyn FnMut(Event)| {
                tracing::warn!(job = %job.identity.id, attempt, "{message}");
                progress(Event::Warning {
                    job: job.name.clone(),
                    message: message.clone(),
                });
                warnings.push(message);
            };
            let (conf, applied_patches) = match self.remediator.resolve(&job.identity, &job.conf) {
                Ok(resolved) => (resolved.config, resolved.applied_patches),
                Err(e) => {
                    // Keep what the previous attempt ran with: the patches then in force still stand.
                    let (resolved, which) = match &previous {
                        Some(previous) => (previous.clone(), "the previous attempt's"),
                        None => ((job.conf.clone(), Vec::new()), "the workflow's"),
                    };
                    warn(
                        format!(
                            "cannot resolve the configuration ({e}); running with {which} configuration"
                        ),
                        progress,
                    );
                    resolved
                }
            };
            progress(Event::AttemptStarted {
                job: job.name.clone(),
                attempt,
                conf: conf.clone(),
                applied_patches: applied_patches.clone(),
            });
            let at = self.clock.now();
            let dir = job_dir.join(format!("attempt-{attempt}"));
            let request = AttemptRequest {
                job,
                attempt,
                config: &conf,
                dir: &dir,
            };
            let outcome = match self.runner.run(&request) {
                Ok(outcome) => outcome,
                Err(e) => {
                    let reason = format!("the runner could not run the attempt: {e}");
                    tracing::error!(job = %job.identity.id, attempt, "{reason}");
                    progress(Event::AttemptFinished {
                        job: job.name.clone(),
                        attempt,
                        succeeded: false,
                        exit_code: None,
                        timed_out: false,
                        runtime_seconds: 0.0,
                    });
                    progress(Event::Decided {
                        job: job.name.clone(),
                        attempt,
                        decision: AttemptDecision::RunnerError,
                        reason: reason.clone(),
                        category: None,
                        config_changes: BTreeMap::new(),
                    });
                    attempts.push(AttemptReport {
                        attempt,
                        exit_code: None,
                        failure_category: None,
                        failure_rule: None,
                        evidence: None,
                        decision: AttemptDecision::RunnerError,
                        reason,
                        config_changes: BTreeMap::new(),
                        recommended_changes: BTreeMap::new(),
                        runtime_seconds: 0.0,
                        cost_dollars: None,
                        signal: None,
                        timed_out: false,
                        patch_id: None,
                        applied_patches,
                        config: conf,
                        peak_memory_bytes: None,
                        metrics: None,
                        stdout: None,
                        stderr: None,
                        logs: Vec::new(),
                        warnings,
                    });
                    break;
                }
            };
            let succeeded = outcome.succeeded();
            progress(Event::AttemptFinished {
                job: job.name.clone(),
                attempt,
                succeeded,
                exit_code: outcome.exit_code,
                timed_out: outcome.timed_out,
                runtime_seconds: outcome.runtime_seconds,
            });
            let (decision, advice) = if succeeded {
                let advice = Decision {
                    retry: false,
                    reason: "the attempt succeeded".to_owned(),
                    ..Decision::default()
                };
                (AttemptDecision::Succeeded, advice)
            } else {
                let failed = FailedAttempt {
                    job: job.identity.clone(),
                    attempt,
                    max_attempts,
                    config: conf.clone(),
                    applied_patches: applied_patches.clone(),
                    exit_code: outcome.exit_code,
                    signal: outcome.signal,
                    timed_out: outcome.timed_out,
                    logs: [
                        LogFile {
                            source: LogSource::Stdout,
                            path: outcome.stdout.clone(),
                        },
                        LogFile {
                            source: LogSource::Stderr,
                            path: outcome.stderr.clone(),
                        },
                    ]
                    .into_iter()
                    .chain(outcome.logs.iter().cloned())
                    .collect(),
                    runtime_seconds: outcome.runtime_seconds,
                    input_bytes: outcome.input_bytes,
                    plan_operators: outcome.plan_operators.clone(),
                    metrics: outcome.metrics.clone(),
                };
                let advice = match self.remediator.remediate(&failed) {
                    Ok(advice) => advice,
                    Err(e) => {
                        let advice = Decision::fallback(&e);
                        warn(advice.reason.clone(), progress);
                        advice
                    }
                };
                let decision = if !advice.retry {
                    AttemptDecision::DoNotRetry
                } else if attempt >= max_attempts {
                    AttemptDecision::AttemptsExhausted
                } else {
                    AttemptDecision::Retry
                };
                (decision, advice)
            };
            progress(Event::Decided {
                job: job.name.clone(),
                attempt,
                decision,
                reason: advice.reason.clone(),
                category: advice.category,
                config_changes: advice.config_changes.clone(),
            });
            let record = AttemptRecord {
                job: job.identity.clone(),
                attempt,
                config: conf.clone(),
                applied_patches: applied_patches.clone(),
                outcome: if succeeded {
                    RunOutcome::Succeeded
                } else {
                    RunOutcome::Failed
                },
                exit_code: outcome.exit_code,
                timed_out: outcome.timed_out,
                failure_category: advice.category,
                failure_rule: advice.rule.clone(),
                follows: follows.take(),
                decision,
                reason: advice.reason.clone(),
                patch_id: advice.patch_id.clone(),
                recommended_changes: advice.recommended_changes.clone(),
                runtime_seconds: outcome.runtime_seconds,
                cost_dollars: outcome.cost_dollars,
                peak_memory_bytes: outcome.peak_memory_bytes,
                metrics: outcome.metrics.clone(),
                input_bytes: outcome.input_bytes,
                plan_operators: outcome.plan_operators.clone(),
                at,
            };
            if let Err(e) = self.remediator.record(&record) {
                warn(
                    format!("medic did not record the attempt ({e}); the history misses it"),
                    progress,
                );
            }
            follows = advice.category.map(|category| PreviousFailure {
                category,
                rule: advice.rule.clone(),
            });
            attempts.push(AttemptReport {
                attempt,
                exit_code: outcome.exit_code,
                failure_category: advice.category,
                failure_rule: advice.rule,
                evidence: advice.evidence,
                decision,
                reason: advice.reason,
                config_changes: advice.config_changes,
                recommended_changes: advice.recommended_changes,
                runtime_seconds: outcome.runtime_seconds,
                cost_dollars: outcome.cost_dollars,
                signal: outcome.signal,
                timed_out: outcome.timed_out,
                patch_id: advice.patch_id,
                applied_patches: applied_patches.clone(),
                config: conf.clone(),
                peak_memory_bytes: outcome.peak_memory_bytes,
                metrics: outcome.metrics,
                stdout: Some(outcome.stdout),
                stderr: Some(outcome.stderr),
                logs: outcome.logs,
                warnings,
            });
            match decision {
                AttemptDecision::Succeeded => {
                    status = JobStatus::Succeeded;
                    break;
                }
                AttemptDecision::Retry => {
                    let delay = job.retry.backoff_after(attempt);
                    progress(Event::Backoff {
                        job: job.name.clone(),
                        next_attempt: attempt + 1,
                        delay,
                    });
                    self.sleeper.sleep(delay);
                }
                _ => break,
            }
            previous = Some((conf, applied_patches));
        }
        progress(Event::JobFinished {
            job: job.name.clone(),
            status,
        });
        JobReport {
            name: job.name.clone(),
            id: job.identity.id.clone(),
            status,
            attempts,
            skipped_because: Vec::new(),
        }
    }
}

fn skip(job: &Job, because: Vec<String>, progress: &mut impl FnMut(Event)) -> JobReport {
    progress(Event::JobSkipped {
        job: job.name.clone(),
        because: because.clone(),
    });
    JobReport {
        name: job.name.clone(),
        id: job.identity.id.clone(),
        status: JobStatus::Skipped,
        attempts: Vec::new(),
        skipped_because: because,
    }
}

//! The retry policies medic is compared with, and the engineers who made the history, as
//! [`Remediator`](medic_scheduler::Remediator)s: the scheduler runs them exactly as it runs medic.
//!
//! * `blind_retry`: the same configuration, until the attempts run out.
//! * `rules_only`: a retry, unchanged, only when the rule that classified the logs says a retry can help.
//! * `vpa_bump`: as `rules_only`, and after a memory error the memory that ran out × 1.2, at least +100 MiB
//!   (Kubernetes VPA's rule after an OOM kill).
//! * `double_memory`: as `rules_only`, and after a memory error twice the memory that ran out.
//! * `engineers` (history only): people reading the logs. Memory errors get more of the memory that ran out, by a
//!   factor between 1.25 and 3, sometimes with fewer cores or more partitions; errors the rules call permanent are
//!   retried now and then anyway; everything else is retried unchanged.
//!
//! "The memory that ran out" is read from the classification, as a real deployment would: executor heap for
//! `executor_oom`, the executor's overhead for `container_memory_exceeded`, driver heap for `driver_oom`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use medic_core::history::{AttemptEntry, Prices, RetryRecord};
use medic_core::{Category, Classification, JobIdentity, Memory, SparkConf};
use medic_rules::RuleSet;
use medic_scheduler::{
    AttemptRecord, Decision, FailedAttempt, RemediationError, Remediator, ResolvedConfig,
};
use rand::Rng;
use rand::seq::IndexedRandom;

use crate::error::Result;
use crate::world::{format_mib, granted_mib, rng_for};

/// The largest container (heap + overhead, MiB) the baselines ask for: the default cluster limit of medic's
/// search spaces, so that no policy gets memory another could not.
pub const MAX_CONTAINER_MIB: f64 = 65536.0;

/// A policy the simulator runs: a remediator told when each simulated day starts and ends.
pub trait Policy: Remediator {
    /// The name in reports.
    fn name(&self) -> &str;
    /// Called before the runs of `day`.
    fn start_day(&self, _day: u32) {}
    /// Called after the runs of `day`: a learning policy learns here.
    fn end_day(&self, _day: u32) -> Result<()> {
        Ok(())
    }
}

/// Which baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaselineKind {
    /// The same configuration, until the attempts run out.
    BlindRetry,
    /// Unchanged retries when the rule says a retry can help.
    RulesOnly,
    /// VPA's bump after memory errors.
    VpaBump,
    /// Twice the memory after memory errors.
    DoubleMemory,
    /// People retrying by hand (the history).
    Engineers,
}

impl BaselineKind {
    /// The compared baselines, in report order.
    pub const COMPARED: [BaselineKind; 4] = [
        BaselineKind::BlindRetry,
        BaselineKind::RulesOnly,
        BaselineKind::VpaBump,
        BaselineKind::DoubleMemory,
    ];

    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            BaselineKind::BlindRetry => "blind_retry",
            BaselineKind::RulesOnly => "rules_only",
            BaselineKind::VpaBump => "vpa_bump",
            BaselineKind::DoubleMemory => "double_memory",
            BaselineKind::Engineers => "engineers",
        }
    }
}

/// A baseline policy.
pub struct Baseline {
    kind: BaselineKind,
    rules: RuleSet,
    prices: Prices,
    seed: u64,
    day: AtomicU32,
    /// The configuration of each job's next attempt, for the day's run.
    next: Mutex<HashMap<String, SparkConf>>,
    /// Retry records (kept by the engineers only: they are the history).
    records: Mutex<Vec<RetryRecord>>,
    /// Every attempt's attempts-history entry (engineers only): right-sizing learns from the successes in it.
    attempts: Mutex<Vec<AttemptEntry>>,
}

impl Baseline {
    /// A baseline of `kind` classifying with `rules`; `seed` drives the engineers' choices.
    pub fn new(kind: BaselineKind, rules: RuleSet, prices: Prices, seed: u64) -> Self {
        Baseline {
            kind,
            rules,
            prices,
            seed,
            day: AtomicU32::new(0),
            next: Mutex::new(HashMap::new()),
            records: Mutex::new(Vec::new()),
            attempts: Mutex::new(Vec::new()),
        }
    }

    /// The retry records kept so far, taken out.
    pub fn take_records(&self) -> Vec<RetryRecord> {
        std::mem::take(&mut *self.records.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The attempts-history entries kept so far (every attempt, first ones and successes included), taken out.
    /// Only the engineers keep them.
    pub fn take_attempts(&self) -> Vec<AttemptEntry> {
        std::mem::take(&mut *self.attempts.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn classify(&self, failed: &FailedAttempt) -> Classification {
        let mut classifier = self.rules.classifier(Some(&failed.job));
        for log in &failed.logs {
            classifier.scan_path(&log.path, Some(log.source));
        }
        classifier.finish()
    }

    fn decide(
        &self,
        failed: &FailedAttempt,
        classification: &Classification,
    ) -> (bool, Option<SparkConf>, String) {
        let category = classification.category;
        let restartable = classification.restartable;
        let unchanged = |reason: &str| (true, None, reason.to_owned());
        let stop = |reason: &str| (false, None, reason.to_owned());
        match self.kind {
            BaselineKind::BlindRetry => unchanged("blind retry"),
            BaselineKind::RulesOnly if restartable => unchanged("the rule says a retry can help"),
            BaselineKind::RulesOnly => stop("the rule does not say a retry can help"),
            BaselineKind::VpaBump | BaselineKind::DoubleMemory if category.is_memory_config() => {
                let factor = |mib: f64| match self.kind {
                    BaselineKind::VpaBump => (mib * 1.2).max(mib + 100.0),
                    _ => mib * 2.0,
                };
                let conf = bump(&failed.config, category, factor);
                (
                    true,
                    Some(conf),
                    format!("{} after {category}", self.kind.name()),
                )
            }
            BaselineKind::VpaBump | BaselineKind::DoubleMemory if restartable => {
                unchanged("the rule says a retry can help")
            }
            BaselineKind::VpaBump | BaselineKind::DoubleMemory => {
                stop("the rule does not say a retry can help")
            }
            BaselineKind::Engineers => {
                let day = self.day.load(Ordering::Relaxed);
                let mut rng = rng_for(
                    self.seed,
                    "engineers",
                    &[
                        xxhash_rust::xxh3::xxh3_64(failed.job.id.as_bytes()),
                        u64::from(day),
                        u64::from(failed.attempt),
                    ],
                );
                if category.is_memory_config() {
                    let factor = *[1.25, 1.5, 1.5, 2.0, 2.0, 3.0]
                        .choose(&mut rng)
                        .unwrap_or(&2.0);
                    let mut conf = bump(&failed.config, category, |mib| mib * factor);
                    if category.memory() == Some(Memory::ExecutorHeap) && rng.random_bool(0.25) {
                        if rng.random_bool(0.5) {
                            let cores = failed
                                .config
                                .get("spark.executor.cores")
                                .and_then(|c| c.parse::<u32>().ok())
                                .unwrap_or(1);
                            conf.set("spark.executor.cores", (cores / 2).max(1).to_string());
                        } else {
                            let partitions = failed
                                .config
                                .get("spark.sql.shuffle.partitions")
                                .and_then(|c| c.parse::<u32>().ok())
                                .unwrap_or(200);
                            conf.set("spark.sql.shuffle.partitions", (partitions * 2).to_string());
                        }
                    }
                    (
                        true,
                        Some(conf),
                        "an engineer gave it more memory".to_owned(),
                    )
                } else if restartable || category == Category::Unclassified || rng.random_bool(0.3)
                {
                    unchanged("an engineer retried it")
                } else {
                    stop("an engineer gave up")
                }
            }
        }
    }
}

/// `conf` with the memory that ran out (by `category`) set to `grow(current MiB)`, rounded up to a whole MiB and
/// kept within [`MAX_CONTAINER_MIB`].
pub fn bump(conf: &SparkConf, category: Category, grow: impl Fn(f64) -> f64) -> SparkConf {
    let (heap, overhead, driver) = granted_mib(conf);
    let mut conf = conf.clone();
    match category.memory() {
        Some(Memory::ExecutorHeap) => {
            let heap = grow(heap).ceil().min(MAX_CONTAINER_MIB - overhead);
            conf.set("spark.executor.memory", format_mib(heap));
        }
        Some(Memory::Container) => {
            let overhead = grow(overhead).ceil().min(MAX_CONTAINER_MIB - heap);
            conf.set("spark.executor.memoryOverhead", format_mib(overhead));
        }
        Some(Memory::Driver) => {
            conf.set(
                "spark.driver.memory",
                format_mib(grow(driver).ceil().min(MAX_CONTAINER_MIB)),
            );
        }
        Some(Memory::PythonWorkers) | None => {}
    }
    conf
}

impl Remediator for Baseline {
    fn resolve(
        &self,
        job: &JobIdentity,
        base: &SparkConf,
    ) -> std::result::Result<ResolvedConfig, RemediationError> {
        let next = self
            .next
            .lock()
            .map_err(|_| RemediationError::Unavailable("poisoned".to_owned()))?;
        Ok(ResolvedConfig {
            config: next.get(&job.id).cloned().unwrap_or_else(|| base.clone()),
            applied_patches: Vec::new(),
        })
    }

    fn remediate(&self, failed: &FailedAttempt) -> std::result::Result<Decision, RemediationError> {
        // A scheduler retrying blindly does not read the logs.
        if self.kind == BaselineKind::BlindRetry {
            return Ok(Decision::retry("blind retry"));
        }
        let classification = self.classify(failed);
        let (retry, conf, reason) = self.decide(failed, &classification);
        let mut changes = std::collections::BTreeMap::new();
        if let Some(conf) = conf {
            for (key, value) in &conf.0 {
                if failed.config.get(key) != Some(value) {
                    changes.insert(key.clone(), Some(value.clone()));
                }
            }
            self.next
                .lock()
                .map_err(|_| RemediationError::Unavailable("poisoned".to_owned()))?
                .insert(failed.job.id.clone(), conf);
        }
        Ok(Decision {
            retry,
            reason,
            category: Some(classification.category),
            rule: classification.rule,
            evidence: classification.evidence,
            patch_id: None,
            recommended_changes: changes.clone(),
            config_changes: changes,
        })
    }

    fn record(&self, attempt: &AttemptRecord) -> std::result::Result<(), RemediationError> {
        if self.kind != BaselineKind::Engineers {
            return Ok(());
        }
        // A generic fn, not a closure: the two locks' errors have different types.
        fn poisoned<E>(_: E) -> RemediationError {
            RemediationError::Unavailable("poisoned".to_owned())
        }
        if let Some(record) = attempt.retry_record(&self.prices) {
            self.records.lock().map_err(poisoned)?.push(record);
        }
        self.attempts
            .lock()
            .map_err(poisoned)?
            .push(attempt.attempt_entry(&self.prices));
        Ok(())
    }
}

impl Policy for Baseline {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn start_day(&self, day: u32) {
        self.day.store(day, Ordering::Relaxed);
        // A baseline's changes hold for the run they were made for; tomorrow the job starts from its own
        // configuration again.
        self.next.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

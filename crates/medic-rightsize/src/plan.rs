//! One job's right-size, from its recent attempts: the guard-rails, then a size per memory setting. No I/O: the
//! attempts and the job's current right-size patch come in, a [`JobPlan`] goes out.

use medic_core::history::{AttemptEntry, Prices};
use medic_core::patch::Patch;
use medic_core::sizing::{RightsizeEvidence, SizedSetting};
use medic_core::spark::{self, Jvm};
use medic_core::units::format_mib;
use medic_core::{JobIdentity, RunOutcome};
use serde::Serialize;
use time::OffsetDateTime;

use crate::estimate::{Sample, estimate};
use crate::policy::RightsizePolicy;

pub use medic_core::spark::{DRIVER_MEMORY, EXECUTOR_MEMORY, EXECUTOR_OVERHEAD};

const MIB: u64 = 1 << 20;

/// What to do with a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Store a right-size patch (replacing the job's current one).
    Resize,
    /// Change nothing.
    Keep,
    /// Revoke the job's right-size patch: it goes back to its own configuration.
    Revoke,
}

/// Why, as a word for machines (the plan's `reason` says it for people).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// The job's memory is sized from its peaks (down, or back up as its peaks grow).
    Sized,
    /// The job's scope is not opted in, or is opted out.
    OptedOut,
    /// Too few successful runs in the window.
    TooLittleHistory,
    /// A memory failure in the window (after a right-size: the right-size is revoked).
    MemoryFailure,
    /// The current right-size has not had its runs yet.
    Settling,
    /// The runs measured no peak memory.
    NoMeasurements,
    /// The job asks for about what it uses.
    NothingToGain,
}

/// One job's right-size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobPlan {
    /// The job (as its latest run named it).
    pub job: JobIdentity,
    /// What to do.
    pub action: Action,
    /// Why, as a word.
    pub why: Why,
    /// Why, for people.
    pub reason: String,
    /// Successful runs in the window.
    pub runs: u32,
    /// Each memory setting looked at: requested, used, recommended.
    pub settings: Vec<SizedSetting>,
    /// What the right-size saves in a month at the window's rate of runs, in dollars (0 unless resized down).
    pub saving_per_month: f64,
    /// The patch stored (resize) or revoked (revoke), once applied; for a dry run, the job's current
    /// right-size patch, if any.
    pub patch_id: Option<String>,
    /// The job's active right-size patch and its version, which a resize supersedes and a revoke revokes.
    #[serde(skip)]
    pub current_patch: Option<(String, u64)>,
    /// The merge patch a resize stores: every right-sized setting that differs from the job's own.
    #[serde(skip)]
    pub body: serde_json::Map<String, serde_json::Value>,
}

impl JobPlan {
    fn new(
        job: &JobIdentity,
        patch: Option<&Patch>,
        action: Action,
        why: Why,
        reason: String,
    ) -> Self {
        JobPlan {
            job: job.clone(),
            action,
            why,
            reason,
            runs: 0,
            settings: Vec::new(),
            saving_per_month: 0.0,
            patch_id: patch.map(|p| p.id.clone()),
            current_patch: patch.map(|p| (p.id.clone(), p.version)),
            body: serde_json::Map::new(),
        }
    }

    /// The evidence a resize's patch carries.
    pub fn evidence(&self, policy: &RightsizePolicy) -> RightsizeEvidence {
        RightsizeEvidence {
            estimator: policy.estimator.as_str().to_owned(),
            window_days: policy.window_days,
            runs: self.runs,
            settings: self.settings.clone(),
            saving_per_month: self.saving_per_month,
        }
    }
}

/// Plans `job`'s right-size at `now` from `attempts` (its attempts of any outcome, oldest first; those before the
/// window are ignored) and `patch`, its active right-size patch. The guard-rails, in order:
///
/// 1. a job outside the policy's scopes is left alone (and loses its right-size patch);
/// 2. a memory failure in the window leaves the job alone; one after its right-size revokes the right-size;
/// 3. fewer than `min_runs` successful runs in the window leave it alone;
/// 4. a new right-size waits for its first run, and steps down only after `settle_runs` runs with it;
/// 5. no setting goes below the window's largest peak × (1 + margin), nor `min_heap_mib` for a heap, nor shrinks by
///    more than `max_step` at once, nor grows above what the job itself asks for, unless `max_step_up` lets it
///    (then by at most that share a step).
pub fn plan_job(
    job: &JobIdentity,
    attempts: &[AttemptEntry],
    patch: Option<&Patch>,
    policy: &RightsizePolicy,
    prices: &Prices,
    now: OffsetDateTime,
) -> JobPlan {
    let window_start = now - time::Duration::days(i64::from(policy.window_days));
    let window: Vec<&AttemptEntry> = attempts.iter().filter(|a| a.at >= window_start).collect();
    let job = window.last().map_or(job, |a| &a.job);
    let plan = |action, why, reason| JobPlan::new(job, patch, action, why, reason);

    if !policy.admits(job) {
        return match patch {
            Some(p) => plan(
                Action::Revoke,
                Why::OptedOut,
                format!(
                    "the job's scope is not opted in to right-sizing: revoke {}",
                    p.id
                ),
            ),
            None => plan(
                Action::Keep,
                Why::OptedOut,
                "the job's scope is not opted in to right-sizing".to_owned(),
            ),
        };
    }
    if let Some(failure) = window.iter().rev().find(|a| {
        a.outcome == RunOutcome::Failed && a.failure_category.is_some_and(|c| c.is_memory_config())
    }) {
        let category = failure.failure_category.map_or("memory", |c| c.as_str());
        return match patch {
            Some(p) if failure.at >= p.created_at => plan(
                Action::Revoke,
                Why::MemoryFailure,
                format!(
                    "{category} at {} after right-size {}: the job goes back to its own configuration",
                    failure.at, p.id
                ),
            ),
            _ => plan(
                Action::Keep,
                Why::MemoryFailure,
                format!(
                    "{category} at {} in the last {} days: left alone until the window holds none",
                    failure.at, policy.window_days
                ),
            ),
        };
    }
    let successes: Vec<&AttemptEntry> = window
        .iter()
        .copied()
        .filter(|a| a.outcome == RunOutcome::Succeeded)
        .collect();
    let runs = successes.len() as u32;
    if runs < policy.min_runs {
        return plan(
            Action::Keep,
            Why::TooLittleHistory,
            format!(
                "{runs} successful run(s) in the last {} days, {} needed",
                policy.window_days, policy.min_runs
            ),
        );
    }
    // What the job's next run asks for: its latest first attempt's configuration (a retry's may carry a
    // remediation's bump, which lasts only for that run).
    let Some(latest) = window
        .iter()
        .rev()
        .find(|a| a.attempt == 1)
        .or(window.last())
    else {
        return plan(
            Action::Keep,
            Why::TooLittleHistory,
            "no run in the window".to_owned(),
        );
    };
    let current = &latest.config;
    let under_patch = patch.map_or(0, |p| {
        successes
            .iter()
            .filter(|a| a.applied_patches.contains(&p.id))
            .count() as u32
    });
    if let Some(p) = patch
        && !latest.applied_patches.contains(&p.id)
    {
        let mut waiting = plan(
            Action::Keep,
            Why::Settling,
            format!("right-size {} has not run yet", p.id),
        );
        waiting.runs = runs;
        return waiting;
    }
    let settled = patch.is_none() || under_patch >= policy.settle_runs;

    let original = |key: &str, current: u64| {
        patch
            .and_then(|p| p.provenance.rightsize.as_ref())
            .and_then(|e| e.settings.iter().find(|s| s.key == key))
            .map_or(current, |s| s.original_bytes)
    };
    let sampled = |peak: &dyn Fn(&AttemptEntry) -> Option<u64>| -> Vec<Sample> {
        successes
            .iter()
            .filter_map(|a| {
                peak(a).map(|bytes| Sample {
                    age_days: (now - a.at).as_seconds_f64() / 86_400.0,
                    bytes,
                })
            })
            .collect()
    };
    let sizer = Sizer { policy, settled };
    let mut settings = Vec::new();
    if spark::is_local_mode(current) {
        // One JVM holds driver and executors: its heap is the driver's.
        let samples = sampled(&|a| {
            let m = a.metrics.as_ref();
            m.and_then(|m| m.peak_driver_heap_bytes.or(m.peak_jvm_heap_bytes))
                .or(a.peak_memory_bytes)
        });
        let now_bytes = spark::heap_bytes(current, Jvm::Driver);
        settings.extend(sizer.heap(
            DRIVER_MEMORY,
            &samples,
            now_bytes,
            original(DRIVER_MEMORY, now_bytes),
        ));
    } else {
        let executor_peak = |a: &AttemptEntry| {
            let m = a.metrics.as_ref();
            m.and_then(|m| m.peak_executor_heap_bytes.or(m.peak_jvm_heap_bytes))
                .or(a.peak_memory_bytes)
        };
        let heap_now = spark::heap_bytes(current, Jvm::Executor);
        let heap = sizer.heap(
            EXECUTOR_MEMORY,
            &sampled(&executor_peak),
            heap_now,
            original(EXECUTOR_MEMORY, heap_now),
        );
        let heap_after = heap.as_ref().map_or(heap_now, |s| s.recommended_bytes);
        settings.extend(heap);
        // Off-heap use: the executor's resident set beyond its heap.
        let off_heap = sampled(&|a| {
            let m = a.metrics.as_ref()?;
            Some(
                m.peak_jvm_rss_bytes?
                    .saturating_sub(m.peak_executor_heap_bytes?),
            )
        });
        let explicit = spark::memory_bytes(current, EXECUTOR_OVERHEAD);
        let overhead_now = explicit.unwrap_or_else(|| spark::default_overhead_bytes(heap_now));
        settings.extend(sizer.overhead(
            &off_heap,
            explicit.is_some(),
            overhead_now,
            original(EXECUTOR_OVERHEAD, overhead_now),
            spark::default_overhead_bytes(heap_after),
        ));
        let driver_now = spark::heap_bytes(current, Jvm::Driver);
        let driver = sampled(&|a| a.metrics.as_ref()?.peak_driver_heap_bytes);
        settings.extend(sizer.heap(
            DRIVER_MEMORY,
            &driver,
            driver_now,
            original(DRIVER_MEMORY, driver_now),
        ));
    }

    let mut result = plan(Action::Keep, Why::NothingToGain, String::new());
    result.runs = runs;
    if settings.is_empty() {
        result.why = Why::NoMeasurements;
        result.reason = format!("none of the {runs} successful runs measured its peak memory");
        return result;
    }
    let changed: Vec<&SizedSetting> = settings
        .iter()
        .filter(|s| s.recommended_bytes != s.requested_bytes)
        .collect();
    let mut body = serde_json::Map::new();
    for setting in &settings {
        // Overhead appears only when it must be written (Spark's default for the new heap would not do).
        if setting.recommended_bytes != setting.original_bytes || setting.key == EXECUTOR_OVERHEAD {
            body.insert(
                setting.key.clone(),
                serde_json::Value::String(format_mib(setting.recommended_bytes)),
            );
        }
    }
    let describe = |s: &SizedSetting| {
        format!(
            "{} {} → {} (largest peak {} in {runs} runs)",
            s.key,
            format_mib(s.requested_bytes),
            format_mib(s.recommended_bytes),
            format_mib(s.used_bytes),
        )
    };
    if changed.is_empty() {
        result.why = if settled {
            Why::NothingToGain
        } else {
            Why::Settling
        };
        result.reason = if settled {
            "asks for about what it uses".to_owned()
        } else {
            format!(
                "{under_patch} of {} run(s) with the current right-size before the next step",
                policy.settle_runs
            )
        };
        result.settings = settings;
        return result;
    }
    let mut next = current.clone();
    for (key, value) in &body {
        if let Some(value) = value.as_str() {
            next.set(key.clone(), value.to_owned());
        }
    }
    let runtime = successes.iter().map(|a| a.runtime_seconds).sum::<f64>() / f64::from(runs);
    let runs_per_month = f64::from(runs) / f64::from(policy.window_days) * 30.0;
    result.saving_per_month =
        (prices.cost(current, runtime) - prices.cost(&next, runtime)) * runs_per_month;
    result.reason = changed
        .iter()
        .map(|s| describe(s))
        .collect::<Vec<_>>()
        .join(", ");
    if body.is_empty() {
        // Every setting is back at the job's own size: the right-size has nothing left to say.
        result.action = Action::Revoke;
        result.why = Why::Sized;
        result.reason.push_str(": back to the job's own sizes");
    } else {
        result.action = Action::Resize;
        result.why = Why::Sized;
        result.body = body;
    }
    result.settings = settings;
    result
}

/// Sizes settings under the policy.
struct Sizer<'a> {
    policy: &'a RightsizePolicy,
    /// Whether the job may step down now.
    settled: bool,
}

impl Sizer<'_> {
    fn round_up(&self, bytes: u64) -> u64 {
        let step = self.policy.round_mib * MIB;
        bytes.div_ceil(step) * step
    }

    /// The next size of a setting now at `current`, whose guard-railed target is `target`: down by at most
    /// `max_step` and only once settled, and only when worth a patch; up at once to the job's own size
    /// (`original`), and above it by at most `max_step_up` a step, when worth a patch.
    fn step(&self, target: u64, current: u64, original: u64) -> u64 {
        let own = original.max(current);
        if target > own && self.policy.max_step_up > 0.0 {
            // The peaks come within the margin of what the job asks for: grow before a run fails.
            let highest =
                self.round_up((current as f64 * (1.0 + self.policy.max_step_up)).ceil() as u64);
            let next = target.min(highest).max(own);
            let worth = (next - current) as f64 >= self.policy.min_change * current as f64;
            return if worth { next } else { own };
        }
        let target = target.min(own);
        if target >= current {
            return target;
        }
        if !self.settled {
            return current;
        }
        let lowest = self.round_up((current as f64 * (1.0 - self.policy.max_step)).ceil() as u64);
        let next = target.max(lowest).min(current);
        if ((current - next) as f64) < self.policy.min_change * current as f64 {
            current
        } else {
            next
        }
    }

    /// The margin over the largest peak: the policy's, or more for a job whose peaks vary more
    /// (e^(spread × σ) − 1, σ the standard deviation of the log peaks; needs three peaks).
    fn margin(&self, samples: &[Sample]) -> f64 {
        let logs: Vec<f64> = samples
            .iter()
            .filter(|s| s.bytes > 0)
            .map(|s| (s.bytes as f64).ln())
            .collect();
        if logs.len() < 3 {
            return self.policy.margin;
        }
        let n = logs.len() as f64;
        let mean = logs.iter().sum::<f64>() / n;
        let sigma = (logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        self.policy
            .margin
            .max((self.policy.spread * sigma).exp() - 1.0)
    }

    /// A heap: the estimator's size, never below the largest peak × (1 + margin) nor `min_heap_mib`.
    fn heap(
        &self,
        key: &str,
        samples: &[Sample],
        current: u64,
        original: u64,
    ) -> Option<SizedSetting> {
        let used = samples.iter().map(|s| s.bytes).max()?;
        let margin = self.margin(samples);
        let estimate = estimate(self.policy.estimator, samples, margin);
        let floor = (used as f64 * (1.0 + margin)).ceil() as u64;
        let target = self.round_up(estimate.max(floor).max(self.policy.min_heap_mib * MIB));
        Some(SizedSetting {
            key: key.to_owned(),
            original_bytes: original,
            requested_bytes: current,
            used_bytes: used,
            estimate_bytes: estimate,
            recommended_bytes: self.step(target, current, original),
        })
    }

    /// The executor overhead. With measured off-heap use it is sized like a heap (at least Spark's 384 MiB) and
    /// written only when Spark's default for the new heap would not hold it; without, an unset overhead is pinned at
    /// its current default, so that a smaller heap never shrinks it unseen.
    fn overhead(
        &self,
        off_heap: &[Sample],
        explicit: bool,
        current: u64,
        original: u64,
        default_after: u64,
    ) -> Option<SizedSetting> {
        let Some(used) = off_heap.iter().map(|s| s.bytes).max() else {
            return (!explicit && default_after < current).then(|| SizedSetting {
                key: EXECUTOR_OVERHEAD.to_owned(),
                original_bytes: original,
                requested_bytes: current,
                used_bytes: 0,
                estimate_bytes: current,
                recommended_bytes: current,
            });
        };
        let estimate = (used as f64 * (1.0 + self.margin(off_heap))).ceil() as u64;
        let target = self.round_up(estimate.max(spark::MIN_MEMORY_OVERHEAD_BYTES));
        if !explicit && target <= default_after {
            // Spark's default for the new heap holds it (and shrinks no faster than the heap does).
            return None;
        }
        let next = self.step(target, current, original);
        Some(SizedSetting {
            key: EXECUTOR_OVERHEAD.to_owned(),
            original_bytes: original,
            requested_bytes: current,
            used_bytes: used,
            estimate_bytes: estimate,
            recommended_bytes: if explicit {
                next
            } else {
                next.max(default_after)
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use medic_core::history::RunMetrics;
    use medic_core::patch::{Lifetime, PatchBody, PatchStatus, Provenance, Scope};
    use medic_core::{Category, SparkConf};
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-22 06:00 UTC);
    const GIB: f64 = (1u64 << 30) as f64;

    fn conf(pairs: &[(&str, &str)]) -> SparkConf {
        let mut conf = SparkConf::new();
        for (key, value) in pairs {
            conf.set(*key, *value);
        }
        conf
    }

    /// A first attempt `days_ago` that succeeded with `conf`, its executors peaking at `heap_gib` of heap and
    /// `heap_gib + 0.2` resident, its driver at 0.5 GiB.
    fn run(days_ago: i64, conf: &SparkConf, heap_gib: f64) -> AttemptEntry {
        AttemptEntry {
            job: JobIdentity::new("rollup"),
            attempt: 1,
            config: conf.clone(),
            applied_patches: Vec::new(),
            outcome: RunOutcome::Succeeded,
            exit_code: Some(0),
            timed_out: false,
            failure_category: None,
            failure_rule: None,
            follows_category: None,
            decision: "succeeded".to_owned(),
            reason: String::new(),
            recommended_changes: Default::default(),
            patch_id: None,
            runtime_seconds: 1800.0,
            cost_dollars: 1.0,
            peak_memory_bytes: Some((heap_gib * GIB) as u64),
            metrics: Some(RunMetrics {
                peak_executor_heap_bytes: Some((heap_gib * GIB) as u64),
                peak_jvm_rss_bytes: Some(((heap_gib + 0.2) * GIB) as u64),
                peak_driver_heap_bytes: Some((0.5 * GIB) as u64),
                ..RunMetrics::default()
            }),
            at: NOW - time::Duration::days(days_ago),
        }
    }

    fn owner_conf() -> SparkConf {
        conf(&[
            ("spark.executor.memory", "12g"),
            ("spark.executor.instances", "4"),
            ("spark.executor.cores", "4"),
            ("spark.driver.memory", "4g"),
        ])
    }

    fn history(heaps: &[f64]) -> Vec<AttemptEntry> {
        let conf = owner_conf();
        heaps
            .iter()
            .enumerate()
            .map(|(i, heap)| run((heaps.len() - i) as i64, &conf, *heap))
            .collect()
    }

    fn recommended(plan: &JobPlan, key: &str) -> Option<u64> {
        plan.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.recommended_bytes)
    }

    fn plan(attempts: &[AttemptEntry], patch: Option<&Patch>, policy: &RightsizePolicy) -> JobPlan {
        plan_job(
            &JobIdentity::new("rollup"),
            attempts,
            patch,
            policy,
            &Prices::default(),
            NOW,
        )
    }

    fn rightsize_patch(plan: &JobPlan) -> Patch {
        Patch {
            id: "p1".to_owned(),
            scope: Scope::job("rollup"),
            patch: PatchBody::MergePatch(plan.body.clone()),
            lifetime: Lifetime::Persistent,
            provenance: Provenance {
                rightsize: Some(plan.evidence(&RightsizePolicy::default())),
                ..Provenance::default()
            },
            created_at: NOW - time::Duration::hours(1),
            expires_at: None,
            status: PatchStatus::Active,
            version: 1,
        }
    }

    #[test]
    fn an_over_provisioned_job_steps_down_by_at_most_half_and_never_below_its_peak_plus_margin() {
        let policy = RightsizePolicy::default();
        let attempts = history(&[2.6, 2.9, 2.7, 3.0, 2.8, 2.7, 2.9, 2.8]);
        let first = plan(&attempts, None, &policy);
        assert_eq!(
            (first.action, first.why),
            (Action::Resize, Why::Sized),
            "{first:?}"
        );
        // 12 GiB halves to 6 GiB: the bounded step, although 3.3 GiB would do.
        assert_eq!(recommended(&first, EXECUTOR_MEMORY), Some(6 << 30));
        // The driver (peaks 0.5 GiB) halves to 2 GiB; Spark's default overhead for 6 GiB (614 MiB) holds 0.2 GiB.
        assert_eq!(recommended(&first, DRIVER_MEMORY), Some(2 << 30));
        assert!(recommended(&first, EXECUTOR_OVERHEAD).is_none());
        assert!(first.saving_per_month > 0.0);
        assert_eq!(first.body["spark.executor.memory"], "6144m");

        // Runs with the patch: once settled, the next step goes to the largest peak (3.0 GiB) + the margin, rounded
        // up to 64 MiB, and no lower.
        let patch = rightsize_patch(&first);
        let smaller = conf(&[
            ("spark.executor.memory", "6g"),
            ("spark.executor.instances", "4"),
            ("spark.executor.cores", "4"),
            ("spark.driver.memory", "2g"),
        ]);
        let mut attempts = attempts;
        let mut with_patch = run(0, &smaller, 2.9);
        with_patch.applied_patches = vec!["p1".to_owned()];
        attempts.push(with_patch.clone());
        let settling = plan(&attempts, Some(&patch), &policy);
        assert_eq!(
            (settling.action, settling.why),
            (Action::Keep, Why::Settling),
            "{settling:?}"
        );
        attempts.push(with_patch);
        let second = plan(&attempts, Some(&patch), &policy);
        assert_eq!(second.action, Action::Resize, "{second:?}");
        let floor = (3.0 * GIB * (1.0 + policy.margin)) as u64;
        let heap = recommended(&second, EXECUTOR_MEMORY).expect("heap");
        assert!(
            heap >= floor && heap < floor + (64 << 20),
            "{heap} vs {floor}"
        );
        // The driver stops at the 640 MiB floor... after a second halving to 1 GiB first.
        assert_eq!(recommended(&second, DRIVER_MEMORY), Some(1 << 30));
        // The evidence keeps the job's own sizes.
        let evidence = second.evidence(&policy);
        assert!(
            evidence
                .settings
                .iter()
                .any(|s| s.key == EXECUTOR_MEMORY && s.original_bytes == 12 << 30)
        );
    }

    #[test]
    fn a_job_whose_peaks_near_its_grant_grows_by_bounded_steps_only_when_allowed() {
        // Peaks of 10.5 to 11 GiB on a 12 GiB heap: 11 GiB × 1.2 = 13.2 GiB is above what the job asks for.
        let attempts = history(&[10.5, 10.8, 11.0, 10.9, 10.7]);
        let down_only = plan(
            &attempts,
            None,
            &RightsizePolicy {
                max_step_up: 0.0,
                ..RightsizePolicy::default()
            },
        );
        assert_eq!(
            recommended(&down_only, EXECUTOR_MEMORY),
            Some(12 << 30),
            "{down_only:?}"
        );
        assert!(!down_only.body.contains_key(EXECUTOR_MEMORY));

        let up = RightsizePolicy::default();
        assert_eq!(up.max_step_up, 0.5);
        let grown = plan(&attempts, None, &up);
        assert_eq!(grown.action, Action::Resize, "{grown:?}");
        let heap = recommended(&grown, EXECUTOR_MEMORY).expect("heap");
        let floor = (11.0 * GIB * 1.2) as u64;
        assert!(
            heap >= floor && heap < floor + (64 << 20),
            "{heap} vs {floor}"
        );
        assert!(grown.saving_per_month < 0.0, "growing costs: {grown:?}");

        // At most +50 % in one step, however high the peaks.
        let steep = RightsizePolicy {
            max_step_up: 0.1,
            ..up.clone()
        };
        let bounded = plan(&attempts, None, &steep);
        let heap = recommended(&bounded, EXECUTOR_MEMORY).expect("heap");
        assert!(
            heap <= (12.0 * GIB * 1.1) as u64 + (64 << 20) && heap > 12 << 30,
            "{heap}"
        );

        // A job well inside its grant is not grown.
        let comfortable = plan(&history(&[6.0, 6.2, 6.1]), None, &up);
        assert!(recommended(&comfortable, EXECUTOR_MEMORY).expect("heap") < 12 << 30);
    }

    #[test]
    fn too_little_history_a_memory_failure_or_an_opt_out_leave_a_job_alone() {
        let policy = RightsizePolicy::default();
        let short = plan(&history(&[2.0, 2.0]), None, &policy);
        assert_eq!(
            (short.action, short.why),
            (Action::Keep, Why::TooLittleHistory)
        );

        let mut attempts = history(&[2.0; 10]);
        let mut failed = run(3, &owner_conf(), 11.9);
        failed.outcome = RunOutcome::Failed;
        failed.failure_category = Some(Category::ExecutorOom);
        attempts.insert(6, failed.clone());
        let left = plan(&attempts, None, &policy);
        assert_eq!(
            (left.action, left.why),
            (Action::Keep, Why::MemoryFailure),
            "{left:?}"
        );

        // After a right-size, the same failure revokes it.
        let first = plan(&history(&[2.0; 10]), None, &policy);
        let mut patch = rightsize_patch(&first);
        patch.created_at = NOW - time::Duration::days(5);
        let revoke = plan(&attempts, Some(&patch), &policy);
        assert_eq!(
            (revoke.action, revoke.why),
            (Action::Revoke, Why::MemoryFailure),
            "{revoke:?}"
        );

        // Failures older than the window are forgotten.
        let mut old = history(&[2.0; 10]);
        failed.at = NOW - time::Duration::days(20);
        old.insert(0, failed);
        assert_eq!(plan(&old, None, &policy).action, Action::Resize);

        let opted_out = RightsizePolicy {
            exclude: vec![Scope::job("rollup")],
            ..RightsizePolicy::default()
        };
        let out = plan(&history(&[2.0; 10]), Some(&patch), &opted_out);
        assert_eq!((out.action, out.why), (Action::Revoke, Why::OptedOut));
    }

    #[test]
    fn a_right_size_grows_back_at_once_when_the_peaks_grow() {
        let policy = RightsizePolicy::default();
        let first = plan(&history(&[2.0; 10]), None, &policy);
        let patch = rightsize_patch(&first);
        let smaller = conf(&[
            ("spark.executor.memory", "6g"),
            ("spark.executor.instances", "4"),
            ("spark.executor.cores", "4"),
            ("spark.driver.memory", "2g"),
        ]);
        let mut attempts = history(&[2.0; 10]);
        let mut grown = run(0, &smaller, 5.8);
        grown.applied_patches = vec!["p1".to_owned()];
        attempts.push(grown);
        // Not settled (one run of two), yet the heap goes up at once: above the 5.8 GiB peak + 20 % (more, since the
        // peaks jumped), and never above the job's own 12 GiB.
        let up = plan(&attempts, Some(&patch), &policy);
        assert_eq!(up.action, Action::Resize, "{up:?}");
        let heap = recommended(&up, EXECUTOR_MEMORY).expect("heap");
        assert!(heap as f64 > 5.8 * 1.2 * GIB && heap <= 12 << 30, "{heap}");
    }

    #[test]
    fn peaks_that_vary_more_get_more_margin() {
        let policy = RightsizePolicy::default();
        let steady = [2.9, 3.0, 2.95, 3.0, 2.9, 3.0, 2.95, 3.0];
        let jumpy = [1.8, 3.0, 2.2, 1.5, 2.9, 1.6, 2.4, 3.0];
        let plan_of = |heaps: &[f64]| {
            let mut attempts = history(heaps);
            // Settled on a first step, so that the second step shows the floor.
            let first = plan(&attempts, None, &policy);
            let patch = rightsize_patch(&first);
            let mut conf = owner_conf();
            conf.set(EXECUTOR_MEMORY, "6g");
            for _ in 0..2 {
                let mut with_patch = run(0, &conf, 3.0);
                with_patch.applied_patches = vec!["p1".to_owned()];
                attempts.push(with_patch);
            }
            recommended(&plan(&attempts, Some(&patch), &policy), EXECUTOR_MEMORY).expect("heap")
        };
        let (steady, jumpy) = (plan_of(&steady), plan_of(&jumpy));
        // Both peak at 3 GiB; the steady job gets the policy's 20 %, the jumpy one more.
        assert!(steady < (3.0 * 1.2 * GIB) as u64 + (64 << 20), "{steady}");
        assert!(jumpy > (3.0 * 1.3 * GIB) as u64, "{jumpy}");
    }

    #[test]
    fn local_mode_sizes_the_driver_from_the_one_jvm() {
        let local = conf(&[("spark.master", "local[2]"), ("spark.driver.memory", "4g")]);
        let attempts: Vec<AttemptEntry> = (1..=3)
            .map(|day| {
                let mut a = run(day, &local, 0.3);
                a.metrics = Some(RunMetrics {
                    peak_driver_heap_bytes: Some((0.3 * GIB) as u64),
                    ..RunMetrics::default()
                });
                a
            })
            .collect();
        let policy = RightsizePolicy {
            min_runs: 2,
            ..RightsizePolicy::default()
        };
        let plan = plan(&attempts, None, &policy);
        assert_eq!(plan.action, Action::Resize, "{plan:?}");
        assert_eq!(plan.settings.len(), 1);
        assert_eq!(recommended(&plan, DRIVER_MEMORY), Some(2 << 30));
    }
}

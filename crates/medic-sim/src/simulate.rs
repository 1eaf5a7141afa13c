//! Running policies over simulated days, and what they achieved.
//!
//! A day is one workflow holding every job of the fleet, run by the real [`Scheduler`] with the
//! [`SimulatedRunner`] and the policy as its remediator, under a [`ManualClock`] set to that day. Afterwards the
//! day's report is scored against the hidden truth ([`PolicyStats`]), and measured for right-sizing
//! ([`SizingStats`], compared with [`compare`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use medic_core::clock::{Clock, ManualClock};
use medic_scheduler::{
    AttemptDecision, Event, Job, JobStatus, RetryPolicy, Scheduler, Sleeper, Workflow,
    WorkflowReport,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::runner::SimulatedRunner;
use crate::world::{FailureKind, World, granted_mib};

/// Runs days of a world.
pub struct Simulation<'a> {
    world: &'a World,
    work_dir: PathBuf,
    start: OffsetDateTime,
}

/// Backoff in simulated time: the clock moves on, nobody waits.
struct ClockSleeper(Arc<ManualClock>);

impl Sleeper for ClockSleeper {
    fn sleep(&self, delay: Duration) {
        self.0
            .advance(time::Duration::seconds(delay.as_secs() as i64));
    }
}

impl<'a> Simulation<'a> {
    /// Days of `world`, with the attempts' logs written under `work_dir` (each day's are removed once it is
    /// scored).
    pub fn new(world: &'a World, work_dir: &Path) -> Self {
        let start = world
            .spec()
            .start_date()
            .map(|date| date.midnight().assume_utc())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Simulation {
            world,
            work_dir: work_dir.to_path_buf(),
            start,
        }
    }

    /// Midnight (UTC) of `day`.
    pub fn day_start(&self, day: u32) -> OffsetDateTime {
        self.start + time::Duration::days(i64::from(day))
    }

    /// The workflow of `day`: every job of the fleet, no dependencies, the fleet's attempts per run.
    pub fn workflow(&self, day: u32) -> Workflow {
        let retry = retry_policy(self.world);
        Workflow {
            name: format!("day-{day}"),
            source: "simulated fleet".to_owned(),
            jobs: self
                .world
                .jobs_on(day)
                .map(|job| Job {
                    name: job.identity.id.clone(),
                    identity: job.identity.clone(),
                    command: Vec::new(),
                    spark: None,
                    conf: job.conf.clone(),
                    retry,
                    timeout: None,
                    depends_on: Vec::new(),
                    working_dir: self.work_dir.clone(),
                })
                .collect(),
        }
    }

    /// Runs `day` with `policy`: the clock moves to the day's start (runs are spread over the day's first
    /// twelve hours, in order), then [`Policy::start_day`], the runs, [`Policy::end_day`].
    pub fn run_day(
        &self,
        day: u32,
        policy: &dyn Policy,
        clock: &Arc<ManualClock>,
    ) -> Result<WorkflowReport> {
        let start = self.day_start(day);
        let now = clock.now();
        if now < start {
            clock.advance(start - now);
        }
        policy.start_day(day);
        let workflow = self.workflow(day);
        let spacing =
            time::Duration::seconds_f64(12.0 * 3600.0 / workflow.jobs.len().max(1) as f64);
        let dir = self.work_dir.join(format!("{}-{day}", policy.name()));
        let scheduler = Scheduler::new(
            SimulatedRunner::new(self.world, day),
            policy,
            ClockSleeper(clock.clone()),
            clock.clone(),
        );
        let report = scheduler.run(&workflow, &dir, |event| {
            if let Event::JobFinished { .. } = event {
                clock.advance(spacing);
            }
        })?;
        std::fs::remove_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
        policy.end_day(day)?;
        Ok(report)
    }
}

/// How the simulated scheduler retries: the fleet's attempts per run, Maestro's backoff.
fn retry_policy(world: &World) -> RetryPolicy {
    RetryPolicy {
        max_attempts: world.spec().max_attempts,
        ..RetryPolicy::default()
    }
}

/// What one policy achieved, scored against the hidden truth. Costs are in dollars.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PolicyStats {
    /// Runs (one per job and day).
    pub runs: u64,
    /// Runs whose first attempt failed.
    pub failures: u64,
    /// Of those, failures because memory was too small (executor heap, container, driver heap).
    pub memory_failures: u64,
    /// Share of memory failures whose first retry succeeded, without a human.
    pub memory_fixed_first_retry: f64,
    /// Share of memory failures that succeeded on some retry.
    pub memory_fixed: f64,
    /// Share of all failures that succeeded on some retry.
    pub failures_fixed: f64,
    /// What failures cost: every failed attempt (first ones and retries), plus what successful retries cost beyond
    /// a clean run of the job's own configuration (more memory, or a slower run, is the failure's cost; the work
    /// itself would have been paid anyway).
    pub failure_cost: f64,
    /// The failed first attempts' part of `failure_cost`.
    pub failed_run_cost: f64,
    /// The retries' part of `failure_cost`.
    pub retry_cost: f64,
    /// Attempts after the first.
    pub retries: u64,
    /// Retries that failed.
    pub wasted_retries: u64,
    /// Runs the policy stopped retrying while attempts remained, for a failure no retry gets past.
    pub retries_correctly_disabled: u64,
    /// Runs the policy stopped retrying while attempts remained, for a failure a retry (or more memory) gets past.
    pub retries_wrongly_disabled: u64,
    /// Runs that ended failed: a human has to look.
    pub unfixed: u64,
    /// What people cost to fix those: `unfixed` × the fleet's `prices.human_fix`.
    pub human_cost: f64,
    /// `failure_cost` and `human_cost` together: what failures cost in all.
    pub failure_cost_with_humans: f64,
    /// Runs a retry fixed: the mean time from the end of the failed first attempt to the end of the successful
    /// retry (backoff, failed retries and the successful one), in minutes.
    pub mean_minutes_to_recovery: f64,
    /// Everything every attempt cost, successful runs included.
    pub total_cost: f64,
    /// Failures and fixes per true cause.
    pub by_cause: BTreeMap<String, CauseStats>,
    #[serde(skip)]
    memory_first_retry_fixes: u64,
    #[serde(skip)]
    memory_fixes: u64,
    #[serde(skip)]
    fixes: u64,
    #[serde(skip)]
    recovery_seconds: f64,
}

/// Failures of one true cause.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CauseStats {
    /// Runs whose first attempt failed for it.
    pub failures: u64,
    /// Of those, runs that succeeded on a retry.
    pub fixed: u64,
    /// Their part of the failure cost.
    pub failure_cost: f64,
}

impl PolicyStats {
    /// Scores the runs of `day` in `report` against `world`.
    pub fn add_day(&mut self, world: &World, day: u32, report: &WorkflowReport) {
        let retry = retry_policy(world);
        for job_report in &report.jobs {
            let Some(job) = world.job(&job_report.id) else {
                continue;
            };
            let Some(first) = job_report.attempts.first() else {
                continue;
            };
            self.runs += 1;
            let cost = |a: &medic_scheduler::AttemptReport| a.cost_dollars.unwrap_or(0.0);
            self.total_cost += job_report.attempts.iter().map(cost).sum::<f64>();
            self.retries += job_report.attempts.len() as u64 - 1;
            if first.decision == AttemptDecision::Succeeded {
                continue;
            }
            let truth = |a: &medic_scheduler::AttemptReport| {
                world.attempt(job, day, a.attempt, &a.config).failure
            };
            let cause = truth(first).unwrap_or(FailureKind::NovelTransient);
            let fixed = job_report.status == JobStatus::Succeeded;
            self.failures += 1;
            self.failed_run_cost += cost(first);
            let mut run_cost = cost(first);
            for retry in &job_report.attempts[1..] {
                let part = if retry.decision == AttemptDecision::Succeeded {
                    (cost(retry) - world.clean_cost(job, day)).max(0.0)
                } else {
                    self.wasted_retries += 1;
                    cost(retry)
                };
                self.retry_cost += part;
                run_cost += part;
            }
            let by_cause = self.by_cause.entry(cause.as_str().to_owned()).or_default();
            by_cause.failures += 1;
            by_cause.failure_cost += run_cost;
            if fixed {
                by_cause.fixed += 1;
                self.fixes += 1;
                self.recovery_seconds += job_report.attempts[1..]
                    .iter()
                    .map(|a| retry.backoff_after(a.attempt - 1).as_secs_f64() + a.runtime_seconds)
                    .sum::<f64>();
            } else {
                self.unfixed += 1;
            }
            if cause.is_memory() {
                self.memory_failures += 1;
                if fixed {
                    self.memory_fixes += 1;
                }
                if job_report
                    .attempts
                    .get(1)
                    .is_some_and(|a| a.decision == AttemptDecision::Succeeded)
                {
                    self.memory_first_retry_fixes += 1;
                }
            }
            if let Some(last) = job_report.attempts.last()
                && last.decision == AttemptDecision::DoNotRetry
                && last.attempt < world.spec().max_attempts
            {
                match truth(last) {
                    Some(kind) if kind.is_permanent() => self.retries_correctly_disabled += 1,
                    _ => self.retries_wrongly_disabled += 1,
                }
            }
        }
        let share = |part: u64, whole: u64| {
            if whole == 0 {
                0.0
            } else {
                part as f64 / whole as f64
            }
        };
        self.memory_fixed_first_retry = share(self.memory_first_retry_fixes, self.memory_failures);
        self.memory_fixed = share(self.memory_fixes, self.memory_failures);
        self.failures_fixed = share(self.fixes, self.failures);
        self.failure_cost = self.failed_run_cost + self.retry_cost;
        self.human_cost = self.unfixed as f64 * world.spec().prices.human_fix;
        self.failure_cost_with_humans = self.failure_cost + self.human_cost;
        self.mean_minutes_to_recovery = if self.fixes == 0 {
            0.0
        } else {
            self.recovery_seconds / self.fixes as f64 / 60.0
        };
    }
}

/// What right-sizing changes, gathered over days of one policy: each job's *first* attempt of the day (the one a
/// persistent patch sizes; retries are sized by remediation), memory granted against memory used in truth, and
/// the cost of every attempt. Memory is in MiB, costs in dollars.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SizingStats {
    /// Runs (one per job and day).
    pub runs: u64,
    /// First attempts that failed because memory was too small, in truth.
    pub memory_failures: u64,
    /// First attempts that succeeded: the sums below are over them.
    pub successes: u64,
    /// Executor heap granted.
    pub heap_granted_mib: f64,
    /// Executor heap used (the peak a real run would measure).
    pub heap_used_mib: f64,
    /// Executor container granted (heap plus overhead).
    pub container_granted_mib: f64,
    /// Executor container used (heap plus off-heap).
    pub container_used_mib: f64,
    /// Driver heap granted.
    pub driver_granted_mib: f64,
    /// Driver heap used.
    pub driver_used_mib: f64,
    /// What every attempt cost, retries included: a size that saves on first attempts but fails more pays here.
    pub total_cost: f64,
    /// Successful first attempts that ran with a right-size patch (see [`SizingStats::add_day_marked`]).
    pub right_sized: u64,
    /// Executor heap granted to those.
    pub right_sized_heap_granted_mib: f64,
    /// Executor heap they used.
    pub right_sized_heap_used_mib: f64,
}

impl SizingStats {
    /// Adds the runs of `day` in `report`, measured against `world`.
    pub fn add_day(&mut self, world: &World, day: u32, report: &WorkflowReport) {
        self.add_day_marked(world, day, report, |_| false);
    }

    /// As [`SizingStats::add_day`], also counting apart the successful first attempts that applied a patch for which
    /// `is_right_size(id)` holds.
    pub fn add_day_marked(
        &mut self,
        world: &World,
        day: u32,
        report: &WorkflowReport,
        is_right_size: impl Fn(&str) -> bool,
    ) {
        for job_report in &report.jobs {
            let Some(job) = world.job(&job_report.id) else {
                continue;
            };
            let Some(first) = job_report.attempts.first() else {
                continue;
            };
            self.runs += 1;
            self.total_cost += job_report
                .attempts
                .iter()
                .map(|a| a.cost_dollars.unwrap_or(0.0))
                .sum::<f64>();
            let truth = world.attempt(job, day, first.attempt, &first.config);
            if truth.failure.is_some_and(FailureKind::is_memory) {
                self.memory_failures += 1;
            }
            if first.decision != AttemptDecision::Succeeded {
                continue;
            }
            self.successes += 1;
            self.heap_granted_mib += granted_mib(&first.config).0;
            self.heap_used_mib += truth.heap_mib.1;
            self.container_granted_mib += truth.container_mib.0;
            self.container_used_mib += truth.container_mib.1;
            self.driver_granted_mib += truth.driver_mib.0;
            self.driver_used_mib += truth.driver_mib.1;
            if first.applied_patches.iter().any(|id| is_right_size(id)) {
                self.right_sized += 1;
                self.right_sized_heap_granted_mib += granted_mib(&first.config).0;
                self.right_sized_heap_used_mib += truth.heap_mib.1;
            }
        }
    }
}

/// First attempts that fail for memory, and of those the ones that strike a job again: what carrying fixes
/// forward and sizing up are to prevent. Every compared day goes in (a job's earlier failures count from the first
/// compared day); only the days passed with `counted` are counted.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RecurrenceStats {
    /// Runs counted.
    pub runs: u64,
    /// Of those, runs whose first attempt failed for memory, in truth.
    pub memory_failures: u64,
    /// Of those, failures of a job that had a first-attempt memory failure before in the compared period.
    pub recurring_memory_failures: u64,
    #[serde(skip)]
    failed_before: HashSet<String>,
}

impl RecurrenceStats {
    /// Adds the runs of `day` in `report`, measured against `world`; counts them when `counted`.
    pub fn add_day(&mut self, world: &World, day: u32, report: &WorkflowReport, counted: bool) {
        for job_report in &report.jobs {
            let (Some(job), Some(first)) = (world.job(&job_report.id), job_report.attempts.first())
            else {
                continue;
            };
            let failed = world
                .attempt(job, day, first.attempt, &first.config)
                .failure
                .is_some_and(FailureKind::is_memory);
            let again = failed && !self.failed_before.insert(job_report.id.clone());
            if counted {
                self.runs += 1;
                self.memory_failures += u64::from(failed);
                self.recurring_memory_failures += u64::from(again);
            }
        }
    }

    /// Memory failures of first attempts per run counted.
    pub fn memory_failure_rate(&self) -> f64 {
        if self.runs == 0 {
            0.0
        } else {
            self.memory_failures as f64 / self.runs as f64
        }
    }
}

/// Right-sizing's effect: the same fleet days measured without it (`before`) and with it (`after`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RightsizingSummary {
    /// Executor heap granted over used, on successful first attempts, without right-sizing.
    pub requested_over_used_before: f64,
    /// The same with right-sizing.
    pub requested_over_used_after: f64,
    /// Share of runs whose first attempt failed for memory, without right-sizing.
    pub memory_failure_rate_before: f64,
    /// The same with right-sizing.
    pub memory_failure_rate_after: f64,
    /// Share of the total cost (every attempt) saved: `1 - after / before`; negative when it cost more.
    pub cost_saved_fraction: f64,
    /// Runs measured on each side (the smaller count, should they differ).
    pub runs: u64,
    /// Executor container (heap plus overhead) granted over used, without right-sizing.
    pub container_over_used_before: f64,
    /// The same with right-sizing.
    pub container_over_used_after: f64,
    /// Driver heap granted over used, without right-sizing.
    pub driver_over_used_before: f64,
    /// The same with right-sizing.
    pub driver_over_used_after: f64,
    /// Share of the successful first attempts with right-sizing that ran with a right-size patch (the others were
    /// left alone by the guard-rails: too young, a memory failure in the window, or a revoked right-size).
    pub right_sized_share_after: f64,
    /// Executor heap granted over used on those right-sized attempts.
    pub requested_over_used_right_sized: f64,
}

/// Compares the same days measured without right-sizing (`before`) and with it (`after`). A ratio with nothing
/// used is 0, as is the cost saved when nothing was spent before.
pub fn compare(before: &SizingStats, after: &SizingStats) -> RightsizingSummary {
    let ratio = |granted: f64, used: f64| if used > 0.0 { granted / used } else { 0.0 };
    let rate = |s: &SizingStats| {
        if s.runs == 0 {
            0.0
        } else {
            s.memory_failures as f64 / s.runs as f64
        }
    };
    RightsizingSummary {
        requested_over_used_before: ratio(before.heap_granted_mib, before.heap_used_mib),
        requested_over_used_after: ratio(after.heap_granted_mib, after.heap_used_mib),
        memory_failure_rate_before: rate(before),
        memory_failure_rate_after: rate(after),
        cost_saved_fraction: if before.total_cost > 0.0 {
            1.0 - after.total_cost / before.total_cost
        } else {
            0.0
        },
        runs: before.runs.min(after.runs),
        container_over_used_before: ratio(before.container_granted_mib, before.container_used_mib),
        container_over_used_after: ratio(after.container_granted_mib, after.container_used_mib),
        driver_over_used_before: ratio(before.driver_granted_mib, before.driver_used_mib),
        driver_over_used_after: ratio(after.driver_granted_mib, after.driver_used_mib),
        right_sized_share_after: if after.successes == 0 {
            0.0
        } else {
            after.right_sized as f64 / after.successes as f64
        },
        requested_over_used_right_sized: ratio(
            after.right_sized_heap_granted_mib,
            after.right_sized_heap_used_mib,
        ),
    }
}

#[cfg(test)]
mod tests {
    use medic_rules::RuleSet;

    use super::*;
    use crate::fleet::FleetSpec;
    use crate::policy::{Baseline, BaselineKind};

    fn small_fleet() -> FleetSpec {
        let mut spec = FleetSpec::default_fleet();
        spec.jobs = 200;
        spec.history_days = 0;
        spec.days = 3;
        spec
    }

    fn run(kind: BaselineKind, spec: &FleetSpec) -> PolicyStats {
        run_with_sizing(kind, spec).0
    }

    fn run_with_sizing(kind: BaselineKind, spec: &FleetSpec) -> (PolicyStats, SizingStats) {
        let world = World::new(spec);
        let dir = tempfile::tempdir().expect("temp");
        let simulation = Simulation::new(&world, dir.path());
        let policy = Baseline::new(
            kind,
            RuleSet::builtin().expect("pack"),
            world.prices(),
            spec.seed,
        );
        let clock = Arc::new(ManualClock::new(simulation.day_start(0)));
        let mut stats = PolicyStats::default();
        let mut sizing = SizingStats::default();
        for day in 0..spec.days {
            let report = simulation.run_day(day, &policy, &clock).expect("a day");
            stats.add_day(&world, day, &report);
            sizing.add_day(&world, day, &report);
        }
        (stats, sizing)
    }

    #[test]
    fn sizing_stats_see_the_fleet_over_provisioned_and_compare_equal_sides_as_no_change() {
        let spec = FleetSpec {
            days: 2,
            ..small_fleet()
        };
        let (stats, sizing) = run_with_sizing(BaselineKind::DoubleMemory, &spec);
        assert_eq!(sizing.runs, stats.runs);
        assert_eq!(sizing.memory_failures, stats.memory_failures);
        assert!(sizing.successes > sizing.runs / 2, "{sizing:?}");
        assert!((sizing.total_cost - stats.total_cost).abs() < 1e-9);
        let same = compare(&sizing, &sizing);
        // The default fleet asks for about 4x the heap it uses.
        let ratio = same.requested_over_used_before;
        assert!(
            (3.0..5.0).contains(&ratio),
            "executor heap requested/used {ratio}"
        );
        assert!(same.container_over_used_before > 1.0, "{same:?}");
        assert!(same.driver_over_used_before > 1.0, "{same:?}");
        assert_eq!(
            same.requested_over_used_before,
            same.requested_over_used_after
        );
        assert_eq!(
            same.container_over_used_before,
            same.container_over_used_after
        );
        assert_eq!(same.driver_over_used_before, same.driver_over_used_after);
        assert_eq!(
            same.memory_failure_rate_before,
            same.memory_failure_rate_after
        );
        assert_eq!(same.cost_saved_fraction, 0.0);
        assert_eq!(same.runs, sizing.runs);
        let nothing = compare(&SizingStats::default(), &SizingStats::default());
        assert_eq!(
            (
                nothing.requested_over_used_before,
                nothing.cost_saved_fraction
            ),
            (0.0, 0.0)
        );
    }

    #[test]
    fn baselines_behave_as_their_rules_say_and_twice_gives_the_same_numbers() {
        let spec = small_fleet();
        let blind = run(BaselineKind::BlindRetry, &spec);
        assert_eq!(blind, run(BaselineKind::BlindRetry, &spec));
        let rules_only = run(BaselineKind::RulesOnly, &spec);
        let vpa = run(BaselineKind::VpaBump, &spec);
        let double = run(BaselineKind::DoubleMemory, &spec);
        // The same fleet and seed: the same runs and the same first-attempt failures for every policy.
        for stats in [&rules_only, &vpa, &double] {
            assert_eq!((stats.runs, stats.failures), (blind.runs, blind.failures));
            assert_eq!(stats.memory_failures, blind.memory_failures);
        }
        assert!(blind.memory_failures > 5, "{blind:?}");
        // Retrying the same configuration never fixes a memory failure; more memory does.
        assert_eq!(blind.memory_fixed, 0.0);
        assert_eq!(
            blind.retries_correctly_disabled + blind.retries_wrongly_disabled,
            0
        );
        assert!(
            double.memory_fixed_first_retry > vpa.memory_fixed_first_retry,
            "{double:?} {vpa:?}"
        );
        assert!(vpa.memory_fixed > 0.0);
        // Rules-only stops at every permanent error, so it disables retries; memory errors are not restartable.
        assert!(rules_only.retries_correctly_disabled > 0);
        assert!(rules_only.retries < blind.retries);
        assert!(rules_only.failure_cost < blind.failure_cost);
    }

    #[test]
    fn a_fix_that_lasts_for_its_retry_only_lets_the_failure_recur_and_people_pay_for_what_stays_broken()
     {
        let spec = small_fleet();
        let world = World::new(&spec);
        let dir = tempfile::tempdir().expect("temp");
        let simulation = Simulation::new(&world, dir.path());
        let policy = Baseline::new(
            BaselineKind::DoubleMemory,
            RuleSet::builtin().expect("pack"),
            world.prices(),
            spec.seed,
        );
        let clock = Arc::new(ManualClock::new(simulation.day_start(0)));
        let (mut stats, mut recurrence) = (PolicyStats::default(), RecurrenceStats::default());
        for day in 0..spec.days {
            let report = simulation.run_day(day, &policy, &clock).expect("a day");
            stats.add_day(&world, day, &report);
            recurrence.add_day(&world, day, &report, day > 0);
        }
        // The first day goes in uncounted: its failures make the later days' recurrences.
        assert_eq!(
            recurrence.runs,
            u64::from(spec.jobs) * u64::from(spec.days - 1)
        );
        // double_memory keeps nothing: a job too small for its input fails again the next day.
        assert!(recurrence.recurring_memory_failures > 0, "{recurrence:?}");
        assert!(recurrence.recurring_memory_failures <= recurrence.memory_failures);
        assert!(
            recurrence.memory_failures < stats.memory_failures,
            "{recurrence:?} {stats:?}"
        );
        assert_eq!(
            stats.human_cost,
            stats.unfixed as f64 * spec.prices.human_fix
        );
        assert_eq!(
            stats.failure_cost_with_humans,
            stats.failure_cost + stats.human_cost
        );
        // A retry waits its backoff (a minute at least) and runs again.
        assert!(stats.mean_minutes_to_recovery > 1.0, "{stats:?}");
    }
}

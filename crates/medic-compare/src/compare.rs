//! The comparison: history, then the compared days once per policy, scored against the fleet's hidden truth.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use medic_client::MedicRemediator;
use medic_core::JobIdentity;
use medic_core::SparkConf;
use medic_core::clock::{Clock, ManualClock};
use medic_core::history::{AttemptEntry, RetryRecord};
use medic_core::patch::{Patch, PatchStatus};
use medic_model::metrics::EvaluationMetrics;
use medic_model::{PromotionPolicy, TrainConfig};
use medic_rightsize::RightsizePolicy;
use medic_rules::RuleSet;
use medic_scheduler::{
    AttemptRecord, Decision, FailedAttempt, RemediationError, Remediator, ResolvedConfig,
};
use medic_service::LocalMedic;
use medic_sim::{
    Baseline, BaselineKind, FleetSpec, Policy, PolicyStats, RecurrenceStats, RightsizingSummary,
    Simulation, SizingStats, World,
};
use medic_store::{PatchFilter, RecordFilter};
use medic_training::RoundOptions;
use serde::Serialize;
use serde_json::json;

use crate::error::{Error, Result};

/// The compared policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyName {
    /// The same configuration, until the attempts run out.
    BlindRetry,
    /// Unchanged retries when the rule says a retry can help.
    RulesOnly,
    /// VPA's bump after memory errors.
    VpaBump,
    /// Twice the memory after memory errors.
    DoubleMemory,
    /// medic's remediation flow, retrained every night.
    Medic,
    /// medic with right-sizing: remediation, and every morning `medic rightsize --apply`.
    MedicRightsizing,
    /// The full medic: remediation, fixes carried forward, and right-sizing down and up.
    MedicPrevention,
}

impl PolicyName {
    /// Every policy, in the order of the table.
    pub const ALL: [PolicyName; 7] = [
        PolicyName::BlindRetry,
        PolicyName::RulesOnly,
        PolicyName::VpaBump,
        PolicyName::DoubleMemory,
        PolicyName::Medic,
        PolicyName::MedicRightsizing,
        PolicyName::MedicPrevention,
    ];

    fn baseline(self) -> Option<BaselineKind> {
        match self {
            PolicyName::BlindRetry => Some(BaselineKind::BlindRetry),
            PolicyName::RulesOnly => Some(BaselineKind::RulesOnly),
            PolicyName::VpaBump => Some(BaselineKind::VpaBump),
            PolicyName::DoubleMemory => Some(BaselineKind::DoubleMemory),
            PolicyName::Medic | PolicyName::MedicRightsizing | PolicyName::MedicPrevention => None,
        }
    }

    /// The name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            PolicyName::Medic => "medic",
            PolicyName::MedicRightsizing => "medic_rightsizing",
            PolicyName::MedicPrevention => "medic_prevention",
            baseline => baseline.baseline().map_or("", BaselineKind::name),
        }
    }
}

impl std::str::FromStr for PolicyName {
    type Err = String;

    fn from_str(name: &str) -> std::result::Result<Self, Self::Err> {
        PolicyName::ALL
            .into_iter()
            .find(|policy| policy.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = PolicyName::ALL.iter().map(|p| p.name()).collect();
                format!(
                    "unknown policy `{name}` (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// What to compare, and where.
#[derive(Debug)]
pub struct CompareOptions {
    /// The fleet (its jobs, days, history days and seed).
    pub spec: FleetSpec,
    /// The rule packs every policy classifies with.
    pub rules: RuleSet,
    /// The right-sizing policy of `medic_rightsizing` and `medic_prevention`.
    pub rightsize_policy: RightsizePolicy,
    /// The policies to compare, in the table's order.
    pub policies: Vec<PolicyName>,
    /// The database to keep (history, models, patches, attempts): that of the fullest medic compared
    /// (`medic_prevention`, else `medic_rightsizing`, else `medic`). It must hold no history. Without one, every
    /// database is a scratch file.
    pub db: Option<String>,
    /// Where models go (`models/<policy>/<version>`).
    pub out: PathBuf,
    /// A scratch folder for the attempts' logs and the scratch databases (see [`crate::scratch_folder`]).
    pub work: PathBuf,
}

/// Told how the comparison is going, for a progress display.
pub trait Progress: Sync {
    /// A history day ran.
    fn history_day(&self) {}
    /// The history is done and left this many retry records.
    fn history_done(&self, _records: usize) {}
    /// A compared day of `policy` ran.
    fn policy_day(&self, _policy: &str) {}
}

/// No display.
impl Progress for () {}

/// What a comparison found: the JSON `medic simulate --json` prints.
#[derive(Debug, Serialize)]
pub struct Comparison {
    /// The fleet and period.
    pub fleet: FleetSummary,
    /// Per policy, what it achieved.
    pub policies: BTreeMap<String, PolicyStats>,
    /// medic's model over the compared days (of the database kept: the fullest medic's).
    pub model: ModelSummary,
    /// What right-sizing did: `medic_rightsizing` against `medic` (the same remediation without it), over the
    /// second half of the compared days, once its bounded steps have had time to arrive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rightsizing: Option<RightsizingOutcome>,
    /// What prevention did: `medic_prevention` (remediation, carried fixes, right-sizing down and up) against
    /// `medic` (remediation alone), over the second half of the compared days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prevention: Option<PreventionOutcome>,
}

impl Comparison {
    /// Each flavour of medic compared, with its failure cost (compute only) as a share of blind retry's; empty when
    /// blind retry was not compared or cost nothing.
    pub fn failure_cost_against_blind_retry(&self) -> Vec<(&'static str, f64)> {
        let Some(blind) = self.policies.get(PolicyName::BlindRetry.name()) else {
            return Vec::new();
        };
        if blind.failure_cost <= 0.0 {
            return Vec::new();
        }
        [
            PolicyName::Medic,
            PolicyName::MedicRightsizing,
            PolicyName::MedicPrevention,
        ]
        .into_iter()
        .filter_map(|flavour| {
            let stats = self.policies.get(flavour.name())?;
            Some((flavour.name(), stats.failure_cost / blind.failure_cost))
        })
        .collect()
    }
}

/// Prevention's effect, measured against the truth over the second half of the compared days. A *recurring* memory
/// failure is a first attempt's memory failure of a job that had one before in the compared period.
#[derive(Debug, Serialize)]
pub struct PreventionOutcome {
    /// First attempts failing for memory per run, with remediation alone.
    pub first_attempt_memory_failure_rate_without: f64,
    /// The same with the full medic.
    pub first_attempt_memory_failure_rate_with: f64,
    /// Recurring memory failures with remediation alone.
    pub recurring_memory_failures_without: u64,
    /// The same with the full medic.
    pub recurring_memory_failures_with: u64,
    /// Carried fixes stored over the compared days.
    pub carried_fixes: u32,
    /// Of those, revoked or replaced (by a newer carried fix after another memory failure).
    pub carried_fixes_revoked: u32,
    /// Sizes and cost: requested over used memory, memory failure rates and the compute saved, remediation alone
    /// (`before`) against the full medic (`after`).
    pub sizing: RightsizingSummary,
    /// The compared days measured (the second half).
    pub days_measured: u32,
}

/// Right-sizing's effect, measured against the truth.
#[derive(Debug, Serialize)]
pub struct RightsizingOutcome {
    /// Requested over used memory, memory failure rates and the cost saved.
    #[serde(flatten)]
    pub summary: RightsizingSummary,
    /// The compared days measured (the second half).
    pub days_measured: u32,
    /// The estimator of the right-sizing policy.
    pub estimator: &'static str,
    /// Right-size patches stored over the compared days (every step of every job).
    pub patches_stored: u32,
    /// Right-size patches revoked (memory failures, jobs grown back to their own size).
    pub patches_revoked: u32,
    /// Right-sizing rounds that failed, and why.
    pub notes: Vec<String>,
}

/// The fleet and period simulated.
#[derive(Debug, Serialize)]
pub struct FleetSummary {
    /// The seed.
    pub seed: u64,
    /// Jobs a day.
    pub jobs: u32,
    /// Days of history.
    pub history_days: u32,
    /// Days compared.
    pub days: u32,
    /// Retry records the history period left for medic to learn from.
    pub history_records: usize,
}

/// How medic's model fared.
#[derive(Debug, Default, Serialize)]
pub struct ModelSummary {
    /// Trainings (one after the history, then one a night).
    pub trainings: u32,
    /// Of those, models the promotion gate let through.
    pub promoted: u32,
    /// The retry records the last training learned from.
    pub last_training_records: usize,
    /// The last promoted model's hold-out metrics (failure AUC, Brier score, calibration error).
    pub last_promoted: Option<serde_json::Value>,
    /// Why trainings failed or were not promoted, when they were not.
    pub notes: Vec<String>,
    #[serde(skip)]
    calibration: Option<EvaluationMetrics>,
}

impl ModelSummary {
    /// The last promoted model's hold-out metrics, for the calibration plot.
    pub fn calibration(&self) -> Option<&EvaluationMetrics> {
        self.calibration.as_ref()
    }
}

/// Runs the comparison: the history days with the engineers' policy (their retries and attempts imported into
/// every medic database, then a first model trained), then the compared days once per policy, each scored
/// against the truth. The baselines run on one thread, each flavour of medic (with its nightly training) on its
/// own: the same numbers whatever the threads, since every draw of the world is keyed by what it is for.
pub fn compare(options: &CompareOptions, progress: &dyn Progress) -> Result<Comparison> {
    let spec = &options.spec;
    let rules = &options.rules;
    let world = World::new(spec);
    let simulation = Simulation::new(&world, &options.work);

    // medic's databases, one per flavour, each on its own simulation clock. The full product (with right-sizing)
    // keeps the database given when it runs; otherwise plain medic does.
    let medics: Vec<PolicyName> = options
        .policies
        .iter()
        .copied()
        .filter(|p| p.baseline().is_none())
        .collect();
    let keeper = medics.last().copied();
    let compared = spec.history_days..spec.history_days + spec.days;
    let mut stores = Vec::new();
    for &flavour in &medics {
        let url = match &options.db {
            Some(url) if Some(flavour) == keeper => url.clone(),
            _ => format!(
                "sqlite://{}",
                options
                    .work
                    .join(format!("{}.sqlite", flavour.name()))
                    .display()
            ),
        };
        let clock = Arc::new(ManualClock::new(simulation.day_start(compared.start)));
        let mut medic = LocalMedic::open(&url, clock.clone())?.with_actor("medic simulate");
        // Only the full medic carries fixes forward: the other flavours measure remediation without it.
        medic.service_mut().policy.carry_forward.enabled = flavour == PolicyName::MedicPrevention;
        let existing = medic.block_on(medic.store().record_count())?;
        if existing > 0 {
            return Err(Error::NotEmpty { url, existing });
        }
        stores.push((flavour, medic, clock));
    }

    // 1. History: engineers retry by hand; their retries are what medic learns from first, and their runs' peaks
    //    what right-sizing starts from.
    let engineers = Baseline::new(
        BaselineKind::Engineers,
        rules.clone(),
        world.prices(),
        spec.seed,
    );
    let history_clock = Arc::new(ManualClock::new(simulation.day_start(0)));
    for day in 0..spec.history_days {
        simulation.run_day(day, &engineers, &history_clock)?;
        progress.history_day();
    }
    let history = engineers.take_records();
    let history_attempts = engineers.take_attempts();
    for (_, medic, _) in &stores {
        import_history(medic, &history, &history_attempts)?;
    }
    progress.history_done(history.len());

    // Right-sizing is measured once its steps have had time to arrive: over the second half of the compared days.
    let measured = compared.start + spec.days / 2..compared.end;
    let baselines: Vec<PolicyName> = options
        .policies
        .iter()
        .copied()
        .filter(|p| p.baseline().is_some())
        .collect();
    let mut results: BTreeMap<String, PolicyStats> = BTreeMap::new();
    let mut medic_runs: BTreeMap<PolicyName, MedicRun> = BTreeMap::new();
    // Two cores: the baselines on one thread, each flavour of medic (and its nightly training) on its own.
    std::thread::scope(|scope| -> Result<()> {
        let baseline_thread = scope.spawn(|| -> Result<Vec<(String, PolicyStats)>> {
            let mut out = Vec::new();
            for name in &baselines {
                let kind = name.baseline().unwrap_or(BaselineKind::BlindRetry);
                let policy = Baseline::new(kind, rules.clone(), world.prices(), spec.seed);
                let clock = Arc::new(ManualClock::new(simulation.day_start(compared.start)));
                let mut stats = PolicyStats::default();
                for day in compared.clone() {
                    let report = simulation.run_day(day, &policy, &clock)?;
                    stats.add_day(&world, day, &report);
                    progress.policy_day(name.name());
                }
                out.push((name.name().to_owned(), stats));
            }
            Ok(out)
        });
        let medic_threads: Vec<_> = stores
            .into_iter()
            .map(|(flavour, medic, clock)| {
                let (simulation, world) = (&simulation, &world);
                let (compared, measured) = (compared.clone(), measured.clone());
                let rightsizing = matches!(
                    flavour,
                    PolicyName::MedicRightsizing | PolicyName::MedicPrevention
                )
                .then(|| Rightsizing {
                    policy: options.rightsize_policy.clone(),
                    notes: Mutex::new(Vec::new()),
                    patches: Mutex::new(HashSet::new()),
                });
                let models = options.out.join("models").join(flavour.name());
                let seed = spec.seed;
                scope.spawn(move || -> Result<(PolicyName, MedicRun)> {
                    let trainer = Trainer {
                        out: models,
                        seed,
                        summary: Mutex::new(ModelSummary::default()),
                    };
                    trainer.train(&medic, clock.now());
                    let policy = MedicPolicy {
                        name: flavour.name(),
                        medic: MedicRemediator::new(medic, rules.clone(), world.prices()),
                        clock: clock.clone(),
                        trainer,
                        rightsizing,
                    };
                    let mut stats = PolicyStats::default();
                    let mut sizing = SizingStats::default();
                    let mut recurrence = RecurrenceStats::default();
                    for day in compared {
                        let report = simulation.run_day(day, &policy, &clock)?;
                        stats.add_day(world, day, &report);
                        recurrence.add_day(world, day, &report, measured.contains(&day));
                        if measured.contains(&day) {
                            sizing
                                .add_day_marked(world, day, &report, |id| policy.is_right_size(id));
                        }
                        progress.policy_day(flavour.name());
                    }
                    let (patches, carried) = policy.patch_counts()?;
                    Ok((
                        flavour,
                        MedicRun {
                            stats,
                            sizing,
                            recurrence,
                            carried,
                            model: policy
                                .trainer
                                .summary
                                .into_inner()
                                .unwrap_or_else(|e| e.into_inner()),
                            patches,
                            notes: policy.rightsizing.map_or_else(Vec::new, |r| {
                                r.notes.into_inner().unwrap_or_else(|e| e.into_inner())
                            }),
                        },
                    ))
                })
            })
            .collect();
        for thread in medic_threads {
            let (flavour, run) = thread
                .join()
                .map_err(|_| Error::Thread("a medic thread panicked"))??;
            medic_runs.insert(flavour, run);
        }
        let baseline_results = baseline_thread
            .join()
            .map_err(|_| Error::Thread("the baselines' thread panicked"))??;
        results.extend(baseline_results);
        Ok(())
    })?;

    let rightsizing = match (
        medic_runs.get(&PolicyName::Medic),
        medic_runs.get(&PolicyName::MedicRightsizing),
    ) {
        (Some(before), Some(after)) => Some(RightsizingOutcome {
            summary: medic_sim::compare(&before.sizing, &after.sizing),
            days_measured: measured.end - measured.start,
            estimator: options.rightsize_policy.estimator.as_str(),
            patches_stored: after.patches.0,
            patches_revoked: after.patches.1,
            notes: after.notes.clone(),
        }),
        _ => None,
    };
    let prevention = match (
        medic_runs.get(&PolicyName::Medic),
        medic_runs.get(&PolicyName::MedicPrevention),
    ) {
        (Some(without), Some(with)) => Some(PreventionOutcome {
            first_attempt_memory_failure_rate_without: without.recurrence.memory_failure_rate(),
            first_attempt_memory_failure_rate_with: with.recurrence.memory_failure_rate(),
            recurring_memory_failures_without: without.recurrence.recurring_memory_failures,
            recurring_memory_failures_with: with.recurrence.recurring_memory_failures,
            carried_fixes: with.carried.0,
            carried_fixes_revoked: with.carried.1,
            sizing: medic_sim::compare(&without.sizing, &with.sizing),
            days_measured: measured.end - measured.start,
        }),
        _ => None,
    };
    // The model section is that of the database kept (the fullest medic's).
    let mut model = ModelSummary::default();
    for flavour in [
        PolicyName::Medic,
        PolicyName::MedicRightsizing,
        PolicyName::MedicPrevention,
    ] {
        if let Some(run) = medic_runs.remove(&flavour) {
            results.insert(flavour.name().to_owned(), run.stats);
            model = run.model;
        }
    }
    Ok(Comparison {
        fleet: FleetSummary {
            seed: spec.seed,
            jobs: spec.jobs,
            history_days: spec.history_days,
            days: spec.days,
            history_records: history.len(),
        },
        policies: results,
        model,
        rightsizing,
        prevention,
    })
}

/// A scratch folder for a comparison (attempt logs, scratch databases), removed when dropped: in memory
/// (`/dev/shm`) where there is one. Thousands of small log files a day are written and removed; on a virtual disk
/// that syncs metadata, that alone took 40 s of a 1-minute run here, against under a second in memory.
pub fn scratch_folder() -> Result<tempfile::TempDir> {
    let builder = {
        let mut builder = tempfile::Builder::new();
        builder.prefix("medic-sim-");
        builder
    };
    let in_memory = Path::new("/dev/shm");
    if in_memory.is_dir()
        && let Ok(dir) = builder.tempdir_in(in_memory)
    {
        return Ok(dir);
    }
    builder.tempdir().map_err(|error| Error::Io {
        what: "cannot create a temporary folder".to_owned(),
        error,
    })
}

/// Trains a model on the database's history, registers it and lets the promotion gate decide: the same round as
/// `medic train`.
struct Trainer {
    out: PathBuf,
    seed: u64,
    summary: Mutex<ModelSummary>,
}

impl Trainer {
    fn train(&self, medic: &LocalMedic, now: time::OffsetDateTime) {
        let store = medic.store();
        let mut summary = self.summary.lock().unwrap_or_else(|e| e.into_inner());
        let records = match medic.block_on(store.records(&RecordFilter::default())) {
            Ok(records) => records,
            Err(e) => {
                summary
                    .notes
                    .push(format!("{now}: cannot read the history: {e}"));
                return;
            }
        };
        let options = RoundOptions {
            config: TrainConfig {
                seed: self.seed,
                ..TrainConfig::default()
            },
            holdout: 0.2,
            out: self.out.clone(),
            gate: PromotionPolicy::default(),
            promote: true,
        };
        summary.trainings += 1;
        summary.last_training_records = records.len();
        match medic.block_on(medic_training::run_round(
            store,
            records,
            &options,
            now,
            "medic simulate",
            |_, _| {},
        )) {
            Ok(round) => {
                if round.promoted {
                    summary.promoted += 1;
                    summary.last_promoted = Some(json!({
                        "version": round.version,
                        "holdout_records": round.metrics.rows,
                        "auc": round.metrics.auc,
                        "brier": round.metrics.brier,
                        "ece": round.metrics.calibration.ece,
                    }));
                    summary.calibration = Some(round.metrics);
                } else {
                    summary.notes.push(format!(
                        "{}: not promoted: {}",
                        round.version,
                        round.verdict.reasons.join("; ")
                    ));
                }
            }
            Err(e) => summary
                .notes
                .push(format!("{now}: training failed: {}", causes(&e))),
        }
    }
}

/// An error and its causes, `: `-separated.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Imports the history period into a medic database: the retry records (what the model learns from) and every
/// attempt (what right-sizing learns from).
fn import_history(
    medic: &LocalMedic,
    records: &[RetryRecord],
    attempts: &[AttemptEntry],
) -> Result<()> {
    let store = medic.store();
    medic.block_on(async {
        store.import_records(records, "medic simulate").await?;
        store.add_attempts(attempts).await?;
        Ok(())
    })
}

/// What one flavour of medic did over the compared days.
struct MedicRun {
    stats: PolicyStats,
    sizing: SizingStats,
    model: ModelSummary,
    /// Right-size patches stored, and of those revoked.
    patches: (u32, u32),
    /// Over the compared days, first-attempt memory failures and their recurrences (the second half counted).
    recurrence: RecurrenceStats,
    /// Carried fixes stored, and of those revoked or replaced.
    carried: (u32, u32),
    notes: Vec<String>,
}

/// Right-sizing as the simulated platform runs it: every morning, before the day's runs.
struct Rightsizing {
    policy: RightsizePolicy,
    notes: Mutex<Vec<String>>,
    /// The right-size patches stored, to tell right-sized runs apart.
    patches: Mutex<HashSet<String>>,
}

/// medic as a simulated policy: its real remediation flow over the database, retrained every night, and (for
/// `medic_rightsizing` and `medic_prevention`) right-sized every morning.
struct MedicPolicy {
    name: &'static str,
    medic: MedicRemediator<LocalMedic>,
    clock: Arc<ManualClock>,
    trainer: Trainer,
    rightsizing: Option<Rightsizing>,
}

impl MedicPolicy {
    /// Whether patch `id` is one of the right-sizes this policy stored.
    fn is_right_size(&self, id: &str) -> bool {
        self.rightsizing.as_ref().is_some_and(|r| {
            r.patches
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(id)
        })
    }

    /// From the patches stored in the database: right-sizes, and of those revoked; carried fixes, and of those
    /// revoked or replaced by a newer one.
    fn patch_counts(&self) -> Result<((u32, u32), (u32, u32))> {
        let local = self.medic.medic();
        let patches = local.block_on(local.store().list_patches(&PatchFilter::default()))?;
        let count = |kind: fn(&Patch) -> bool, ended: &[PatchStatus]| {
            let of_kind = patches.iter().filter(|p| kind(p));
            let ended = of_kind
                .clone()
                .filter(|p| ended.contains(&p.status))
                .count();
            (of_kind.count() as u32, ended as u32)
        };
        Ok((
            count(Patch::is_rightsize, &[PatchStatus::Revoked]),
            count(
                Patch::is_carried_fix,
                &[PatchStatus::Revoked, PatchStatus::Superseded],
            ),
        ))
    }
}

impl Remediator for MedicPolicy {
    fn resolve(
        &self,
        job: &JobIdentity,
        base: &SparkConf,
    ) -> Result<ResolvedConfig, RemediationError> {
        self.medic.resolve(job, base)
    }

    fn remediate(&self, failed: &FailedAttempt) -> Result<Decision, RemediationError> {
        self.medic.remediate(failed)
    }

    fn record(&self, attempt: &AttemptRecord) -> Result<(), RemediationError> {
        self.medic.record(attempt)
    }
}

impl Policy for MedicPolicy {
    fn name(&self) -> &str {
        self.name
    }

    fn start_day(&self, day: u32) {
        let Some(rightsizing) = &self.rightsizing else {
            return;
        };
        let local = self.medic.medic();
        let round = local.block_on(medic_rightsize::round(
            local.store(),
            &rightsizing.policy,
            &self.medic.prices(),
            true,
        ));
        match round {
            Ok(report) => rightsizing
                .patches
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(
                    report
                        .jobs
                        .into_iter()
                        .filter(|job| job.action == medic_rightsize::Action::Resize)
                        .filter_map(|job| job.patch_id),
                ),
            Err(error) => rightsizing
                .notes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("day {day}: right-sizing failed: {error}")),
        }
    }

    fn end_day(&self, _day: u32) -> medic_sim::Result<()> {
        self.trainer.train(self.medic.medic(), self.clock.now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::PolicyName;

    #[test]
    fn policies_read_back_from_their_names() {
        for policy in PolicyName::ALL {
            assert_eq!(policy.name().parse::<PolicyName>(), Ok(policy));
        }
        let unknown = "double".parse::<PolicyName>().expect_err("not a policy");
        assert!(unknown.contains("double_memory"), "{unknown}");
    }
}

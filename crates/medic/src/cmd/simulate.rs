//! `medic simulate` and `medic demo`: run medic and the retry policies teams use today on the same simulated
//! fleet, and compare what they fixed and what they cost.
//!
//! 1. History: the fleet's first days run the way platforms work without medic (engineers retry by hand); their
//!    retries go into medic's database as the history it learns from, and a first model is trained.
//! 2. The compared days run once per policy. `medic` is the real thing: the scheduler asks the remediation flow
//!    (classification of the logs, guard-rails, recommender with the promoted model, patches in the database),
//!    every retry lands in the history, and the model is retrained and re-judged by the promotion gate every
//!    night.
//! 3. Each policy's days are scored against the fleet's hidden truth.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::Mutex;

use anyhow::{Context, bail};
use medic_core::clock::{Clock, ManualClock};
use medic_core::history::{AttemptEntry, RetryRecord};
use medic_model::metrics::EvaluationMetrics;
use medic_model::{PromotionPolicy, TrainConfig};
use medic_rightsize::RightsizePolicy;
use medic_scheduler::{
    AttemptRecord, Decision, FailedAttempt, RemediationError, Remediator, ResolvedConfig,
};
use medic_sim::{
    Baseline, BaselineKind, FleetSpec, Policy, PolicyStats, RightsizingSummary, Simulation,
    SizingStats, World,
};
use medic_store::RecordFilter;
use serde::Serialize;
use serde_json::json;

use super::RulesArgs;
use super::train::{RoundOptions, train_round};
use crate::client::Target;
use crate::remediator::Medic;

/// Arguments of `medic simulate` (and `medic demo`).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The fleet spec (YAML, see `crates/medic-sim/fleets/default.yaml`); the built-in fleet when absent.
    #[arg(long, value_name = "FILE")]
    fleet: Option<PathBuf>,
    /// Print the comparison as one JSON object (`{"policies": {"medic": {...}, ...}}`) instead of a table.
    #[arg(long)]
    json: bool,
    /// The database medic keeps its history, models and patches in. Give one to keep them (`medic serve --db URL`
    /// then answers with the model trained here); it must hold no history yet. Default: a SQLite file in a
    /// temporary folder, removed at the end.
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// Where models (and the demo's report) go.
    #[arg(long, default_value = "medic-demo", value_name = "DIR")]
    out: PathBuf,
    /// Compare only these policies (comma-separated).
    #[arg(long, value_delimiter = ',', value_enum)]
    policies: Vec<PolicyName>,
    /// Use this many jobs instead of the fleet's.
    #[arg(long)]
    jobs: Option<u32>,
    /// Compare this many days instead of the fleet's.
    #[arg(long)]
    days: Option<u32>,
    /// Use this many days of history instead of the fleet's.
    #[arg(long)]
    history_days: Option<u32>,
    /// Use this seed instead of the fleet's.
    #[arg(long)]
    seed: Option<u64>,
    /// The right-sizing policy of `medic_rightsizing` (YAML, as `medic rightsize --policy`); the default one when
    /// absent.
    #[arg(long, value_name = "FILE")]
    rightsize_policy: Option<PathBuf>,
    #[command(flatten)]
    rules: RulesArgs,
}

/// The compared policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
enum PolicyName {
    BlindRetry,
    RulesOnly,
    VpaBump,
    DoubleMemory,
    Medic,
    /// medic with right-sizing: remediation, and every morning `medic rightsize --apply`.
    MedicRightsizing,
}

impl PolicyName {
    const ALL: [PolicyName; 6] = [
        PolicyName::BlindRetry,
        PolicyName::RulesOnly,
        PolicyName::VpaBump,
        PolicyName::DoubleMemory,
        PolicyName::Medic,
        PolicyName::MedicRightsizing,
    ];

    fn baseline(self) -> Option<BaselineKind> {
        match self {
            PolicyName::BlindRetry => Some(BaselineKind::BlindRetry),
            PolicyName::RulesOnly => Some(BaselineKind::RulesOnly),
            PolicyName::VpaBump => Some(BaselineKind::VpaBump),
            PolicyName::DoubleMemory => Some(BaselineKind::DoubleMemory),
            PolicyName::Medic | PolicyName::MedicRightsizing => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            PolicyName::Medic => "medic",
            PolicyName::MedicRightsizing => "medic_rightsizing",
            baseline => baseline.baseline().map_or("", BaselineKind::name),
        }
    }
}

/// What a simulation found: the JSON `--json` prints.
#[derive(Debug, Serialize)]
pub struct Comparison {
    /// The fleet and period.
    pub fleet: FleetSummary,
    /// Per policy, what it achieved.
    pub policies: BTreeMap<String, PolicyStats>,
    /// medic's model over the compared days (of the database kept: `medic_rightsizing`'s when it ran).
    pub model: ModelSummary,
    /// What right-sizing did: `medic_rightsizing` against `medic` (the same remediation without it), over the
    /// second half of the compared days, once its bounded steps have had time to arrive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rightsizing: Option<RightsizingOutcome>,
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

pub fn run(args: Args, demo: bool) -> anyhow::Result<ExitCode> {
    let spec = load_spec(&args)?;
    let rules = args.rules.load()?;
    let rightsize_policy = super::rightsize::load_policy(args.rightsize_policy.as_deref())?;
    let chosen: Vec<PolicyName> = if args.policies.is_empty() {
        PolicyName::ALL.to_vec()
    } else {
        PolicyName::ALL
            .into_iter()
            .filter(|p| args.policies.contains(p))
            .collect()
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let work = scratch_folder()?;
    let db = match &args.db {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", work.path().join("medic.sqlite").display()),
    };
    let world = World::new(&spec);
    let simulation = Simulation::new(&world, work.path());
    let progress = Progress::new(&spec, &chosen, demo || !args.json);
    let started = std::time::Instant::now();

    // medic's databases, one per flavour, each on its own simulation clock. The full product (with right-sizing)
    // keeps the database given with `--db` when it runs; otherwise plain medic does.
    let medics: Vec<PolicyName> = chosen
        .iter()
        .copied()
        .filter(|p| p.baseline().is_none())
        .collect();
    let keeper = medics.last().copied();
    let compared = spec.history_days..spec.history_days + spec.days;
    let mut stores = Vec::new();
    for &flavour in &medics {
        let url = match &args.db {
            Some(url) if Some(flavour) == keeper => url.clone(),
            _ => format!(
                "sqlite://{}",
                work.path()
                    .join(format!("{}.sqlite", flavour.name()))
                    .display()
            ),
        };
        let clock = Arc::new(ManualClock::new(simulation.day_start(compared.start)));
        let target = Target::store_with_clock(&url, clock.clone())?;
        let Target::Store { store, runtime } = &target else {
            unreachable!("a database target");
        };
        let existing = runtime.block_on(store.record_count())?;
        if existing > 0 {
            bail!(
                "{url} already holds {existing} history record(s); the simulation needs a database of its own \
                 (give a new one, or remove it)"
            );
        }
        stores.push((flavour, target, clock));
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
    for (_, target, _) in &stores {
        import_history(target, &history, &history_attempts)?;
    }
    progress.history_done(history.len());

    // Right-sizing is measured once its steps have had time to arrive: over the second half of the compared days.
    let measured = compared.start + spec.days / 2..compared.end;
    let baselines: Vec<PolicyName> = chosen
        .iter()
        .copied()
        .filter(|p| p.baseline().is_some())
        .collect();
    let mut results: BTreeMap<String, PolicyStats> = BTreeMap::new();
    let mut medic_runs: BTreeMap<PolicyName, MedicRun> = BTreeMap::new();
    // Two cores: the baselines on one thread, each flavour of medic (and its nightly training) on its own.
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let baseline_thread = scope.spawn(|| -> anyhow::Result<Vec<(String, PolicyStats)>> {
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
            .map(|(flavour, target, clock)| {
                let (rules, simulation, world, progress) = (&rules, &simulation, &world, &progress);
                let (compared, measured) = (compared.clone(), measured.clone());
                let rightsizing = (flavour == PolicyName::MedicRightsizing).then(|| Rightsizing {
                    policy: rightsize_policy.clone(),
                    notes: Mutex::new(Vec::new()),
                    patches: Mutex::new(Default::default()),
                });
                let models = args.out.join("models").join(flavour.name());
                let seed = spec.seed;
                scope.spawn(move || -> anyhow::Result<(PolicyName, MedicRun)> {
                    let trainer = Trainer {
                        out: models,
                        seed,
                        summary: Mutex::new(ModelSummary::default()),
                    };
                    trainer.train(&target, clock.now());
                    let local = target.local_state();
                    let medic = MedicPolicy {
                        name: flavour.name(),
                        medic: Medic::new(target, local, rules.clone(), world.prices()),
                        clock: clock.clone(),
                        trainer,
                        rightsizing,
                    };
                    let mut stats = PolicyStats::default();
                    let mut sizing = SizingStats::default();
                    for day in compared {
                        let report = simulation.run_day(day, &medic, &clock)?;
                        stats.add_day(world, day, &report);
                        if measured.contains(&day) {
                            sizing
                                .add_day_marked(world, day, &report, |id| medic.is_right_size(id));
                        }
                        progress.policy_day(flavour.name());
                    }
                    let patches = medic.rightsize_patches()?;
                    Ok((
                        flavour,
                        MedicRun {
                            stats,
                            sizing,
                            model: medic
                                .trainer
                                .summary
                                .into_inner()
                                .unwrap_or_else(|e| e.into_inner()),
                            patches,
                            notes: medic.rightsizing.map_or_else(Vec::new, |r| {
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
                .map_err(|_| anyhow::anyhow!("a medic thread panicked"))??;
            medic_runs.insert(flavour, run);
        }
        let baseline_results = baseline_thread
            .join()
            .map_err(|_| anyhow::anyhow!("the baselines' thread panicked"))??;
        results.extend(baseline_results);
        Ok(())
    })?;
    progress.finish();

    let rightsizing = match (
        medic_runs.get(&PolicyName::Medic),
        medic_runs.get(&PolicyName::MedicRightsizing),
    ) {
        (Some(before), Some(after)) => Some(RightsizingOutcome {
            summary: medic_sim::compare(&before.sizing, &after.sizing),
            days_measured: measured.end - measured.start,
            estimator: rightsize_policy.estimator.as_str(),
            patches_stored: after.patches.0,
            patches_revoked: after.patches.1,
            notes: after.notes.clone(),
        }),
        _ => None,
    };
    // The model section is that of the database kept (the right-sized fleet's, when it ran).
    let mut model = ModelSummary::default();
    for flavour in [PolicyName::Medic, PolicyName::MedicRightsizing] {
        if let Some(run) = medic_runs.remove(&flavour) {
            results.insert(flavour.name().to_owned(), run.stats);
            model = run.model;
        }
    }

    let comparison = Comparison {
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
    };
    let order: Vec<&str> = chosen.iter().map(|p| p.name()).collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&comparison)?)?;
    } else {
        print_table(&mut out, &comparison, &order)?;
    }
    if demo {
        let report =
            super::demo_report::write(&args.out, &comparison, &order, &spec, started.elapsed())?;
        if !args.json {
            writeln!(out, "\nreport: {}", report.display())?;
        }
    }
    if args.db.is_some() && !args.json {
        writeln!(
            out,
            "database kept: {db} (history, models, patches); `medic serve --db {db}` answers with its promoted model"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The simulation's scratch folder (attempt logs, and the default database): in memory (`/dev/shm`) where there
/// is one. Thousands of small log files a day are written and removed; on a virtual disk that syncs metadata,
/// that alone took 40 s of a 1-minute run here, against under a second in memory.
fn scratch_folder() -> anyhow::Result<tempfile::TempDir> {
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
    builder
        .tempdir()
        .context("cannot create a temporary folder")
}

fn load_spec(args: &Args) -> anyhow::Result<FleetSpec> {
    let mut spec = match &args.fleet {
        Some(path) => FleetSpec::from_yaml(&super::read_text(path)?, &path.display().to_string())?,
        None => FleetSpec::default_fleet(),
    };
    if let Some(jobs) = args.jobs {
        spec.jobs = jobs;
    }
    if let Some(days) = args.days {
        spec.days = days;
    }
    if let Some(days) = args.history_days {
        spec.history_days = days;
    }
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    let problems = spec.problems();
    if !problems.is_empty() {
        bail!(
            "the fleet with the command line's changes: {}",
            problems.join("; ")
        );
    }
    Ok(spec)
}

/// Trains a model on the database's history, registers it and lets the promotion gate decide.
struct Trainer {
    out: PathBuf,
    seed: u64,
    summary: Mutex<ModelSummary>,
}

impl Trainer {
    fn train(&self, target: &Target, now: time::OffsetDateTime) {
        let Target::Store { store, runtime } = target else {
            return;
        };
        let mut summary = self.summary.lock().unwrap_or_else(|e| e.into_inner());
        let records = match runtime.block_on(store.records(&RecordFilter::default())) {
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
        match train_round(
            runtime,
            Some(store),
            &records,
            &options,
            now,
            "medic simulate",
            |_, _| {},
        ) {
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
                } else if let Some(verdict) = round.verdict {
                    summary.notes.push(format!(
                        "{}: not promoted: {}",
                        round.version,
                        verdict.reasons.join("; ")
                    ));
                }
            }
            Err(e) => summary.notes.push(format!("{now}: training failed: {e:#}")),
        }
    }
}

/// Imports the history period into a medic database: the retry records (what the model learns from) and every
/// attempt (what right-sizing learns from).
fn import_history(
    target: &Target,
    records: &[RetryRecord],
    attempts: &[AttemptEntry],
) -> anyhow::Result<()> {
    let Target::Store { store, runtime } = target else {
        return Ok(());
    };
    runtime.block_on(async {
        store.import_records(records, "medic simulate").await?;
        store.add_attempts(attempts).await?;
        anyhow::Ok(())
    })
}

/// What one flavour of medic did over the compared days.
struct MedicRun {
    stats: PolicyStats,
    sizing: SizingStats,
    model: ModelSummary,
    /// Right-size patches stored, and of those revoked.
    patches: (u32, u32),
    notes: Vec<String>,
}

/// Right-sizing as the simulated platform runs it: every morning, before the day's runs.
struct Rightsizing {
    policy: RightsizePolicy,
    notes: Mutex<Vec<String>>,
    /// The right-size patches stored, to tell right-sized runs apart.
    patches: Mutex<std::collections::HashSet<String>>,
}

/// medic as a simulated policy: its real remediation flow over the database, retrained every night, and (for
/// `medic_rightsizing`) right-sized every morning.
struct MedicPolicy {
    name: &'static str,
    medic: Medic,
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

    /// Right-size patches stored in the database, and of those revoked.
    fn rightsize_patches(&self) -> anyhow::Result<(u32, u32)> {
        let Target::Store { store, runtime } = self.medic.target() else {
            return Ok((0, 0));
        };
        let patches = runtime.block_on(store.list_patches(&medic_store::PatchFilter::default()))?;
        let rightsizes = patches.iter().filter(|p| p.is_rightsize());
        let revoked = rightsizes
            .clone()
            .filter(|p| p.status == medic_core::patch::PatchStatus::Revoked)
            .count();
        Ok((rightsizes.count() as u32, revoked as u32))
    }
}

impl Remediator for MedicPolicy {
    fn resolve(
        &self,
        job: &medic_core::JobIdentity,
        base: &medic_core::SparkConf,
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
        let (Some(rightsizing), Target::Store { store, runtime }) =
            (&self.rightsizing, self.medic.target())
        else {
            return;
        };
        let round = runtime.block_on(async {
            let mut report =
                medic_rightsize::plan(store, &rightsizing.policy, &self.medic.prices()).await?;
            medic_rightsize::apply(store, &mut report, &rightsizing.policy).await?;
            Ok::<_, medic_rightsize::Error>(report)
        });
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
        self.trainer.train(self.medic.target(), self.clock.now());
        Ok(())
    }
}

/// Progress bars on stderr: history days, then one bar per compared policy.
struct Progress {
    bars: indicatif::MultiProgress,
    history: indicatif::ProgressBar,
    policies: BTreeMap<&'static str, indicatif::ProgressBar>,
}

impl Progress {
    fn new(spec: &FleetSpec, policies: &[PolicyName], visible: bool) -> Progress {
        let bars = indicatif::MultiProgress::with_draw_target(if visible {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            indicatif::ProgressDrawTarget::hidden()
        });
        let style = indicatif::ProgressStyle::with_template(
            "{prefix:>14} {bar:30} {pos}/{len} days {msg} [{elapsed}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        let bar = |name: &str, days: u32| {
            bars.add(
                indicatif::ProgressBar::new(u64::from(days))
                    .with_style(style.clone())
                    .with_prefix(name.to_owned()),
            )
        };
        let history = bar("history", spec.history_days);
        let policies = policies
            .iter()
            .map(|p| (p.name(), bar(p.name(), spec.days)))
            .collect();
        Progress {
            bars,
            history,
            policies,
        }
    }

    fn history_day(&self) {
        self.history.inc(1);
    }

    fn history_done(&self, records: usize) {
        self.history
            .finish_with_message(format!("{records} retry records"));
    }

    fn policy_day(&self, name: &str) {
        if let Some(bar) = self.policies.get(name) {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        for bar in self.policies.values() {
            bar.finish();
        }
        let _ = self.bars.clear();
    }
}

fn print_table(
    out: &mut impl Write,
    comparison: &Comparison,
    order: &[&str],
) -> anyhow::Result<()> {
    let fleet = &comparison.fleet;
    writeln!(
        out,
        "{} jobs, {} days compared after {} days of history ({} retry records), seed {}",
        fleet.jobs, fleet.days, fleet.history_days, fleet.history_records, fleet.seed
    )?;
    writeln!(
        out,
        "{:<18} {:>9} {:>9} {:>10} {:>9} {:>12} {:>8} {:>7} {:>9} {:>9}",
        "policy",
        "failures",
        "memory",
        "mem fixed",
        "all",
        "failure $",
        "retries",
        "wasted",
        "disabled",
        "wrongly"
    )?;
    writeln!(
        out,
        "{:<18} {:>9} {:>9} {:>10} {:>9} {:>12} {:>8} {:>7} {:>9} {:>9}",
        "", "", "failures", "1st retry", "fixed", "", "", "", "ok", "disabled"
    )?;
    for name in order {
        let Some(s) = comparison.policies.get(*name) else {
            continue;
        };
        writeln!(
            out,
            "{:<18} {:>9} {:>9} {:>9.1}% {:>8.1}% {:>12.2} {:>8} {:>7} {:>9} {:>9}",
            name,
            s.failures,
            s.memory_failures,
            100.0 * s.memory_fixed_first_retry,
            100.0 * s.failures_fixed,
            s.failure_cost,
            s.retries,
            s.wasted_retries,
            s.retries_correctly_disabled,
            s.retries_wrongly_disabled
        )?;
    }
    if let (Some(medic), Some(blind)) = (
        comparison.policies.get("medic"),
        comparison.policies.get("blind_retry"),
    ) && blind.failure_cost > 0.0
    {
        writeln!(
            out,
            "medic's failure cost is {:.0}% of blind retry's",
            100.0 * medic.failure_cost / blind.failure_cost
        )?;
    }
    if let Some(r) = &comparison.rightsizing {
        let s = &r.summary;
        writeln!(
            out,
            "right-sizing (medic_rightsizing against medic, last {} days): requested/used executor memory {:.2}x -> {:.2}x, \
             memory failure rate {:.2}% -> {:.2}%, compute cost {:.1}% lower; {} right-size patches, {} revoked; \
             {:.0}% of successful runs carried a right-size, at {:.2}x",
            r.days_measured,
            s.requested_over_used_before,
            s.requested_over_used_after,
            100.0 * s.memory_failure_rate_before,
            100.0 * s.memory_failure_rate_after,
            100.0 * s.cost_saved_fraction,
            r.patches_stored,
            r.patches_revoked,
            100.0 * s.right_sized_share_after,
            s.requested_over_used_right_sized
        )?;
    }
    let model = &comparison.model;
    writeln!(
        out,
        "model: {} training(s), {} promoted{}",
        model.trainings,
        model.promoted,
        model
            .last_promoted
            .as_ref()
            .and_then(|m| m.get("auc"))
            .and_then(serde_json::Value::as_f64)
            .map_or(String::new(), |auc| format!(", last promoted AUC {auc:.3}"))
    )?;
    Ok(())
}

impl ModelSummary {
    /// The last promoted model's hold-out metrics, for the calibration plot.
    pub fn calibration(&self) -> Option<&EvaluationMetrics> {
        self.calibration.as_ref()
    }
}

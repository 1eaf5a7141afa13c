//! `medic simulate` and `medic demo`: run medic and the retry policies teams use today on the same simulated
//! fleet, and compare what they fixed and what they cost (`medic_compare::compare`), as a table, JSON or the demo's
//! report.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use medic_compare::{CompareOptions, PolicyName};
use medic_sim::FleetSpec;

use super::RulesArgs;

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
    /// Compare only these policies (comma-separated): blind_retry, rules_only, vpa_bump, double_memory, medic
    /// (remediation alone), medic_rightsizing (and `medic rightsize --apply` every morning), medic_prevention (the
    /// full medic: also each memory fix that worked carried forward to the job's next runs).
    #[arg(long, value_delimiter = ',', value_parser = str::parse::<PolicyName>)]
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
    /// The right-sizing policy of `medic_rightsizing` and `medic_prevention` (YAML, as `medic rightsize --policy`);
    /// the default one when absent.
    #[arg(long, value_name = "FILE")]
    rightsize_policy: Option<PathBuf>,
    #[command(flatten)]
    rules: RulesArgs,
}

pub fn run(args: Args, demo: bool) -> anyhow::Result<ExitCode> {
    let spec = load_spec(&args)?;
    let chosen: Vec<PolicyName> = PolicyName::ALL
        .into_iter()
        .filter(|p| args.policies.is_empty() || args.policies.contains(p))
        .collect();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let work = medic_compare::scratch_folder()?;
    let options = CompareOptions {
        rules: args.rules.load()?,
        rightsize_policy: super::rightsize::load_policy(args.rightsize_policy.as_deref())?,
        policies: chosen.clone(),
        db: args.db.clone(),
        out: args.out.clone(),
        work: work.path().to_path_buf(),
        spec,
    };
    let progress = Progress::new(&options.spec, &chosen, demo || !args.json);
    let started = std::time::Instant::now();
    let comparison = medic_compare::compare(&options, &progress)?;
    progress.finish();

    let order: Vec<&str> = chosen.iter().map(|p| p.name()).collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&comparison)?)?;
    } else {
        super::print_text(&mut out, |text| {
            medic_print::comparison(text, &comparison, &order)
        })?;
    }
    if demo {
        let report = medic_compare::report::write(
            &args.out,
            &comparison,
            &order,
            &options.spec,
            started.elapsed(),
        )?;
        if !args.json {
            writeln!(out, "\nreport: {}", report.display())?;
        }
    }
    if let Some(db) = &args.db
        && !args.json
    {
        writeln!(
            out,
            "database kept: {db} (history, models, patches); `medic serve --db {db}` answers with its promoted model"
        )?;
    }
    Ok(ExitCode::SUCCESS)
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

    fn finish(&self) {
        for bar in self.policies.values() {
            bar.finish();
        }
        let _ = self.bars.clear();
    }
}

impl medic_compare::Progress for Progress {
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
}

//! `medic bench spark FILE...`: medic on the real-job benchmark. Every job of the benchmark files starts at the
//! configuration it was verified to fail with and runs through the scheduler and medic as `medic run` runs it,
//! from a fresh database unless one is named; the score says, per job and per set (file), what medic fixed on
//! the first retry and within two, what it wasted and what the retries cost.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use medic_bench::{BenchFile, BenchScore};
use medic_client::MedicRemediator;
use medic_core::clock::{Clock, SystemClock};
use medic_core::history::Prices;
use serde::Serialize;

use super::RulesArgs;

/// `medic bench`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Run real PySpark jobs from their verified failing configurations through medic, and score what it fixed
    /// (examples/spark/bench: tuning.yaml, the jobs medic may be tuned on; held_out.yaml, unseen.yaml and fresh.yaml, the ones it may not).
    Spark(SparkArgs),
    /// Fit the heuristics' prior (`memory_need_tail` of the search spaces' policy) on the verified needs of the
    /// memory jobs of benchmark files: where each need lies over its failing value, from the job's ladder.
    Prior(PriorArgs),
}

/// Arguments of `medic bench prior`.
#[derive(clap::Args, Debug)]
pub struct PriorArgs {
    /// Benchmark files (YAML).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Arguments of `medic bench spark`.
#[derive(clap::Args, Debug)]
pub struct SparkArgs {
    /// Benchmark files (YAML); each is a set, named by its file stem, and scored apart.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Only these jobs (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    jobs: Vec<String>,
    /// Print the score and the run's report as JSON (`{"score": {"jobs", "sets"}, "report"}`).
    #[arg(long)]
    json: bool,
    /// Each run's attempts go to a new folder under this one.
    #[arg(long, default_value = "runs", value_name = "DIR")]
    runs: PathBuf,
    /// The database medic uses (`sqlite://PATH` or `postgres://...`); by default a new SQLite file that is
    /// deleted afterwards, so that medic starts as a fresh installation does (no model, no history).
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// Search spaces file for the recommender.
    #[arg(long, value_name = "FILE")]
    spaces: Option<PathBuf>,
    #[command(flatten)]
    rules: RulesArgs,
}

#[derive(Serialize)]
struct Output<'a> {
    score: &'a BenchScore,
    report: &'a medic_scheduler::WorkflowReport,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Spark(args) => spark(args),
        Command::Prior(args) => prior(args),
    }
}

fn prior(args: PriorArgs) -> anyhow::Result<ExitCode> {
    let files = args
        .files
        .iter()
        .map(|path| BenchFile::load(path))
        .collect::<Result<Vec<_>, _>>()?;
    let jobs = medic_bench::select(&files, &[])?;
    let needs: Vec<(f64, f64)> = jobs.iter().filter_map(|job| job.need).collect();
    let fit = medic_recommend::prior::MemoryPrior::fit(&needs);
    let mut out = std::io::stdout().lock();
    super::print_text(&mut out, |text| {
        medic_print::prior_fit(text, &jobs, fit.as_ref())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn spark(args: SparkArgs) -> anyhow::Result<ExitCode> {
    let files = args
        .files
        .iter()
        .map(|path| BenchFile::load(path))
        .collect::<Result<Vec<_>, _>>()?;
    let jobs = medic_bench::select(&files, &args.jobs)?;
    let workflow = medic_bench::workflow(&jobs)?;
    let runner = super::run::runner_for(&workflow, None)?;
    // Kept until the run ends, then deleted with the database in it.
    let mut fresh = None;
    let db = match &args.db {
        Some(db) => db.clone(),
        None => {
            let folder = fresh.insert(
                tempfile::tempdir().context("cannot create a folder for the fresh database")?,
            );
            format!("sqlite://{}", folder.path().join("medic.sqlite").display())
        }
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut local = medic_service::LocalMedic::open(&db, clock.clone())?.with_actor("medic bench");
    if args.spaces.is_some() {
        local
            .service_mut()
            .set_spaces(super::load_spaces(args.spaces.as_deref())?);
    }
    let remediator = Box::new(MedicRemediator::new(
        Box::new(local),
        args.rules.load()?,
        Prices::default(),
    ));
    let run_dir = workflow.run_folder(&args.runs, clock.now());
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("cannot create {}", run_dir.display()))?;
    let report = super::run::execute(&workflow, runner, remediator, clock, &run_dir)?;
    let score = medic_bench::score(&jobs, &report);
    let mut out = std::io::stdout().lock();
    if args.json {
        let output = Output {
            score: &score,
            report: &report,
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&output)?)?;
    } else {
        super::print_text(&mut out, |text| medic_print::bench(text, &score))?;
    }
    Ok(ExitCode::SUCCESS)
}

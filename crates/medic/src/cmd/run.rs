//! `medic run WORKFLOW.yaml`: runs a workflow to the end, retrying failed jobs with medic's decisions, and prints
//! what failed, what medic did and what it cost.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context;
use medic_client::MedicRemediator;
use medic_core::clock::{Clock, SystemClock};
use medic_core::history::Prices;
use medic_scheduler::{
    JobRunner, NoRemediation, ProcessRunner, Remediator, Scheduler, ThreadSleeper, Workflow,
    WorkflowReport,
};
use medic_spark::{SparkInstall, SparkRunner};

use super::{Connected, RulesArgs, TargetArgs};

/// Arguments of `medic run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workflow file (YAML): jobs with a command or a Spark application (`spark:`), a Spark configuration, a
    /// retry policy and dependencies. Spark applications are submitted with the `spark-submit` of
    /// `$MEDIC_SPARK_HOME`, else of the repository's `.cache/spark/venv` (`scripts/install-spark.sh`), else of
    /// `PATH`.
    workflow: PathBuf,
    /// Print the report as JSON (`{"jobs": [{"name", "status", "attempts": [...]}]}`) instead of a table.
    #[arg(long)]
    json: bool,
    /// Each run's attempts (their stdout and stderr) go to a new folder under this one.
    #[arg(long, default_value = "runs", value_name = "DIR")]
    runs: PathBuf,
    /// Plain retry policy only: no classification, no recommendation, no patches.
    #[arg(long, conflicts_with_all = ["shadow", "server"])]
    no_medic: bool,
    /// Shadow mode (with the database): medic classifies and recommends, but stores nothing and the retry policy
    /// alone decides. A server has its own switch (`PUT /v1/mode`).
    #[arg(long, conflicts_with = "server")]
    shadow: bool,
    /// Search spaces file for the recommender (with the database; a server uses its own).
    #[arg(long, value_name = "FILE", conflicts_with = "server")]
    spaces: Option<PathBuf>,
    /// Where each cluster keeps what medic collects after a failure (YAML: per cluster name, or `default`, the
    /// History Server's URL, the workers' folders, the shared event-log folder, a credential's file or variable;
    /// see examples/spark/cluster/clusters.yaml). Jobs on a cluster not listed, and local-mode jobs, are read
    /// from their own output and event log only.
    #[arg(long, value_name = "FILE", env = "MEDIC_CLUSTERS")]
    clusters: Option<PathBuf>,
    #[command(flatten)]
    rules: RulesArgs,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let workflow = Workflow::load(&args.workflow)?;
    let runner = runner_for(&workflow, args.clusters.as_deref())?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let run_dir = workflow.run_folder(&args.runs, clock.now());
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("cannot create {}", run_dir.display()))?;
    let remediator: Box<dyn Remediator> = if args.no_medic {
        Box::new(NoRemediation)
    } else {
        let medic = match args.target.connect()? {
            Connected::Local(local) => {
                let mut local = local.with_actor("medic run");
                let service = local.service_mut();
                service.shadow.store(args.shadow, Ordering::SeqCst);
                if args.spaces.is_some() {
                    service.set_spaces(super::load_spaces(args.spaces.as_deref())?);
                }
                Connected::Local(local)
            }
            server => server,
        };
        Box::new(MedicRemediator::new(
            medic.into_medic(),
            args.rules.load()?,
            Prices::default(),
        ))
    };
    let report = execute(&workflow, runner, remediator, clock, &run_dir)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        super::print_text(&mut out, |text| {
            medic_print::workflow_summary(text, &report)
        })?;
    }
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs `workflow` to the end in `run_dir`, printing each event to stderr as it happens; every attempt is priced.
pub fn execute(
    workflow: &Workflow,
    runner: Box<dyn JobRunner>,
    remediator: Box<dyn Remediator>,
    clock: Arc<dyn Clock>,
    run_dir: &std::path::Path,
) -> anyhow::Result<WorkflowReport> {
    eprintln!(
        "medic: running {} ({} jobs); attempts in {}",
        workflow.name,
        workflow.jobs.len(),
        run_dir.display()
    );
    let scheduler = Scheduler::new(runner, remediator, ThreadSleeper, clock);
    let mut report = scheduler.run(workflow, run_dir, |event| {
        let mut line = String::new();
        if medic_print::event(&mut line, event).is_ok() {
            eprint!("{line}");
        }
    })?;
    report.price_unpriced(&Prices::default());
    Ok(report)
}

/// The runner for `workflow`: Spark applications are submitted by a [`SparkRunner`] (which runs the other jobs'
/// commands as they are); a workflow of commands only needs a [`ProcessRunner`].
pub fn runner_for(
    workflow: &Workflow,
    clusters: Option<&std::path::Path>,
) -> anyhow::Result<Box<dyn JobRunner>> {
    let Some(install) = SparkInstall::for_workflow(workflow)? else {
        return Ok(Box::new(ProcessRunner));
    };
    eprintln!(
        "medic: Spark applications go to {} ({})",
        install.spark_submit.display(),
        install.found_by
    );
    let clusters = match clusters {
        Some(path) => medic_collect::ClustersFile::load(path)?,
        None => medic_collect::ClustersFile::default(),
    };
    Ok(Box::new(
        SparkRunner::new(install, Prices::default()).with_clusters(clusters),
    ))
}

//! `medic run WORKFLOW.yaml`: runs a workflow to the end, retrying failed jobs with medic's decisions, and prints
//! what failed, what medic did and what it cost.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context;
use medic_core::clock::{Clock, SystemClock};
use medic_core::history::Prices;
use medic_recommend::SearchSpaces;
use medic_scheduler::{
    Event, JobRunner, JobStatus, NoRemediation, ProcessRunner, Remediator, Scheduler,
    ThreadSleeper, Workflow, WorkflowReport,
};
use medic_spark::{SparkInstall, SparkRunner};

use super::{RulesArgs, TargetArgs};
use crate::remediator::Medic;

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
    #[command(flatten)]
    rules: RulesArgs,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let workflow = Workflow::load(&args.workflow)?;
    let runner = runner_for(&workflow)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let now = clock.now();
    let run_dir = args.runs.join(format!(
        "{}-{:04}{:02}{:02}-{:02}{:02}{:02}",
        workflow.name,
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    ));
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("cannot create {}", run_dir.display()))?;
    let remediator: Box<dyn Remediator> = if args.no_medic {
        Box::new(NoRemediation)
    } else {
        let target = args.target.connect()?;
        let mut local = target.local_state();
        if let Some(state) = &mut local {
            state.shadow.store(args.shadow, Ordering::SeqCst);
            if let Some(path) = &args.spaces {
                let spaces =
                    SearchSpaces::from_yaml(&super::read_text(path)?, &path.display().to_string())?;
                state.recommender = Arc::new(medic_server::RecommendService::new(spaces));
            }
        }
        Box::new(Medic::new(
            target,
            local,
            args.rules.load()?,
            Prices::default(),
        ))
    };
    eprintln!(
        "medic: running {} ({} jobs); attempts in {}",
        workflow.name,
        workflow.jobs.len(),
        run_dir.display()
    );
    let scheduler = Scheduler::new(runner, remediator, ThreadSleeper, clock);
    let mut report = scheduler.run(&workflow, &run_dir, progress)?;
    // The process runner measures time, not money: price each attempt from its configuration and wall time.
    let prices = Prices::default();
    for job in &mut report.jobs {
        for attempt in &mut job.attempts {
            if attempt.cost.is_none() {
                attempt.cost = Some(prices.cost(&attempt.conf, attempt.runtime_s));
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_summary(&mut out, &report)?;
    }
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The runner for `workflow`: Spark applications are submitted by a [`SparkRunner`] (which runs the other jobs'
/// commands as they are), found before anything runs so that a missing Spark stops the run with the command that
/// installs one; a workflow of commands only needs a [`ProcessRunner`].
fn runner_for(workflow: &Workflow) -> anyhow::Result<Box<dyn JobRunner>> {
    if workflow.jobs.iter().all(|job| job.spark.is_none()) {
        return Ok(Box::new(ProcessRunner));
    }
    let home = std::env::var_os("MEDIC_SPARK_HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from);
    let current = std::env::current_dir().unwrap_or_default();
    let mut search: Vec<&std::path::Path> = workflow
        .jobs
        .iter()
        .map(|job| job.working_dir.as_path())
        .collect();
    search.push(&current);
    let install =
        SparkInstall::locate(home.as_deref(), &search, std::env::var_os("PATH").as_ref())?;
    eprintln!(
        "medic: Spark applications go to {} ({})",
        install.spark_submit.display(),
        install.found_by
    );
    Ok(Box::new(SparkRunner::new(install, Prices::default())))
}

/// The live display: one line per event on stderr.
fn progress(event: Event) {
    match event {
        Event::AttemptStarted {
            job,
            attempt,
            applied_patches,
            ..
        } => {
            let patches = if applied_patches.is_empty() {
                String::new()
            } else {
                format!(" with patches {}", applied_patches.join(", "))
            };
            eprintln!("▶ {job}: attempt {attempt}{patches}");
        }
        Event::AttemptFinished {
            job,
            attempt,
            succeeded,
            exit_code,
            timed_out,
            runtime_s,
        } => {
            let how = if succeeded {
                "succeeded".to_owned()
            } else if timed_out {
                "timed out".to_owned()
            } else {
                format!(
                    "failed (exit {})",
                    exit_code.map_or("-".to_owned(), |c| c.to_string())
                )
            };
            eprintln!("  {job}: attempt {attempt} {how} in {runtime_s:.1} s");
        }
        Event::Decided {
            job,
            decision,
            reason,
            category,
            config_changes,
            ..
        } => {
            if decision.as_str() == "succeeded" {
                return;
            }
            let category = category.map_or("?".to_owned(), |c| c.to_string());
            let changes: Vec<String> = config_changes
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(unset)")))
                .collect();
            let changes = if changes.is_empty() {
                String::new()
            } else {
                format!(" [{}]", changes.join(", "))
            };
            eprintln!(
                "  {job}: {category} → {}{changes}: {reason}",
                decision.as_str()
            );
        }
        Event::Backoff { job, delay, .. } => {
            eprintln!(
                "  {job}: waiting {:.0} s before the next attempt",
                delay.as_secs_f64()
            );
        }
        Event::JobSkipped { job, because } => {
            eprintln!("⏭ {job}: skipped ({} did not succeed)", because.join(", "));
        }
        Event::Warning { message, .. } => eprintln!("  warning: {message}"),
        _ => {}
    }
}

fn print_summary(out: &mut impl Write, report: &WorkflowReport) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<24} {:<10} {:>8} {:>9}  what medic did",
        "job", "status", "attempts", "cost"
    )?;
    let mut total = 0.0;
    for job in &report.jobs {
        let cost = job
            .attempts
            .iter()
            .filter_map(|a| a.cost)
            .fold(0.0, |sum, c| sum + c);
        total += cost;
        let did: Vec<String> = job
            .attempts
            .iter()
            .filter(|a| a.decision.as_str() != "succeeded")
            .map(|a| {
                let category = a.category.map_or("?".to_owned(), |c| c.to_string());
                let changes: Vec<String> = a
                    .config_changes
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(unset)")))
                    .collect();
                if changes.is_empty() {
                    format!("{category}: {}", a.decision.as_str())
                } else {
                    format!(
                        "{category}: {} with {}",
                        a.decision.as_str(),
                        changes.join(" ")
                    )
                }
            })
            .collect();
        writeln!(
            out,
            "{:<24} {:<10} {:>8} {:>9}  {}",
            job.name,
            job.status.as_str(),
            job.attempts.len(),
            format!("${cost:.4}"),
            if did.is_empty() {
                "-".to_owned()
            } else {
                did.join("; ")
            }
        )?;
    }
    let failed = report
        .jobs
        .iter()
        .filter(|j| j.status != JobStatus::Succeeded)
        .count();
    writeln!(
        out,
        "{} job(s), {failed} not succeeded, total cost ${total:.4}",
        report.jobs.len()
    )?;
    Ok(())
}

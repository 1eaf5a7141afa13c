//! `medic classify`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use medic_core::{Classification, JobIdentity, LogSource};
use serde::Serialize;

use super::RulesArgs;

/// Arguments of `medic classify`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Logs of failed runs: files, directories (every file in them is one run), `.gz` files, or `-` for standard
    /// input (the default). Each PATH is classified on its own.
    paths: Vec<PathBuf>,
    /// Print one JSON object per input (JSON Lines).
    #[arg(long)]
    json: bool,
    /// Tag the input as this log source (stdout, stderr, driver, executor, eventlog, scheduler). Untagged input is
    /// checked against every rule.
    #[arg(long, value_name = "NAME")]
    source: Option<LogSource>,
    #[command(flatten)]
    rules: RulesArgs,
    /// The job the logs belong to, so that rules scoped to it apply.
    #[arg(long, value_name = "ID")]
    job: Option<String>,
    /// The job's workflow.
    #[arg(long, requires = "job")]
    workflow: Option<String>,
    /// The job's owner (user or team).
    #[arg(long, requires = "job")]
    owner: Option<String>,
    /// The job's cluster.
    #[arg(long, requires = "job")]
    cluster: Option<String>,
}

#[derive(Serialize)]
struct Output<'a> {
    input: &'a str,
    #[serde(flatten)]
    classification: &'a Classification,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let set = args.rules.load()?;
    let job = args.job.clone().map(|id| JobIdentity {
        id,
        workflow: args.workflow.clone(),
        owner: args.owner.clone(),
        cluster: args.cluster.clone(),
    });
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.paths.clone()
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &paths {
        let mut classifier = set.classifier(job.as_ref());
        let name = path.display().to_string();
        if path == Path::new("-") {
            classifier.scan_reader(
                args.source.unwrap_or_default(),
                "-",
                std::io::stdin().lock(),
            );
        } else {
            classifier.scan_path(path, args.source);
        }
        let classification = classifier.finish();
        if args.json {
            serde_json::to_writer(
                &mut out,
                &Output {
                    input: &name,
                    classification: &classification,
                },
            )?;
            writeln!(out)?;
        } else {
            super::print_text(&mut out, |text| {
                medic_print::classification(text, &name, &classification)
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

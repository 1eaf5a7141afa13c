//! `medic recommend`: the configuration for a failed run's retry, or "do not retry", for a person (or `--json`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use medic_core::{Category, JobIdentity, SparkConf};
use medic_recommend::{OptimizerKind, Recommendation, SearchSpaces};
use serde_json::json;

use super::{RulesArgs, TargetArgs};

/// Arguments of `medic recommend`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The configuration the run failed with: JSON, `spark-defaults.conf` or `--conf k=v` lines; `-` for standard
    /// input.
    #[arg(long, value_name = "FILE")]
    conf: PathBuf,
    /// The failure's category (e.g. executor_oom); or give `--log` and medic classifies the logs.
    #[arg(long, value_name = "CATEGORY", required_unless_present = "log")]
    category: Option<Category>,
    /// The rule that classified the failure (with `--category`).
    #[arg(long, value_name = "NAME", requires = "category")]
    rule: Option<String>,
    /// A log of the failed run, classified here; repeat for several.
    #[arg(long, value_name = "FILE", conflicts_with = "category")]
    log: Vec<PathBuf>,
    #[command(flatten)]
    rules: RulesArgs,
    /// The job's id (its own history and λ apply).
    #[arg(long, value_name = "ID", default_value = "adhoc")]
    job: String,
    /// The job's owner (the owner's λ applies).
    #[arg(long)]
    owner: Option<String>,
    /// The job's cluster (its limits apply).
    #[arg(long)]
    cluster: Option<String>,
    /// The job's workflow.
    #[arg(long)]
    workflow: Option<String>,
    /// The run's input size in bytes.
    #[arg(long, value_name = "BYTES")]
    input_bytes: Option<u64>,
    /// What the failed attempt cost, in dollars (default: the model's cost of the failed configuration).
    #[arg(long, value_name = "DOLLARS")]
    failed_cost: Option<f64>,
    /// Weight of cost against failure (default: the policy's for the job).
    #[arg(long, allow_negative_numbers = true)]
    lambda: Option<f64>,
    /// The optimiser.
    #[arg(long, value_enum, default_value = "batched")]
    optimizer: OptimizerArg,
    /// Answer within this many milliseconds with the best configuration found by then.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    deadline_ms: u64,
    /// Search spaces file (default: the built-in one); only without `--server` (a server uses its own).
    #[arg(long, value_name = "FILE", conflicts_with = "server")]
    spaces: Option<PathBuf>,
    /// Print the answer as JSON (the same as `POST /v1/recommend`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: TargetArgs,
}

/// The optimisers, as flags.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum OptimizerArg {
    Batched,
    Bayesian,
    Exhaustive,
}

impl From<OptimizerArg> for OptimizerKind {
    fn from(arg: OptimizerArg) -> Self {
        match arg {
            OptimizerArg::Batched => OptimizerKind::Batched,
            OptimizerArg::Bayesian => OptimizerKind::Bayesian,
            OptimizerArg::Exhaustive => OptimizerKind::Exhaustive,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = SparkConf::parse_any(&super::read_text(&args.conf)?)
        .with_context(|| format!("{}", args.conf.display()))?;
    let job = JobIdentity {
        id: args.job.clone(),
        workflow: args.workflow.clone(),
        owner: args.owner.clone(),
        cluster: args.cluster.clone(),
    };
    let mut body = json!({
        "job": job,
        "config": config,
        "optimizer": OptimizerKind::from(args.optimizer),
        "deadline_ms": args.deadline_ms,
    });
    if args.log.is_empty() {
        body["category"] = json!(args.category);
        if let Some(rule) = &args.rule {
            body["rule"] = json!(rule);
        }
    } else {
        let rules = args.rules.load()?;
        let mut classifier = rules.classifier(Some(&job));
        for path in &args.log {
            classifier.scan_path(path, None);
        }
        let classification = classifier.finish();
        for warning in &classification.warnings {
            eprintln!("warning: {warning}");
        }
        body["classification"] = serde_json::to_value(&classification)?;
    }
    for (key, value) in [
        ("input_bytes", args.input_bytes.map(|v| json!(v))),
        ("failed_cost", args.failed_cost.map(|v| json!(v))),
        ("lambda", args.lambda.map(|v| json!(v))),
    ] {
        if let Some(value) = value {
            body[key] = value;
        }
    }
    let spaces = match &args.spaces {
        Some(path) => {
            SearchSpaces::from_yaml(&super::read_text(path)?, &path.display().to_string())?
        }
        None => SearchSpaces::built_in(),
    };
    let answer = args.target.connect()?.recommend(body, spaces)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
    } else {
        print_answer(&mut out, &answer)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_answer(out: &mut impl Write, answer: &Recommendation) -> anyhow::Result<()> {
    writeln!(
        out,
        "{}: {}",
        answer.category,
        if answer.retry {
            "RETRY"
        } else {
            "DO NOT RETRY"
        }
    )?;
    let width = answer.changes.keys().map(String::len).max().unwrap_or(0);
    for (key, change) in &answer.changes {
        writeln!(
            out,
            "  {key:width$}  {} → {}",
            change.from.as_deref().unwrap_or("(unset)"),
            change.to.as_deref().unwrap_or("(unset)")
        )?;
    }
    if answer.retry && answer.changes.is_empty() {
        writeln!(out, "  (configuration unchanged)")?;
    }
    if let Some(predicted) = &answer.predicted {
        writeln!(out, "predicted        P(fail)   cost      objective")?;
        let row = |name: &str, e: &medic_recommend::Estimate| {
            format!(
                "  {name:<13} {:>7.3}   ${:<8.4} {:.4}",
                e.p_fail, e.cost, e.objective
            )
        };
        writeln!(out, "{}", row("unchanged", &predicted.original))?;
        if let Some(recommended) = &predicted.recommended {
            writeln!(out, "{}", row("recommended", recommended))?;
        }
    }
    let decided_by = match (&answer.model_version, &answer.heuristic) {
        (Some(version), _) => format!("model {version}"),
        (None, Some(heuristic)) => format!("heuristic {heuristic} (no model)"),
        (None, None) => "the category alone".to_owned(),
    };
    writeln!(
        out,
        "decided by {decided_by}; optimizer {}, {} evaluation(s) in {:.1} ms{}; λ = {}",
        answer.optimizer,
        answer.evaluations,
        answer.elapsed_ms,
        answer
            .stopped_by
            .map(|s| format!(
                " ({})",
                serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ))
            .unwrap_or_default(),
        answer.lambda
    )?;
    writeln!(out, "why: {}", answer.reason)?;
    if !answer.alternatives.is_empty() {
        writeln!(out, "alternatives:")?;
        for alternative in &answer.alternatives {
            let changes: Vec<String> = alternative
                .changes
                .iter()
                .map(|(k, c)| format!("{k}={}", c.to.as_deref().unwrap_or("(unset)")))
                .collect();
            writeln!(
                out,
                "  P(fail) {:.3}, ${:.4}: {}",
                alternative.predicted.p_fail,
                alternative.predicted.cost,
                if changes.is_empty() {
                    "unchanged".to_owned()
                } else {
                    changes.join(", ")
                }
            )?;
        }
    }
    for note in &answer.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

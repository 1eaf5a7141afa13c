//! `medic recommend`: the configuration for a failed run's retry, or "do not retry", for a person (or `--json`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use medic_api::RecommendRequest;
use medic_core::{Category, JobIdentity, SparkConf};
use medic_recommend::OptimizerKind;

use super::{Connected, RulesArgs, TargetArgs};

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
    let mut request = RecommendRequest {
        optimizer: Some(args.optimizer.into()),
        deadline_ms: Some(args.deadline_ms),
        input_bytes: args.input_bytes,
        cost_dollars: args.failed_cost,
        lambda: args.lambda,
        ..RecommendRequest::new(job.clone(), config)
    };
    if args.log.is_empty() {
        request.category = args.category;
        request.rule = args.rule.clone();
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
        request.classification = Some(classification);
    }
    let medic = match args.target.connect()? {
        Connected::Local(mut local) => {
            local
                .service_mut()
                .set_spaces(super::load_spaces(args.spaces.as_deref())?);
            Connected::Local(local)
        }
        server => server,
    };
    let answer = medic.into_medic().recommend(request)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
    } else {
        super::print_text(&mut out, |text| medic_print::recommendation(text, &answer))?;
    }
    Ok(ExitCode::SUCCESS)
}

//! `medic rightsize`: each job's memory from the peaks of its recent successful runs, as persistent patches.
//! A dry run by default; `--apply` stores the right-sizes and revokes what must go. `medic serve
//! --rightsize-every` runs the same thing on a schedule.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use medic_core::history::Prices;
use medic_rightsize::RightsizePolicy;

use anyhow::Context;
use medic_core::clock::SystemClock;
use medic_store::Store;

use super::DEFAULT_DB;

/// Arguments of `medic rightsize`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The database whose attempts history is read and where the patches go (`sqlite://PATH` or
    /// `postgres://...`).
    #[arg(long, env = "MEDIC_DB", default_value = DEFAULT_DB, value_name = "URL")]
    db: String,
    /// Store the right-sizes (persistent patches scoped to each job, superseding its previous one) and revoke the
    /// right-sizes that must go. Without it nothing is stored: a dry run of what would change and save.
    #[arg(long)]
    apply: bool,
    /// Print the plan as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// The right-sizing policy (YAML: window_days, min_runs, margin, max_step, settle_runs, estimator,
    /// min_heap_mib, round_mib, min_change, include, exclude); the defaults when absent.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// List the jobs left alone too, with their reasons (by default only how many, by reason).
    #[arg(long)]
    all: bool,
}

/// The policy in `path`, or the default one.
pub fn load_policy(path: Option<&Path>) -> anyhow::Result<RightsizePolicy> {
    Ok(match path {
        Some(path) => {
            RightsizePolicy::from_yaml(&super::read_text(path)?, &path.display().to_string())?
        }
        None => RightsizePolicy::default(),
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let policy = load_policy(args.policy.as_deref())?;
    let runtime = super::runtime()?;
    let report = runtime.block_on(async {
        let store = Store::open(&args.db, Arc::new(SystemClock))
            .await
            .with_context(|| format!("cannot open the store {}", args.db))?;
        anyhow::Ok(medic_rightsize::round(&store, &policy, &Prices::default(), args.apply).await?)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        super::print_text(&mut out, |text| {
            medic_print::rightsize_plan(text, &report, args.all)
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

//! `medic model list|show|promote`: the registry of trained models.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::bail;
use medic_core::clock::SystemClock;
use medic_model::PromotionPolicy;
use medic_store::Store;

use super::DEFAULT_DB;

/// `medic model ...`
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Every registered model version, oldest first.
    List(StoreArgs),
    /// One version's description and metrics (JSON).
    Show {
        /// The version.
        #[arg(value_name = "VERSION")]
        model_version: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Make a version the one in use. Refused if its hold-out metrics fail the gate, unless --force.
    Promote {
        /// The version.
        #[arg(value_name = "VERSION")]
        model_version: String,
        /// Promote even if the metrics fail the gate.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The store holding the registry.
#[derive(clap::Args, Debug)]
pub struct StoreArgs {
    /// The store.
    #[arg(long, env = "MEDIC_DB", default_value = DEFAULT_DB, value_name = "URL")]
    db: String,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let runtime = super::runtime()?;
    let open = |db: &str| runtime.block_on(Store::open(db, Arc::new(SystemClock)));
    match command {
        Command::List(args) => {
            let store = open(&args.db)?;
            println!(
                "{:<28} {:<10} {:>8} {:>8} {:>10}  ARTIFACT",
                "VERSION", "STATUS", "AUC", "ECE", "LOG-MAE"
            );
            for entry in runtime.block_on(store.models())? {
                let metrics = medic_training::hold_out_metrics(&entry);
                let cell = |value: Option<f64>| {
                    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"))
                };
                println!(
                    "{:<28} {:<10} {:>8} {:>8} {:>10}  {}",
                    entry.version,
                    entry.status.as_str(),
                    cell(metrics.as_ref().and_then(|m| m.auc)),
                    cell(metrics.as_ref().map(|m| m.calibration.ece)),
                    cell(metrics.as_ref().map(|m| m.log_cost.mae)),
                    entry.artifact
                );
            }
        }
        Command::Show {
            model_version: version,
            store,
        } => {
            let store = open(&store.db)?;
            let Some(entry) = runtime.block_on(store.model(&version))? else {
                bail!("no model `{version}`");
            };
            println!("{}", serde_json::to_string_pretty(&entry)?);
        }
        Command::Promote {
            model_version: version,
            force,
            store,
        } => {
            let store = open(&store.db)?;
            let promoted = runtime.block_on(medic_training::promote(
                &store,
                &version,
                &PromotionPolicy::default(),
                force,
                "medic model promote",
            ))?;
            println!("promoted {}", promoted.version);
        }
    }
    Ok(ExitCode::SUCCESS)
}

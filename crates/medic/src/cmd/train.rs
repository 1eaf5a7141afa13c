//! `medic train`: learn the Nightingale model from the retry history, audit it on the latest records, save it, and
//! (with a store) register it and promote it if it passes the gate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use medic_core::clock::{Clock, SystemClock};
use medic_core::history::RetryRecord;
use medic_model::metrics::EvaluationMetrics;
use medic_model::train::evaluate_records;
use medic_model::{PromotionPolicy, TrainConfig, time_split, train};
use medic_store::{NewModel, RecordFilter, Store};

use super::DEFAULT_DB;
use super::history::{Format, PriceArgs, read_file};

/// Arguments of `medic train`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Learn from the history in this store (and register the model there).
    #[arg(long, env = "MEDIC_DB", default_value = DEFAULT_DB, value_name = "URL")]
    db: String,
    /// Learn from this history file (JSON Lines or CSV) instead; the model is saved but not registered.
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// The format of `--from` (default: by extension).
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    prices: PriceArgs,
    /// Where model directories go; this one is OUT/VERSION.
    #[arg(long, default_value = "models", value_name = "DIR")]
    out: PathBuf,
    /// The latest fraction of the records (by time) held out for the audit.
    #[arg(long, default_value_t = 0.2)]
    holdout: f64,
    /// At most this many epochs (early stopping usually ends sooner).
    #[arg(long, default_value_t = TrainConfig::default().max_epochs)]
    epochs: usize,
    /// Seed of initialisation and shuffling: the same history and seed give the same model.
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    seed: u64,
    /// Weight of the cost loss against the failure loss.
    #[arg(long, default_value_t = TrainConfig::default().cost_weight)]
    cost_weight: f64,
    /// Promotion gate: lowest hold-out AUC.
    #[arg(long, default_value_t = PromotionPolicy::default().min_auc)]
    min_auc: f64,
    /// Promotion gate: highest hold-out expected calibration error.
    #[arg(long, default_value_t = PromotionPolicy::default().max_ece)]
    max_ece: f64,
    /// Register the model but do not promote it, even if it passes.
    #[arg(long)]
    no_promote: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(0.0..1.0).contains(&args.holdout) || args.holdout == 0.0 {
        bail!("--holdout must be between 0 and 1");
    }
    let clock = SystemClock;
    let runtime = super::runtime()?;
    // A history file is trained on alone; otherwise the store gives the history and keeps the registry.
    let (store, records) = match &args.from {
        Some(path) => {
            let read = read_file(path, args.format, &args.prices.prices())?;
            if !read.problems.is_empty() {
                for problem in &read.problems {
                    eprintln!("{}: {problem}", path.display());
                }
                bail!("{}: {} bad line(s)", path.display(), read.problems.len());
            }
            let mut records = read.records;
            records.sort_by_key(|record| record.at);
            (None, records)
        }
        None => {
            let store = runtime
                .block_on(Store::open(&args.db, Arc::new(SystemClock)))
                .with_context(|| format!("cannot open the store {}", args.db))?;
            let records = runtime.block_on(store.records(&RecordFilter::default()))?;
            (Some(store), records)
        }
    };
    eprintln!("{} record(s) of history", records.len());
    let (training, holdout) = time_split(&records, args.holdout);
    let training: Vec<RetryRecord> = training.into_iter().cloned().collect();
    let config = TrainConfig {
        seed: args.seed,
        max_epochs: args.epochs,
        cost_weight: args.cost_weight,
        ..TrainConfig::default()
    };

    let bar = indicatif::ProgressBar::new(config.max_epochs as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let trained = train(&training, &config, |epoch, metrics| {
        bar.set_position(epoch as u64);
        bar.set_message(format!(
            "train loss {:.4}, validation loss {:.4}",
            metrics.train_loss,
            metrics.validation_loss.unwrap_or(f64::NAN)
        ));
    })?;
    bar.finish_and_clear();
    let metrics = evaluate_records(
        &trained.model,
        &trained.spec,
        &holdout,
        trained.report.log_cost_mean,
    )?;

    let now = clock.now();
    let version = format!(
        "m{:04}{:02}{:02}-{:02}{:02}{:02}-s{}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        args.seed
    );
    let dir = args.out.join(&version);
    let description = medic_model::save(&dir, &trained, Some(metrics.clone()), now)?;
    super::plots::loss_curves(&dir.join("loss.svg"), &trained.report.epochs)?;
    super::plots::reliability(&dir.join("calibration.svg"), &metrics)?;

    print_table(&version, &trained.report, &metrics);
    println!(
        "saved to {} (weights.safetensors, model.json, loss.svg, calibration.svg)",
        dir.display()
    );

    let Some(store) = store else {
        return Ok(ExitCode::SUCCESS);
    };
    // The current model is measured on this model's hold-out set, so that the two are compared on equal terms.
    let current = runtime.block_on(store.promoted_model())?;
    let current_metrics = match &current {
        Some(entry) => match medic_model::load(Path::new(&entry.artifact)) {
            Ok(loaded) => Some(evaluate_records(
                &loaded.model,
                &loaded.description.features,
                &holdout,
                loaded.description.log_cost_mean,
            )?),
            Err(e) => {
                eprintln!(
                    "the current model {} cannot be loaded ({e}); judging the new one alone",
                    entry.version
                );
                None
            }
        },
        None => None,
    };
    let policy = PromotionPolicy {
        min_auc: args.min_auc,
        max_ece: args.max_ece,
        ..PromotionPolicy::default()
    };
    let verdict = policy.judge(&metrics, current_metrics.as_ref());
    runtime.block_on(
        store.register_model(
            NewModel {
                version: version.clone(),
                // Absolute, so that a server started elsewhere finds the model the registry names.
                artifact: std::fs::canonicalize(&dir)
                    .unwrap_or_else(|_| dir.clone())
                    .display()
                    .to_string(),
                description: serde_json::json!({
                    "description": description,
                    "verdict": verdict,
                    "current_on_same_holdout": current_metrics,
                }),
            },
            "medic train",
        ),
    )?;
    if !verdict.promote {
        println!("not promoted: {}", verdict.reasons.join("; "));
    } else if args.no_promote {
        println!("passes the gate; not promoted (--no-promote)");
    } else {
        runtime.block_on(store.promote_model(&version, "medic train"))?;
        println!("promoted {version}");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(version: &str, report: &medic_model::TrainingReport, metrics: &EvaluationMetrics) {
    println!("model {version}");
    println!(
        "  trained on {} records, early stopping on {}, audited on {} later records",
        report.training.records, report.validation.records, metrics.rows
    );
    println!(
        "  epochs {} (kept {})",
        report.epochs.len(),
        report.best_epoch
    );
    println!("  {:<28} {:>10}", "metric (hold-out)", "value");
    let auc = metrics
        .auc
        .map_or_else(|| "n/a".to_owned(), |auc| format!("{auc:.4}"));
    for (name, value) in [
        ("failure AUC", auc),
        ("failure Brier score", format!("{:.4}", metrics.brier)),
        ("failure ECE", format!("{:.4}", metrics.calibration.ece)),
        ("failure rate", format!("{:.4}", metrics.failure_rate)),
        ("log-cost MAE", format!("{:.4}", metrics.log_cost.mae)),
        (
            "log-cost MAE of the mean",
            format!("{:.4}", metrics.log_cost_baseline.mae),
        ),
    ] {
        println!("  {name:<28} {value:>10}");
    }
}

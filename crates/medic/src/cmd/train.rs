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
use medic_model::{
    MIN_COMPARISON_RECORDS, PromotionPolicy, TrainConfig, time_split, train, unseen_by,
};
use medic_store::{NewModel, RecordFilter, Store};
use time::OffsetDateTime;

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
    let options = RoundOptions {
        config: TrainConfig {
            seed: args.seed,
            max_epochs: args.epochs,
            cost_weight: args.cost_weight,
            ..TrainConfig::default()
        },
        holdout: args.holdout,
        out: args.out.clone(),
        gate: PromotionPolicy {
            min_auc: args.min_auc,
            max_ece: args.max_ece,
            ..PromotionPolicy::default()
        },
        promote: !args.no_promote,
    };
    let bar = indicatif::ProgressBar::new(options.config.max_epochs as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let round = train_round(
        &runtime,
        store.as_ref(),
        &records,
        &options,
        clock.now(),
        "medic train",
        |epoch, metrics| {
            bar.set_position(epoch as u64);
            bar.set_message(format!(
                "train loss {:.4}, validation loss {:.4}",
                metrics.train_loss,
                metrics.validation_loss.unwrap_or(f64::NAN)
            ));
        },
    )?;
    bar.finish_and_clear();
    print_table(&round.version, &round.report, &round.metrics);
    println!(
        "saved to {} (weights.safetensors, model.json, loss.svg, calibration.svg)",
        round.dir.display()
    );
    if let Some(verdict) = &round.verdict {
        if !verdict.promote {
            println!("not promoted: {}", verdict.reasons.join("; "));
        } else if !round.promoted {
            println!("passes the gate; not promoted (--no-promote)");
        } else {
            println!("promoted {}", round.version);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How to run a training round.
pub struct RoundOptions {
    /// Training settings.
    pub config: TrainConfig,
    /// The latest fraction of the records held out for the audit.
    pub holdout: f64,
    /// Where model directories go (`out/VERSION`).
    pub out: PathBuf,
    /// The promotion gate.
    pub gate: PromotionPolicy,
    /// Promote a model that passes the gate.
    pub promote: bool,
}

/// What a training round made.
pub struct Round {
    /// The new model's version.
    pub version: String,
    /// Its directory.
    pub dir: PathBuf,
    /// How training went.
    pub report: medic_model::TrainingReport,
    /// The new model on the hold-out records.
    pub metrics: EvaluationMetrics,
    /// The gate's verdict (with a store only).
    pub verdict: Option<medic_model::Verdict>,
    /// Whether it was promoted.
    pub promoted: bool,
}

/// Trains on `records` (sorted by time), audits on the latest of them, saves the model with its plots and, with
/// a store, registers it and promotes it when it passes the gate against the current model on the same hold-out.
/// `medic train` and the simulator's daily retraining both go through here.
pub fn train_round(
    runtime: &tokio::runtime::Runtime,
    store: Option<&Store>,
    records: &[RetryRecord],
    options: &RoundOptions,
    now: OffsetDateTime,
    actor: &str,
    on_epoch: impl FnMut(usize, &medic_model::EpochMetrics) + Send,
) -> anyhow::Result<Round> {
    let (training, holdout) = time_split(records, options.holdout);
    let training: Vec<RetryRecord> = training.into_iter().cloned().collect();
    let trained = train(&training, &options.config, on_epoch)?;
    let metrics = evaluate_records(
        &trained.model,
        &trained.spec,
        &holdout,
        trained.report.log_cost_mean,
    )?;
    let version = format!(
        "m{:04}{:02}{:02}-{:02}{:02}{:02}-s{}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        options.config.seed
    );
    let dir = options.out.join(&version);
    let description = medic_model::save(&dir, &trained, Some(metrics.clone()), now)?;
    super::plots::loss_curves(&dir.join("loss.svg"), &trained.report.epochs)?;
    super::plots::reliability(&dir.join("calibration.svg"), &metrics)?;
    let mut round = Round {
        version: version.clone(),
        dir: dir.clone(),
        report: trained.report.clone(),
        metrics,
        verdict: None,
        promoted: false,
    };
    let Some(store) = store else {
        return Ok(round);
    };
    // The current model is compared with the new one on the hold-out records it did not learn from: retrained
    // daily, it has learned from most of today's hold-out, and would look better than it is.
    let current = runtime.block_on(store.promoted_model())?;
    let mut verdict = options.gate.judge(&round.metrics, None);
    let mut comparison = serde_json::Value::Null;
    if let Some(entry) = &current {
        match medic_model::load(Path::new(&entry.artifact)) {
            Ok(loaded) => {
                let unseen = unseen_by(&holdout, &loaded.description);
                if unseen.len() >= MIN_COMPARISON_RECORDS {
                    let candidate = evaluate_records(
                        &trained.model,
                        &trained.spec,
                        &unseen,
                        round.report.log_cost_mean,
                    )?;
                    let current_metrics = evaluate_records(
                        &loaded.model,
                        &loaded.description.features,
                        &unseen,
                        loaded.description.log_cost_mean,
                    )?;
                    verdict
                        .reasons
                        .extend(options.gate.compare(&candidate, &current_metrics));
                    verdict.promote = verdict.reasons.is_empty();
                    comparison = serde_json::json!({
                        "records": unseen.len(),
                        "candidate": candidate,
                        "current": current_metrics,
                    });
                } else {
                    comparison = serde_json::json!({
                        "records": unseen.len(),
                        "note": format!(
                            "{} hold-out record(s) are newer than what {} learned from; fewer than {MIN_COMPARISON_RECORDS}: judged on the thresholds alone",
                            unseen.len(), entry.version
                        ),
                    });
                }
            }
            Err(e) => {
                tracing::warn!(
                    "the current model {} cannot be loaded ({e}); judging the new one alone",
                    entry.version
                );
            }
        }
    }
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
                    "comparison_with_current": comparison,
                }),
            },
            actor,
        ),
    )?;
    if verdict.promote && options.promote {
        runtime.block_on(store.promote_model(&version, actor))?;
        round.promoted = true;
    }
    round.verdict = Some(verdict);
    Ok(round)
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

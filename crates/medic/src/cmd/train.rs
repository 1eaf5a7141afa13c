//! `medic train`: learn the Nightingale model from the retry history, audit it on the latest records, save it, and
//! (with a store) register it and promote it if it passes the gate. The round itself is `medic_training`'s; this
//! is its flags, progress bar and printout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use medic_core::clock::{Clock, SystemClock};
use medic_model::{EpochMetrics, PromotionPolicy, TrainConfig};
use medic_store::{RecordFilter, Store};
use medic_training::RoundOptions;

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
    let on_epoch = {
        let bar = bar.clone();
        move |epoch: usize, metrics: &EpochMetrics| {
            bar.set_position(epoch as u64);
            bar.set_message(format!(
                "train loss {:.4}, validation loss {:.4}",
                metrics.train_loss,
                metrics.validation_loss.unwrap_or(f64::NAN)
            ));
        }
    };
    let Some(store) = store else {
        let candidate = medic_training::train_candidate(&records, &options, clock.now(), on_epoch)?;
        bar.finish_and_clear();
        super::print_text(&mut std::io::stdout(), |text| {
            medic_print::trained_model(
                text,
                &candidate.version,
                &candidate.trained.report,
                &candidate.metrics,
                &candidate.dir,
            )
        })?;
        return Ok(ExitCode::SUCCESS);
    };
    let round = runtime.block_on(medic_training::run_round(
        &store,
        records,
        &options,
        clock.now(),
        "medic train",
        on_epoch,
    ))?;
    bar.finish_and_clear();
    super::print_text(&mut std::io::stdout(), |text| {
        medic_print::trained_model(
            text,
            &round.version,
            &round.report,
            &round.metrics,
            &round.dir,
        )
    })?;
    if !round.verdict.promote {
        println!("not promoted: {}", round.verdict.reasons.join("; "));
    } else if !round.promoted {
        println!("passes the gate; not promoted (--no-promote)");
    } else {
        println!("promoted {}", round.version);
    }
    Ok(ExitCode::SUCCESS)
}

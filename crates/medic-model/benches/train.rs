//! Training throughput: `MEDIC_BENCH_RECORDS` synthetic records (default 1 000 000), 5 epochs, no early stopping,
//! one thread; prints a markdown table with wall time, records per second and the hold-out metrics.
//!
//! `cargo bench -p medic-model --bench train` (or `MEDIC_BENCH_RECORDS=100000 cargo bench ...`).

use std::time::Instant;

use medic_model::synthetic::{SyntheticConfig, generate};
use medic_model::train::evaluate_records;
use medic_model::{TrainConfig, time_split, train};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // `cargo bench` passes `--bench`; this harness has no options of its own.
    let records: usize = std::env::var("MEDIC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let epochs = 5;
    let started = Instant::now();
    let all = generate(&SyntheticConfig::default(), records);
    let generated = started.elapsed();
    let (training, holdout) = time_split(&all, 0.2);
    let training: Vec<_> = training.into_iter().cloned().collect();
    let config = TrainConfig {
        max_epochs: epochs,
        patience: None,
        ..TrainConfig::default()
    };
    let started = Instant::now();
    let trained = train(&training, &config, |epoch, m| {
        eprintln!(
            "epoch {epoch}: train loss {:.4}, validation loss {:.4} ({:.1} s)",
            m.train_loss,
            m.validation_loss.unwrap_or(f64::NAN),
            started.elapsed().as_secs_f64()
        );
    })
    .expect("train");
    let elapsed = started.elapsed().as_secs_f64();
    let metrics = evaluate_records(
        &trained.model,
        &trained.spec,
        &holdout,
        trained.report.log_cost_mean,
    )
    .expect("evaluate");
    let trained_rows = trained.report.training.records as f64;
    println!(
        "| records (train / validation / hold-out) | epochs | generate | train wall time | records/s (train rows × epochs / s) | hold-out AUC | ECE | Brier | log-cost MAE (baseline) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} / {} / {} | {epochs} | {:.1} s | {elapsed:.1} s | {:.0} | {:.4} | {:.4} | {:.4} | {:.4} ({:.4}) |",
        trained.report.training.records,
        trained.report.validation.records,
        holdout.len(),
        generated.as_secs_f64(),
        trained_rows * epochs as f64 / elapsed,
        metrics.auc.unwrap_or(f64::NAN),
        metrics.calibration.ece,
        metrics.brier,
        metrics.log_cost.mae,
        metrics.log_cost_baseline.mae,
    );
}

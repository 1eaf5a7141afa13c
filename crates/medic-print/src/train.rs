//! A trained model, as `medic train` prints it.

use std::fmt;
use std::path::Path;

use medic_model::metrics::EvaluationMetrics;

/// The model's version, what it learned from, its hold-out metrics and where it was saved.
pub fn trained_model(
    out: &mut impl fmt::Write,
    version: &str,
    report: &medic_model::TrainingReport,
    metrics: &EvaluationMetrics,
    dir: &Path,
) -> fmt::Result {
    writeln!(out, "model {version}")?;
    writeln!(
        out,
        "  trained on {} records, early stopping on {}, audited on {} later records",
        report.training.records, report.validation.records, metrics.rows
    )?;
    writeln!(
        out,
        "  epochs {} (kept {})",
        report.epochs.len(),
        report.best_epoch
    )?;
    writeln!(out, "  {:<28} {:>10}", "metric (hold-out)", "value")?;
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
        writeln!(out, "  {name:<28} {value:>10}")?;
    }
    writeln!(
        out,
        "saved to {} (weights.safetensors, model.json, loss.svg, calibration.svg)",
        dir.display()
    )?;
    Ok(())
}

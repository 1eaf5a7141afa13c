//! The plots `medic train` writes next to a model, as SVG: loss curves and the reliability diagram.

use std::path::Path;

use anyhow::anyhow;
use medic_model::metrics::EvaluationMetrics;
use medic_model::train::EpochMetrics;
use plotters::prelude::*;

/// Training and validation loss per epoch.
pub fn loss_curves(path: &Path, epochs: &[EpochMetrics]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let losses = epochs
        .iter()
        .flat_map(|e| [Some(e.train_loss), e.validation_loss])
        .flatten()
        .filter(|loss| loss.is_finite());
    let top = losses.fold(0.0_f64, f64::max).max(1e-6) * 1.05;
    let last = epochs.len().max(2) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption("loss per epoch", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(1.0..last, 0.0..top)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    let series = |pick: fn(&EpochMetrics) -> Option<f64>| -> Vec<(f64, f64)> {
        epochs
            .iter()
            .filter_map(|e| pick(e).map(|loss| (e.epoch as f64, loss)))
            .collect()
    };
    chart
        .draw_series(LineSeries::new(series(|e| Some(e.train_loss)), &BLUE))
        .map_err(|e| anyhow!("{e}"))?
        .label("training")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
    chart
        .draw_series(LineSeries::new(series(|e| e.validation_loss), &RED))
        .map_err(|e| anyhow!("{e}"))?
        .label("validation")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))
}

/// Observed failure rate against mean predicted probability, per bin, with the diagonal of perfect calibration.
pub fn reliability(path: &Path, metrics: &EvaluationMetrics) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (480, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("reliability (ECE {:.3})", metrics.calibration.ece),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("predicted P(retry fails)")
        .y_desc("observed failure rate")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(LineSeries::new(
            vec![(0.0, 0.0), (1.0, 1.0)],
            &BLACK.mix(0.3),
        ))
        .map_err(|e| anyhow!("{e}"))?;
    let points: Vec<(f64, f64)> = metrics
        .calibration
        .bins
        .iter()
        .filter(|bin| bin.count > 0)
        .map(|bin| (bin.mean_predicted, bin.observed_rate))
        .collect();
    chart
        .draw_series(LineSeries::new(points.clone(), &BLUE))
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(points.into_iter().map(|p| Circle::new(p, 4, BLUE.filled())))
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))
}

/// One bar per named value, with the value written above it (`format` turns a value into its label).
pub fn bars(
    path: &Path,
    caption: &str,
    y_desc: &str,
    items: &[(String, f64)],
    format: impl Fn(f64) -> String,
) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let top = items
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        .max(1e-9)
        * 1.15;
    let n = items.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..n, 0.0..top)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(items.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let slot = x - x.floor();
            if (slot - 0.5).abs() < 1e-6 {
                items
                    .get(x.floor() as usize)
                    .map_or(String::new(), |(name, _)| name.clone())
            } else {
                String::new()
            }
        })
        .y_desc(y_desc)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    let palette = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    for (i, (_, value)) in items.iter().enumerate() {
        let x = i as f64;
        let color = palette[i % palette.len()];
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x + 0.15, 0.0), (x + 0.85, *value)],
                color.mix(0.7).filled(),
            )))
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .draw_series(std::iter::once(Text::new(
                format(*value),
                (x + 0.3, *value + top * 0.02),
                ("sans-serif", 14),
            )))
            .map_err(|e| anyhow!("{e}"))?;
    }
    root.present().map_err(|e| anyhow!("{e}"))
}

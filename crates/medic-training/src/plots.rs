//! The plots saved next to every model, as SVG: the loss curves of training and the reliability diagram of the
//! audit. They are for people reading a model directory; nothing reads them back.

use std::fmt::Display;
use std::path::Path;

use medic_model::metrics::EvaluationMetrics;
use medic_model::train::EpochMetrics;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// Plotters' errors are generic over the backend; only their text is kept, with the file they were drawing.
fn failed<E: Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Draws the training and validation loss per epoch into `path`.
pub fn loss_curves(path: &Path, epochs: &[EpochMetrics]) -> Result<()> {
    let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(failed(path))?;
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
        .map_err(failed(path))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss")
        .draw()
        .map_err(failed(path))?;
    let series = |pick: fn(&EpochMetrics) -> Option<f64>| -> Vec<(f64, f64)> {
        epochs
            .iter()
            .filter_map(|e| pick(e).map(|loss| (e.epoch as f64, loss)))
            .collect()
    };
    chart
        .draw_series(LineSeries::new(series(|e| Some(e.train_loss)), &BLUE))
        .map_err(failed(path))?
        .label("training")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
    chart
        .draw_series(LineSeries::new(series(|e| e.validation_loss), &RED))
        .map_err(failed(path))?
        .label("validation")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .draw()
        .map_err(failed(path))?;
    root.present().map_err(failed(path))
}

/// Draws the observed failure rate against the mean predicted probability, per bin, with the diagonal of
/// perfect calibration, into `path`.
pub fn reliability(path: &Path, metrics: &EvaluationMetrics) -> Result<()> {
    let root = SVGBackend::new(path, (480, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(failed(path))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("reliability (ECE {:.3})", metrics.calibration.ece),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(failed(path))?;
    chart
        .configure_mesh()
        .x_desc("predicted P(retry fails)")
        .y_desc("observed failure rate")
        .draw()
        .map_err(failed(path))?;
    chart
        .draw_series(LineSeries::new(
            vec![(0.0, 0.0), (1.0, 1.0)],
            &BLACK.mix(0.3),
        ))
        .map_err(failed(path))?;
    let points: Vec<(f64, f64)> = metrics
        .calibration
        .bins
        .iter()
        .filter(|bin| bin.count > 0)
        .map(|bin| (bin.mean_predicted, bin.observed_rate))
        .collect();
    chart
        .draw_series(LineSeries::new(points.clone(), &BLUE))
        .map_err(failed(path))?;
    chart
        .draw_series(points.into_iter().map(|p| Circle::new(p, 4, BLUE.filled())))
        .map_err(failed(path))?;
    root.present().map_err(failed(path))
}

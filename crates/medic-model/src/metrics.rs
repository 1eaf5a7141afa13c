//! How good the predictions are: AUC, Brier score and calibration for the failure head, MAE and RMSE for the cost
//! head. Pure functions over slices; each answers `None` where the measure is undefined (no rows, one class).

use serde::{Deserialize, Serialize};

/// Area under the ROC curve: the probability that a random failed row scores above a random successful one, ties
/// counting half. Computed from ranks (Mann–Whitney U) with average ranks for tied scores. `None` without rows of
/// both classes or when the lengths differ.
pub fn auc(scores: &[f32], failed: &[bool]) -> Option<f64> {
    if scores.len() != failed.len() {
        return None;
    }
    let positives = failed.iter().filter(|&&f| f).count();
    let negatives = failed.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut positive_rank_sum = 0.0f64;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks are 1-based; a tie group shares the mean of its ranks.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| failed[i]).count();
        positive_rank_sum += mean_rank * tied_positives as f64;
        start = end;
    }
    let p = positives as f64;
    Some((positive_rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// Mean squared difference between the predicted probability and the outcome (1 failed, 0 succeeded).
pub fn brier(p_fail: &[f32], failed: &[bool]) -> Option<f64> {
    if p_fail.is_empty() || p_fail.len() != failed.len() {
        return None;
    }
    let sum: f64 = p_fail
        .iter()
        .zip(failed)
        .map(|(&p, &f)| (f64::from(p) - if f { 1.0 } else { 0.0 }).powi(2))
        .sum();
    Some(sum / p_fail.len() as f64)
}

/// One bin of a reliability diagram.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReliabilityBin {
    /// Lower edge of the bin (inclusive).
    pub lower: f64,
    /// Upper edge (exclusive, except 1.0 for the last bin).
    pub upper: f64,
    /// Mean predicted probability of the rows in the bin (0 when empty).
    pub mean_predicted: f64,
    /// Fraction of those rows that failed (0 when empty).
    pub observed_rate: f64,
    /// Rows in the bin.
    pub count: u64,
}

/// Calibration: the expected calibration error and the reliability diagram it comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Σ over bins of (bin rows / all rows) × |mean predicted − observed rate|.
    pub ece: f64,
    /// The bins, lowest first.
    pub bins: Vec<ReliabilityBin>,
}

/// Number of equal-width bins of [`calibration`].
pub const CALIBRATION_BINS: usize = 10;

/// Expected calibration error over [`CALIBRATION_BINS`] equal-width bins of the predicted probability. A
/// probability of exactly 1 falls in the last bin; probabilities outside [0, 1] (or NaN) are clamped into range.
pub fn calibration(p_fail: &[f32], failed: &[bool]) -> Option<Calibration> {
    if p_fail.is_empty() || p_fail.len() != failed.len() {
        return None;
    }
    let mut sums = [(0.0f64, 0.0f64, 0u64); CALIBRATION_BINS];
    for (&p, &f) in p_fail.iter().zip(failed) {
        let p = if p.is_nan() {
            0.0
        } else {
            f64::from(p).clamp(0.0, 1.0)
        };
        let bin = ((p * CALIBRATION_BINS as f64) as usize).min(CALIBRATION_BINS - 1);
        sums[bin].0 += p;
        sums[bin].1 += if f { 1.0 } else { 0.0 };
        sums[bin].2 += 1;
    }
    let total = p_fail.len() as f64;
    let mut ece = 0.0;
    let bins = sums
        .iter()
        .enumerate()
        .map(|(i, &(sum_p, sum_f, count))| {
            let (mean_predicted, observed_rate) = if count == 0 {
                (0.0, 0.0)
            } else {
                (sum_p / count as f64, sum_f / count as f64)
            };
            ece += count as f64 / total * (mean_predicted - observed_rate).abs();
            ReliabilityBin {
                lower: i as f64 / CALIBRATION_BINS as f64,
                upper: (i + 1) as f64 / CALIBRATION_BINS as f64,
                mean_predicted,
                observed_rate,
                count,
            }
        })
        .collect();
    Some(Calibration { ece, bins })
}

/// Errors of a regression.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegressionErrors {
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
}

/// MAE and RMSE of `predicted` against `actual` (for the cost head: both in `log1p(dollars)`).
pub fn regression(predicted: &[f32], actual: &[f32]) -> Option<RegressionErrors> {
    if predicted.is_empty() || predicted.len() != actual.len() {
        return None;
    }
    let (mut abs, mut sq) = (0.0f64, 0.0f64);
    for (&p, &a) in predicted.iter().zip(actual) {
        let d = f64::from(p) - f64::from(a);
        abs += d.abs();
        sq += d * d;
    }
    let n = predicted.len() as f64;
    Some(RegressionErrors {
        mae: abs / n,
        rmse: (sq / n).sqrt(),
    })
}

/// Everything measured on one evaluation set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationMetrics {
    /// Rows evaluated.
    pub rows: u64,
    /// Fraction that failed.
    pub failure_rate: f64,
    /// AUC of P(fail) (absent with one class only).
    pub auc: Option<f64>,
    /// Brier score of P(fail).
    pub brier: f64,
    /// Calibration of P(fail).
    pub calibration: Calibration,
    /// Errors of the predicted `log1p(cost)`.
    pub log_cost: RegressionErrors,
    /// Errors of the constant prediction `mean` (the training mean of `log1p(cost)`), the baseline to beat.
    pub log_cost_baseline: RegressionErrors,
}

/// Measures predictions against outcomes; `baseline_log_cost` is the constant the cost head must beat (usually
/// the training mean). `None` for an empty or inconsistent set.
pub fn evaluate(
    p_fail: &[f32],
    failed: &[bool],
    predicted_log_cost: &[f32],
    actual_log_cost: &[f32],
    baseline_log_cost: f32,
) -> Option<EvaluationMetrics> {
    let baseline = vec![baseline_log_cost; actual_log_cost.len()];
    Some(EvaluationMetrics {
        rows: p_fail.len() as u64,
        failure_rate: failed.iter().filter(|&&f| f).count() as f64 / failed.len().max(1) as f64,
        auc: auc(p_fail, failed),
        brier: brier(p_fail, failed)?,
        calibration: calibration(p_fail, failed)?,
        log_cost: regression(predicted_log_cost, actual_log_cost)?,
        log_cost_baseline: regression(&baseline, actual_log_cost)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn auc_on_hand_computed_examples() {
        let t = true;
        let f = false;
        // (scores, labels, expected)
        let cases: &[(&[f32], &[bool], f64)] = &[
            (&[0.1, 0.2, 0.8, 0.9], &[f, f, t, t], 1.0),
            (&[0.9, 0.8, 0.2, 0.1], &[f, f, t, t], 0.0),
            // Pairs (pos, neg): (0.8 vs 0.1) win, (0.8 vs 0.9) lose, (0.3 vs 0.1) win, (0.3 vs 0.9) lose: 2/4.
            (&[0.8, 0.3, 0.1, 0.9], &[t, t, f, f], 0.5),
            // All tied: every pair counts half.
            (&[0.5, 0.5, 0.5], &[t, f, f], 0.5),
            // Positive 0.4 vs negatives {0.4, 0.2}: tie 0.5 + win 1 = 1.5 of 2.
            (&[0.4, 0.4, 0.2], &[t, f, f], 0.75),
            // Pos {0.7, 0.3}, neg {0.5, 0.3, 0.1}: 0.7 beats 3; 0.3 beats 0.1, ties 0.3 (0.5): 4.5 of 6.
            (&[0.7, 0.3, 0.5, 0.3, 0.1], &[t, t, f, f, f], 0.75),
        ];
        for (scores, labels, expected) in cases {
            let got = auc(scores, labels).expect("defined");
            assert!(close(got, *expected), "{scores:?} {labels:?}: {got}");
        }
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(auc(&[], &[]), None);
        assert_eq!(auc(&[0.1], &[true, false]), None);
    }

    #[test]
    fn brier_on_hand_computed_examples() {
        // (0.9-1)² + (0.2-0)² + (0.5-1)² + (0-0)² = 0.01 + 0.04 + 0.25 + 0 = 0.30; / 4.
        let b = brier(&[0.9, 0.2, 0.5, 0.0], &[true, false, true, false]).expect("defined");
        assert!((b - 0.075).abs() < 1e-7, "{b}");
        assert_eq!(brier(&[], &[]), None);
    }

    #[test]
    fn calibration_on_hand_computed_examples() {
        // Bin 0: {0.05 (fail), 0.05 (ok)}: mean 0.05, rate 0.5, gap 0.45.
        // Bin 9: {0.95 (fail), 1.0 (fail)}: mean 0.975, rate 1, gap 0.025.
        // Bin 3: {0.3 (ok)}: gap 0.3.
        let p = [0.05, 0.05, 0.95, 1.0, 0.3];
        let y = [true, false, true, true, false];
        let c = calibration(&p, &y).expect("defined");
        let expected = (2.0 * 0.45 + 2.0 * 0.025 + 0.3) / 5.0;
        assert!((c.ece - expected).abs() < 1e-6, "{} vs {expected}", c.ece);
        assert_eq!(c.bins.len(), CALIBRATION_BINS);
        assert_eq!(c.bins[0].count, 2);
        assert_eq!(c.bins[3].count, 1);
        assert_eq!(c.bins[9].count, 2);
        assert!((c.bins[9].mean_predicted - 0.975).abs() < 1e-6);
        assert!(close(c.bins[9].observed_rate, 1.0));
        assert_eq!(c.bins.iter().map(|b| b.count).sum::<u64>(), 5);
        // Perfectly calibrated: 0.25 predicted, one in four fails.
        let c = calibration(&[0.25; 4], &[true, false, false, false]).expect("defined");
        assert!(c.ece < 1e-7);
    }

    #[test]
    fn regression_on_hand_computed_examples() {
        // Differences 1, -2, 0: MAE 1, RMSE sqrt(5/3).
        let r = regression(&[1.0, 0.0, 3.0], &[0.0, 2.0, 3.0]).expect("defined");
        assert!(close(r.mae, 1.0));
        assert!(close(r.rmse, (5.0f64 / 3.0).sqrt()));
        assert_eq!(regression(&[1.0], &[]), None);
    }
}

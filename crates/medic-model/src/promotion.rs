//! Whether a newly trained model may replace the one in use: it must pass fixed thresholds on its hold-out set,
//! and must not be worse than the current model measured on the same hold-out records — records the current
//! model did not learn from ([`unseen_by`]), or the comparison favours it.

use medic_core::history::RetryRecord;
use serde::{Deserialize, Serialize};

use crate::artifact::ModelDescription;
use crate::metrics::EvaluationMetrics;

/// Fewest unseen hold-out records for a comparison with the current model to mean something; with fewer, a
/// candidate is judged on the thresholds alone.
pub const MIN_COMPARISON_RECORDS: usize = 50;

/// The records of `holdout` that `current` did not learn from (later than everything it trained or validated
/// on). Retraining every day makes most of today's hold-out yesterday's training data: compared on those, the
/// current model would always look better than it is.
pub fn unseen_by<'a>(
    holdout: &[&'a RetryRecord],
    current: &ModelDescription,
) -> Vec<&'a RetryRecord> {
    let seen_until = [current.training_data.last, current.validation_data.last]
        .into_iter()
        .flatten()
        .max();
    holdout
        .iter()
        .filter(|record| seen_until.is_none_or(|last| record.at > last))
        .copied()
        .collect()
}

/// The thresholds a candidate must meet.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionPolicy {
    /// Lowest AUC of the failure head.
    pub min_auc: f64,
    /// Highest expected calibration error of the failure head.
    pub max_ece: f64,
    /// Highest Brier score of the failure head.
    pub max_brier: f64,
    /// How much worse than the current model (AUC lower, ECE or log-cost MAE higher) still counts as "not
    /// worse": metrics on a finite hold-out set are noisy.
    pub tolerance: f64,
}

impl Default for PromotionPolicy {
    fn default() -> Self {
        PromotionPolicy {
            min_auc: 0.75,
            max_ece: 0.10,
            max_brier: 0.20,
            tolerance: 0.005,
        }
    }
}

/// The decision and every reason against it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// Whether the candidate may be promoted.
    pub promote: bool,
    /// Every check it failed (empty when it may be promoted).
    pub reasons: Vec<String>,
}

impl PromotionPolicy {
    /// Judges `candidate`'s hold-out metrics, and compares them with `current`'s on the same hold-out set.
    pub fn judge(
        &self,
        candidate: &EvaluationMetrics,
        current: Option<&EvaluationMetrics>,
    ) -> Verdict {
        let mut reasons = Vec::new();
        match candidate.auc {
            Some(auc) if auc >= self.min_auc => {}
            Some(auc) => reasons.push(format!("AUC {auc:.4} is below {:.4}", self.min_auc)),
            None => {
                reasons.push("AUC is undefined (the hold-out set has one outcome only)".to_owned())
            }
        }
        if candidate.calibration.ece > self.max_ece {
            reasons.push(format!(
                "expected calibration error {:.4} is above {:.4}",
                candidate.calibration.ece, self.max_ece
            ));
        }
        if candidate.brier > self.max_brier {
            reasons.push(format!(
                "Brier score {:.4} is above {:.4}",
                candidate.brier, self.max_brier
            ));
        }
        if candidate.log_cost.mae >= candidate.log_cost_baseline.mae {
            reasons.push(format!(
                "the cost head (log-cost MAE {:.4}) does not beat the constant baseline ({:.4})",
                candidate.log_cost.mae, candidate.log_cost_baseline.mae
            ));
        }
        if let Some(current) = current {
            reasons.extend(self.compare(candidate, current));
        }
        Verdict {
            promote: reasons.is_empty(),
            reasons,
        }
    }

    /// Every way `candidate` is worse than `current`, both measured on the same records (beyond the tolerance).
    pub fn compare(
        &self,
        candidate: &EvaluationMetrics,
        current: &EvaluationMetrics,
    ) -> Vec<String> {
        let mut reasons = Vec::new();
        if let (Some(new), Some(old)) = (candidate.auc, current.auc)
            && new < old - self.tolerance
        {
            reasons.push(format!(
                "AUC {new:.4} is worse than the current model's {old:.4}"
            ));
        }
        if candidate.calibration.ece > current.calibration.ece + self.tolerance {
            reasons.push(format!(
                "ECE {:.4} is worse than the current model's {:.4}",
                candidate.calibration.ece, current.calibration.ece
            ));
        }
        if candidate.log_cost.mae > current.log_cost.mae + self.tolerance {
            reasons.push(format!(
                "log-cost MAE {:.4} is worse than the current model's {:.4}",
                candidate.log_cost.mae, current.log_cost.mae
            ));
        }
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Calibration, RegressionErrors};

    fn metrics(auc: f64, ece: f64, mae: f64) -> EvaluationMetrics {
        EvaluationMetrics {
            rows: 1000,
            failure_rate: 0.3,
            auc: Some(auc),
            brier: 0.1,
            calibration: Calibration {
                ece,
                bins: Vec::new(),
            },
            log_cost: RegressionErrors { mae, rmse: mae },
            log_cost_baseline: RegressionErrors {
                mae: 0.3,
                rmse: 0.3,
            },
        }
    }

    #[test]
    fn a_good_first_model_is_promoted() {
        let verdict = PromotionPolicy::default().judge(&metrics(0.97, 0.01, 0.1), None);
        assert!(verdict.promote, "{:?}", verdict.reasons);
    }

    #[test]
    fn every_failed_check_is_a_reason() {
        let verdict = PromotionPolicy::default().judge(&metrics(0.6, 0.2, 0.4), None);
        assert!(!verdict.promote);
        assert_eq!(verdict.reasons.len(), 3, "{:?}", verdict.reasons);
    }

    #[test]
    fn a_model_worse_than_the_current_one_is_not_promoted() {
        let current = metrics(0.97, 0.01, 0.1);
        let policy = PromotionPolicy::default();
        assert!(
            policy
                .judge(&metrics(0.968, 0.012, 0.102), Some(&current))
                .promote,
            "within tolerance"
        );
        let verdict = policy.judge(&metrics(0.95, 0.03, 0.2), Some(&current));
        assert!(!verdict.promote);
        assert_eq!(verdict.reasons.len(), 3, "{:?}", verdict.reasons);
    }
}

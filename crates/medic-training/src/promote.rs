//! Promoting a registered model by hand (`medic model promote`), behind the same gate a round applies.

use medic_model::PromotionPolicy;
use medic_model::metrics::EvaluationMetrics;
use medic_store::{ModelEntry, Store};

use crate::error::{Error, Result};

/// The hold-out metrics a round recorded with a registered model, if it recorded them.
pub fn hold_out_metrics(entry: &ModelEntry) -> Option<EvaluationMetrics> {
    serde_json::from_value(entry.description.pointer("/description/metrics")?.clone()).ok()
}

/// Promotes `version`, as `actor`, if its hold-out metrics pass `gate`'s thresholds; `force` promotes it anyway
/// (a model without metrics too). There is no comparison with the promoted model here: a person chose this one.
pub async fn promote(
    store: &Store,
    version: &str,
    gate: &PromotionPolicy,
    force: bool,
    actor: &str,
) -> Result<ModelEntry> {
    let Some(entry) = store.model(version).await? else {
        return Err(Error::Refused(format!("no model `{version}`")));
    };
    match hold_out_metrics(&entry) {
        Some(metrics) => {
            let verdict = gate.judge(&metrics, None);
            if !verdict.promote && !force {
                return Err(Error::Refused(format!(
                    "{version} fails the gate: {} (--force to promote anyway)",
                    verdict.reasons.join("; ")
                )));
            }
        }
        None if !force => {
            return Err(Error::Refused(format!(
                "{version} has no hold-out metrics (--force to promote anyway)"
            )));
        }
        None => {}
    }
    Ok(store.promote_model(version, actor).await?)
}

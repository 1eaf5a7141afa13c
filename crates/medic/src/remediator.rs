//! The scheduler's view of medic for `medic run`: a running `medic serve` over HTTP, or the remediation flow in
//! this process over the database. Both classify the attempt's logs here (with `--rules`), send the
//! classification, and read back the same decision.

use medic_core::history::Prices;
use medic_core::{JobIdentity, SparkConf};
use medic_rules::RuleSet;
use medic_scheduler::{
    AttemptRecord, Decision, FailedAttempt, RemediationError, Remediator, ResolvedConfig,
};
use medic_server::AppState;
use serde_json::{Value, json};

use crate::client::{Target, local_error};

/// medic, as the scheduler calls it.
pub struct Medic {
    target: Target,
    /// The in-process server state, when `target` is the database.
    local: Option<AppState>,
    rules: RuleSet,
    prices: Prices,
}

impl Medic {
    /// medic at `target`. For the database, `local` is the server state the flow runs with (its spaces, policy and
    /// shadow switch).
    pub fn new(target: Target, local: Option<AppState>, rules: RuleSet, prices: Prices) -> Self {
        Medic {
            target,
            local,
            rules,
            prices,
        }
    }

    /// Where it works.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The prices attempts are costed with.
    pub fn prices(&self) -> Prices {
        self.prices
    }

    fn remediation(&self, body: Value) -> anyhow::Result<Value> {
        match (&self.local, &self.target) {
            (Some(state), Target::Store { runtime, .. }) => {
                let request: medic_server::routes::remediate::RemediateRequest =
                    serde_json::from_value(body)?;
                let answer = runtime
                    .block_on(medic_server::routes::remediate::answer(
                        state,
                        request,
                        "medic run",
                    ))
                    .map_err(local_error)?;
                Ok(serde_json::to_value(answer)?)
            }
            _ => self
                .target
                .request("POST", "/v1/remediate", &[], Some(body)),
        }
    }
}

fn unavailable(error: anyhow::Error) -> RemediationError {
    RemediationError::Unavailable(format!("{error:#}"))
}

impl Remediator for Medic {
    fn resolve(
        &self,
        job: &JobIdentity,
        base: &SparkConf,
    ) -> Result<ResolvedConfig, RemediationError> {
        let resolution = self.target.resolve(job, base).map_err(unavailable)?;
        Ok(ResolvedConfig {
            conf: resolution.config,
            applied_patches: resolution.applied,
        })
    }

    fn remediate(&self, failed: &FailedAttempt) -> Result<Decision, RemediationError> {
        let mut classifier = self.rules.classifier(Some(&failed.job));
        for log in &failed.logs {
            classifier.scan_path(&log.path, Some(log.source));
        }
        let classification = classifier.finish();
        let body = json!({
            "job": failed.job,
            "attempt": failed.attempt,
            "max_attempts": failed.max_attempts,
            "config": failed.conf,
            "classification": classification,
            "runtime_s": failed.runtime_s,
            "input_bytes": failed.input_bytes,
            "plan_operators": failed.plan_operators,
        });
        let answer = self.remediation(body).map_err(unavailable)?;
        let text = |pointer: &str| {
            answer
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let changes: std::collections::BTreeMap<String, Option<String>> = answer
            .pointer("/recommendation/changes")
            .and_then(Value::as_object)
            .map(|changes| {
                changes
                    .iter()
                    .map(|(key, change)| {
                        (
                            key.clone(),
                            change.get("to").and_then(Value::as_str).map(str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let patch_id = text("/patch_id");
        Ok(Decision {
            retry: answer
                .get("retry")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            reason: text("/reason").unwrap_or_default(),
            category: Some(classification.category),
            rule: classification.rule.clone(),
            patch_id: patch_id.clone(),
            // Only what a stored patch will change: in shadow mode, or when no patch was stored, nothing changes.
            config_changes: if patch_id.is_some() {
                changes.clone()
            } else {
                Default::default()
            },
            recommended_changes: changes,
        })
    }

    fn record(&self, attempt: &AttemptRecord) -> Result<(), RemediationError> {
        // Every attempt goes to the attempts history (with the run report, so one call keeps both), and retries
        // after a failure to the retry history the model learns from.
        let entry = attempt.attempt_entry(&self.prices);
        self.target
            .report_run(
                &attempt.job,
                &attempt.applied_patches,
                attempt.outcome,
                Some(&entry),
            )
            .map_err(unavailable)?;
        if let Some(record) = attempt.retry_record(&self.prices) {
            self.target.add_history(&[record]).map_err(unavailable)?;
        }
        Ok(())
    }
}

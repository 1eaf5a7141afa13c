//! [`MedicRemediator`]: the scheduler's [`Remediator`] over any [`Medic`].

use medic_api::{HistoryImport, Medic, MedicError, RemediateRequest, ResolveRequest, RunReport};
use medic_core::history::Prices;
use medic_core::{JobIdentity, SparkConf};
use medic_rules::RuleSet;
use medic_scheduler::{
    AttemptRecord, Decision, FailedAttempt, RemediationError, Remediator, ResolvedConfig,
};

/// medic as the scheduler calls it. The attempt's logs are classified here, with the caller's rule packs,
/// streaming from the files (a log of gigabytes never crosses the network), and the classification is sent with
/// the attempt; medic's typed answer becomes the scheduler's [`Decision`].
///
/// Every error is the scheduler's [`RemediationError::Unavailable`]: it then falls back to its own retry policy
/// with the configuration unchanged, as it must when medic is down.
pub struct MedicRemediator<M> {
    medic: M,
    rules: RuleSet,
    prices: Prices,
}

impl<M: Medic> MedicRemediator<M> {
    /// `medic`, classifying with `rules` and pricing attempts the runner did not price with `prices`.
    pub fn new(medic: M, rules: RuleSet, prices: Prices) -> Self {
        MedicRemediator {
            medic,
            rules,
            prices,
        }
    }

    /// The medic it asks.
    pub fn medic(&self) -> &M {
        &self.medic
    }

    /// The prices attempts are costed with.
    pub fn prices(&self) -> Prices {
        self.prices
    }
}

fn unavailable(error: MedicError) -> RemediationError {
    RemediationError::Unavailable(error.to_string())
}

impl<M: Medic> Remediator for MedicRemediator<M> {
    fn resolve(
        &self,
        job: &JobIdentity,
        base: &SparkConf,
    ) -> Result<ResolvedConfig, RemediationError> {
        let resolution = self
            .medic
            .resolve(ResolveRequest {
                job: job.clone(),
                config: base.clone(),
            })
            .map_err(unavailable)?;
        Ok(ResolvedConfig {
            config: resolution.config,
            applied_patches: resolution.applied,
        })
    }

    fn remediate(&self, failed: &FailedAttempt) -> Result<Decision, RemediationError> {
        let mut classifier = self.rules.classifier(Some(&failed.job));
        for log in &failed.logs {
            classifier.scan_path(&log.path, Some(log.source));
        }
        let classification = classifier.finish();
        let request = RemediateRequest {
            job: failed.job.clone(),
            attempt: failed.attempt,
            max_attempts: Some(failed.max_attempts),
            config: failed.config.clone(),
            classification: Some(classification),
            category: None,
            rule: None,
            logs: Vec::new(),
            input_bytes: failed.input_bytes,
            plan_operators: failed.plan_operators.clone(),
            cost_dollars: None,
            runtime_seconds: Some(failed.runtime_seconds),
            metrics: failed.metrics.clone(),
        };
        let answer = self.medic.remediate(request).map_err(unavailable)?;
        let changes: std::collections::BTreeMap<String, Option<String>> = answer
            .recommendation
            .as_ref()
            .map(|recommendation| {
                recommendation
                    .changes
                    .iter()
                    .map(|(key, change)| (key.clone(), change.to.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Decision {
            retry: answer.retry,
            reason: answer.reason,
            category: Some(answer.classification.category),
            rule: answer.classification.rule,
            evidence: answer.classification.evidence,
            // Only what a stored patch will change: in shadow mode, or when no patch was stored, nothing changes.
            config_changes: if answer.patch_id.is_some() {
                changes.clone()
            } else {
                Default::default()
            },
            patch_id: answer.patch_id,
            recommended_changes: changes,
        })
    }

    fn record(&self, attempt: &AttemptRecord) -> Result<(), RemediationError> {
        // Every attempt goes to the attempts history (with the run report, so one call keeps both), and retries
        // after a failure to the retry history the model learns from.
        self.medic
            .report_run(RunReport {
                job: attempt.job.clone(),
                applied: attempt.applied_patches.clone(),
                outcome: attempt.outcome,
                attempt: Some(attempt.attempt_entry(&self.prices)),
            })
            .map_err(unavailable)?;
        if let Some(record) = attempt.retry_record(&self.prices) {
            self.medic
                .add_history(HistoryImport {
                    records: vec![record],
                })
                .map_err(unavailable)?;
        }
        Ok(())
    }
}

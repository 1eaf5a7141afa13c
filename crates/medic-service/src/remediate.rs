//! The remediation flow for one failed attempt (Pensive's orchestration): classify the failure, check the
//! guard-rails, ask the recommender when a configuration can fix it, and decide; then, in one store transaction,
//! revoke the job's right-size after a memory failure, store the recommendation as a patch scoped to the job and
//! supersede medic's older patch for the job.
//!
//! Everything that can fail before the write (the recommender, above all) fails before anything is stored, and the
//! write is all or nothing: an error leaves the job's patches as they were. The scheduler calls this after every
//! failed attempt; the next attempt gets the patch through resolution, the one place configuration comes from, and
//! consumes it by reporting its run once it succeeds. In shadow mode the same computation runs and nothing is
//! stored: the answer is what the scheduler would do without medic, and the reason says what medic would have done.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use medic_api::{Guard, RemediateRequest, Remediation};
use medic_core::patch::{Lifetime, Patch, PatchBody, PatchStatus, Provenance, Scope};
use medic_core::recommendation::{Change, FailedRun, Recommendation};
use medic_core::{Category, Classification, JobIdentity};
use medic_recommend::Options;
use medic_store::{
    AttemptFilter, JobPatchesRead, NewPatch, PatchFilter, PatchWrite, PatchesWritten, Revocation,
    StoreError,
};

use crate::Service;
use crate::error::{Error, Result};
use crate::failure::FailureGiven;
use crate::guards::{self, GuardInput, MEDIC};

/// What medic itself decides, before shadow mode has its say.
struct Plan {
    retry: bool,
    reason: String,
    guard: Option<Guard>,
    recommendation: Option<Recommendation>,
}

/// How many times the flow decides again when another replica's write for the same job came between its read and
/// its write. Within one process the job's turn already serialises the flows, so only other replicas race it, and
/// each of their writes costs one round.
const MAX_ROUNDS: usize = 8;

impl Service {
    /// The remediation flow for the failed attempt of `request`, storing as `actor` (the name audited with the
    /// patches it writes).
    ///
    /// The flows of one job are made one after the other, as if their requests had come in turn: in this process
    /// by the job's turn, across replicas by the store, which makes the write only if the job's patches are still
    /// those the guards saw ([`PatchWrite::decided_on`]); when they are not, the flow decides again on what is
    /// there now.
    pub async fn remediate(&self, request: RemediateRequest, actor: &str) -> Result<Remediation> {
        let failure = FailureGiven::of_remediate(&request);
        let problems = problems(&request, &failure);
        if !problems.is_empty() {
            return Err(Error::Invalid {
                code: "invalid_request",
                what: "request",
                problems,
            });
        }
        let classification = failure.classify(self.rules.get());
        let _turn = self.job_turns.take(&request.job.id).await;
        for round in 1..=MAX_ROUNDS {
            if let Some(remediation) = self
                .remediate_once(&request, classification.clone(), actor)
                .await?
            {
                return Ok(remediation);
            }
            tracing::debug!(
                job = %request.job.id,
                round,
                "another write changed the job's patches before this decision's write: deciding again"
            );
        }
        Err(Error::Conflict(format!(
            "the patches of job `{}` changed under each of {MAX_ROUNDS} decisions (other medic servers \
             remediating it at the same time): ask again",
            request.job.id
        )))
    }

    /// One decision of the flow on the job's patches as they are now; `None` when they changed before its write
    /// could be made (nothing was written).
    async fn remediate_once(
        &self,
        request: &RemediateRequest,
        classification: Classification,
        actor: &str,
    ) -> Result<Option<Remediation>> {
        // Read once: the whole answer follows one mode even if it is switched meanwhile.
        let shadow = self.shadow.load(Ordering::SeqCst);
        let category = classification.category;
        let recommends = category.is_memory_config() || category == Category::Unclassified;

        // Guards only matter when something would be retried: a failure that is neither recommended for nor
        // restartable is not, and costs no store read. One read of the job's patches serves the guards and the
        // right-size revocation (a memory failure is always recommended for).
        let may_retry = recommends || classification.restartable;
        let job_patches = if may_retry {
            self.store
                .list_patches(&PatchFilter {
                    job: Some(request.job.id.clone()),
                    status: None,
                })
                .await?
        } else {
            Vec::new()
        };
        let medics_patches: Vec<Patch> = job_patches
            .iter()
            .filter(|patch| guards::is_medics(patch, &request.job.id))
            .cloned()
            .collect();
        let guard = may_retry
            .then(|| {
                guards::check_guards(
                    &self.policy,
                    GuardInput {
                        attempt: request.attempt,
                        max_attempts: request.max_attempts,
                        recommends,
                        medics_patches: &medics_patches,
                        now: self.store.clock().now(),
                    },
                )
            })
            .flatten();

        let plan = match guard {
            Some((guard, why)) => Plan {
                retry: false,
                reason: format!("{why} (guard `{}`): do not retry", guard.as_str()),
                guard: Some(guard),
                recommendation: None,
            },
            // Before anything is written: a recommender that fails leaves the job's patches as they were.
            None if recommends => self.recommend_plan(request, &classification).await?,
            None => Plan {
                retry: classification.restartable,
                reason: format!(
                    "{} is not a configuration problem: {}",
                    describe(&classification),
                    if classification.restartable {
                        "its rule says a plain retry can help, so retry with the configuration unchanged"
                    } else {
                        "no Spark setting fixes it and its rule says a retry does not help"
                    }
                ),
                guard: None,
                recommendation: None,
            },
        };
        let changes = plan
            .recommendation
            .as_ref()
            .filter(|recommendation| plan.retry && !recommendation.changes.is_empty())
            .map(|recommendation| &recommendation.changes);

        if shadow {
            let would_change = changes.cloned();
            return Ok(Some(shadow_answer(classification, plan, would_change)));
        }

        let revoke = rightsize_revocations(&job_patches, &classification);
        let create = match (changes, &plan.recommendation) {
            (Some(changes), Some(recommendation)) => {
                let active: Vec<&Patch> = medics_patches
                    .iter()
                    .filter(|patch| patch.status == PatchStatus::Active)
                    .collect();
                Some(new_patch(
                    &request.job,
                    &classification,
                    recommendation,
                    guards::patch_body(&active, changes),
                ))
            }
            _ => None,
        };
        let written = if revoke.is_empty() && create.is_none() {
            PatchesWritten::default()
        } else {
            let written = self
                .store
                .write_patches(
                    PatchWrite {
                        decided_on: Some(JobPatchesRead::of(&request.job.id, &job_patches)),
                        revoke,
                        create,
                        // medic's patches for the job do not stack: the new one carries what they set.
                        supersede_same_origin: true,
                    },
                    actor,
                )
                .await;
            match written {
                Ok(written) => written,
                // Another replica's write for the job came first: decide again on what is there now.
                Err(StoreError::JobChanged { .. }) => return Ok(None),
                // The request was valid and medic built the patch: a patch the store refuses is medic's fault.
                Err(invalid @ StoreError::Invalid { .. }) => {
                    return Err(Error::Internal(format!(
                        "medic built a patch the store refuses: {invalid}"
                    )));
                }
                Err(other) => return Err(other.into()),
            }
        };

        let (retry, mut reason, patch_id) = match (&written.created, changes) {
            (Some(stored), Some(changes)) => {
                let mut reason = format!(
                    "retry with patch {} ({}): {}",
                    stored.id,
                    list_changes(changes),
                    plan.reason
                );
                if !written.superseded.is_empty() {
                    reason.push_str(&format!(
                        "; it supersedes {}",
                        written.superseded.join(", ")
                    ));
                }
                (true, reason, Some(stored.id.clone()))
            }
            _ => (plan.retry, plan.reason, None),
        };
        if !written.revoked.is_empty() {
            reason.push_str(&format!(
                "; right-size {} revoked after this memory failure",
                written.revoked.join(", ")
            ));
        }
        Ok(Some(Remediation {
            retry,
            reason,
            classification,
            recommendation: plan.recommendation,
            patch_id,
            shadow: false,
            guard: plan.guard,
            revoked: written.revoked,
        }))
    }
}

impl Service {
    /// medic's plan for a failure the recommender is asked about: its recommendation, unless it would repeat a
    /// configuration this run already failed with for a memory reason (guard `repeat`).
    async fn recommend_plan(
        &self,
        request: &RemediateRequest,
        classification: &Classification,
    ) -> Result<Plan> {
        let category = classification.category;
        let failed_cost = request.cost_dollars.or_else(|| {
            request
                .runtime_seconds
                .map(|runtime| self.policy.prices.cost(&request.config, runtime))
        });
        let tried = if category.is_memory_config() {
            self.tried_configs(request).await?
        } else {
            Vec::new()
        };
        let run = FailedRun {
            job: request.job.clone(),
            config: request.config.clone(),
            category,
            rule: classification.rule.clone(),
            restartable: Some(classification.restartable),
            input_bytes: request.input_bytes,
            plan_operators: request.plan_operators.clone(),
            cost_dollars: failed_cost,
            evidence: classification.captures.clone(),
            metrics: request.metrics.clone(),
            tried,
        };
        let recommendation = self
            .recommender
            .recommend(run.clone(), Options::default())
            .await?;
        // The recommenders avoid it; this holds whatever recommender answered (a remote, older one).
        let repeats = category.is_memory_config()
            && recommendation.retry
            && recommendation
                .config
                .as_ref()
                .is_some_and(|config| run.repeats(config));
        Ok(if repeats {
            Plan {
                retry: false,
                reason: format!(
                    "the recommended configuration already failed in this run ({}): a memory failure is \
                     never retried with a configuration that failed, do not retry (guard `repeat`)",
                    recommendation.reason
                ),
                guard: Some(Guard::Repeat),
                recommendation: Some(recommendation),
            }
        } else {
            Plan {
                retry: recommendation.retry,
                reason: recommendation.reason.clone(),
                guard: None,
                recommendation: Some(recommendation),
            }
        })
    }

    /// The configurations earlier attempts of `request`'s run failed with for a memory reason, oldest first, from
    /// the attempts history: the job's newest attempts numbered `attempt - 1`, `attempt - 2`, ... 1 in a row (the scheduler
    /// records each attempt before the next one runs).
    async fn tried_configs(
        &self,
        request: &RemediateRequest,
    ) -> Result<Vec<medic_core::SparkConf>> {
        let earlier = request.attempt.saturating_sub(1);
        if earlier == 0 {
            return Ok(Vec::new());
        }
        let newest = self
            .store
            .attempts(&AttemptFilter {
                job: Some(request.job.id.clone()),
                limit: Some(earlier),
                ..AttemptFilter::default()
            })
            .await?;
        let mut tried: Vec<medic_core::SparkConf> = newest
            .iter()
            .rev()
            .zip((1..=earlier).rev())
            .take_while(|(entry, number)| entry.attempt == *number)
            .filter(|(entry, _)| {
                entry
                    .failure_category
                    .is_some_and(Category::is_memory_config)
            })
            .map(|(entry, _)| entry.config.clone())
            .collect();
        // Read newest first; the recommender reads them in the order they ran.
        tried.reverse();
        Ok(tried)
    }
}

/// The answer in shadow mode: retry as the classification says, as the scheduler decides without medic, and say
/// what medic would have done.
fn shadow_answer(
    classification: Classification,
    plan: Plan,
    changes: Option<BTreeMap<String, Change>>,
) -> Remediation {
    let would = match (plan.retry, &changes) {
        (false, _) => format!("medic would not have retried: {}", plan.reason),
        (true, Some(changes)) => format!(
            "medic would have retried with a patch setting {}: {}",
            list_changes(changes),
            plan.reason
        ),
        (true, None) => format!(
            "medic would have retried with the configuration unchanged: {}",
            plan.reason
        ),
    };
    let retry = classification.restartable;
    let reason = format!(
        "shadow mode: {} because the classification says the failure is {}restartable, as the scheduler \
         decides without medic; nothing was stored. {would}",
        if retry { "retry" } else { "do not retry" },
        if retry { "" } else { "not " },
    );
    Remediation {
        retry,
        reason,
        classification,
        recommendation: plan.recommendation,
        patch_id: None,
        shadow: true,
        guard: plan.guard,
        revoked: Vec::new(),
    }
}

/// The revocations of the job's active right-sizes after a memory failure (none after another failure). A memory
/// failure of a right-sized job ends its right-size: the next attempt starts again from the job's own configuration
/// (plus the recommendation), and right-sizing leaves the job alone while the failure is in its window.
fn rightsize_revocations(
    job_patches: &[Patch],
    classification: &Classification,
) -> Vec<Revocation> {
    if !classification.category.is_memory_config() {
        return Vec::new();
    }
    let why = format!(
        "{} after right-sizing: the job goes back to its own configuration",
        describe(classification)
    );
    job_patches
        .iter()
        .filter(|patch| patch.is_rightsize() && patch.status == PatchStatus::Active)
        .map(|patch| Revocation {
            id: patch.id.clone(),
            version: patch.version,
            reason: why.clone(),
        })
        .collect()
}

/// The until-success patch scoped to the job that carries a recommendation, created by medic.
fn new_patch(
    job: &JobIdentity,
    classification: &Classification,
    recommendation: &Recommendation,
    body: serde_json::Map<String, serde_json::Value>,
) -> NewPatch {
    let decided_by = match (&recommendation.model_version, &recommendation.heuristic) {
        (Some(version), _) => format!("model {version}, optimizer {}", recommendation.optimizer),
        (None, Some(heuristic)) => format!("heuristic {heuristic}"),
        (None, None) => recommendation.optimizer.clone(),
    };
    NewPatch {
        scope: Scope::job(job.id.clone()),
        patch: PatchBody::MergePatch(body),
        lifetime: Lifetime::UntilSuccess,
        provenance: Provenance {
            created_by: Some(MEDIC.to_owned()),
            rule: classification.rule.clone(),
            classification: Some(classification.category.as_str().to_owned()),
            recommendation_id: None,
            model_version: recommendation.model_version.clone(),
            reason: Some(format!(
                "medic's recommender ({decided_by}): {}",
                recommendation.reason
            )),
            rightsize: None,
            carried: None,
        },
        expires_at: None,
    }
}

/// Every problem of a request, so that one answer lists them all.
fn problems(request: &RemediateRequest, failure: &FailureGiven<'_>) -> Vec<String> {
    let mut problems: Vec<String> = failure.problem().into_iter().collect();
    // The patch would be scoped to the job: a job id that cannot be a scope is refused now, not after the work.
    problems.extend(
        Scope::job(request.job.id.clone())
            .validate()
            .into_iter()
            .map(|problem| problem.replace("scope `job`", "the job id")),
    );
    for (field, value) in [
        ("job.workflow", &request.job.workflow),
        ("job.owner", &request.job.owner),
        ("job.cluster", &request.job.cluster),
    ] {
        problems.extend(
            value
                .as_deref()
                .and_then(|text| medic_core::text::control_character(field, text)),
        );
    }
    if request.attempt == 0 {
        problems.push("`attempt` counts from 1 (the first attempt is 1)".to_owned());
    }
    if request.max_attempts == Some(0) {
        problems.push("`max_attempts` is 0: a run has at least one attempt".to_owned());
    }
    for (name, value) in [
        ("cost_dollars", request.cost_dollars),
        ("runtime_seconds", request.runtime_seconds),
    ] {
        if let Some(value) = value
            && !(value.is_finite() && value >= 0.0)
        {
            problems.push(format!("`{name}` is {value}, expected a number ≥ 0"));
        }
    }
    problems
}

/// `executor_oom (rule spark-out-of-memory-error)`.
fn describe(classification: &Classification) -> String {
    match &classification.rule {
        Some(rule) => format!("{} (rule {rule})", classification.category),
        None => classification.category.to_string(),
    }
}

/// `spark.executor.memory=6144m, spark.x removed`.
fn list_changes(changes: &BTreeMap<String, Change>) -> String {
    changes
        .iter()
        .map(|(key, change)| match &change.to {
            Some(value) => format!("{key}={value}"),
            None => format!("{key} removed"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

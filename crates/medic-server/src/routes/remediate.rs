//! `POST /v1/remediate`: the remediation flow for one failed attempt. Classify the failure, check the guard-rails,
//! ask the recommender when a configuration can fix it, store its configuration as a patch scoped to the job, and
//! answer whether to retry.
//!
//! The scheduler calls this after every failed attempt; the next attempt gets the patch through
//! `/v1/config/resolve`, the one place configuration comes from, and consumes it through `/v1/runs` once it
//! succeeds. In shadow mode the same computation runs and nothing is stored: the answer is what the scheduler would
//! do without medic, and the reason says what medic would have done.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use medic_core::patch::{Lifetime, Patch, PatchBody, PatchStatus, Provenance, Scope};
use medic_core::{Category, Classification, JobIdentity, SparkConf};
use medic_recommend::{FailedRun, Options, Recommendation};
use medic_store::{NewPatch, PatchFilter, StoreError};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::remediation::{self, Guard, GuardInput, MEDIC};
use crate::routes::recommend::{FailureGiven, LogText, recommend_run};

/// A failed attempt. The failure is given by exactly one of its classification, its category (and rule), or its
/// logs, which the server classifies with its rule packs (rules scoped to the job included).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemediateRequest {
    /// The job.
    pub job: JobIdentity,
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// How many attempts the scheduler's retry policy allows in all, when it has one; the server's policy may
    /// allow fewer.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// The configuration the attempt ran with (as `/v1/config/resolve` gave it).
    pub config: SparkConf,
    /// The failure's classification.
    #[serde(default)]
    pub classification: Option<Classification>,
    /// The failure's category, when there is no classification.
    #[serde(default)]
    pub category: Option<Category>,
    /// The rule that classified it (its `restartable` is used when the server knows the rule).
    #[serde(default)]
    pub rule: Option<String>,
    /// The attempt's logs, when there is neither.
    #[serde(default)]
    pub logs: Vec<LogText>,
    /// Bytes of input, when known.
    #[serde(default)]
    pub input_bytes: Option<u64>,
    /// Operators of the Spark plan, when known.
    #[serde(default)]
    pub plan_operators: Vec<String>,
    /// What the failed attempt cost, in dollars; else priced from `config` and `runtime_s` when that is given.
    #[serde(default)]
    pub failed_cost: Option<f64>,
    /// How long the attempt ran, in seconds.
    #[serde(default)]
    pub runtime_s: Option<f64>,
}

/// The decision for a failed attempt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Remediation {
    /// Whether to try again. The scheduler's retry policy still has the last word.
    pub retry: bool,
    /// Why, for a person.
    pub reason: String,
    /// The failure's classification.
    pub classification: Classification,
    /// The recommender's answer, for memory-configuration and unclassified failures that no guard-rail stopped.
    pub recommendation: Option<Recommendation>,
    /// The patch stored for the next attempt (scoped to the job, until a success), if one was.
    pub patch_id: Option<String>,
    /// Whether the server is in shadow mode: nothing was stored and `retry` is the classification's `restartable`.
    pub shadow: bool,
    /// The guard-rail that stopped the retry (in shadow mode: that would have stopped medic's).
    pub guard: Option<Guard>,
    /// The job's right-size patches this memory failure revoked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<String>,
}

/// `POST /v1/remediate`: classify a failed attempt, recommend and store the retry's configuration, and decide
/// whether to retry (writer role, because it stores patches).
#[utoipa::path(post, path = "/v1/remediate", request_body = RemediateRequest, tag = "remediate",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decision, the classification, the recommendation and the patch stored", body = Remediation),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "The token is not a writer", body = ErrorBody),
        (status = 422, description = "No way to know the failure, an attempt 0, a negative cost or runtime", body = ErrorBody),
    ))]
pub async fn remediate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<RemediateRequest>,
) -> ApiResult<Json<Remediation>> {
    let principal = caller.require(Role::Writer)?;
    Ok(Json(answer(&state, request, &principal.name).await?))
}

/// What medic itself decides, before shadow mode has its say.
struct Plan {
    retry: bool,
    reason: String,
    guard: Option<Guard>,
    recommendation: Option<Recommendation>,
}

/// The remediation flow without HTTP, for `actor` (the name audited with the patches it stores): what the
/// handler calls, and what an in-process remediator can call, so that both decide alike.
pub async fn answer(
    state: &AppState,
    request: RemediateRequest,
    actor: &str,
) -> ApiResult<Remediation> {
    let failure = FailureGiven {
        job: &request.job,
        classification: request.classification.as_ref(),
        category: request.category,
        rule: request.rule.as_deref(),
        logs: &request.logs,
    };
    let problems = problems(&request, &failure);
    if !problems.is_empty() {
        return Err(ApiError::Invalid {
            code: "invalid_request",
            what: "request",
            problems,
        });
    }
    // Read once: the whole answer follows one mode even if it is switched meanwhile.
    let shadow = state.shadow.load(Ordering::SeqCst);
    let classification = failure.classify(&state.rules);
    let category = classification.category;
    let recommends = category.is_memory_config() || category == Category::Unclassified;

    // Guards only matter when something would be retried: a failure that is neither recommended for nor
    // restartable is not, and costs no store read. One read of the job's patches serves the guards and the
    // right-size revocation (a memory failure is always recommended for).
    let may_retry = recommends || classification.restartable;
    let job_patches = if may_retry {
        job_patches(state, &request.job.id).await?
    } else {
        Vec::new()
    };

    // A memory failure of a right-sized job ends its right-size: the next attempt starts again from the job's
    // own configuration (plus the recommendation below), and right-sizing leaves the job alone while the failure
    // is in its window.
    let revoked = if category.is_memory_config() && !shadow {
        revoke_rightsizes(state, &job_patches, &classification, actor).await?
    } else {
        Vec::new()
    };
    let medics_patches: Vec<Patch> = job_patches
        .into_iter()
        .filter(|patch| remediation::is_medics(patch, &request.job.id))
        .collect();
    let guard = may_retry
        .then(|| {
            remediation::check_guards(
                &state.policy,
                GuardInput {
                    attempt: request.attempt,
                    max_attempts: request.max_attempts,
                    recommends,
                    medics_patches: &medics_patches,
                    now: state.clock.now(),
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
        None if recommends => {
            let failed_cost = request.failed_cost.or_else(|| {
                request
                    .runtime_s
                    .map(|runtime| state.policy.prices.cost(&request.config, runtime))
            });
            let run = FailedRun {
                job: request.job.clone(),
                config: request.config.clone(),
                category,
                rule: classification.rule.clone(),
                restartable: Some(classification.restartable),
                input_bytes: request.input_bytes,
                plan_operators: request.plan_operators.clone(),
                failed_cost,
            };
            let recommendation = recommend_run(state, run, Options::default()).await?;
            Plan {
                retry: recommendation.retry,
                reason: recommendation.reason.clone(),
                guard: None,
                recommendation: Some(recommendation),
            }
        }
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

    let (retry, reason, patch_id) = if shadow {
        let would = match (plan.retry, changes) {
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
        (retry, reason, None)
    } else if let (Some(changes), Some(recommendation)) = (changes, &plan.recommendation) {
        let active: Vec<&Patch> = medics_patches
            .iter()
            .filter(|patch| patch.status == PatchStatus::Active)
            .collect();
        let body = remediation::patch_body(&active, changes);
        let (stored, superseded) = store_patch(
            state,
            &request.job,
            &classification,
            recommendation,
            body,
            actor,
        )
        .await?;
        let mut reason = format!(
            "retry with patch {} ({}): {}",
            stored.id,
            list_changes(changes),
            plan.reason
        );
        if !superseded.is_empty() {
            reason.push_str(&format!("; it supersedes {}", superseded.join(", ")));
        }
        (true, reason, Some(stored.id))
    } else {
        (plan.retry, plan.reason, None)
    };
    let reason = if revoked.is_empty() {
        reason
    } else {
        format!(
            "{reason}; right-size {} revoked after this memory failure",
            revoked.join(", ")
        )
    };
    state
        .metrics
        .record_remediation(retry, plan.guard.map(Guard::as_str), shadow);
    Ok(Remediation {
        retry,
        reason,
        classification,
        recommendation: plan.recommendation,
        patch_id,
        shadow,
        guard: plan.guard,
        revoked,
    })
}

/// Revokes the active right-size patches among `job_patches` after a memory failure; returns their ids. A patch
/// someone else changed meanwhile is left to them.
async fn revoke_rightsizes(
    state: &AppState,
    job_patches: &[Patch],
    classification: &Classification,
    actor: &str,
) -> ApiResult<Vec<String>> {
    let why = format!(
        "{} after right-sizing: the job goes back to its own configuration",
        describe(classification)
    );
    let mut revoked = Vec::new();
    for patch in job_patches
        .iter()
        .filter(|patch| patch.is_rightsize() && patch.status == PatchStatus::Active)
    {
        match state
            .store
            .set_status_because(
                &patch.id,
                patch.version,
                PatchStatus::Revoked,
                actor,
                Some(&why),
            )
            .await
        {
            Ok(_) => revoked.push(patch.id.clone()),
            Err(StoreError::VersionConflict { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(revoked)
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
    if request.attempt == 0 {
        problems.push("`attempt` counts from 1 (the first attempt is 1)".to_owned());
    }
    if request.max_attempts == Some(0) {
        problems.push("`max_attempts` is 0: a run has at least one attempt".to_owned());
    }
    for (name, value) in [
        ("failed_cost", request.failed_cost),
        ("runtime_s", request.runtime_s),
    ] {
        if let Some(value) = value
            && !(value.is_finite() && value >= 0.0)
        {
            problems.push(format!("`{name}` is {value}, expected a number ≥ 0"));
        }
    }
    problems
}

/// Every patch scoped to exactly the job, oldest first.
async fn job_patches(state: &AppState, job_id: &str) -> ApiResult<Vec<Patch>> {
    let filter = PatchFilter {
        job: Some(job_id.to_owned()),
        status: None,
    };
    Ok(state.store.list_patches(&filter).await?)
}

/// medic's patches of the job, oldest first.
async fn medics_patches(state: &AppState, job_id: &str) -> ApiResult<Vec<Patch>> {
    Ok(job_patches(state, job_id)
        .await?
        .into_iter()
        .filter(|patch| remediation::is_medics(patch, job_id))
        .collect())
}

/// Stores the recommendation as an until-success patch scoped to the job, then supersedes medic's older active
/// patches of the job, so that they do not stack. Returns the patch and the ids superseded.
///
/// The new patch is stored first: should superseding fail, the job keeps both (the newer applies last and carries
/// the older's settings) rather than neither. Superseding re-reads the job's patches after the store, so that of
/// two concurrent remediations of one job the newer patch is the one left active.
async fn store_patch(
    state: &AppState,
    job: &JobIdentity,
    classification: &Classification,
    recommendation: &Recommendation,
    body: serde_json::Map<String, serde_json::Value>,
    actor: &str,
) -> ApiResult<(Patch, Vec<String>)> {
    let decided_by = match (&recommendation.model_version, &recommendation.heuristic) {
        (Some(version), _) => format!("model {version}, optimizer {}", recommendation.optimizer),
        (None, Some(heuristic)) => format!("heuristic {heuristic}"),
        (None, None) => recommendation.optimizer.clone(),
    };
    let provenance = Provenance {
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
    };
    let new = NewPatch {
        scope: Scope::job(job.id.clone()),
        patch: PatchBody::MergePatch(body),
        lifetime: Lifetime::UntilSuccess,
        provenance,
        expires_at: None,
    };
    let stored = state
        .store
        .create_patch(new, actor)
        .await
        .map_err(|error| match error {
            // The request was valid and medic built the patch: a patch the store refuses is medic's fault.
            invalid @ StoreError::Invalid { .. } => {
                ApiError::Internal(format!("medic built a patch the store refuses: {invalid}"))
            }
            other => other.into(),
        })?;
    let older: Vec<Patch> = medics_patches(state, &job.id)
        .await?
        .into_iter()
        .take_while(|patch| patch.id != stored.id)
        .filter(|patch| patch.status == PatchStatus::Active)
        .collect();
    let mut superseded = Vec::new();
    for mut patch in older {
        // A concurrent change (a success consuming it, a revoke) moves the version: re-read and decide again.
        loop {
            match state
                .store
                .set_status(&patch.id, patch.version, PatchStatus::Superseded, actor)
                .await
            {
                Ok(_) => {
                    superseded.push(patch.id.clone());
                    break;
                }
                Err(StoreError::VersionConflict { .. }) => {
                    match state.store.patch(&patch.id).await? {
                        Some(current) if current.status == PatchStatus::Active => patch = current,
                        _ => break,
                    }
                }
                Err(other) => return Err(other.into()),
            }
        }
    }
    Ok((stored, superseded))
}

/// `executor_oom (rule spark-out-of-memory-error)`.
fn describe(classification: &Classification) -> String {
    match &classification.rule {
        Some(rule) => format!("{} (rule {rule})", classification.category),
        None => classification.category.to_string(),
    }
}

/// `spark.executor.memory=6144m, spark.x removed`.
fn list_changes(changes: &std::collections::BTreeMap<String, medic_recommend::Change>) -> String {
    changes
        .iter()
        .map(|(key, change)| match &change.to {
            Some(value) => format!("{key}={value}"),
            None => format!("{key} removed"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

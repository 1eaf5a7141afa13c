//! Right-sizing a whole store: read the window's attempts and the active right-size patches, plan every job, and
//! (unless it is a dry run) store the resizes as persistent patches and revoke what must go.

use std::collections::BTreeMap;

use medic_core::history::Prices;
use medic_core::patch::{Lifetime, Patch, PatchBody, PatchStatus, Provenance, Scope};
use medic_store::{AttemptFilter, NewPatch, PatchFilter, Store, StoreError};
use serde::Serialize;

use crate::error::Result;
use crate::plan::{Action, JobPlan, Why, plan_job};
use crate::policy::RightsizePolicy;

/// `provenance.created_by` of right-size patches, and the actor of their audit entries.
pub const RIGHTSIZE: &str = "medic-rightsize";

/// Every job's right-size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Jobs resized or revoked, biggest saving first, then the jobs left alone by job id.
    pub jobs: Vec<JobPlan>,
    /// Jobs left alone, by why.
    pub kept: BTreeMap<Why, u32>,
    /// What the resizes save in a month, in dollars.
    pub total_saving_per_month: f64,
    /// Whether the changes were stored (false for a dry run).
    pub applied: bool,
    /// The estimator used.
    pub estimator: &'static str,
    /// Days of history looked at.
    pub window_days: u32,
}

/// Plans every job that has attempts in the window or an active right-size patch. Stores nothing.
pub async fn plan(store: &Store, policy: &RightsizePolicy, prices: &Prices) -> Result<Report> {
    let now = store.clock().now();
    let since = now - time::Duration::days(i64::from(policy.window_days));
    let mut by_job: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for attempt in store
        .attempts(&AttemptFilter {
            since: Some(since),
            ..AttemptFilter::default()
        })
        .await?
    {
        by_job
            .entry(attempt.job.id.clone())
            .or_default()
            .push(attempt);
    }
    let mut patches: BTreeMap<String, Patch> = BTreeMap::new();
    for patch in store
        .list_patches(&PatchFilter {
            job: None,
            status: Some(PatchStatus::Active),
        })
        .await?
    {
        if let (true, Some(job)) = (patch.is_rightsize(), patch.scope.job.clone()) {
            // Oldest first: the newest active right-size of a job is the one that counts.
            patches.insert(job, patch);
        }
    }
    for job in patches.keys() {
        by_job.entry(job.clone()).or_default();
    }
    let mut jobs: Vec<JobPlan> = by_job
        .iter()
        .map(|(id, attempts)| {
            plan_job(
                &medic_core::JobIdentity::new(id.clone()),
                attempts,
                patches.get(id),
                policy,
                prices,
                now,
            )
        })
        .collect();
    jobs.sort_by(|a, b| {
        (a.action == Action::Keep, -a.saving_per_month, &a.job.id)
            .partial_cmp(&(b.action == Action::Keep, -b.saving_per_month, &b.job.id))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut kept = BTreeMap::new();
    for job in jobs.iter().filter(|j| j.action == Action::Keep) {
        *kept.entry(job.why).or_insert(0) += 1;
    }
    Ok(Report {
        total_saving_per_month: jobs
            .iter()
            .filter(|j| j.action == Action::Resize)
            .map(|j| j.saving_per_month)
            .sum(),
        jobs,
        kept,
        applied: false,
        estimator: policy.estimator.as_str(),
        window_days: policy.window_days,
    })
}

/// Stores `report`'s changes: each resize as a persistent patch scoped to the job, with the evidence in its
/// provenance, superseding the job's previous right-size; each revoke as a revocation with its reason. A job whose
/// patch changed meanwhile (a remediation revoked it) is skipped, and its reason says so.
pub async fn apply(store: &Store, report: &mut Report, policy: &RightsizePolicy) -> Result<()> {
    for job in report.jobs.iter_mut() {
        match job.action {
            Action::Keep => {}
            Action::Resize => {
                let new = NewPatch {
                    scope: Scope::job(job.job.id.clone()),
                    patch: PatchBody::MergePatch(job.body.clone()),
                    lifetime: Lifetime::Persistent,
                    provenance: Provenance {
                        created_by: Some(RIGHTSIZE.to_owned()),
                        reason: Some(format!("right-size: {}", job.reason)),
                        rightsize: Some(job.evidence(policy)),
                        ..Provenance::default()
                    },
                    expires_at: None,
                };
                let stored = store.create_patch(new, RIGHTSIZE).await?;
                if let Some((id, version)) = &job.current_patch {
                    let why = format!("replaced by right-size {}", stored.id);
                    skip_if_changed(
                        store
                            .set_status_because(
                                id,
                                *version,
                                PatchStatus::Superseded,
                                RIGHTSIZE,
                                Some(&why),
                            )
                            .await,
                    )?;
                }
                job.patch_id = Some(stored.id);
            }
            Action::Revoke => {
                if let Some((id, version)) = &job.current_patch
                    && skip_if_changed(
                        store
                            .set_status_because(
                                id,
                                *version,
                                PatchStatus::Revoked,
                                RIGHTSIZE,
                                Some(&job.reason),
                            )
                            .await,
                    )?
                    .is_none()
                {
                    job.reason
                        .push_str(" (the patch had changed meanwhile: left as it is)");
                }
            }
        }
    }
    report.applied = true;
    Ok(())
}

/// A version conflict (someone else changed the patch first) is not an error here: their change stands.
fn skip_if_changed(result: medic_store::Result<Patch>) -> Result<Option<Patch>> {
    match result {
        Ok(patch) => Ok(Some(patch)),
        Err(StoreError::VersionConflict { .. }) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

//! Carrying a fix forward: when a retry that ran with medic's remediation of a memory failure succeeds, medic keeps
//! the change that worked as a `persistent` patch of the job (a *carried fix*), so that the job's next run has it
//! on its first attempt instead of failing the same way again.
//!
//! The guard-rails ([`CarryForward`]): one carried fix per job (a new one merges the old one's changes and
//! supersedes it, never stacks), an expiry, and a cap per cluster. Right-sizing treats a carried fix as the job's
//! own size: it may walk it back down in bounded steps once the job's peaks allow, and revokes its own right-size
//! after a memory failure, as for any job.

use medic_api::RunReport;
use medic_core::patch::{CarriedFix, Lifetime, Patch, PatchBody, PatchStatus, Provenance, Scope};
use medic_core::{Category, JobIdentity, RunOutcome};
use medic_store::{JobPatchesRead, NewPatch, PatchFilter, PatchWrite, StoreError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Service;
use crate::error::Result;
use crate::guards::{MEDIC, is_medics};

/// How medic carries fixes forward. Part of the [`crate::RemediationPolicy`] (`carry_forward:` in its file).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CarryForward {
    /// Whether a memory fix that worked on a retry is kept for the job's next runs. Default true.
    pub enabled: bool,
    /// Days a carried fix stays in force (default 30); then the job runs with its own configuration (or what
    /// right-sizing has sized since) again. A failure after that carries a new fix.
    pub expires_after_days: u32,
    /// At most this many jobs of one cluster run with a carried fix at once (default 500): past it, a fix lasts
    /// for its retry only, as without carrying, and the run report says so.
    pub max_per_cluster: u32,
}

impl Default for CarryForward {
    fn default() -> Self {
        CarryForward {
            enabled: true,
            expires_after_days: 30,
            max_per_cluster: 500,
        }
    }
}

impl CarryForward {
    /// Every reason these settings are unusable; empty when they are fine.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.enabled && self.expires_after_days == 0 {
            problems.push(
                "`carry_forward.expires_after_days` is 0: a carried fix would expire at once (set `enabled: false` \
                 to turn carrying off)"
                    .to_owned(),
            );
        }
        problems
    }
}

/// Whether `patch` is the carried fix of job `job_id`: medic's, persistent, scoped to exactly the job, with its
/// origin in the provenance.
fn is_carried_fix_of(patch: &Patch, job_id: &str) -> bool {
    patch.is_carried_fix()
        && patch.provenance.created_by.as_deref() == Some(MEDIC)
        && patch.lifetime == Lifetime::Persistent
        && patch.scope == Scope::job(job_id)
}

/// The remediation among `consumed` (patches a successful run of `job` used up) whose change is worth carrying:
/// the newest of medic's own for the job that remediated a memory-configuration failure.
fn fix_to_carry<'a>(job: &JobIdentity, consumed: &'a [Patch]) -> Option<&'a Patch> {
    consumed.iter().rev().find(|patch| {
        is_medics(patch, &job.id)
            && patch
                .provenance
                .classification
                .as_deref()
                .and_then(|name| name.parse::<Category>().ok())
                .is_some_and(Category::is_memory_config)
    })
}

/// The carried fix that keeps `fix` for `job`: the job's current carried fix's changes (if any) overlaid with
/// `fix`'s, since the failed attempt ran with the old carried fix and `fix` changes only what it changed.
fn carried_patch(
    job: &JobIdentity,
    fix: &Patch,
    current: Option<&Patch>,
    attempt: Option<u32>,
    policy: &CarryForward,
    now: OffsetDateTime,
) -> Option<NewPatch> {
    let PatchBody::MergePatch(changes) = &fix.patch else {
        // medic only writes merge patches; anything else was written by hand and is not carried.
        return None;
    };
    let mut body = match current.map(|patch| &patch.patch) {
        Some(PatchBody::MergePatch(old)) => old.clone(),
        _ => serde_json::Map::new(),
    };
    body.extend(
        changes
            .iter()
            .map(|(key, value)| (key.clone(), value.clone())),
    );
    let category = fix.provenance.classification.as_deref().unwrap_or("memory");
    Some(NewPatch {
        scope: Scope::job(job.id.clone()),
        patch: PatchBody::MergePatch(body),
        lifetime: Lifetime::Persistent,
        provenance: Provenance {
            created_by: Some(MEDIC.to_owned()),
            rule: fix.provenance.rule.clone(),
            classification: fix.provenance.classification.clone(),
            model_version: fix.provenance.model_version.clone(),
            reason: Some(format!(
                "carried fix: the retry with {} fixed {category}, so the job's next runs start with it",
                fix.id
            )),
            carried: Some(CarriedFix {
                from_patch: fix.id.clone(),
                attempt,
                cluster: job.cluster.clone(),
            }),
            ..Provenance::default()
        },
        expires_at: Some(now + time::Duration::days(i64::from(policy.expires_after_days))),
    })
}

/// What carrying did after a successful run.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Carried {
    /// The carried fix stored.
    pub patch: Option<Patch>,
    /// Why none was, when a fix was there to carry.
    pub note: Option<String>,
}

impl Service {
    /// Carries forward the memory fix among `consumed`, the patches `report`'s successful run used up, as `actor`.
    /// Written under the job's lock, deciding again when another write changed the job's patches meanwhile.
    pub(crate) async fn carry_forward(
        &self,
        report: &RunReport,
        consumed: &[Patch],
        actor: &str,
    ) -> Result<Carried> {
        let policy = self.policy.carry_forward;
        let job = &report.job;
        if !policy.enabled || report.outcome != RunOutcome::Succeeded {
            return Ok(Carried::default());
        }
        let Some(fix) = fix_to_carry(job, consumed) else {
            return Ok(Carried::default());
        };
        let attempt = report.attempt.as_ref().map(|attempt| attempt.attempt);
        for _ in 0..3 {
            let now = self.store.clock().now();
            let job_patches = self
                .store
                .list_patches(&PatchFilter {
                    job: Some(job.id.clone()),
                    status: None,
                })
                .await?;
            let current = job_patches
                .iter()
                .rev()
                .find(|patch| patch.applies_to(job, now) && is_carried_fix_of(patch, &job.id));
            if current.is_none() {
                let on_cluster = self.carried_fixes_on(job.cluster.as_deref(), now).await?;
                if on_cluster >= policy.max_per_cluster as usize {
                    return Ok(Carried {
                        patch: None,
                        note: Some(format!(
                            "not carried: {on_cluster} jobs of the cluster run with a carried fix already, the most \
                             `carry_forward.max_per_cluster` allows"
                        )),
                    });
                }
            }
            let Some(new) = carried_patch(job, fix, current, attempt, &policy, now) else {
                return Ok(Carried::default());
            };
            let written = self
                .store
                .write_patches(
                    PatchWrite {
                        decided_on: Some(JobPatchesRead::of(&job.id, &job_patches)),
                        revoke: Vec::new(),
                        create: Some(new),
                        // One carried fix per job: the new one holds the old one's changes and replaces it.
                        supersede_same_origin: true,
                    },
                    actor,
                )
                .await;
            match written {
                Ok(written) => {
                    return Ok(Carried {
                        patch: written.created,
                        note: None,
                    });
                }
                Err(StoreError::JobChanged { .. }) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Ok(Carried {
            patch: None,
            note: Some("not carried: the job's patches kept changing while medic wrote".to_owned()),
        })
    }

    /// How many jobs of `cluster` run with a carried fix now.
    async fn carried_fixes_on(&self, cluster: Option<&str>, now: OffsetDateTime) -> Result<usize> {
        let active = self
            .store
            .list_patches(&PatchFilter {
                job: None,
                status: Some(PatchStatus::Active),
            })
            .await?;
        Ok(active
            .iter()
            .filter(|patch| patch.in_force(now))
            .filter_map(|patch| patch.provenance.carried.as_ref())
            .filter(|carried| carried.cluster.as_deref() == cluster)
            .count())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-12-04 10:00 UTC);

    fn patch(
        id: &str,
        lifetime: Lifetime,
        provenance: Provenance,
        body: serde_json::Value,
    ) -> Patch {
        Patch {
            id: id.to_owned(),
            scope: Scope::job("rollup"),
            patch: serde_json::from_value(body).expect("body"),
            lifetime,
            provenance,
            created_at: NOW - time::Duration::hours(1),
            expires_at: None,
            status: PatchStatus::Consumed,
            version: 2,
        }
    }

    fn remediation(id: &str, category: &str, body: serde_json::Value) -> Patch {
        let provenance = Provenance {
            created_by: Some(MEDIC.to_owned()),
            classification: Some(category.to_owned()),
            ..Provenance::default()
        };
        patch(id, Lifetime::UntilSuccess, provenance, body)
    }

    fn job() -> JobIdentity {
        JobIdentity {
            cluster: Some("etl".to_owned()),
            ..JobIdentity::new("rollup")
        }
    }

    #[test]
    fn only_medics_memory_remediations_are_carried() {
        let heap = remediation("p1", "executor_oom", json!({"spark.executor.memory": "4g"}));
        let other = remediation("p2", "unclassified", json!({"spark.executor.memory": "4g"}));
        let by_hand = patch(
            "p3",
            Lifetime::UntilSuccess,
            Provenance {
                created_by: Some("alice".to_owned()),
                classification: Some("executor_oom".to_owned()),
                ..Provenance::default()
            },
            json!({"spark.executor.memory": "8g"}),
        );
        assert_eq!(
            fix_to_carry(&job(), std::slice::from_ref(&heap)),
            Some(&heap)
        );
        assert_eq!(fix_to_carry(&job(), &[other, by_hand]), None);
        assert_eq!(fix_to_carry(&JobIdentity::new("another"), &[heap]), None);
    }

    #[test]
    fn a_new_carried_fix_keeps_what_the_old_one_set_and_changes_what_the_retry_changed() {
        let old = patch(
            "p1",
            Lifetime::Persistent,
            Provenance {
                created_by: Some(MEDIC.to_owned()),
                carried: Some(CarriedFix {
                    from_patch: "p0".to_owned(),
                    attempt: Some(2),
                    cluster: Some("etl".to_owned()),
                }),
                ..Provenance::default()
            },
            json!({"spark.executor.memory": "4g", "spark.driver.memory": "2g"}),
        );
        assert!(is_carried_fix_of(&old, "rollup"));
        let fix = remediation("p2", "driver_oom", json!({"spark.driver.memory": "4g"}));
        let policy = CarryForward::default();
        let new = carried_patch(&job(), &fix, Some(&old), Some(2), &policy, NOW).expect("carried");
        assert_eq!(
            serde_json::to_value(&new.patch).expect("json"),
            json!({"spark.executor.memory": "4g", "spark.driver.memory": "4g"})
        );
        assert_eq!(new.lifetime, Lifetime::Persistent);
        assert_eq!(new.scope, Scope::job("rollup"));
        assert_eq!(new.expires_at, Some(NOW + time::Duration::days(30)));
        let carried = new.provenance.carried.expect("its origin");
        assert_eq!(
            (carried.from_patch.as_str(), carried.attempt),
            ("p2", Some(2))
        );
        assert_eq!(carried.cluster.as_deref(), Some("etl"));
        assert_eq!(new.provenance.classification.as_deref(), Some("driver_oom"));
    }

    #[test]
    fn an_expiry_of_zero_days_is_refused_unless_carrying_is_off() {
        let zero = CarryForward {
            expires_after_days: 0,
            ..CarryForward::default()
        };
        assert_eq!(zero.problems().len(), 1);
        let off = CarryForward {
            enabled: false,
            ..zero
        };
        assert!(off.problems().is_empty());
    }
}

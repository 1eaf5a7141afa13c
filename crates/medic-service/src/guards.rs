//! The rules of the remediation flow that need no I/O: the [`RemediationPolicy`] and its guard-rails, which of a
//! job's patches are medic's own, and the body of the patch that carries a recommendation.
//!
//! [`crate::remediate`] runs the flow (classify, guard, recommend, store, decide) with these; keeping them here,
//! as plain functions of the job's patches and the time, lets them be tested without a store.

use std::collections::BTreeMap;

use medic_api::Guard;
use medic_core::history::Prices;
use medic_core::patch::{Lifetime, Patch, PatchStatus, Scope};
use medic_core::recommendation::Change;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::carry::CarryForward;

/// `provenance.created_by` of the patches medic stores itself. `POST /v1/patches` sets `created_by` from the
/// caller's token, so only the remediation flow writes this name (unless a token is named `medic`).
pub const MEDIC: &str = "medic";

/// The guard-rails of the remediation flow: limits a careful operator sets so that medic never retries a job without
/// end. The largest container a cluster allows is not here: the recommender's search spaces enforce it.
///
/// Read from YAML or JSON by the binary (every field has a default; unknown fields are refused).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemediationPolicy {
    /// A run whose attempt number has reached this is not retried (guard `attempts`). A request's own
    /// `max_attempts` lowers it for that request. Default 4.
    pub max_attempts_per_run: u32,
    /// A job for which medic has stored this many patches in the last 24 hours is not retried (guard
    /// `daily_cap`). Default 10.
    pub max_retries_per_job_per_day: u32,
    /// A job that has failed with this many of medic's recommendations since its last success gets no further
    /// one (guard `loop`): its failures are not a memory setting away from success. Default 2.
    pub max_recommendations_without_success: u32,
    /// What resources cost, to price a failed attempt from its configuration and `runtime_seconds` when the request
    /// gives no `cost_dollars` (the recommender compares a retry's cost with it).
    pub prices: Prices,
    /// Keeping a memory fix that worked for the job's next runs (default on: 30 days, at most 500 jobs a cluster).
    pub carry_forward: CarryForward,
}

impl Default for RemediationPolicy {
    fn default() -> Self {
        RemediationPolicy {
            max_attempts_per_run: 4,
            max_retries_per_job_per_day: 10,
            max_recommendations_without_success: 2,
            prices: Prices::default(),
            carry_forward: CarryForward::default(),
        }
    }
}

impl RemediationPolicy {
    /// Reads a policy from YAML (or JSON) text; `origin` names it in errors. Every problem is reported, and a
    /// policy with any is refused whole.
    pub fn from_yaml(text: &str, origin: &str) -> crate::Result<Self> {
        let invalid = |problems: Vec<String>| crate::Error::Invalid {
            code: "invalid_policy",
            what: "policy",
            problems: problems
                .into_iter()
                .map(|problem| format!("{origin}: {problem}"))
                .collect(),
        };
        let policy: RemediationPolicy =
            serde_saphyr::from_str(text).map_err(|error| invalid(vec![error.to_string()]))?;
        let problems = policy.problems();
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(invalid(problems))
        }
    }

    /// Every reason this policy is unusable; empty when it is fine.
    pub fn problems(&self) -> Vec<String> {
        [
            (
                "max_attempts_per_run",
                self.max_attempts_per_run,
                "no run would get an attempt",
            ),
            (
                "max_retries_per_job_per_day",
                self.max_retries_per_job_per_day,
                "medic would never retry a job",
            ),
            (
                "max_recommendations_without_success",
                self.max_recommendations_without_success,
                "medic would never recommend",
            ),
        ]
        .into_iter()
        .filter(|(_, value, _)| *value == 0)
        .map(|(name, _, why)| format!("`{name}` is 0: {why}"))
        .chain(self.carry_forward.problems())
        .collect()
    }
}

/// Whether `patch` is one of the patches the remediation flow stores for job `job_id`: created by medic, until a
/// success, scoped to exactly that job. Those are what the guards count and what a new recommendation replaces.
pub fn is_medics(patch: &Patch, job_id: &str) -> bool {
    patch.provenance.created_by.as_deref() == Some(MEDIC)
        && patch.lifetime == Lifetime::UntilSuccess
        && patch.scope == Scope::job(job_id)
}

/// What the guards look at for one failed attempt.
#[derive(Clone, Copy, Debug)]
pub struct GuardInput<'a> {
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// The retry policy's own limit, when the request gave it.
    pub max_attempts: Option<u32>,
    /// Whether the retry would carry a new recommendation (memory-configuration and unclassified failures): only
    /// those can loop.
    pub recommends: bool,
    /// medic's patches of the job ([`is_medics`]), oldest first.
    pub medics_patches: &'a [Patch],
    /// Now, by the server's clock.
    pub now: OffsetDateTime,
}

/// The first guard-rail that stops a retry, in the order attempts, daily cap, loop, with the reason for a person;
/// `None` when none does.
pub fn check_guards(policy: &RemediationPolicy, input: GuardInput<'_>) -> Option<(Guard, String)> {
    let limit = input
        .max_attempts
        .map_or(policy.max_attempts_per_run, |max| {
            max.min(policy.max_attempts_per_run)
        });
    if input.attempt >= limit {
        return Some((
            Guard::Attempts,
            format!(
                "attempt {} has failed and a run gets at most {limit} attempts",
                input.attempt
            ),
        ));
    }
    let day_ago = input.now - time::Duration::DAY;
    let today = input
        .medics_patches
        .iter()
        .filter(|patch| patch.created_at > day_ago)
        .count();
    if today >= policy.max_retries_per_job_per_day as usize {
        return Some((
            Guard::DailyCap,
            format!(
                "medic has stored {today} patches for this job in the last 24 hours, the most a day allows ({})",
                policy.max_retries_per_job_per_day
            ),
        ));
    }
    let without_success = recommendations_since_success(input.medics_patches);
    if input.recommends && without_success >= policy.max_recommendations_without_success as usize {
        return Some((
            Guard::Loop,
            format!(
                "the job has failed with {without_success} of medic's configurations since its last success (at most {}): \
                 another bump is unlikely to help, a person should look",
                policy.max_recommendations_without_success
            ),
        ));
    }
    None
}

/// How many of `medics_patches` (oldest first) came after the newest one that a successful run consumed (an
/// until-success patch is consumed by a success only): the recommendations the job has failed with since.
pub fn recommendations_since_success(medics_patches: &[Patch]) -> usize {
    let after_success = medics_patches
        .iter()
        .rposition(|patch| patch.status == PatchStatus::Consumed)
        .map_or(0, |last| last + 1);
    medics_patches.len() - after_success
}

/// The RFC 7386 body of the patch that carries a recommendation: what medic's still-active patches of the job set
/// (oldest first), overlaid with the recommendation's `changes` (a removal as `null`).
///
/// The failed attempt ran with those older patches applied, so the recommendation's changes are relative to them;
/// the new patch replaces them, and would drop what they set unless it carries it forward.
pub fn patch_body(
    active_medics_patches: &[&Patch],
    changes: &BTreeMap<String, Change>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut body = serde_json::Map::new();
    for patch in active_medics_patches {
        // medic only writes merge patches; one in another form was written by hand and is not carried.
        if let medic_core::patch::PatchBody::MergePatch(set) = &patch.patch {
            body.extend(set.iter().map(|(key, value)| (key.clone(), value.clone())));
        }
    }
    for (key, change) in changes {
        let value = change
            .to
            .clone()
            .map_or(serde_json::Value::Null, serde_json::Value::String);
        body.insert(key.clone(), value);
    }
    body
}

#[cfg(test)]
mod tests {
    use medic_core::patch::{PatchBody, Provenance};
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

    fn medics(hours_ago: i64, status: PatchStatus, body: serde_json::Value) -> Patch {
        Patch {
            id: format!("p{hours_ago}"),
            scope: Scope::job("rollup"),
            patch: serde_json::from_value(body).expect("body"),
            lifetime: Lifetime::UntilSuccess,
            provenance: Provenance {
                created_by: Some(MEDIC.to_owned()),
                ..Provenance::default()
            },
            created_at: NOW - time::Duration::hours(hours_ago),
            expires_at: None,
            status,
            version: 1,
        }
    }

    fn input(attempt: u32, patches: &[Patch]) -> GuardInput<'_> {
        GuardInput {
            attempt,
            max_attempts: None,
            recommends: true,
            medics_patches: patches,
            now: NOW,
        }
    }

    #[test]
    fn guards_stop_in_order_attempts_daily_cap_loop() {
        let policy = RemediationPolicy::default();
        let none: Vec<Patch> = Vec::new();
        assert_eq!(check_guards(&policy, input(3, &none)), None);
        assert_eq!(
            check_guards(&policy, input(4, &none)).map(|g| g.0),
            Some(Guard::Attempts)
        );
        let lower = GuardInput {
            max_attempts: Some(2),
            ..input(2, &none)
        };
        assert_eq!(
            check_guards(&policy, lower).map(|g| g.0),
            Some(Guard::Attempts)
        );
        let body = serde_json::json!({"spark.executor.memory": "6g"});
        // Ten consumed today: the cap, though none failed; one more than a day ago does not count.
        let mut patches: Vec<Patch> = (1..=10)
            .rev()
            .map(|h| medics(h, PatchStatus::Consumed, body.clone()))
            .collect();
        patches.insert(0, medics(25, PatchStatus::Active, body.clone()));
        assert_eq!(
            check_guards(&policy, input(1, &patches)).map(|g| g.0),
            Some(Guard::DailyCap)
        );
        patches.remove(1);
        assert_eq!(check_guards(&policy, input(1, &patches)), None);
        // Two after the last success: a loop, but only for a failure that would get a new recommendation.
        let looping = vec![
            medics(5, PatchStatus::Consumed, body.clone()),
            medics(4, PatchStatus::Superseded, body.clone()),
            medics(3, PatchStatus::Active, body.clone()),
        ];
        assert_eq!(recommendations_since_success(&looping), 2);
        assert_eq!(
            check_guards(&policy, input(1, &looping)).map(|g| g.0),
            Some(Guard::Loop)
        );
        let plain = GuardInput {
            recommends: false,
            ..input(1, &looping)
        };
        assert_eq!(check_guards(&policy, plain), None);
    }

    #[test]
    fn a_new_patch_carries_what_the_ones_it_replaces_set() {
        let older = medics(
            2,
            PatchStatus::Active,
            serde_json::json!({"spark.executor.memoryOverhead": "1536m", "spark.executor.memory": "4g"}),
        );
        let mut by_hand = medics(1, PatchStatus::Active, serde_json::json!({}));
        by_hand.patch = PatchBody::JsonPatch(
            serde_json::from_value(
                serde_json::json!([{"op": "add", "path": "/spark.a", "value": "1"}]),
            )
            .expect("6902"),
        );
        let changes = BTreeMap::from([
            (
                "spark.executor.memory".to_owned(),
                Change {
                    from: Some("4g".to_owned()),
                    to: Some("6144m".to_owned()),
                },
            ),
            (
                "spark.sql.shuffle.partitions".to_owned(),
                Change {
                    from: Some("200".to_owned()),
                    to: None,
                },
            ),
        ]);
        let body = patch_body(&[&older, &by_hand], &changes);
        assert_eq!(
            serde_json::Value::Object(body),
            serde_json::json!({
                "spark.executor.memoryOverhead": "1536m",
                "spark.executor.memory": "6144m",
                "spark.sql.shuffle.partitions": null
            })
        );
    }

    #[test]
    fn the_policy_reads_with_defaults_and_refuses_unknown_fields() {
        let policy = RemediationPolicy::from_yaml("max_attempts_per_run: 3\n", "guards.yaml")
            .expect("policy");
        assert_eq!(
            policy,
            RemediationPolicy {
                max_attempts_per_run: 3,
                ..RemediationPolicy::default()
            }
        );
        let unknown = RemediationPolicy::from_yaml("max_retries: 3\n", "guards.yaml")
            .expect_err("an unknown field")
            .to_string();
        assert!(
            unknown.contains("guards.yaml") && unknown.contains("max_retries"),
            "{unknown}"
        );
    }

    #[test]
    fn a_policy_with_zero_limits_is_refused_with_every_problem() {
        let error = RemediationPolicy::from_yaml(
            "max_retries_per_job_per_day: 0\nmax_recommendations_without_success: 0\n",
            "guards.yaml",
        )
        .expect_err("zero limits")
        .to_string();
        assert!(
            error.contains("guards.yaml: `max_retries_per_job_per_day` is 0")
                && error.contains("guards.yaml: `max_recommendations_without_success` is 0")
                && !error.contains("max_attempts_per_run"),
            "{error}"
        );
    }
}

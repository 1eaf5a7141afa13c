//! The right-sizing policy: how much history is enough, how much margin, how big a step, which jobs.

use medic_core::JobIdentity;
use medic_core::patch::Scope;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a job's recommended size is estimated from the peaks of its successful runs (before the guard-rails).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    /// Google Autopilot's moving-window recommender for memory: the largest peak of the window, plus the margin.
    #[default]
    Autopilot,
    /// Kubernetes VPA: a histogram of the peaks whose weights halve every day, its 90th percentile, plus 15 %.
    Vpa,
    /// Dr. Elephant: the largest peak × 1.25 + 300 MiB, at least 640 MiB.
    Elephant,
}

impl Estimator {
    /// The name in reports and evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            Estimator::Autopilot => "autopilot",
            Estimator::Vpa => "vpa",
            Estimator::Elephant => "elephant",
        }
    }
}

/// The right-sizing policy (YAML or JSON; every field has a default, unknown fields are refused).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RightsizePolicy {
    /// Days of history a recommendation looks at (default 14).
    pub window_days: u32,
    /// Successful runs the window must hold before a job is right-sized (default 3: with 7, a fleet that replaces
    /// 1 % of its jobs a day keeps a tenth of them at their owners' sizes, and the margin covers the rest).
    pub min_runs: u32,
    /// Safety margin over the largest peak of the window: no setting goes below that peak × (1 + margin)
    /// (default 0.2; measured in the simulator, 0.1 let 0.9 % of right-sized runs run out of memory, 0.2 about
    /// 0.1 %: docs/BENCHMARKS.md).
    pub margin: f64,
    /// A job whose peaks vary more from run to run gets more margin: at least e^(spread × σ) − 1, σ being the standard
    /// deviation of the logarithms of the window's peaks (default 1.5: the largest of a fortnight's peaks sits about
    /// 1.7 σ above their mean, so the floor lands about 3 σ above it whatever the job's variability).
    pub spread: f64,
    /// The largest share a setting shrinks by in one step (default 0.5: at most halved).
    pub max_step: f64,
    /// Successful runs with the current right-size before the next step down (default 2).
    pub settle_runs: u32,
    /// Sizing up before a failure: a setting whose window's largest peak × (1 + margin) exceeds what the job asks
    /// for itself may grow above it by at most this share at a time (default 0.5: at most +50 % a step; 0: never
    /// above the job's own size). Measured in the simulator, sizing up cut first-attempt memory failures on every
    /// fleet it was tried on (docs/BENCHMARKS.md, "Prevention").
    pub max_step_up: f64,
    /// How the size is estimated before the guard-rails (default `autopilot`).
    pub estimator: Estimator,
    /// No heap is sized below this, in MiB (default 640, Dr. Elephant's floor; Spark refuses heaps under 450 MiB).
    pub min_heap_mib: u64,
    /// Sizes are rounded up to a multiple of this, in MiB (default 64).
    pub round_mib: u64,
    /// A shrink of less than this share is not worth a patch (default 0.05).
    pub min_change: f64,
    /// Only jobs in one of these scopes are right-sized; empty means every job (teams opt in).
    pub include: Vec<Scope>,
    /// Jobs in any of these scopes are never right-sized, and lose their right-size patches (teams opt out).
    pub exclude: Vec<Scope>,
}

impl Default for RightsizePolicy {
    fn default() -> Self {
        RightsizePolicy {
            window_days: 14,
            min_runs: 3,
            margin: 0.2,
            spread: 1.5,
            max_step: 0.5,
            settle_runs: 2,
            max_step_up: 0.5,
            estimator: Estimator::Autopilot,
            min_heap_mib: 640,
            round_mib: 64,
            min_change: 0.05,
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

impl RightsizePolicy {
    /// Reads a policy from YAML (or JSON) text; `origin` names it in errors. Every problem is reported.
    pub fn from_yaml(text: &str, origin: &str) -> Result<RightsizePolicy> {
        let policy: RightsizePolicy =
            serde_saphyr::from_str(text).map_err(|error| Error::InvalidPolicy {
                origin: origin.to_owned(),
                problems: vec![error.to_string()],
            })?;
        let problems = policy.problems();
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(Error::InvalidPolicy {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    /// Every reason this policy is unusable; empty when it is fine.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.window_days == 0 {
            problems.push("`window_days` is 0: there would be no history to look at".to_owned());
        }
        if self.min_runs == 0 {
            problems
                .push("`min_runs` is 0: a job with no successful run cannot be sized".to_owned());
        }
        if !(self.margin.is_finite() && (0.0..=2.0).contains(&self.margin)) {
            problems.push(format!("`margin` is {}, expected 0 to 2", self.margin));
        }
        if !(self.spread.is_finite() && (0.0..=10.0).contains(&self.spread)) {
            problems.push(format!("`spread` is {}, expected 0 to 10", self.spread));
        }
        if !(self.max_step.is_finite() && self.max_step > 0.0 && self.max_step <= 0.9) {
            problems.push(format!(
                "`max_step` is {}, expected more than 0 and at most 0.9",
                self.max_step
            ));
        }
        if !(self.max_step_up.is_finite() && (0.0..=2.0).contains(&self.max_step_up)) {
            problems.push(format!(
                "`max_step_up` is {}, expected 0 to 2",
                self.max_step_up
            ));
        }
        if !(self.min_change.is_finite() && (0.0..1.0).contains(&self.min_change)) {
            problems.push(format!(
                "`min_change` is {}, expected 0 to 1",
                self.min_change
            ));
        }
        if self.min_heap_mib < 450 {
            problems.push(format!(
                "`min_heap_mib` is {}: Spark refuses heaps under 450 MiB",
                self.min_heap_mib
            ));
        }
        if self.round_mib == 0 {
            problems.push("`round_mib` is 0, expected at least 1".to_owned());
        }
        for (name, scopes) in [("include", &self.include), ("exclude", &self.exclude)] {
            for (index, scope) in scopes.iter().enumerate() {
                problems.extend(
                    scope
                        .validate()
                        .into_iter()
                        .map(|problem| format!("`{name}` {index}: {problem}")),
                );
            }
        }
        problems
    }

    /// Whether `job` may be right-sized: in an `include` scope (or `include` empty) and in no `exclude` scope.
    pub fn admits(&self, job: &JobIdentity) -> bool {
        (self.include.is_empty() || self.include.iter().any(|scope| scope.contains(job)))
            && !self.exclude.iter().any(|scope| scope.contains(job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_reads_with_defaults_and_reports_every_problem() {
        let policy = RightsizePolicy::from_yaml(
            "min_runs: 2\nexclude:\n  - owner: finance\n",
            "policy.yaml",
        )
        .expect("policy");
        assert_eq!(policy.min_runs, 2);
        assert_eq!(policy.margin, RightsizePolicy::default().margin);
        assert_eq!(policy.window_days, 14);
        let finance = JobIdentity {
            owner: Some("finance".into()),
            ..JobIdentity::new("ledger")
        };
        assert!(!policy.admits(&finance));
        assert!(policy.admits(&JobIdentity::new("rollup")));

        let error = RightsizePolicy::from_yaml(
            "window_days: 0\nmargin: -1\nmax_step: 1\nmin_heap_mib: 100\ninclude:\n  - owner: ''\n",
            "bad.yaml",
        )
        .expect_err("bad policy");
        let text = error.to_string();
        for needle in [
            "window_days",
            "margin",
            "max_step",
            "min_heap_mib",
            "`include` 0",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        let unknown = RightsizePolicy::from_yaml("windows: 3\n", "typo.yaml").expect_err("typo");
        assert!(unknown.to_string().contains("windows"), "{unknown}");
    }
}

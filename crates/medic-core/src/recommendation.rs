//! What the recommender answers, as data: the failed run it is asked about, the configuration changes it
//! recommends with the model's numbers, the alternatives, and how its search went.
//!
//! These are domain types rather than `medic-recommend`'s own so that everything that carries a recommendation
//! (the remediation flow, the HTTP API and its clients, the history) can name them without the recommender's
//! engines (the model, the optimisers).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::history::RunMetrics;
use crate::{Category, JobIdentity, SparkConf};

/// What the recommender knows of a failed run: what a deployment knows, never the hidden truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailedRun {
    /// The job.
    pub job: JobIdentity,
    /// The configuration it failed with.
    pub config: SparkConf,
    /// The failure's category.
    pub category: Category,
    /// The rule that classified it.
    #[serde(default)]
    pub rule: Option<String>,
    /// Whether the rule says a plain retry can help.
    #[serde(default)]
    pub restartable: Option<bool>,
    /// Bytes of input, when known.
    #[serde(default)]
    pub input_bytes: Option<u64>,
    /// Operators of the Spark plan, when known.
    #[serde(default)]
    pub plan_operators: Vec<String>,
    /// What the failed attempt cost, in dollars, when known (else the model's cost of its configuration is the
    /// reference). Also read as `failed_cost`, its earlier name.
    #[serde(default, alias = "failed_cost")]
    pub cost_dollars: Option<f64>,
    /// What the failure's rule captured from the error (`size`, `limit`, `requested`, `got`, `used`, ...): the
    /// sizes Spark named, which the retry's settings are sized from where they say how much was needed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub evidence: BTreeMap<String, String>,
    /// What the failed attempt's event log measured (peak heaps, garbage-collection and run time, spill), when the
    /// runner read one: a heap that failed after long garbage collection was nearly enough, one that failed fast
    /// may be far off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metrics: Option<RunMetrics>,
    /// The configurations earlier attempts of the same run failed with for a memory reason, in the order they ran
    /// (the last is the attempt before this one, when it failed for memory). A retry after a memory failure never
    /// runs one of them again, nor `config` itself: the same configuration fails the same way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tried: Vec<SparkConf>,
}

impl FailedRun {
    /// Whether retrying with `config` repeats a configuration this run already failed with (for a memory
    /// failure, that is a retry that cannot help).
    pub fn repeats(&self, config: &SparkConf) -> bool {
        *config == self.config || self.tried.contains(config)
    }
}

/// One setting's change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// The failed run's value (`null`: unset).
    pub from: Option<String>,
    /// The retry's value.
    pub to: Option<String>,
}

/// The model's numbers for one configuration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    /// Predicted probability that the retry fails.
    pub p_fail: f64,
    /// Predicted cost of the retry, in dollars.
    pub cost: f64,
    /// `p_fail + λ · cost / reference_cost`.
    pub objective: f64,
}

/// The failed configuration's numbers and the recommended one's.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Predicted {
    /// The configuration unchanged.
    pub original: Estimate,
    /// The recommended configuration (none when the answer is "do not retry").
    pub recommended: Option<Estimate>,
}

/// Another feasible configuration on the trade-off curve (no other evaluated configuration is both cheaper and
/// less likely to fail).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alternative {
    /// Its changes to the failed configuration.
    pub changes: BTreeMap<String, Change>,
    /// Its numbers.
    pub predicted: Estimate,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendation {
    /// Whether to retry.
    pub retry: bool,
    /// The retry's whole configuration (none when not retrying).
    pub config: Option<SparkConf>,
    /// What differs from the failed configuration.
    pub changes: BTreeMap<String, Change>,
    /// The model's numbers (none when a heuristic decided).
    pub predicted: Option<Predicted>,
    /// The λ used.
    pub lambda: f64,
    /// `batched`, `bayesian`, `exhaustive`, `heuristic`, or `none` (nothing to search).
    pub optimizer: String,
    /// Model evaluations made.
    pub evaluations: usize,
    /// Time taken, in milliseconds.
    pub elapsed_ms: f64,
    /// The model that decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// The heuristic that decided, when no model did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heuristic: Option<String>,
    /// Other good configurations, cheapest first.
    pub alternatives: Vec<Alternative>,
    /// Why, for a person.
    pub reason: String,
    /// The failure's category.
    pub category: Category,
    /// Why the search stopped (none when nothing was searched).
    #[serde(default)]
    pub stopped_by: Option<StopReason>,
    /// What else a person should know (settings the model cannot see, an unfinished search…).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Why a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StopReason {
    /// No move improved the best points any more (or the iteration budget of the Bayesian search was spent).
    Converged,
    /// Every point of the grid was evaluated.
    Exhausted,
    /// The deadline passed.
    Deadline,
    /// The evaluation cap was reached.
    EvaluationCap,
    /// The Bayesian optimiser's surrogate could not be fitted; the answer is the best point before that.
    SurrogateFailed,
}

/// Which optimiser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OptimizerKind {
    /// Batched random search + local refinement (the default).
    #[default]
    Batched,
    /// Gaussian-process Bayesian optimisation (egobox).
    Bayesian,
    /// Every point of the grid.
    Exhaustive,
}

impl OptimizerKind {
    /// The name used in JSON and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            OptimizerKind::Batched => "batched",
            OptimizerKind::Bayesian => "bayesian",
            OptimizerKind::Exhaustive => "exhaustive",
        }
    }
}

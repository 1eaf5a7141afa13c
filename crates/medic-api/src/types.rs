//! The requests and answers of medic's operations, with the JSON field names of the HTTP API. Requests refuse
//! unknown fields, so that a misspelt field is an error rather than silently ignored.

use medic_core::history::{AttemptEntry, RetryRecord, RunMetrics};
use medic_core::patch::{Lifetime, Patch, PatchBody, PatchStatus, Provenance, Scope};
use medic_core::recommendation::{OptimizerKind, Recommendation};
use medic_core::{Category, Classification, JobIdentity, LogSource, RunOutcome, SparkConf};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One log's text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogText {
    /// Which log.
    #[serde(default)]
    pub source: LogSource,
    /// Its text.
    pub text: String,
}

/// Logs to classify.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClassifyRequest {
    /// The job, for the rules scoped to it.
    pub job: JobIdentity,
    /// The run's logs.
    pub logs: Vec<LogText>,
}

/// A failed run. The failure is given by its classification (as `medic classify --json` prints it), by its
/// category (and rule), or by its logs, which medic classifies with its rule packs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecommendRequest {
    /// The job.
    pub job: JobIdentity,
    /// The configuration it failed with.
    #[serde(default)]
    pub config: SparkConf,
    /// The failure's classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    /// The failure's category, when there is no classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The rule that classified it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The run's logs, when there is neither.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogText>,
    /// Bytes of input, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_bytes: Option<u64>,
    /// Operators of the Spark plan, when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_operators: Vec<String>,
    /// What the failed attempt cost, in dollars (also read as `failed_cost`, its earlier name).
    #[serde(
        default,
        alias = "failed_cost",
        skip_serializing_if = "Option::is_none"
    )]
    pub cost_dollars: Option<f64>,
    /// λ for this request (default: the policy's for the job or its owner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f64>,
    /// `batched` (default), `bayesian` or `exhaustive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<OptimizerKind>,
    /// The answer is due within this many milliseconds (default 500, at most 10 000); the search returns its
    /// best so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// Configurations earlier attempts of the same run failed with for a memory reason, oldest first: the retry
    /// repeats none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tried: Vec<SparkConf>,
    /// What the failure's rule captured from the error (sizes it names), when the failure is given by category;
    /// a classification brings its own captures.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub evidence: std::collections::BTreeMap<String, String>,
    /// What the failed attempt's event log measured (peak heaps, garbage collection, spill): evidence the retry's
    /// size is chosen from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metrics: Option<RunMetrics>,
}

impl RecommendRequest {
    /// A request for `job`'s run that failed with `config`, the failure to be given by one of `classification`,
    /// `category` or `logs`, and the rest left to medic's defaults.
    pub fn new(job: JobIdentity, config: SparkConf) -> Self {
        RecommendRequest {
            job,
            config,
            classification: None,
            category: None,
            rule: None,
            logs: Vec::new(),
            input_bytes: None,
            plan_operators: Vec::new(),
            cost_dollars: None,
            lambda: None,
            optimizer: None,
            deadline_ms: None,
            tried: Vec::new(),
            evidence: Default::default(),
            metrics: None,
        }
    }
}

/// A failed attempt. The failure is given by exactly one of its classification, its category (and rule), or its
/// logs, which medic classifies with its rule packs (rules scoped to the job included).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemediateRequest {
    /// The job.
    pub job: JobIdentity,
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// How many attempts the scheduler's retry policy allows in all, when it has one; medic's policy may allow
    /// fewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// The configuration the attempt ran with (as `/v1/config/resolve` gave it).
    pub config: SparkConf,
    /// The failure's classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    /// The failure's category, when there is no classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The rule that classified it (its `restartable` is used when medic knows the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The attempt's logs, when there is neither.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogText>,
    /// Bytes of input, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_bytes: Option<u64>,
    /// Operators of the Spark plan, when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_operators: Vec<String>,
    /// What the failed attempt cost, in dollars; else priced from `config` and `runtime_seconds` when that is
    /// given. Also read as `failed_cost`, its earlier name.
    #[serde(
        default,
        alias = "failed_cost",
        skip_serializing_if = "Option::is_none"
    )]
    pub cost_dollars: Option<f64>,
    /// How long the attempt ran, in seconds. Also read as `runtime_s`, its earlier name.
    #[serde(default, alias = "runtime_s", skip_serializing_if = "Option::is_none")]
    pub runtime_seconds: Option<f64>,
    /// What the failed attempt's event log measured (peak heaps, garbage collection, spill): evidence the retry's
    /// size is chosen from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metrics: Option<RunMetrics>,
}

/// The guard-rail that stopped a retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Guard {
    /// The run has used its attempts.
    Attempts,
    /// medic has retried the job as often as a day allows.
    DailyCap,
    /// The job keeps failing with medic's configurations.
    Loop,
    /// The retry's configuration already failed in this run: a memory failure is never retried with it.
    Repeat,
}

impl Guard {
    /// The name used in JSON and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Guard::Attempts => "attempts",
            Guard::DailyCap => "daily_cap",
            Guard::Loop => "loop",
            Guard::Repeat => "repeat",
        }
    }
}

/// The decision for a failed attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Whether medic is in shadow mode: nothing was stored and `retry` is the classification's `restartable`.
    pub shadow: bool,
    /// The guard-rail that stopped the retry (in shadow mode: that would have stopped medic's).
    pub guard: Option<Guard>,
    /// The job's right-size patches this memory failure revoked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<String>,
}

/// A job about to run, with its original configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolveRequest {
    /// The job.
    pub job: JobIdentity,
    /// Its configuration before medic's patches: a flat map of Spark keys to string values.
    #[serde(default)]
    pub config: SparkConf,
}

/// How a run that used resolved patches ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunReport {
    /// The job.
    pub job: JobIdentity,
    /// The ids the resolution applied (`applied` of its answer).
    pub applied: Vec<String>,
    /// How the run ended.
    pub outcome: RunOutcome,
    /// The attempt, for the attempts history (as `medic_core::history::AttemptEntry`: the job, the attempt's
    /// number, configuration, outcome, decision, cost, peak memory, Spark's metrics, ...). Its job and outcome
    /// must be the report's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub attempt: Option<AttemptEntry>,
}

/// What a run report changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunRecorded {
    /// Patches now consumed: one-shot patches after any run, until-success patches after a success.
    pub consumed: Vec<Patch>,
    /// Whether the attempt was added to the attempts history.
    pub attempt_recorded: bool,
    /// The carried fix stored: the memory fix this successful run used, kept for the job's next runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_fix: Option<Patch>,
    /// Why a fix this run used was not carried forward, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Records to add to the history. An object rather than a bare array, so that the request can grow fields (a
/// source, a batch id) without breaking its callers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryImport {
    /// The records, each as `medic history import` reads a JSON line, with `cost_dollars` required.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub records: Vec<RetryRecord>,
}

/// What an import stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryStored {
    /// How many records were added: all of the request's.
    pub stored: u64,
}

/// Which attempts to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct AttemptsQuery {
    /// Only this job's attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Only attempts that ended so (`succeeded`, `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RunOutcome>,
    /// Only the newest this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A patch to store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatePatch {
    /// Which jobs may use it; `{}` is global.
    pub scope: Scope,
    /// An RFC 6902 array of operations or an RFC 7386 merge-patch object over the flat Spark configuration
    /// (`/spark.executor.memory`).
    pub patch: PatchBody,
    /// `one_shot`, `until_success` or `persistent`.
    pub lifetime: Lifetime,
    /// Why, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it stops applying (RFC 3339); must be in the future.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub expires_at: Option<OffsetDateTime>,
    /// Where it came from: rule, classification, recommendation id, model version. `created_by` is set by medic
    /// from the caller (the token's name) and may not be given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// Which patches to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct PatchesQuery {
    /// Only patches scoped to exactly this job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Only patches in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PatchStatus>,
}

/// Whether medic acts or only advises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mode {
    /// Whether remediation runs in shadow mode (decides as without medic, stores nothing).
    pub shadow: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_refuse_unknown_fields() {
        let mut config = SparkConf::new();
        config.set("spark.executor.memory", "4g");
        let request = RemediateRequest {
            job: JobIdentity::new("nightly.rollup"),
            attempt: 1,
            max_attempts: Some(3),
            config,
            classification: None,
            category: Some(Category::ExecutorOom),
            rule: None,
            logs: Vec::new(),
            input_bytes: Some(1 << 30),
            plan_operators: Vec::new(),
            cost_dollars: None,
            runtime_seconds: Some(12.5),
            metrics: None,
        };
        let json = serde_json::to_value(&request).expect("serialise");
        // What is not known is left out rather than sent as null.
        assert!(json.get("classification").is_none() && json.get("logs").is_none());
        let back: RemediateRequest = serde_json::from_value(json.clone()).expect("deserialise");
        assert_eq!(back, request);
        let mut misspelt = json;
        misspelt["runtime"] = 3.into();
        assert!(serde_json::from_value::<RemediateRequest>(misspelt).is_err());
    }
}

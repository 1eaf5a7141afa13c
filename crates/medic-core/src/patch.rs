//! Recommended configurations as scoped patches, and how a job's configuration is resolved from them.
//!
//! A [`Patch`] is an RFC 6902 JSON Patch or an RFC 7386 merge patch over a [`SparkConf`] (keys addressed as
//! `/spark.executor.memory`), with a [`Scope`] saying which jobs may use it. [`resolve`] applies every active patch
//! whose scope matches the job, from the least specific scope to the most specific (global, cluster, owner,
//! workflow, job), in creation order within a level. A patch that cannot apply is skipped whole and reported. It is
//! never half-applied. Patch semantics are the `json-patch` crate's, not ours.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{JobIdentity, SparkConf};

/// Which jobs may use a patch. Every named dimension must match; naming none makes the patch global.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Exactly this job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Jobs of this workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// Jobs of this owner (user or team).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Jobs on this cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

/// How specific a scope is; patches apply from the least specific level to the most specific.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScopeLevel {
    /// No dimension named.
    Global,
    /// The most specific dimension named is the cluster.
    Cluster,
    /// ... the owner.
    Owner,
    /// ... the workflow.
    Workflow,
    /// ... the job.
    Job,
}

/// `job=rollup,owner=data-eng`, or `global` for a scope that names nothing.
impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            ("job", &self.job),
            ("workflow", &self.workflow),
            ("owner", &self.owner),
            ("cluster", &self.cluster),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|value| format!("{name}={value}")))
        .collect();
        if parts.is_empty() {
            f.write_str("global")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

impl Scope {
    /// A scope of one job.
    pub fn job(id: impl Into<String>) -> Self {
        Scope {
            job: Some(id.into()),
            ..Scope::default()
        }
    }

    /// The most specific dimension this scope names.
    pub fn level(&self) -> ScopeLevel {
        if self.job.is_some() {
            ScopeLevel::Job
        } else if self.workflow.is_some() {
            ScopeLevel::Workflow
        } else if self.owner.is_some() {
            ScopeLevel::Owner
        } else if self.cluster.is_some() {
            ScopeLevel::Cluster
        } else {
            ScopeLevel::Global
        }
    }

    /// Every reason this scope is unusable (a named dimension that is empty or has control characters). Empty when
    /// it is fine.
    pub fn validate(&self) -> Vec<String> {
        [
            ("job", &self.job),
            ("workflow", &self.workflow),
            ("owner", &self.owner),
            ("cluster", &self.cluster),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            let value = value.as_deref()?;
            if value.trim().is_empty() {
                Some(format!(
                    "scope `{name}` is empty (leave it out to match every {name})"
                ))
            } else if value.chars().any(char::is_control) {
                Some(format!("scope `{name}` contains control characters"))
            } else {
                None
            }
        })
        .collect()
    }

    /// Whether `job` is in this scope.
    pub fn contains(&self, job: &JobIdentity) -> bool {
        fn admits(wanted: &Option<String>, actual: Option<&str>) -> bool {
            wanted
                .as_deref()
                .is_none_or(|wanted| actual == Some(wanted))
        }
        admits(&self.job, Some(&job.id))
            && admits(&self.workflow, job.workflow.as_deref())
            && admits(&self.owner, job.owner.as_deref())
            && admits(&self.cluster, job.cluster.as_deref())
    }
}

/// The change itself: a JSON array is an RFC 6902 JSON Patch, a JSON object an RFC 7386 merge patch.
///
/// Deserialising picks the form from the JSON type, so an error names the real problem (`unknown variant
/// `frobnicate``) rather than "matched no variant"; [`PatchBody::validate`] then checks that it can address a flat
/// Spark configuration at all.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PatchBody {
    /// RFC 6902: a list of operations (`add`, `remove`, `replace`, `move`, `copy`, `test`).
    JsonPatch(json_patch::Patch),
    /// RFC 7386: an object whose keys are set (or removed, when `null`).
    MergePatch(serde_json::Map<String, serde_json::Value>),
}

impl<'de> Deserialize<'de> for PatchBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(deserializer)? {
            array @ serde_json::Value::Array(_) => serde_json::from_value(array)
                .map(PatchBody::JsonPatch)
                .map_err(|e| D::Error::custom(format!("invalid RFC 6902 JSON Patch: {e}"))),
            serde_json::Value::Object(map) => Ok(PatchBody::MergePatch(map)),
            other => Err(D::Error::custom(format!(
                "a patch is an RFC 6902 array of operations or an RFC 7386 merge-patch object, not {}",
                json_type(&other)
            ))),
        }
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

impl PatchBody {
    /// Every reason this body cannot change a flat Spark configuration: no operations, a pointer that is not one
    /// key (`/spark.executor.memory`), a value that is not a string (or `null`, to remove, in a merge patch).
    /// Empty when the body is fine. Whether it applies to a given configuration is decided at resolution.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self {
            PatchBody::JsonPatch(patch) if patch.0.is_empty() => {
                problems.push("the JSON Patch has no operations".to_owned());
            }
            PatchBody::JsonPatch(patch) => {
                for (index, operation) in patch.0.iter().enumerate() {
                    use json_patch::PatchOperation as Op;
                    let (path, from, value) = match operation {
                        Op::Add(op) => (&op.path, None, Some(&op.value)),
                        Op::Replace(op) => (&op.path, None, Some(&op.value)),
                        Op::Test(op) => (&op.path, None, Some(&op.value)),
                        Op::Remove(op) => (&op.path, None, None),
                        Op::Move(op) => (&op.path, Some(&op.from), None),
                        Op::Copy(op) => (&op.path, Some(&op.from), None),
                    };
                    for pointer in std::iter::once(path).chain(from) {
                        if pointer.count() != 1 {
                            problems.push(format!(
                                "operation {index}: `{pointer}` does not name one configuration key \
                                 (expected a pointer such as `/spark.executor.memory`)"
                            ));
                        } else if let Some(problem) = pointer
                            .first()
                            .and_then(|token| key_problem(&token.decoded()))
                        {
                            problems.push(format!("operation {index}: {problem}"));
                        }
                    }
                    if let Some(value) = value.filter(|value| !value.is_string()) {
                        problems.push(format!(
                            "operation {index}: value {value} is not a string (Spark settings are strings)"
                        ));
                    }
                    if let Some(problem) =
                        value.and_then(|value| value_problem(&path.to_string(), value))
                    {
                        problems.push(format!("operation {index}: {problem}"));
                    }
                }
            }
            PatchBody::MergePatch(map) if map.is_empty() => {
                problems.push("the merge patch sets nothing".to_owned());
            }
            PatchBody::MergePatch(map) => {
                for (key, value) in map {
                    if let Some(problem) = key_problem(key) {
                        problems.push(problem);
                    }
                    if !(value.is_string() || value.is_null()) {
                        problems.push(format!(
                            "`{key}`: {value} is neither a string nor null (to remove the key)"
                        ));
                    }
                    problems.extend(value_problem(key, value));
                }
            }
        }
        problems
    }
}

/// What a secret's value reads as in patch listings and the audit trail: Spark's own text for a redacted value.
pub const REDACTED: &str = "*********(redacted)";

/// Whether `key` names a secret, as Spark's default `spark.redaction.regex` (`(?i)secret|password|token|
/// access[.]?key`) decides for its UI and logs: `spark.hadoop.fs.s3a.secret.key`, `spark.ssl.keyPassword`, ...
/// Written without a regex engine, which `medic-core` does not carry; the words are the regex's alternatives.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["secret", "password", "token", "access.key", "accesskey"]
        .iter()
        .any(|word| key.contains(word))
}

impl PatchBody {
    /// This body with the value of every secret key ([`is_secret_key`]) replaced by [`REDACTED`]: what medic shows
    /// of a patch. Resolution applies the stored body, never this one.
    pub fn redacted(&self) -> PatchBody {
        use json_patch::PatchOperation as Op;
        let hide = |value: &mut serde_json::Value| {
            if value.is_string() {
                *value = serde_json::Value::String(REDACTED.to_owned());
            }
        };
        let mut body = self.clone();
        match &mut body {
            PatchBody::JsonPatch(patch) => {
                for operation in &mut patch.0 {
                    let (path, value) = match operation {
                        Op::Add(op) => (&op.path, &mut op.value),
                        Op::Replace(op) => (&op.path, &mut op.value),
                        Op::Test(op) => (&op.path, &mut op.value),
                        Op::Remove(_) | Op::Move(_) | Op::Copy(_) => continue,
                    };
                    if path
                        .first()
                        .is_some_and(|token| is_secret_key(&token.decoded()))
                    {
                        hide(value);
                    }
                }
            }
            PatchBody::MergePatch(map) => {
                for (key, value) in map.iter_mut() {
                    if is_secret_key(key) {
                        hide(value);
                    }
                }
            }
        }
        body
    }
}

/// Why `key` cannot be a Spark setting, if it cannot: Spark ignores properties outside `spark.` ("Ignoring
/// non-Spark config property"), so a patch setting one would silently change nothing.
fn key_problem(key: &str) -> Option<String> {
    if key.chars().any(char::is_control) {
        Some(format!(
            "{key:?} contains control characters (a line break would write another setting into spark-defaults.conf)"
        ))
    } else if key.starts_with("spark.") && key.len() > "spark.".len() {
        None
    } else {
        Some(format!(
            "`{key}` is not a Spark setting (Spark ignores keys that do not start with `spark.`)"
        ))
    }
}

/// Why `value` cannot be the value of `key`: a control character (a line break in a value would write another
/// setting into `spark-defaults.conf` or onto the command line).
fn value_problem(key: &str, value: &serde_json::Value) -> Option<String> {
    value
        .as_str()
        .filter(|text| text.chars().any(char::is_control))
        .map(|text| format!("`{key}`: the value {text:?} contains control characters"))
}

/// How long a patch stays in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Lifetime {
    /// Consumed by the next run of the job.
    OneShot,
    /// Kept until a run with it succeeds.
    UntilSuccess,
    /// Kept until revoked (right-sizing uses these).
    Persistent,
}

/// Where a patch stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PatchStatus {
    /// Applied to matching runs.
    Active,
    /// Used up (one-shot after its run, until-success after a success).
    Consumed,
    /// Withdrawn by a person or by medic.
    Revoked,
    /// Replaced by a newer patch.
    Superseded,
}

/// Who or what created a patch, and why.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The token's subject, or `medic` for automatic patches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// The rule that classified the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The failure's category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    /// The recommendation this patch carries out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation_id: Option<String>,
    /// The model that made the recommendation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// Free text for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Set on right-size patches only: what the sizes were based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rightsize: Option<crate::sizing::RightsizeEvidence>,
    /// Set on carried fixes only: the remediation whose successful retry this patch keeps for the job's next runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<CarriedFix>,
}

/// Where a carried fix comes from: a memory failure that medic's remediation fixed on a retry. medic keeps the
/// change that worked as a `persistent` patch of the job, so that the next run's first attempt has it already.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CarriedFix {
    /// The remediation patch (until a success) whose retry succeeded.
    pub from_patch: String,
    /// The successful retry's attempt number, when the run report gave its attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The cluster the job ran on: carried fixes are capped per cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

impl Provenance {
    /// Every reason this provenance cannot be kept: a control character in any of its texts, by field. Empty when
    /// it is fine.
    pub fn validate(&self) -> Vec<String> {
        crate::text::control_characters(self)
    }
}

/// A stored patch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Patch {
    /// Unique, assigned by the store.
    pub id: String,
    /// Which jobs may use it.
    pub scope: Scope,
    /// The change.
    pub patch: PatchBody,
    /// How long it stays in force.
    pub lifetime: Lifetime,
    /// Who or what created it and why.
    pub provenance: Provenance,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it stops applying, if ever.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<OffsetDateTime>,
    /// Where it stands.
    pub status: PatchStatus,
    /// Incremented by every change; updates name the version they expect (optimistic concurrency).
    pub version: u64,
}

impl Patch {
    /// This patch with its secrets' values redacted ([`PatchBody::redacted`]).
    pub fn redacted(mut self) -> Patch {
        self.patch = self.patch.redacted();
        self
    }

    /// Whether this is a right-size patch (made by `medic rightsize`, with its evidence).
    pub fn is_rightsize(&self) -> bool {
        self.provenance.rightsize.is_some()
    }

    /// Whether this is a carried fix (a remediation kept for the job's next runs, with where it came from).
    pub fn is_carried_fix(&self) -> bool {
        self.provenance.carried.is_some()
    }

    /// Whether this patch is active and not expired at `now`.
    pub fn in_force(&self, now: OffsetDateTime) -> bool {
        self.status == PatchStatus::Active && self.expires_at.is_none_or(|expires| now < expires)
    }

    /// Whether this patch applies to a run of `job` at `now`.
    pub fn applies_to(&self, job: &JobIdentity, now: OffsetDateTime) -> bool {
        self.in_force(now) && self.scope.contains(job)
    }
}

/// The configuration a job should run with, and how it was obtained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resolution {
    /// The original configuration with every applicable patch applied.
    pub config: SparkConf,
    /// The ids of the patches applied, in the order they were applied.
    pub applied: Vec<String>,
    /// Patches that matched the job but could not apply, and why; none of their operations took effect.
    pub skipped: Vec<SkippedPatch>,
}

/// A patch left out of a resolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkippedPatch {
    /// The patch's id.
    pub id: String,
    /// Why it could not apply (a failing `test` operation, a missing path, a non-string value).
    pub reason: String,
}

/// Applies the patches of `patches` that apply to `job` at `now` to `config`: least specific scope first, then in
/// creation order (then id, so that the order is total). A patch whose operations fail, or whose result is not a
/// flat map of strings, is skipped whole.
pub fn resolve(
    config: &SparkConf,
    patches: &[Patch],
    job: &JobIdentity,
    now: OffsetDateTime,
) -> Resolution {
    let mut applicable: Vec<&Patch> = patches.iter().filter(|p| p.applies_to(job, now)).collect();
    applicable.sort_by(|a, b| {
        (a.scope.level(), a.created_at, &a.id).cmp(&(b.scope.level(), b.created_at, &b.id))
    });
    let mut document = config.to_json_value();
    let mut applied = Vec::new();
    let mut skipped = Vec::new();
    for patch in applicable {
        match apply(&document, &patch.patch) {
            Ok(next) => {
                document = next;
                applied.push(patch.id.clone());
            }
            Err(reason) => skipped.push(SkippedPatch {
                id: patch.id.clone(),
                reason,
            }),
        }
    }
    // Every step kept the document a map of strings, so this cannot fail; fall back to the original if it did.
    let config = SparkConf::from_json_value(document).unwrap_or_else(|_| config.clone());
    Resolution {
        config,
        applied,
        skipped,
    }
}

/// `document` with `body` applied, or why not. Works on a copy, so a failure changes nothing.
fn apply(document: &serde_json::Value, body: &PatchBody) -> Result<serde_json::Value, String> {
    let mut next = document.clone();
    match body {
        PatchBody::JsonPatch(operations) => {
            json_patch::patch(&mut next, operations).map_err(|e| e.to_string())?
        }
        PatchBody::MergePatch(merge) => {
            json_patch::merge(&mut next, &serde_json::Value::Object(merge.clone()))
        }
    }
    match &next {
        serde_json::Value::Object(map) => match map.iter().find(|(_, value)| !value.is_string()) {
            Some((key, value)) => Err(format!(
                "the result would set `{key}` to {value}, not a string"
            )),
            None => Ok(next),
        },
        other => Err(format!("the result would be {other}, not a configuration")),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn conf(pairs: &[(&str, &str)]) -> SparkConf {
        SparkConf(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn patch(id: &str, scope: Scope, body: serde_json::Value, minute: u8) -> Patch {
        Patch {
            id: id.to_owned(),
            scope,
            patch: serde_json::from_value(body).expect("patch body"),
            lifetime: Lifetime::UntilSuccess,
            provenance: Provenance::default(),
            created_at: datetime!(2026-11-22 10:00 UTC)
                + time::Duration::minutes(i64::from(minute)),
            expires_at: None,
            status: PatchStatus::Active,
            version: 1,
        }
    }

    #[test]
    fn secrets_are_redacted_in_both_kinds_of_body_and_nothing_else() {
        let merge: PatchBody = serde_json::from_value(serde_json::json!({
            "spark.hadoop.fs.s3a.secret.key": "s3cr3t",
            "spark.hadoop.fs.s3a.access.key": "AKIA0",
            "spark.ssl.keyPassword": "hunter2",
            "spark.executor.memory": "8g",
            "spark.authenticate.secret": null,
        }))
        .expect("merge");
        assert_eq!(
            serde_json::to_value(merge.redacted()).expect("json"),
            serde_json::json!({
                "spark.hadoop.fs.s3a.secret.key": REDACTED,
                "spark.hadoop.fs.s3a.access.key": REDACTED,
                "spark.ssl.keyPassword": REDACTED,
                "spark.executor.memory": "8g",
                "spark.authenticate.secret": null,
            })
        );
        let operations: PatchBody = serde_json::from_value(serde_json::json!([
            {"op": "add", "path": "/spark.hadoop.fs.gs.auth.TOKEN", "value": "t0k"},
            {"op": "replace", "path": "/spark.driver.memory", "value": "4g"},
            {"op": "remove", "path": "/spark.ssl.password"},
        ]))
        .expect("json patch");
        assert_eq!(
            serde_json::to_value(operations.redacted()).expect("json"),
            serde_json::json!([
                {"op": "add", "path": "/spark.hadoop.fs.gs.auth.TOKEN", "value": REDACTED},
                {"op": "replace", "path": "/spark.driver.memory", "value": "4g"},
                {"op": "remove", "path": "/spark.ssl.password"},
            ])
        );
        // Spark's default regex, word by word: `access[.]?key` takes both spellings.
        for (key, secret) in [
            ("spark.accesskey", true),
            ("spark.access_key", false),
            ("spark.keytab", false),
            ("spark.yarn.principal", false),
        ] {
            assert_eq!(is_secret_key(key), secret, "{key}");
        }
    }

    fn job() -> JobIdentity {
        JobIdentity {
            id: "rollup".to_owned(),
            workflow: Some("nightly".to_owned()),
            owner: Some("data-eng".to_owned()),
            cluster: Some("emr-1".to_owned()),
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    #[test]
    fn least_specific_first_then_creation_order() {
        let patches = vec![
            patch(
                "job-1",
                Scope::job("rollup"),
                serde_json::json!([{"op": "replace", "path": "/spark.executor.memory", "value": "8g"}]),
                1,
            ),
            patch(
                "global-1",
                Scope::default(),
                serde_json::json!({"spark.executor.memory": "2g", "spark.sql.adaptive.enabled": "true"}),
                5,
            ),
            patch(
                "owner-1",
                Scope {
                    owner: Some("data-eng".into()),
                    ..Scope::default()
                },
                serde_json::json!({"spark.executor.memory": "6g"}),
                3,
            ),
            patch(
                "global-0",
                Scope::default(),
                serde_json::json!({"spark.executor.cores": "4"}),
                0,
            ),
            patch(
                "other-job",
                Scope::job("hourly"),
                serde_json::json!({"spark.executor.memory": "1g"}),
                0,
            ),
        ];
        let resolution = resolve(
            &conf(&[("spark.executor.memory", "4g")]),
            &patches,
            &job(),
            NOW,
        );
        assert_eq!(
            resolution.applied,
            ["global-0", "global-1", "owner-1", "job-1"]
        );
        assert_eq!(resolution.config.get("spark.executor.memory"), Some("8g"));
        assert_eq!(resolution.config.get("spark.executor.cores"), Some("4"));
        assert!(resolution.skipped.is_empty());
    }

    #[test]
    fn a_failing_patch_is_skipped_whole_and_reported() {
        let patches = vec![
            patch(
                "half",
                Scope::job("rollup"),
                serde_json::json!([
                    {"op": "replace", "path": "/spark.executor.memory", "value": "16g"},
                    {"op": "test", "path": "/spark.executor.cores", "value": "8"}
                ]),
                0,
            ),
            patch(
                "missing",
                Scope::job("rollup"),
                serde_json::json!([{"op": "remove", "path": "/spark.no.such.key"}]),
                1,
            ),
            patch(
                "number",
                Scope::job("rollup"),
                serde_json::json!({"spark.executor.cores": 8}),
                2,
            ),
        ];
        let original = conf(&[
            ("spark.executor.memory", "4g"),
            ("spark.executor.cores", "4"),
        ]);
        let resolution = resolve(&original, &patches, &job(), NOW);
        assert_eq!(resolution.config, original);
        assert!(resolution.applied.is_empty());
        let skipped: Vec<&str> = resolution.skipped.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(skipped, ["half", "missing", "number"]);
        assert!(
            resolution.skipped[2].reason.contains("not a string"),
            "{:?}",
            resolution.skipped[2]
        );
    }

    #[test]
    fn inactive_and_expired_patches_do_not_apply() {
        let mut revoked = patch(
            "revoked",
            Scope::default(),
            serde_json::json!({"spark.a": "1"}),
            0,
        );
        revoked.status = PatchStatus::Revoked;
        let mut expired = patch(
            "expired",
            Scope::default(),
            serde_json::json!({"spark.b": "1"}),
            0,
        );
        expired.expires_at = Some(NOW);
        let resolution = resolve(&SparkConf::new(), &[revoked, expired], &job(), NOW);
        assert!(resolution.applied.is_empty() && resolution.config.0.is_empty());
    }

    #[test]
    fn scopes_need_every_named_dimension() {
        let scope = Scope {
            workflow: Some("nightly".into()),
            cluster: Some("emr-2".into()),
            ..Scope::default()
        };
        assert!(!scope.contains(&job()));
        assert_eq!(scope.level(), ScopeLevel::Workflow);
        assert!(Scope::default().contains(&JobIdentity::new("anything")));
        assert!(
            !Scope {
                owner: Some("data-eng".into()),
                ..Scope::default()
            }
            .contains(&JobIdentity::new("rollup"))
        );
    }

    #[test]
    fn bodies_read_as_json_patch_or_merge_patch_and_invalid_ones_are_refused() {
        let json: PatchBody =
            serde_json::from_str(r#"[{"op": "add", "path": "/spark.a", "value": "1"}]"#)
                .expect("6902");
        assert!(matches!(json, PatchBody::JsonPatch(_)));
        let merge: PatchBody =
            serde_json::from_str(r#"{"spark.a": "1", "spark.b": null}"#).expect("7386");
        assert!(matches!(merge, PatchBody::MergePatch(_)));
        assert!(
            serde_json::from_str::<PatchBody>(r#"[{"op": "frobnicate", "path": "/x"}]"#).is_err()
        );
        assert!(serde_json::from_str::<PatchBody>(r#""just a string""#).is_err());
    }
}

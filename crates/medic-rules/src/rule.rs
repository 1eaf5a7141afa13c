//! One validated rule.

use std::collections::BTreeMap;

use medic_core::{Category, JobIdentity, LogSource};
use serde::Serialize;

/// A rule of a pack, validated and with its pattern compiled.
#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    /// Unique name across every loaded pack.
    pub name: String,
    /// The category a match means.
    pub category: Category,
    /// Whether a plain retry (same configuration) can help.
    pub restartable: bool,
    /// What a person should read.
    pub summary: String,
    /// Which log the rule reads.
    pub source: SourceFilter,
    /// The regular expression (Rust `regex` syntax), matched against one line at a time.
    pub pattern: String,
    /// The jobs the rule is limited to; `None` means every job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<RuleScope>,
    /// Lines the pattern must match; checked when the pack loads.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Where the rule was defined.
    pub origin: RuleOrigin,
    #[serde(skip)]
    pub(crate) regex: regex::bytes::Regex,
}

impl Rule {
    /// Whether the rule may decide for text read from `input`: a rule tied to one source reads only that source,
    /// and text of unknown source is checked against every rule.
    pub fn reads(&self, input: LogSource) -> bool {
        self.source.accepts(input)
    }

    /// Whether the rule applies to this job. Scoped rules apply only when the job is known and in scope.
    pub fn applies_to(&self, job: Option<&JobIdentity>) -> bool {
        match &self.scope {
            None => true,
            Some(scope) => job.is_some_and(|job| scope.contains(job)),
        }
    }

    /// The rule's named captures on `line`, if the pattern matches it.
    pub fn captures(&self, line: &[u8]) -> Option<BTreeMap<String, String>> {
        let captures = self.regex.captures(line)?;
        let named = self
            .regex
            .capture_names()
            .flatten()
            .filter_map(|name| {
                let value = captures.name(name)?;
                Some((
                    name.to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                ))
            })
            .collect();
        Some(named)
    }
}

/// Which log a rule reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFilter {
    /// Every log.
    #[default]
    Any,
    /// Only this log (and text whose source is unknown).
    #[serde(untagged)]
    Only(LogSource),
}

impl SourceFilter {
    /// Whether text read from `input` is checked against a rule with this filter.
    pub fn accepts(self, input: LogSource) -> bool {
        match self {
            SourceFilter::Any => true,
            SourceFilter::Only(source) => input == source || input == LogSource::Unknown,
        }
    }
}

/// The jobs a rule applies to. Within one list any entry matches; every non-empty list must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleScope {
    /// Job ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<String>,
    /// Workflows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workflows: Vec<String>,
    /// Owners (users or teams).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// Clusters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
}

impl RuleScope {
    /// Whether `job` is in this scope.
    pub fn contains(&self, job: &JobIdentity) -> bool {
        fn admits(allowed: &[String], value: Option<&str>) -> bool {
            allowed.is_empty() || value.is_some_and(|value| allowed.iter().any(|a| a == value))
        }
        admits(&self.jobs, Some(&job.id))
            && admits(&self.workflows, job.workflow.as_deref())
            && admits(&self.owners, job.owner.as_deref())
            && admits(&self.clusters, job.cluster.as_deref())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.jobs.is_empty()
            && self.workflows.is_empty()
            && self.owners.is_empty()
            && self.clusters.is_empty()
    }
}

/// Where a rule was defined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleOrigin {
    /// The pack's file.
    pub file: String,
    /// 1-based line of the rule in that file, when known.
    pub line: Option<u64>,
}

impl std::fmt::Display for RuleOrigin {
    /// `file:line`, or `file` when the line is not known.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

//! The result of classifying a failed run's logs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Category, LogSource};

/// What kind of failure a run had, which rule decided, and the line that proves it.
///
/// Produced by the rule engine for every input, even unreadable or empty ones: classification is total, and
/// [`Category::Unclassified`] is an answer, not an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Classification {
    /// The category of the deciding rule, or `unclassified`.
    pub category: Category,
    /// Whether a plain retry (same configuration) can help, according to the deciding rule.
    pub restartable: bool,
    /// Whether the category is a memory-configuration error (a different configuration can fix it).
    pub memory_config: bool,
    /// The deciding rule's name; `None` when unclassified.
    pub rule: Option<String>,
    /// What a person should read about this failure.
    pub summary: String,
    /// The line on which the deciding rule first matched.
    pub evidence: Option<Evidence>,
    /// Named captures of the deciding rule on the evidence line (e.g. requested and granted bytes).
    pub captures: BTreeMap<String, String>,
    /// Every other rule that matched somewhere, in priority order, each with its first match.
    pub also_matched: Vec<RuleMatch>,
    /// How much was read.
    pub scanned: ScanStats,
    /// Inputs that could not be read completely, and why. Classification still used whatever was read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One line of one log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// Which log the line came from.
    pub source: LogSource,
    /// The file (or `-` for standard input) the line came from.
    pub input: String,
    /// 1-based line number within that input.
    pub line: u64,
    /// The line, decoded lossily as UTF-8 and cut to a readable length.
    pub text: String,
}

/// A rule that matched, with where it first matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleMatch {
    /// The rule's name.
    pub rule: String,
    /// The rule's category.
    pub category: Category,
    /// The rule's first match.
    pub evidence: Evidence,
}

/// Counters of one classification: what was read, and what had to be repaired to read it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanStats {
    /// Bytes of log text read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines longer than the engine's line limit, matched on their first part only.
    pub truncated_lines: u64,
}

impl Classification {
    /// The answer when no rule matched.
    pub fn unclassified(scanned: ScanStats, warnings: Vec<String>) -> Self {
        Classification {
            category: Category::Unclassified,
            restartable: false,
            memory_config: false,
            rule: None,
            summary: "No rule matched these logs.".to_owned(),
            evidence: None,
            captures: BTreeMap::new(),
            also_matched: Vec::new(),
            scanned,
            warnings,
        }
    }
}

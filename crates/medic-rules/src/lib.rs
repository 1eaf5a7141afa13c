//! Rule packs and the classification engine: the "Pensive" role of medic.
//!
//! A *rule pack* is a YAML file holding an ordered list of rules; each rule names a failure [`Category`], whether
//! a plain retry can help, which log it reads, and a regular expression that must match one line. Packs load in
//! order (user packs before the built-in Spark pack) and order is priority: among the rules that match anywhere in
//! a run's logs, the first one decides.
//!
//! # Design
//!
//! * **Loading reports every problem.** [`RulePack::parse`] reads the YAML into loose values and checks each rule
//!   field by field, so one typo does not hide the next; a pack with any problem is refused whole
//!   ([`Error::InvalidRules`] lists file, line, rule and reason for each).
//! * **Compiled once, one pass per log.** [`RuleSet::compile`] builds two matchers over all patterns: a
//!   multi-pattern regex that searches a whole buffer for the earliest line *any* rule could match (its literal
//!   prefilter skips the ordinary INFO lines at memory speed), and a [`regex::bytes::RegexSet`] that tells every
//!   rule matching such a line. Logs are never split into lines up front and never tried rule by rule.
//! * **Classifying never fails.** [`Classifier`] streams its input in bounded chunks (gzip is recognised and
//!   decompressed on the fly), tolerates invalid UTF-8 and over-long lines, and always returns a
//!   [`Classification`] — `unclassified` when no rule matched, with warnings for inputs it could not read whole.
//!
//! [`Category`]: medic_core::Category
//! [`Classification`]: medic_core::Classification

mod classify;
mod error;
mod pack;
mod pattern;
mod prefilter;
pub mod reference;
mod rule;
mod ruleset;

pub use classify::{Classifier, MAX_LINE_BYTES};
pub use error::{Diagnostic, Error, Result};
pub use pack::{BUILTIN_ORIGIN, RulePack};
pub use rule::{Rule, RuleOrigin, RuleScope, SourceFilter};
pub use ruleset::{PackInfo, RuleSet};

//! Domain types shared by every medic crate.
//!
//! medic classifies failed Spark runs, recommends a configuration for the retry, stores it as a scoped patch and
//! drives the retry. The vocabulary those steps share lives here: the failure [`Category`] taxonomy, the
//! [`LogSource`] a log line came from, the [`JobIdentity`] that scopes rules and patches, and the
//! [`Classification`] that the rule engine produces and every later stage consumes; the [`SparkConf`] a job runs with
//! and the scoped [`patch::Patch`]es that change it, with [`patch::resolve`], the one definition of how patches
//! combine; and [`spark`], the one place that says what Spark itself does with a configuration (default heaps and
//! overheads, local mode, the resources a configuration occupies).
//!
//! This crate does no I/O and depends only on pure data crates (`serde`, `serde_json`, `json-patch`, `time`,
//! `thiserror`), so that every other crate can depend on it without pulling in a runtime, a database driver or a
//! regex engine.

mod category;
mod classification;
pub mod clock;
pub mod history;
mod job;
pub mod patch;
pub mod recommendation;
pub mod sizing;
mod source;
pub mod spark;
mod spark_conf;
pub mod text;
pub mod units;

pub use category::{Category, Memory, UnknownCategory};
pub use classification::{Classification, Evidence, RuleMatch, ScanStats};
pub use job::{JobIdentity, RunOutcome};
pub use source::{LogSource, UnknownSource};
pub use spark_conf::{ConfError, SparkConf};

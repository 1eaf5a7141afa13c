//! medic driving real Spark.
//!
//! * [`eventlog`] reads what Spark wrote about an application: single event-log files or rolling folders, plain or
//!   zstd, streamed line by line into an [`eventlog::EventLogSummary`] (runtime, task failures and their reasons,
//!   failed SQL executions, peak JVM heap and execution memory, spill, GC time, input bytes, plan operators). A bad
//!   line is a problem in the summary, never a panic.
//! * [`SparkRunner`] is the scheduler's [`medic_scheduler::JobRunner`] for jobs with a `spark:` section: it builds
//!   the `spark-submit` line from the resolved configuration, turns the event log on into the attempt's folder with
//!   executor-metrics sampling, and after the attempt hands the event log's findings to the classifier (source
//!   `eventlog`) and its figures to the history (peak memory, cost, metrics).
//! * [`SparkInstall`] finds `spark-submit`: `$MEDIC_SPARK_HOME`, the repository's `.cache/spark/venv` (made by
//!   [`INSTALL_COMMAND`]), or `PATH`.
//!
//! This crate knows Spark and processes, and nothing of HTTP, the store or the model: the scheduler's `Remediator`
//! is the only way its results reach medic.

mod error;
pub mod eventlog;
mod install;
mod runner;

pub use error::{Error, Result};
pub use install::{INSTALL_COMMAND, REPO_SPARK_HOME, SparkInstall};
pub use runner::{
    EVENT_LOG_DIR, EVENT_LOG_FINDINGS_FILE, EVENT_LOG_SUMMARY_FILE, SparkRunner, submit_command,
};

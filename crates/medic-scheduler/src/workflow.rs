//! Workflow files (YAML): jobs with their command, Spark configuration, identity, retry policy and dependencies.
//!
//! ```yaml
//! name: nightly-sales            # the JobIdentity's workflow
//! defaults:                      # optional; every job's own fields override these
//!   owner: data-eng
//!   cluster: yarn-prod
//!   conf: {spark.executor.memory: 2g}
//!   retry: {max_attempts: 3, initial_backoff_s: 60, backoff_multiplier: 2, max_backoff_s: 600}
//!   timeout_s: 7200
//! jobs:
//!   - name: ingest               # letters, digits, `-`, `_`, `.`; it names the job's folder in the run folder
//!     command: [spark-submit, --class, com.acme.Ingest, ingest.jar]
//!     conf:
//!       spark.sql.shuffle.partitions: 400   # numbers and booleans are read as text
//!   - name: report
//!     id: sales.report           # the JobIdentity's id; `<workflow>.<job>` when left out
//!     command: spark-submit {conf} report.py --day today
//!     depends_on: [ingest]
//!   - name: rollup               # a Spark application instead of a command (for a Spark runner)
//!     spark:
//!       application: jobs/rollup.py      # a Python file or a jar, relative to the workflow's folder
//!       class: com.acme.Rollup           # a jar's main class (optional)
//!       args: [--day, today]             # the application's own arguments (optional)
//!       master: local[2]                 # optional: sets `spark.master` in the configuration
//!     conf: {spark.driver.memory: 1g}
//! ```
//!
//! The file is read in two stages, like a rule pack: into a loose tree where every key and value keeps its line,
//! then field by field, so that *every* problem is reported (unknown fields, wrong types, duplicate names, unknown
//! or cyclic dependencies, empty commands, `max_attempts: 0`) with its file and line, and a workflow with any
//! problem is refused whole.

use std::path::{Path, PathBuf};
use std::time::Duration;

use medic_core::{JobIdentity, SparkConf};

use crate::error::{Error, Problem, Result};
use crate::yaml_tree::Node;

mod check;

/// The command-line element that expands to the configuration's `--conf key=value` flags. Without it, the flags
/// go right after the program, which is where `spark-submit` wants them (before the application file).
pub const CONF_PLACEHOLDER: &str = "{conf}";

/// Workflow files larger than this are refused rather than parsed (a workflow is hand-written text).
const MAX_WORKFLOW_BYTES: u64 = 4 * 1024 * 1024;

/// A validated workflow: its jobs, in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct Workflow {
    /// The workflow's name (every job's [`JobIdentity::workflow`]).
    pub name: String,
    /// Where it was read from: its path, or the name given to [`Workflow::parse`].
    pub source: String,
    /// The jobs, in file order. Names and ids are unique; dependencies name jobs of this workflow and form no cycle.
    pub jobs: Vec<Job>,
}

/// A Spark application a job submits (the `spark:` section), for a runner that knows Spark. Its master, when the
/// section names one, is in the job's configuration as `spark.master`, where the recommender sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparkApp {
    /// The application: a Python file or a jar, relative to the job's working directory or absolute.
    pub application: String,
    /// The main class of a jar application.
    pub main_class: Option<String>,
    /// The application's own arguments.
    pub args: Vec<String>,
}

impl SparkApp {
    /// The `spark-submit` command line that runs this application with a job's `{conf}` flags: what a runner that
    /// knows nothing of Spark ([`crate::ProcessRunner`]) runs, with `spark-submit` from `PATH`.
    pub fn command(&self) -> Vec<String> {
        let mut line = vec!["spark-submit".to_owned(), CONF_PLACEHOLDER.to_owned()];
        if let Some(class) = &self.main_class {
            line.extend(["--class".to_owned(), class.clone()]);
        }
        line.push(self.application.clone());
        line.extend(self.args.iter().cloned());
        line
    }
}

/// One job of a workflow, with the workflow's defaults already applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// The job's name, unique in the workflow; it also names the job's folder in a run folder.
    pub name: String,
    /// Who the job is to medic: id (`<workflow>.<job>` unless given), workflow, owner, cluster.
    pub identity: JobIdentity,
    /// The program and its arguments, as written (see [`Job::command_line`] for what runs). For a Spark job,
    /// [`SparkApp::command`].
    pub command: Vec<String>,
    /// The Spark application, when the job is written as one (`spark:` rather than `command:`).
    pub spark: Option<SparkApp>,
    /// The Spark configuration the job asks for, before medic's patches.
    pub conf: SparkConf,
    /// How often and how patiently to retry it.
    pub retry: RetryPolicy,
    /// How long one attempt may run before it is killed; `None` for no limit.
    pub timeout: Option<Duration>,
    /// The names of the jobs that must succeed before this one runs.
    pub depends_on: Vec<String>,
    /// The folder the command runs in: the workflow file's folder, so relative paths in a workflow mean the same
    /// wherever the scheduler is started from.
    pub working_dir: PathBuf,
}

/// How many attempts a job gets and how long to wait between them: exponential backoff, capped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (so 1 means no retry).
    pub max_attempts: u32,
    /// The wait after the first failed attempt.
    pub initial_backoff: Duration,
    /// What each further wait is multiplied by.
    pub backoff_multiplier: f64,
    /// The longest wait.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Netflix Maestro's default for user errors (`Defaults.java` in `maestro-common`): 2 retries (3 attempts),
    /// waits of 60 s × 2ⁿ, at most 600 s. A failed Spark job is a user error in Maestro's terms; its platform and
    /// timeout defaults (up to 3 600 s) are for failures of the scheduler's own infrastructure.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_secs(60),
            backoff_multiplier: 2.0,
            max_backoff: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based) before the next one: `initial × multiplier^(attempt−1)`,
    /// at most `max_backoff`.
    pub fn backoff_after(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let seconds = self.initial_backoff.as_secs_f64() * self.backoff_multiplier.powi(exponent);
        let max = self.max_backoff.as_secs_f64();
        // A NaN or an overflow to infinity also lands on the cap.
        if seconds.is_finite() && seconds < max {
            Duration::from_secs_f64(seconds.max(0.0))
        } else {
            self.max_backoff
        }
    }
}

impl Job {
    /// The command line an attempt runs with `conf`: every [`CONF_PLACEHOLDER`] element replaced by the
    /// `--conf key=value` flags (in key order, so the same configuration always gives the same line), or, without
    /// a placeholder, the flags inserted right after the program.
    pub fn command_line(&self, conf: &SparkConf) -> Vec<String> {
        let flags = conf.to_conf_args();
        let mut line = Vec::with_capacity(self.command.len() + flags.len());
        if self.command.iter().any(|arg| arg == CONF_PLACEHOLDER) {
            for arg in &self.command {
                if arg == CONF_PLACEHOLDER {
                    line.extend(flags.iter().cloned());
                } else {
                    line.push(arg.clone());
                }
            }
        } else {
            line.extend(self.command.first().cloned());
            line.extend(flags);
            line.extend(self.command.iter().skip(1).cloned());
        }
        line
    }
}

impl Workflow {
    /// The folder under `runs` for a run of this workflow started at `now`: `<name>-YYYYMMDD-HHMMSS`.
    pub fn run_folder(&self, runs: &Path, now: time::OffsetDateTime) -> PathBuf {
        runs.join(format!(
            "{}-{:04}{:02}{:02}-{:02}{:02}{:02}",
            self.name,
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        ))
    }

    /// Reads and validates the workflow in `path`. Its jobs run in the file's folder.
    pub fn load(path: &Path) -> Result<Workflow> {
        let file = path.display().to_string();
        let refuse = |message: String| Error::InvalidWorkflow {
            file: file.clone(),
            problems: vec![Problem {
                file: file.clone(),
                line: None,
                job: None,
                message,
            }],
        };
        let size = std::fs::metadata(path)
            .map_err(|e| refuse(format!("cannot read: {e}")))?
            .len();
        if size > MAX_WORKFLOW_BYTES {
            return Err(refuse(format!(
                "{size} bytes is larger than the {MAX_WORKFLOW_BYTES}-byte limit for a workflow"
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| refuse(format!("cannot read: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| refuse(format!("not valid UTF-8: {e}")))?;
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let working_dir = std::path::absolute(folder)
            .map_err(|e| refuse(format!("cannot locate the workflow's folder: {e}")))?;
        Workflow::parse(&file, &text, &working_dir)
    }

    /// Validates the workflow in `yaml`; `source` names it in problems, and its jobs run in `working_dir`.
    pub fn parse(source: &str, yaml: &str, working_dir: &Path) -> Result<Workflow> {
        let mut check = check::Checker::new(source);
        let workflow = match serde_saphyr::from_str::<Node>(yaml) {
            Ok(root) => check.workflow(&root, working_dir),
            Err(e) => {
                let line = e.location().map_or(0, |l| l.line());
                let message = e.to_string();
                let first = message.lines().next().unwrap_or_default();
                check.report(line, None, format!("not valid YAML: {first}"));
                None
            }
        };
        // Read top to bottom; problems on one line keep the order they were found in.
        check.problems.sort_by_key(|p| p.line.unwrap_or(0));
        match workflow {
            Some(workflow) if check.problems.is_empty() => Ok(workflow),
            _ => Err(Error::InvalidWorkflow {
                file: source.to_owned(),
                problems: check.problems,
            }),
        }
    }

    /// The job called `name`.
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|job| job.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_by_the_multiplier_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = (1..=6).map(|n| policy.backoff_after(n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 600, 600]);
        assert_eq!(policy.backoff_after(u32::MAX), policy.max_backoff);
    }
}

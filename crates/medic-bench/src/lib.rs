//! medic's real-job benchmark: how medic does on real Spark jobs it has not seen, from a fresh database.
//!
//! A benchmark file (`examples/spark/bench/*.yaml`) lists jobs with what was verified about them by repeated real
//! runs, before medic saw them: the configuration they fail with (`fails_with`), the smallest tried value of the
//! knob that fixes them (`fixed_by`), the error, and every value tried (`ladder`). Each file is a *set*, named by
//! its file stem (`tuning`, `held_out`): medic may be tuned on the first and is reported on the second apart.
//!
//! [`workflow`] turns the jobs into one workflow that starts every job at its failing configuration; the binary
//! runs it through the scheduler and medic exactly as `medic run` does; [`score`] reads the run's report against
//! the files: for the memory failures, fixed on the first retry, fixed within two, wasted retries, retries with a
//! configuration that already failed; for the other failures, retries with a changed configuration (none may be);
//! for healthy jobs, anything done to them (nothing may be); and what the retries cost.
//!
//! The kind of a job (memory, other, healthy) is the file's word, not medic's classification: a memory failure
//! medic does not recognise is a memory failure it did not fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use medic_core::SparkConf;
use medic_core::units::{SizeUnit, parse_size};
use medic_scheduler::{AttemptDecision, JobReport, JobStatus, Workflow, WorkflowReport};
use serde::{Deserialize, Serialize};

/// Benchmark files larger than this are refused: a benchmark file is hand-written text.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The configuration every benchmark job shares (local mode on two threads, as the jobs were verified), under
/// the job's own `fails_with`.
pub const SHARED_CONF: [(&str, &str); 4] = [
    ("spark.master", "local[2]"),
    ("spark.sql.shuffle.partitions", "4"),
    ("spark.ui.enabled", "false"),
    ("spark.ui.showConsoleProgress", "false"),
];

/// Attempts per job: the first and two retries, so that "fixed within two retries" can be seen.
pub const MAX_ATTEMPTS: u32 = 3;

/// An attempt that runs longer than this is killed: the jobs were verified to end far sooner.
pub const TIMEOUT_S: u64 = 600;

/// Why a benchmark file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read.
    #[error("cannot read {file}: {reason}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The file is not a valid benchmark file; every problem is listed.
    #[error("{file} is not a valid benchmark file:\n  {}", problems.join("\n  "))]
    Invalid {
        /// The file.
        file: String,
        /// Every problem found, in file order.
        problems: Vec<String>,
    },
    /// Jobs were asked for that no file holds.
    #[error("no benchmark file holds {}", names.join(", "))]
    UnknownJobs {
        /// The names no file holds.
        names: Vec<String>,
    },
    /// The workflow built from the files was refused by the scheduler.
    #[error(transparent)]
    Workflow(#[from] medic_scheduler::Error),
}

/// What a job is, as verified: a memory failure a configuration fixes, another failure that no configuration
/// fixes, or a healthy job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A memory failure that a configuration fixes.
    Memory,
    /// A failure no configuration fixes (a bug, missing data).
    Other,
    /// A job that succeeds as it is.
    Healthy,
}

/// A YAML scalar read as Spark reads configuration values and arguments: as text.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Text(text) => text.clone(),
            Scalar::Integer(n) => n.to_string(),
            Scalar::Float(x) => x.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

fn conf_of(values: &BTreeMap<String, Scalar>) -> SparkConf {
    let mut conf = SparkConf::new();
    for (key, value) in values {
        conf.set(key.clone(), value.text());
    }
    conf
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    jobs: Vec<JobSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobSpec {
    name: String,
    application: String,
    #[serde(default)]
    args: Vec<Scalar>,
    kind: Kind,
    #[serde(default)]
    knob: Option<String>,
    #[serde(default)]
    fails_with: BTreeMap<String, Scalar>,
    #[serde(default)]
    fixed_by: BTreeMap<String, Scalar>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    exit_code: Option<i32>,
    #[serde(default)]
    ladder: Vec<RungSpec>,
    #[serde(default)]
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RungSpec {
    value: Scalar,
    outcome: RungOutcome,
    runs: u32,
    #[serde(default)]
    seconds: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RungOutcome {
    Failed,
    Succeeded,
}

/// One verified job of a benchmark file.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchJob {
    /// The job's name (unique across the files of one run).
    pub name: String,
    /// The set it belongs to: its file's stem.
    pub set: String,
    /// The application: its path in the file, from the benchmark file's folder.
    pub application: PathBuf,
    /// The application's arguments.
    pub args: Vec<String>,
    /// What it is, as verified.
    pub kind: Kind,
    /// The knob whose smallest passing value was found (memory jobs).
    pub knob: Option<String>,
    /// The configuration it was verified to fail with, and starts at.
    pub fails_with: SparkConf,
    /// The configuration (changes to `fails_with`) it was verified to succeed with.
    pub fixed_by: SparkConf,
    /// The error seen at `fails_with`.
    pub error: Option<String>,
    /// `spark-submit`'s exit code at `fails_with`.
    pub exit_code: Option<i32>,
    /// What the verification noticed beyond the ladder.
    pub notes: Option<String>,
    /// Memory jobs whose ladder climbs a size: where the need lies, as a multiple of the failing value, `(low,
    /// high]`: above the largest value that failed, at most the smallest that passed.
    pub need: Option<(f64, f64)>,
}

/// A benchmark file: one set of jobs.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchFile {
    /// The set's name: the file's stem.
    pub set: String,
    /// Its jobs, in file order.
    pub jobs: Vec<BenchJob>,
}

impl BenchFile {
    /// Reads and checks the benchmark file at `path`.
    pub fn load(path: &Path) -> Result<BenchFile, Error> {
        let file = path.display().to_string();
        let read = |reason: String| Error::Read {
            file: file.clone(),
            reason,
        };
        let size = std::fs::metadata(path)
            .map_err(|e| read(e.to_string()))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(read(format!(
                "{size} bytes is larger than the {MAX_FILE_BYTES}-byte limit for a benchmark file"
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| read(e.to_string()))?;
        let set = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let folder = std::path::absolute(folder).map_err(|e| read(e.to_string()))?;
        BenchFile::parse(&file, &set, &text, folder)
    }

    /// Checks the benchmark file `text` (called `file` in problems) of the set `set`, whose applications are
    /// relative to `folder`. Every problem is reported, and a file with any problem is refused whole.
    pub fn parse(file: &str, set: &str, text: &str, folder: PathBuf) -> Result<BenchFile, Error> {
        let invalid = |problems: Vec<String>| Error::Invalid {
            file: file.to_owned(),
            problems,
        };
        let spec: FileSpec =
            serde_saphyr::from_str(text).map_err(|e| invalid(vec![e.to_string()]))?;
        let mut problems = Vec::new();
        let mut names = BTreeSet::new();
        let mut jobs = Vec::new();
        for job in spec.jobs {
            let mut problem = |what: String| problems.push(format!("job `{}`: {what}", job.name));
            if !names.insert(job.name.clone()) {
                problem("a second job of that name".to_owned());
            }
            if job.kind == Kind::Memory {
                let Some(knob) = &job.knob else {
                    problem("a memory job names the knob that fixes it (`knob`)".to_owned());
                    continue;
                };
                if !job.fixed_by.contains_key(knob) {
                    problem(format!("`fixed_by` does not set its knob `{knob}`"));
                }
                if job.fails_with.is_empty() {
                    problem(
                        "a memory job says the configuration it fails with (`fails_with`)"
                            .to_owned(),
                    );
                }
                if !job
                    .ladder
                    .iter()
                    .any(|rung| rung.outcome == RungOutcome::Succeeded)
                {
                    problem("its `ladder` shows no value that passed".to_owned());
                }
            }
            for rung in &job.ladder {
                if rung.runs < 2 {
                    problem(format!(
                        "the ladder's value {} was run {} time(s); every value is verified by at least two runs",
                        rung.value.text(),
                        rung.runs
                    ));
                }
                if !rung.seconds.is_empty() && rung.seconds.len() != rung.runs as usize {
                    problem(format!(
                        "the ladder's value {} has {} runs but {} times",
                        rung.value.text(),
                        rung.runs,
                        rung.seconds.len()
                    ));
                }
            }
            let need = job.knob.as_ref().and_then(|knob| {
                let size = |scalar: &Scalar| parse_size(&scalar.text(), SizeUnit::Mib).ok();
                let start = size(job.fails_with.get(knob)?)? as f64;
                let values = |outcome| {
                    job.ladder
                        .iter()
                        .filter(move |rung| rung.outcome == outcome)
                        .filter_map(|rung| size(&rung.value))
                        .map(|bytes| bytes as f64 / start)
                };
                let low = values(RungOutcome::Failed).fold(1.0, f64::max);
                let high = values(RungOutcome::Succeeded).fold(f64::INFINITY, f64::min);
                (start > 0.0 && high.is_finite() && high > low).then_some((low, high))
            });
            jobs.push(BenchJob {
                name: job.name,
                set: set.to_owned(),
                application: folder.join(&job.application),
                args: job.args.iter().map(Scalar::text).collect(),
                kind: job.kind,
                knob: job.knob,
                fails_with: conf_of(&job.fails_with),
                fixed_by: conf_of(&job.fixed_by),
                error: job.error,
                exit_code: job.exit_code,
                notes: job.notes,
                need,
            });
        }
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Ok(BenchFile {
            set: set.to_owned(),
            jobs,
        })
    }
}

/// The jobs of `files` to run: all of them, or those named in `only` (every name must exist).
pub fn select<'a>(files: &'a [BenchFile], only: &[String]) -> Result<Vec<&'a BenchJob>, Error> {
    let all: Vec<&BenchJob> = files.iter().flat_map(|file| &file.jobs).collect();
    if only.is_empty() {
        return Ok(all);
    }
    let unknown: Vec<String> = only
        .iter()
        .filter(|name| !all.iter().any(|job| &job.name == *name))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(Error::UnknownJobs { names: unknown });
    }
    Ok(all
        .into_iter()
        .filter(|job| only.contains(&job.name))
        .collect())
}

/// One workflow (`spark-bench`) that runs `jobs`, each from its failing configuration over the [`SHARED_CONF`],
/// with [`MAX_ATTEMPTS`] attempts, no backoff and no dependencies.
pub fn workflow(jobs: &[&BenchJob]) -> Result<Workflow, Error> {
    let entries: Vec<serde_json::Value> = jobs
        .iter()
        .map(|job| {
            serde_json::json!({
                "name": job.name,
                "spark": {
                    "application": job.application.display().to_string(),
                    "args": job.args,
                },
                "conf": job.fails_with.to_json_value(),
            })
        })
        .collect();
    let shared: serde_json::Map<String, serde_json::Value> = SHARED_CONF
        .iter()
        .map(|(key, value)| ((*key).to_owned(), serde_json::Value::from(*value)))
        .collect();
    // JSON is YAML: the scheduler checks the workflow as it checks a file.
    let text = serde_json::json!({
        "name": "spark-bench",
        "defaults": {
            "owner": "bench",
            "cluster": "local",
            "retry": {"max_attempts": MAX_ATTEMPTS, "initial_backoff_s": 0},
            "timeout_s": TIMEOUT_S,
            "conf": shared,
        },
        "jobs": entries,
    })
    .to_string();
    // The applications' paths are whole, so the folder the jobs run in is only where their output lands.
    let working_dir = jobs
        .first()
        .and_then(|job| job.application.parent())
        .unwrap_or(Path::new("."));
    Ok(Workflow::parse("spark-bench", &text, working_dir)?)
}

/// How medic did on one job.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobScore {
    /// The job's name.
    pub name: String,
    /// Its set.
    pub set: String,
    /// What it is, as verified.
    pub kind: Kind,
    /// Whether the job ended succeeded, failed or skipped.
    pub status: JobStatus,
    /// Attempts made.
    pub attempts: u32,
    /// The category and rule medic gave the first failure.
    pub first_category: Option<String>,
    /// The rule that decided it.
    pub first_rule: Option<String>,
    /// Memory jobs: the second attempt succeeded.
    pub fixed_on_first_retry: bool,
    /// Memory jobs: the second or third attempt succeeded.
    pub fixed_within_two_retries: bool,
    /// Retries that failed.
    pub wasted_retries: u32,
    /// Memory jobs: retries with a configuration an earlier attempt of the job had already failed with.
    pub identical_config_retries: u32,
    /// Other failures: retries with a configuration changed from the failed attempt's (none may be).
    pub changed_config_retries: u32,
    /// Healthy jobs: anything done to them (more than one attempt, or a configuration changed).
    pub healthy_touched: bool,
    /// What the retries cost, in dollars (the first attempt is the failure's own cost).
    pub retry_cost_dollars: f64,
    /// What the failed retries cost.
    pub wasted_cost_dollars: f64,
    /// Memory jobs that were fixed: the knob's value in the succeeding attempt over the verified smallest
    /// passing value (1.0: exactly that; 2.0: twice the memory that was needed at most).
    pub knob_over_fixed: Option<f64>,
    /// What medic said last: the reason of the last attempt's decision.
    pub last_reason: String,
    /// Whether the job met the benchmark's bar for its kind.
    pub passed: bool,
}

/// The totals of one set.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SetScore {
    /// The set's name.
    pub set: String,
    /// Memory jobs run.
    pub memory_jobs: u32,
    /// Memory jobs fixed on the first retry.
    pub fixed_on_first_retry: u32,
    /// Memory jobs fixed on the first or second retry.
    pub fixed_within_two_retries: u32,
    /// Retries that failed, of every kind of job.
    pub wasted_retries: u32,
    /// Memory jobs' retries with a configuration that had already failed.
    pub identical_config_retries: u32,
    /// Failures no configuration fixes, run.
    pub other_jobs: u32,
    /// Their retries with a changed configuration.
    pub changed_config_retries: u32,
    /// Healthy jobs run.
    pub healthy_jobs: u32,
    /// Healthy jobs retried or changed.
    pub healthy_touched: u32,
    /// What every retry cost, in dollars.
    pub retry_cost_dollars: f64,
    /// What the failed retries cost.
    pub wasted_cost_dollars: f64,
}

/// The score of a run: every job, and the totals of each set.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BenchScore {
    /// Every job, in the order run.
    pub jobs: Vec<JobScore>,
    /// Each set's totals, in file order.
    pub sets: Vec<SetScore>,
}

/// Scores `report` (a run of [`workflow`]) for `jobs`. A job the report does not hold scores as not run.
pub fn score(jobs: &[&BenchJob], report: &WorkflowReport) -> BenchScore {
    let mut scores = Vec::new();
    let mut sets: Vec<SetScore> = Vec::new();
    for job in jobs {
        let empty = JobReport {
            name: job.name.clone(),
            id: String::new(),
            status: JobStatus::Skipped,
            attempts: Vec::new(),
            skipped_because: Vec::new(),
        };
        let run = report.job(&job.name).unwrap_or(&empty);
        let score = score_job(job, run);
        let set = match sets.iter_mut().position(|set| set.set == job.set) {
            Some(index) => &mut sets[index],
            None => {
                sets.push(SetScore {
                    set: job.set.clone(),
                    ..SetScore::default()
                });
                sets.last_mut().expect("just pushed")
            }
        };
        set.wasted_retries += score.wasted_retries;
        set.retry_cost_dollars += score.retry_cost_dollars;
        set.wasted_cost_dollars += score.wasted_cost_dollars;
        match job.kind {
            Kind::Memory => {
                set.memory_jobs += 1;
                set.fixed_on_first_retry += u32::from(score.fixed_on_first_retry);
                set.fixed_within_two_retries += u32::from(score.fixed_within_two_retries);
                set.identical_config_retries += score.identical_config_retries;
            }
            Kind::Other => {
                set.other_jobs += 1;
                set.changed_config_retries += score.changed_config_retries;
            }
            Kind::Healthy => {
                set.healthy_jobs += 1;
                set.healthy_touched += u32::from(score.healthy_touched);
            }
        }
        scores.push(score);
    }
    BenchScore { jobs: scores, sets }
}

fn score_job(job: &BenchJob, run: &JobReport) -> JobScore {
    let attempts = &run.attempts;
    let succeeded_at = attempts
        .iter()
        .find(|attempt| attempt.decision == AttemptDecision::Succeeded)
        .map(|attempt| attempt.attempt);
    let retries = attempts.iter().skip(1);
    let wasted_retries = retries
        .clone()
        .filter(|attempt| attempt.decision != AttemptDecision::Succeeded)
        .count() as u32;
    let cost = |attempt: &medic_scheduler::AttemptReport| attempt.cost_dollars.unwrap_or(0.0);
    let retry_cost_dollars = retries.clone().map(cost).sum();
    let wasted_cost_dollars = retries
        .clone()
        .filter(|attempt| attempt.decision != AttemptDecision::Succeeded)
        .map(cost)
        .sum();
    let mut identical_config_retries = 0;
    let mut changed_config_retries = 0;
    for (index, attempt) in attempts.iter().enumerate().skip(1) {
        let earlier = &attempts[..index];
        if earlier.iter().any(|failed| failed.config == attempt.config) {
            identical_config_retries += 1;
        }
        if attempt.config != earlier[index - 1].config {
            changed_config_retries += 1;
        }
    }
    let first = attempts.first();
    let fixed_on_first_retry = job.kind == Kind::Memory && succeeded_at == Some(2);
    let fixed_within_two_retries = job.kind == Kind::Memory && matches!(succeeded_at, Some(2 | 3));
    let healthy_touched = job.kind == Kind::Healthy
        && (attempts.len() != 1
            || attempts
                .iter()
                .any(|attempt| !attempt.config_changes.is_empty()));
    let knob_over_fixed = match (&job.knob, succeeded_at) {
        (Some(knob), Some(at)) if job.kind == Kind::Memory && at > 1 => {
            let given = attempts[at as usize - 1].config.get(knob).and_then(mib);
            let needed = job.fixed_by.get(knob).and_then(mib);
            given.zip(needed).map(|(given, needed)| given / needed)
        }
        _ => None,
    };
    let (identical_config_retries, changed_config_retries) = match job.kind {
        Kind::Memory => (identical_config_retries, 0),
        Kind::Other => (0, changed_config_retries),
        Kind::Healthy => (0, 0),
    };
    let passed = match job.kind {
        Kind::Memory => fixed_on_first_retry && identical_config_retries == 0,
        Kind::Other => changed_config_retries == 0 && succeeded_at.is_none(),
        Kind::Healthy => !healthy_touched && succeeded_at == Some(1),
    };
    JobScore {
        name: job.name.clone(),
        set: job.set.clone(),
        kind: job.kind,
        status: run.status,
        attempts: attempts.len() as u32,
        first_category: first
            .and_then(|attempt| attempt.failure_category)
            .map(|category| category.to_string()),
        first_rule: first.and_then(|attempt| attempt.failure_rule.clone()),
        fixed_on_first_retry,
        fixed_within_two_retries,
        wasted_retries,
        identical_config_retries,
        changed_config_retries,
        healthy_touched,
        retry_cost_dollars,
        wasted_cost_dollars,
        knob_over_fixed,
        last_reason: attempts
            .last()
            .map(|attempt| attempt.reason.clone())
            .unwrap_or_default(),
        passed,
    }
}

/// A memory setting in MiB (Spark's default unit for it).
fn mib(value: &str) -> Option<f64> {
    parse_size(value, SizeUnit::Mib)
        .ok()
        .map(|bytes| bytes as f64 / (1u64 << 20) as f64)
}

#[cfg(test)]
mod tests;

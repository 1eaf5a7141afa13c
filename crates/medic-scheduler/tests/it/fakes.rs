//! Test doubles: a remediator that fixes executor OOMs by patch, one that is down, and a runner that plays back
//! scripted outcomes without starting processes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use medic_core::history::RunMetrics;
use medic_core::{Category, JobIdentity, LogSource, SparkConf};
use medic_scheduler::{
    AttemptOutcome, AttemptRecord, AttemptRequest, Decision, FailedAttempt, JobRunner, LogFile,
    RemediationError, Remediator, ResolvedConfig, RunnerError, STDERR_FILE, STDOUT_FILE,
};

/// Classifies by looking for two markers in standard error. An executor OOM gets a patch setting
/// `spark.executor.memory=4g`, which later `resolve` calls apply; an `AnalysisException` is not worth a retry;
/// anything else is unclassified and retried.
#[derive(Default)]
pub struct FakeMedic {
    patches: Mutex<HashMap<String, Vec<(String, SparkConf)>>>,
    /// Every failed attempt it was asked about.
    pub failed: Mutex<Vec<FailedAttempt>>,
    /// Every attempt it was told about.
    pub records: Mutex<Vec<AttemptRecord>>,
}

impl FakeMedic {
    pub fn records(&self) -> Vec<AttemptRecord> {
        self.records.lock().expect("not poisoned").clone()
    }

    pub fn failed(&self) -> Vec<FailedAttempt> {
        self.failed.lock().expect("not poisoned").clone()
    }
}

impl Remediator for FakeMedic {
    fn resolve(
        &self,
        job: &JobIdentity,
        base: &SparkConf,
    ) -> Result<ResolvedConfig, RemediationError> {
        let mut resolved = ResolvedConfig {
            config: base.clone(),
            applied_patches: Vec::new(),
        };
        for (id, patch) in self
            .patches
            .lock()
            .expect("not poisoned")
            .get(&job.id)
            .into_iter()
            .flatten()
        {
            resolved.config.0.extend(patch.0.clone());
            resolved.applied_patches.push(id.clone());
        }
        Ok(resolved)
    }

    fn remediate(&self, failed: &FailedAttempt) -> Result<Decision, RemediationError> {
        self.failed
            .lock()
            .expect("not poisoned")
            .push(failed.clone());
        let stderr = failed
            .logs
            .iter()
            .find(|log| log.source == LogSource::Stderr)
            .map(|log| std::fs::read_to_string(&log.path).unwrap_or_default())
            .unwrap_or_default();
        if stderr.contains("java.lang.OutOfMemoryError: Java heap space") {
            let mut patches = self.patches.lock().expect("not poisoned");
            let job_patches = patches.entry(failed.job.id.clone()).or_default();
            let id = format!("p{}", job_patches.len() + 1);
            let mut patch = SparkConf::new();
            patch.set("spark.executor.memory", "4g");
            job_patches.push((id.clone(), patch));
            return Ok(Decision {
                retry: true,
                reason: "executor out of heap: more executor memory".to_owned(),
                category: Some(Category::ExecutorOom),
                rule: Some("executor-heap-oom".to_owned()),
                evidence: None,
                patch_id: Some(id),
                config_changes: BTreeMap::from([(
                    "spark.executor.memory".to_owned(),
                    Some("4g".to_owned()),
                )]),
                recommended_changes: BTreeMap::from([(
                    "spark.executor.memory".to_owned(),
                    Some("4g".to_owned()),
                )]),
            });
        }
        if stderr.contains("AnalysisException") {
            return Ok(Decision {
                category: Some(Category::UserCodeError),
                rule: Some("analysis-exception".to_owned()),
                ..Decision::do_not_retry("the query is wrong: a retry fails the same way")
            });
        }
        Ok(Decision {
            category: Some(Category::Unclassified),
            ..Decision::retry("unclassified: retry as the policy allows")
        })
    }

    fn record(&self, attempt: &AttemptRecord) -> Result<(), RemediationError> {
        self.records
            .lock()
            .expect("not poisoned")
            .push(attempt.clone());
        Ok(())
    }
}

/// medic's server is down: every call fails.
pub struct DownMedic;

impl Remediator for DownMedic {
    fn resolve(
        &self,
        _job: &JobIdentity,
        _base: &SparkConf,
    ) -> Result<ResolvedConfig, RemediationError> {
        Err(RemediationError::Unavailable(
            "connection refused".to_owned(),
        ))
    }

    fn remediate(&self, _failed: &FailedAttempt) -> Result<Decision, RemediationError> {
        Err(RemediationError::Unavailable(
            "connection refused".to_owned(),
        ))
    }

    fn record(&self, _attempt: &AttemptRecord) -> Result<(), RemediationError> {
        Err(RemediationError::Unavailable(
            "connection refused".to_owned(),
        ))
    }
}

/// One scripted attempt: an exit code and what goes to standard error; `Err` for a runner that cannot run it.
pub type Script = Result<(i32, &'static str), &'static str>;

/// Plays back scripted attempts per job name (a job without a script left succeeds), writing the logs where a
/// real runner would, and remembers every request.
#[derive(Default)]
pub struct ScriptedRunner {
    scripts: Mutex<HashMap<String, VecDeque<Script>>>,
    /// (job, attempt, configuration) of every request.
    pub requests: Mutex<Vec<(String, u32, SparkConf)>>,
}

impl ScriptedRunner {
    pub fn new(scripts: &[(&str, &[Script])]) -> Self {
        ScriptedRunner {
            scripts: Mutex::new(
                scripts
                    .iter()
                    .map(|(job, attempts)| (job.to_string(), attempts.iter().copied().collect()))
                    .collect(),
            ),
            requests: Mutex::default(),
        }
    }

    pub fn requests(&self) -> Vec<(String, u32, SparkConf)> {
        self.requests.lock().expect("not poisoned").clone()
    }
}

impl JobRunner for ScriptedRunner {
    fn run(&self, request: &AttemptRequest<'_>) -> Result<AttemptOutcome, RunnerError> {
        self.requests.lock().expect("not poisoned").push((
            request.job.name.clone(),
            request.attempt,
            request.config.clone(),
        ));
        let script = self
            .scripts
            .lock()
            .expect("not poisoned")
            .get_mut(&request.job.name)
            .and_then(VecDeque::pop_front)
            .unwrap_or(Ok((0, "")));
        let (exit_code, stderr) = script.map_err(|e| RunnerError::Other(e.to_owned()))?;
        let io = |source| RunnerError::Io {
            path: request.dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(request.dir).map_err(io)?;
        std::fs::write(request.dir.join(STDOUT_FILE), "").map_err(io)?;
        std::fs::write(request.dir.join(STDERR_FILE), stderr).map_err(io)?;
        // What a Spark runner adds: the event log's findings, tagged as such.
        let findings = request.dir.join("eventlog-findings.log");
        std::fs::write(&findings, "").map_err(io)?;
        Ok(AttemptOutcome {
            exit_code: Some(exit_code),
            signal: None,
            timed_out: false,
            runtime_seconds: 12.5,
            stdout: request.dir.join(STDOUT_FILE),
            stderr: request.dir.join(STDERR_FILE),
            peak_memory_bytes: None,
            cost_dollars: Some(0.25),
            input_bytes: Some(3 << 30),
            plan_operators: vec!["SortMergeJoin".to_owned()],
            metrics: Some(RunMetrics {
                peak_jvm_heap_bytes: Some(3 << 29),
                ..RunMetrics::default()
            }),
            logs: vec![LogFile {
                source: LogSource::Eventlog,
                path: findings,
            }],
            note: None,
        })
    }
}

/// A [`FakeMedic`] whose `resolve` fails from the `fail_from`-th call on, as when medic goes down mid-run.
pub struct GoesDown {
    pub medic: FakeMedic,
    pub fail_from: usize,
    pub calls: std::sync::atomic::AtomicUsize,
}

impl Remediator for GoesDown {
    fn resolve(
        &self,
        job: &JobIdentity,
        base: &SparkConf,
    ) -> Result<ResolvedConfig, RemediationError> {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if call >= self.fail_from {
            return Err(RemediationError::Unavailable("connection reset".to_owned()));
        }
        self.medic.resolve(job, base)
    }

    fn remediate(&self, failed: &FailedAttempt) -> Result<Decision, RemediationError> {
        self.medic.remediate(failed)
    }

    fn record(&self, attempt: &AttemptRecord) -> Result<(), RemediationError> {
        self.medic.record(attempt)
    }
}

//! [`SparkRunner`]: a [`JobRunner`] that submits a job's Spark application with `spark-submit`, with its event
//! log on, and reads back what Spark measured and why it failed.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use medic_core::history::Prices;
use medic_core::spark::Resources;
use medic_core::{LogSource, SparkConf};
use medic_scheduler::{
    AttemptOutcome, AttemptRequest, JobRunner, LogFile, ProcessRunner, RunnerError, SparkApp,
};

use crate::eventlog::{self, EventLogSummary};
use crate::install::SparkInstall;

/// The attempt's sub-folder Spark writes its event log to.
pub const EVENT_LOG_DIR: &str = "eventlog";
/// What the event log says failed, as a log for the classifier (source `eventlog`).
pub const EVENT_LOG_FINDINGS_FILE: &str = "eventlog.log";
/// The event log's summary as JSON, for people and tools.
pub const EVENT_LOG_SUMMARY_FILE: &str = "eventlog-summary.json";

/// Settings that `spark-submit` takes as flags rather than `--conf`. In client mode the driver's JVM starts
/// before Spark reads its configuration, so its heap, options and paths must come on the command line.
const FLAGS: [(&str, &str); 6] = [
    ("spark.master", "--master"),
    ("spark.submit.deployMode", "--deploy-mode"),
    ("spark.driver.memory", "--driver-memory"),
    ("spark.driver.extraJavaOptions", "--driver-java-options"),
    ("spark.driver.extraClassPath", "--driver-class-path"),
    ("spark.driver.extraLibraryPath", "--driver-library-path"),
];

/// Event-log settings added unless the job sets them. Without a polling interval Spark reports memory only at stage
/// ends (and zeros in local mode), which misses a driver that runs out of heap between stages. The codec matters
/// only where a cluster's defaults compress event logs: zstd is Spark 4's default and the one medic reads.
const EVENT_LOG_DEFAULTS: [(&str, &str); 4] = [
    ("spark.eventLog.compression.codec", "zstd"),
    ("spark.executor.metrics.pollingInterval", "200ms"),
    ("spark.eventLog.logStageExecutorMetrics", "true"),
    ("spark.executor.processTreeMetrics.enabled", "true"),
];

/// Submits Spark jobs (those with a `spark:` section) with `spark-submit`; other jobs run as plain processes
/// ([`ProcessRunner`]).
///
/// For a Spark job, the command line is built from the resolved configuration: [`FLAGS`] settings as their flags
/// (`--master`, `--driver-memory`, ...), the others as `--conf key=value` in key order, then the event-log
/// settings, `--class`, the application and its arguments. The event log goes to the attempt's
/// [`EVENT_LOG_DIR`] (`spark.eventLog.dir` is always overridden: medic must find it) with executor metrics
/// sampling on. After the attempt, the log is read:
///
/// * its failures (SQL execution errors, failed jobs, task failure reasons) become [`EVENT_LOG_FINDINGS_FILE`],
///   handed to the remediator with the `eventlog` source, beside stdout and stderr;
/// * its figures become the outcome's `metrics`, `peak_memory_bytes` (the highest JVM heap), `input_bytes` and
///   `plan_operators`; the cost is the runtime priced with [`Prices`] over the [`Resources`] the configuration
///   occupies (in local mode: the driver's JVM and the `local[N]` cores, since there are no executors; for
///   `local[*]`, the cores the event log reports);
/// * its problems (unreadable lines, a log cut short) are noted at the end of stderr, like the scheduler's own
///   notes.
#[derive(Clone, Debug)]
pub struct SparkRunner {
    install: SparkInstall,
    prices: Prices,
}

impl SparkRunner {
    /// A runner submitting with `install`, pricing attempts with `prices`.
    pub fn new(install: SparkInstall, prices: Prices) -> Self {
        SparkRunner { install, prices }
    }

    /// The installation it submits with.
    pub fn install(&self) -> &SparkInstall {
        &self.install
    }
}

impl JobRunner for SparkRunner {
    fn run(&self, request: &AttemptRequest<'_>) -> Result<AttemptOutcome, RunnerError> {
        let Some(app) = &request.job.spark else {
            return ProcessRunner.run(request);
        };
        let event_dir = absolute(&request.dir.join(EVENT_LOG_DIR));
        std::fs::create_dir_all(&event_dir).map_err(|source| RunnerError::Io {
            path: event_dir.clone(),
            source,
        })?;
        let argv = submit_command(&self.install.spark_submit, app, request.config, &event_dir);
        let mut outcome = ProcessRunner.run_command(request, &argv, &self.install.env)?;
        let summary = match eventlog::read(&event_dir) {
            Ok(summary) => summary,
            Err(e) => {
                note(&outcome.stderr, &format!("no event log read: {e}"));
                EventLogSummary::default()
            }
        };
        self.fill(request, &summary, &mut outcome);
        Ok(outcome)
    }
}

impl SparkRunner {
    /// What the event log adds to the outcome.
    fn fill(
        &self,
        request: &AttemptRequest<'_>,
        summary: &EventLogSummary,
        outcome: &mut AttemptOutcome,
    ) {
        let dir = request.dir;
        if summary.problems_total > 0 {
            let first = summary
                .problems
                .first()
                .map(|p| format!("{}:{}: {}", p.file.display(), p.line, p.message))
                .unwrap_or_default();
            note(
                &outcome.stderr,
                &format!(
                    "{} problem(s) reading the event log, the first: {first}",
                    summary.problems_total
                ),
            );
        }
        if let Ok(json) = serde_json::to_string_pretty(summary) {
            let path = dir.join(EVENT_LOG_SUMMARY_FILE);
            if let Err(e) = std::fs::write(&path, json) {
                tracing::warn!("cannot write {}: {e}", path.display());
            }
        }
        let findings = summary.findings();
        if !findings.is_empty() {
            let path = dir.join(EVENT_LOG_FINDINGS_FILE);
            match std::fs::write(&path, findings) {
                Ok(()) => outcome.logs.push(LogFile {
                    source: LogSource::Eventlog,
                    path,
                }),
                Err(e) => tracing::warn!("cannot write {}: {e}", path.display()),
            }
        }
        // Only the event log knows how many cores `local[*]` had (none reported when Spark never started).
        let resources = Resources::of_run(request.config, Some(summary.executor_cores));
        outcome.cost_dollars = Some(self.prices.cost_of(resources, outcome.runtime_seconds));
        if summary.events == 0 {
            // Spark never started (a bad command line, no Java): nothing measured, and the cost is the wall time.
            return;
        }
        outcome.metrics = Some(summary.metrics());
        outcome.peak_memory_bytes = summary.peak_jvm_heap_bytes();
        outcome.input_bytes = Some(summary.input_bytes).filter(|&b| b > 0);
        outcome.plan_operators = summary.plan_operators.iter().cloned().collect();
    }
}

/// The `spark-submit` command line for `app` with `conf`, its event log in `event_dir`.
pub fn submit_command(
    spark_submit: &Path,
    app: &SparkApp,
    conf: &SparkConf,
    event_dir: &Path,
) -> Vec<String> {
    let mut line = vec![spark_submit.display().to_string()];
    let mut rest = conf.clone();
    for (key, flag) in FLAGS {
        if let Some(value) = rest.0.remove(key) {
            line.extend([flag.to_owned(), value]);
        }
    }
    for (key, value) in EVENT_LOG_DEFAULTS {
        rest.0
            .entry(key.to_owned())
            .or_insert_with(|| value.to_owned());
    }
    rest.set("spark.eventLog.enabled", "true");
    rest.set("spark.eventLog.dir", file_url(event_dir));
    line.extend(rest.to_conf_args());
    if let Some(class) = &app.main_class {
        line.extend(["--class".to_owned(), class.clone()]);
    }
    line.push(app.application.clone());
    line.extend(app.args.iter().cloned());
    line
}

/// `path` as a `file://` URL, with the bytes a URL cannot hold percent-encoded.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for byte in path.display().to_string().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            url.push(byte as char);
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Appends a note to the attempt's standard error, where the scheduler puts its own.
fn note(stderr: &Path, message: &str) {
    let written = std::fs::OpenOptions::new()
        .append(true)
        .open(stderr)
        .and_then(|mut file| writeln!(file, "medic: {message}"));
    if let Err(e) = written {
        tracing::warn!("cannot write to {}: {e}", stderr.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_settings_become_flags_and_the_event_log_is_always_ours() {
        let app = SparkApp {
            application: "jobs/collect.py".into(),
            main_class: None,
            args: vec!["700000".into()],
        };
        let mut conf = SparkConf::new();
        conf.set("spark.master", "local[2]");
        conf.set("spark.driver.memory", "512m");
        conf.set("spark.sql.shuffle.partitions", "4");
        conf.set("spark.eventLog.dir", "hdfs:///history");
        conf.set("spark.executor.metrics.pollingInterval", "1s");
        let line = submit_command(
            Path::new("/spark/bin/spark-submit"),
            &app,
            &conf,
            Path::new("/runs/a b/eventlog"),
        );
        assert_eq!(
            line,
            [
                "/spark/bin/spark-submit",
                "--master",
                "local[2]",
                "--driver-memory",
                "512m",
                "--conf",
                "spark.eventLog.compression.codec=zstd",
                "--conf",
                "spark.eventLog.dir=file:///runs/a%20b/eventlog",
                "--conf",
                "spark.eventLog.enabled=true",
                "--conf",
                "spark.eventLog.logStageExecutorMetrics=true",
                "--conf",
                "spark.executor.metrics.pollingInterval=1s",
                "--conf",
                "spark.executor.processTreeMetrics.enabled=true",
                "--conf",
                "spark.sql.shuffle.partitions=4",
                "jobs/collect.py",
                "700000",
            ]
        );
    }

    #[test]
    fn local_star_is_priced_with_the_cores_the_event_log_reports() {
        let mut conf = SparkConf::new();
        conf.set("spark.master", "local[*]");
        conf.set("spark.driver.memory", "1g");
        let summary = EventLogSummary {
            executor_cores: 8,
            ..EventLogSummary::default()
        };
        let resources = Resources::of_run(&conf, Some(summary.executor_cores));
        assert_eq!(resources.cores, 8.0);
        let prices = Prices {
            core_hour: 1.0,
            gib_hour: 0.0,
        };
        assert!((prices.cost_of(resources, 3600.0) - 8.0).abs() < 1e-9);
    }
}

//! [`SparkRunner`]: a [`JobRunner`] that submits a job's Spark application with `spark-submit`, with its event
//! log on, and reads back what Spark measured and why it failed.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use medic_collect::{ClusterSources, ClustersFile, Collection, ExecutorReport};
use medic_core::history::Prices;
use medic_core::spark::{self, Resources};
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
/// What the collector gathered from the cluster for a failed attempt (sources, bytes read and kept, what it could
/// not reach, every executor), as JSON.
pub const COLLECTION_FILE: &str = "collection.json";

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
///
/// On a cluster (a master other than local mode) whose [`ClusterSources`] the runner knows (`with_clusters`, by the
/// job's `cluster`, else `default`), the application logs its events to the cluster's shared folder, where its
/// History Server reads them, and the runner reads the attempt's log from the path the driver names; after a failed
/// attempt, [`medic_collect::collect`] gathers the executors' logs and the History Server's findings, which go to
/// the remediator as logs of their own sources (`executor`, `eventlog`), and every executor's peaks go to the
/// attempt's metrics (after a successful one, the peaks alone).
#[derive(Clone, Debug)]
pub struct SparkRunner {
    install: SparkInstall,
    prices: Prices,
    clusters: ClustersFile,
}

impl SparkRunner {
    /// A runner submitting with `install`, pricing attempts with `prices`.
    pub fn new(install: SparkInstall, prices: Prices) -> Self {
        SparkRunner {
            install,
            prices,
            clusters: ClustersFile::default(),
        }
    }

    /// The runner with the sources of each cluster its jobs run on.
    pub fn with_clusters(mut self, clusters: ClustersFile) -> Self {
        self.clusters = clusters;
        self
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
        let sources = (!spark::is_local_mode(request.config))
            .then(|| {
                self.clusters
                    .sources_for(request.job.identity.cluster.as_deref())
            })
            .flatten();
        let event_dir = match sources.and_then(|s| s.event_log_dir.as_deref()) {
            Some(shared) => absolute(shared),
            None => absolute(&request.dir.join(EVENT_LOG_DIR)),
        };
        std::fs::create_dir_all(&event_dir).map_err(|source| RunnerError::Io {
            path: event_dir.clone(),
            source,
        })?;
        let argv = submit_command(&self.install.spark_submit, app, request.config, &event_dir);
        let mut outcome = ProcessRunner.run_command(request, &argv, &self.install.env)?;
        let driver = if sources.is_some() {
            driver_says(&outcome.stderr)
        } else {
            DriverSays::default()
        };
        // In a shared folder, the attempt's own log is the one its driver says it writes.
        let log = match driver.event_log {
            Some(path) if sources.is_some_and(|s| s.event_log_dir.is_some()) => path,
            _ => event_dir,
        };
        let summary = match eventlog::read(&log) {
            Ok(summary) => summary,
            Err(e) => {
                note(&outcome.stderr, &format!("no event log read: {e}"));
                EventLogSummary::default()
            }
        };
        self.fill(request, &summary, &mut outcome);
        if let Some(sources) = sources {
            match summary.app_id.clone().or(driver.app_id) {
                Some(app_id) => collect_into(request, sources, &app_id, &mut outcome),
                None => note(
                    &outcome.stderr,
                    "no application id in the event log or the driver's output: nothing collected from the cluster",
                ),
            }
        }
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
        // Only the event log knows how many cores `local[*]` had, and how many executors a cluster gave (none
        // reported when Spark never started).
        let resources = Resources::of_run(
            request.config,
            Some(summary.executor_cores),
            summary.average_executors(),
        );
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

/// What the cluster keeps of the attempt's application `app_id`: after a failure, every source `sources` name
/// (the executors' logs and the History Server's findings become the attempt's logs, and `collection.json` says
/// what was read, kept and not reached); after a success, the executors' peaks alone. Every executor's peaks go to
/// the attempt's metrics. Nothing here fails the attempt: what could not be had is a note.
fn collect_into(
    request: &AttemptRequest<'_>,
    sources: &ClusterSources,
    app_id: &str,
    outcome: &mut AttemptOutcome,
) {
    let transport = match sources.transport() {
        Ok(transport) => transport,
        Err(problem) => {
            note(
                &outcome.stderr,
                &format!("nothing collected from the cluster: {problem}"),
            );
            return;
        }
    };
    let failed = outcome.exit_code != Some(0) || outcome.timed_out;
    let executors = if failed {
        let collection = medic_collect::collect(app_id, sources, &transport);
        for piece in &collection.pieces {
            let path = request.dir.join(&piece.name);
            match std::fs::write(&path, &piece.text) {
                Ok(()) => outcome.logs.push(LogFile {
                    source: piece.source,
                    path,
                }),
                Err(e) => tracing::warn!("cannot write {}: {e}", path.display()),
            }
        }
        write_collection(request.dir, &collection);
        for problem in &collection.unreachable {
            note(&outcome.stderr, &format!("not collected: {problem}"));
        }
        collection.executors
    } else {
        let (executors, unreachable) = medic_collect::executors(app_id, sources, &transport);
        for problem in &unreachable {
            note(&outcome.stderr, &format!("not collected: {problem}"));
        }
        executors
    };
    if !executors.is_empty() {
        let metrics = outcome.metrics.get_or_insert_with(Default::default);
        metrics.executors = executors.into_iter().map(|e| e.peaks).collect();
        // The executors' highest heap, where the event log did not sample one.
        let highest = metrics
            .executors
            .iter()
            .filter(|e| e.id != "driver")
            .filter_map(|e| e.peak_jvm_heap_bytes)
            .max();
        metrics.peak_executor_heap_bytes = metrics.peak_executor_heap_bytes.or(highest);
    }
}

fn write_collection(dir: &Path, collection: &Collection) {
    #[derive(serde::Serialize)]
    struct Summary<'a> {
        app_id: &'a str,
        sources: Vec<(&'a str, medic_core::LogSource, usize)>,
        executors: &'a [ExecutorReport],
        unreachable: &'a [String],
        bytes_read: u64,
        bytes_kept: u64,
        elapsed_ms: f64,
    }
    let summary = Summary {
        app_id: &collection.app_id,
        sources: collection
            .pieces
            .iter()
            .map(|p| (p.name.as_str(), p.source, p.text.len()))
            .collect(),
        executors: &collection.executors,
        unreachable: &collection.unreachable,
        bytes_read: collection.bytes_read,
        bytes_kept: collection.bytes_kept,
        elapsed_ms: collection.elapsed_ms,
    };
    if let Ok(json) = serde_json::to_string_pretty(&summary) {
        let path = dir.join(COLLECTION_FILE);
        if let Err(e) = std::fs::write(&path, json) {
            tracing::warn!("cannot write {}: {e}", path.display());
        }
    }
}

/// What the driver's output says of its application.
#[derive(Debug, Default, PartialEq)]
struct DriverSays {
    /// Its id: `Connected to Spark cluster with app ID app-…` (standalone), else `Submitted application
    /// application_…` (YARN) or `Application Id: spark-…` (Kubernetes).
    app_id: Option<String>,
    /// The event log it writes (`Logging events to file:/…/eventlog_v2_<app>/events_1_<app>.zstd`, or a single
    /// file): the rolling folder, or the file.
    event_log: Option<PathBuf>,
}

/// Reads `stderr` once, line by line (never the whole file), until it knows what [`DriverSays`] holds.
fn driver_says(stderr: &Path) -> DriverSays {
    use std::io::BufRead;
    let word_after = |line: &str, marker: &str| {
        let rest = &line[line.find(marker)? + marker.len()..];
        rest.split_whitespace().next().map(str::to_owned)
    };
    let mut says = DriverSays::default();
    let mut submitted = None;
    let Ok(file) = std::fs::File::open(stderr) else {
        return says;
    };
    for line in std::io::BufReader::new(file)
        .split(b'\n')
        .map_while(Result::ok)
    {
        let line = String::from_utf8_lossy(&line);
        says.app_id = says.app_id.or_else(|| word_after(&line, "with app ID "));
        // YARN's client (`Submitted application application_…`), Spark's Kubernetes image (`Application Id: spark-…`).
        submitted = submitted
            .or_else(|| word_after(&line, "Submitted application "))
            .or_else(|| word_after(&line, "Application Id: "));
        says.event_log = says
            .event_log
            .or_else(|| word_after(&line, "Logging events to ").map(|url| event_log_path(&url)));
        if says.app_id.is_some() && says.event_log.is_some() {
            break;
        }
    }
    says.app_id = says.app_id.or(submitted);
    says
}

/// The event log at `url`: its rolling folder (`eventlog_v2_*`) when it is a file in one.
fn event_log_path(url: &str) -> PathBuf {
    let path = Path::new(
        url.strip_prefix("file://")
            .or_else(|| url.strip_prefix("file:"))
            .unwrap_or(url),
    );
    let rolling = path.parent().filter(|folder| {
        folder
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("eventlog_v2_"))
    });
    rolling.unwrap_or(path).to_path_buf()
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
    fn a_cluster_driver_names_its_application_and_its_event_log() {
        // The driver's stderr from a real standalone run (medic-collect's fixture).
        let stderr = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../medic-collect/tests/data/standalone-executor-heap/driver-stderr.log");
        assert_eq!(
            driver_says(&stderr),
            DriverSays {
                app_id: Some("app-20261206184128-0000".to_owned()),
                event_log: Some(PathBuf::from(
                    "/work/main/.cache/spark/cluster/events/eventlog_v2_app-20261206184128-0000"
                )),
            }
        );
        let dir = tempfile::tempdir().expect("temp");
        let yarn = dir.path().join("stderr");
        std::fs::write(
            &yarn,
            "INFO YarnClientImpl: Submitted application application_1700000000000_0042\n\
             INFO SingleEventLogFileWriter: Logging events to hdfs:/history/application_1700000000000_0042.inprogress\n",
        )
        .expect("write");
        assert_eq!(
            driver_says(&yarn),
            DriverSays {
                app_id: Some("application_1700000000000_0042".to_owned()),
                event_log: Some(PathBuf::from(
                    "hdfs:/history/application_1700000000000_0042.inprogress"
                )),
            }
        );
        // A driver pod's log on Kubernetes (medic-collect's fixture, recorded from a public source).
        let kubernetes = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../medic-collect/tests/data/kubernetes/driver-executors-oomkilled.log");
        assert_eq!(
            driver_says(&kubernetes).app_id.as_deref(),
            Some("spark-c68a2df6a52e450588d61ab5154b1c38")
        );
        assert_eq!(
            driver_says(&dir.path().join("missing")),
            DriverSays::default()
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
        let resources = Resources::of_run(&conf, Some(summary.executor_cores), None);
        assert_eq!(resources.cores, 8.0);
        let prices = Prices {
            core_hour: 1.0,
            gib_hour: 0.0,
        };
        assert!((prices.cost_of(resources, 3600.0) - 8.0).abs() < 1e-9);
    }
}

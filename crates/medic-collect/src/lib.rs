//! Pensive's log collector: for a failed Spark application on a cluster, the evidence every source of the cluster
//! keeps, each piece tagged by its source, bounded, and what could not be reached said rather than failed on.
//!
//! On a cluster the failure is spread out. The driver's output is the scheduler's (the runner has it); the rest is
//! here:
//!
//! * each executor's `stderr` ([`standalone`]: the workers' work directories, or their log endpoint over HTTP),
//!   kept as an [`excerpt`]: the error sections and the tail, read as a stream, never whole;
//! * the History Server's REST API ([`history`]): failed jobs and stages with their reasons, the failed tasks'
//!   distinct errors, every executor with why it was removed (its exit code) and its peak memory;
//! * the cluster manager's diagnostics: YARN's ([`yarn`]: the ResourceManager's application report and the
//!   aggregated container logs) and Kubernetes' ([`kubernetes`]: how each pod of the application ended, its warning
//!   events, the driver's and failed executors' pod logs).
//!
//! [`collect`] puts them together for one application. Where each source is and how to reach it is the
//! cluster's [`ClusterSources`] (YAML: `medic run --clusters FILE`); every request goes through a
//! [`transport::Transport`], live ([`transport::Http`]) or recorded ([`transport::Recorded`], the tests' real
//! answers), so that a real cluster changes only the endpoints. No clock is read but `Instant`, for the time a
//! collection took.

pub mod excerpt;
pub mod history;
pub mod kubernetes;
pub mod standalone;
pub mod transport;
pub mod yarn;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use medic_core::LogSource;
use medic_core::history::ExecutorPeaks;
use serde::{Deserialize, Serialize};

use crate::excerpt::ExcerptLimits;
use crate::kubernetes::KubernetesSources;
use crate::transport::{Credential, Http, Transport};
use crate::yarn::YarnSources;

/// One executor as the cluster saw it: what the attempts history keeps of it (`peaks`: its id, peaks, GC time and
/// why it was removed), and the rest of what the History Server says.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExecutorReport {
    /// What the history keeps.
    #[serde(flatten)]
    pub peaks: ExecutorPeaks,
    /// Its host and port.
    pub host: String,
    /// Its cores.
    pub cores: u64,
    /// Its tasks that failed.
    pub failed_tasks: u64,
    /// The storage memory it had (Spark's `maxMemory`), in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_storage_memory_bytes: Option<u64>,
    /// Its peak on-heap execution memory, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_execution_memory_bytes: Option<u64>,
    /// Time its tasks ran, in milliseconds.
    pub task_time_ms: u64,
}

/// The exit code a removal reason or diagnostic names: `Command exited with code 52`, `exit code 137`,
/// `Exit status: 143`, `exitCode: 137`.
pub fn exit_code_in(text: &str) -> Option<i32> {
    let lower = text.to_ascii_lowercase();
    ["exited with code", "exit code", "exit status", "exitcode"]
        .iter()
        .find_map(|marker| {
            let rest = &lower[lower.find(marker)? + marker.len()..];
            let digits: String = rest
                .trim_start_matches([':', ' ', '='])
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '-')
                .collect();
            digits.parse().ok()
        })
}

/// One piece of evidence: text for the classifier, with the source rules see and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Piece {
    /// The source the classifier is told.
    pub source: LogSource,
    /// Where it came from, as a file name: `executor-3.stderr.log`, `history-server.log`.
    pub name: String,
    /// The kept text.
    pub text: String,
}

/// What was collected for one application.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Collection {
    /// The application.
    pub app_id: String,
    /// The evidence, source by source.
    pub pieces: Vec<Piece>,
    /// Every executor the cluster reported.
    pub executors: Vec<ExecutorReport>,
    /// Sources that gave no answer or that could not be read, with why.
    pub unreachable: Vec<String>,
    /// Bytes read from every source.
    pub bytes_read: u64,
    /// Bytes kept (the pieces' text).
    pub bytes_kept: u64,
    /// How long the collection took, in milliseconds.
    pub elapsed_ms: f64,
}

fn yes() -> bool {
    true
}

/// Where one cluster keeps what the collector reads, and how to reach it. Read from YAML; every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSources {
    /// The History Server's base URL (`http://host:18080`).
    #[serde(default)]
    pub history_server: Option<String>,
    /// The standalone workers' work directories (`spark.worker.dir`), where medic runs beside the workers.
    #[serde(default)]
    pub worker_dirs: Vec<PathBuf>,
    /// The cluster's shared event-log folder (its `spark.eventLog.dir`, where the History Server reads), when
    /// medic can read it: applications log there instead of the attempt's folder, so that the History Server
    /// knows them, and medic reads each attempt's log from it.
    #[serde(default)]
    pub event_log_dir: Option<PathBuf>,
    /// Read an executor's log over HTTP, from the log URL the History Server lists, when no worker directory
    /// has it (default yes).
    #[serde(default = "yes")]
    pub executor_logs_over_http: bool,
    /// The environment variable holding a bearer token for the cluster's services.
    #[serde(default)]
    pub credential_env: Option<String>,
    /// A file holding a bearer token for the cluster's services (its first line).
    #[serde(default)]
    pub credential_file: Option<PathBuf>,
    /// Seconds one request may take (default 10).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// Most bytes read of one executor's log over HTTP (default 64 MiB; the tail is read too).
    #[serde(default)]
    pub max_log_bytes: Option<u64>,
    /// A YARN cluster's ResourceManager and aggregated logs.
    #[serde(default)]
    pub yarn: Option<YarnSources>,
    /// A Kubernetes cluster's API server.
    #[serde(default)]
    pub kubernetes: Option<KubernetesSources>,
}

/// Why a clusters file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClustersFileError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a clusters file, or some of its values are wrong: every problem, one per line.
    #[error("{0}")]
    Invalid(String),
}

/// A clusters file: the sources of each cluster, by the name jobs give as their `cluster` (`default` for the
/// others).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClustersFile {
    /// The clusters.
    pub clusters: BTreeMap<String, ClusterSources>,
}

impl ClustersFile {
    /// Reads a clusters file; `origin` names it in errors. Every problem is reported.
    pub fn from_yaml(text: &str, origin: &str) -> Result<ClustersFile, ClustersFileError> {
        let file: ClustersFile = serde_saphyr::from_str(text)
            .map_err(|error| ClustersFileError::Invalid(format!("{origin}: {error}")))?;
        let mut problems = Vec::new();
        for (name, sources) in &file.clusters {
            if sources.credential_env.is_some() && sources.credential_file.is_some() {
                problems.push(format!(
                    "{origin}: clusters.{name}: credential_env and credential_file both set: choose one"
                ));
            }
            let urls = [
                ("history_server", sources.history_server.as_ref()),
                (
                    "yarn.resource_manager",
                    sources
                        .yarn
                        .as_ref()
                        .and_then(|y| y.resource_manager.as_ref()),
                ),
                (
                    "kubernetes.api_server",
                    sources.kubernetes.as_ref().map(|k| &k.api_server),
                ),
            ];
            for (field, url) in urls {
                if let Some(url) = url
                    && !(url.starts_with("http://") || url.starts_with("https://"))
                {
                    problems.push(format!(
                        "{origin}: clusters.{name}.{field} is `{url}`, not an http(s) URL"
                    ));
                }
            }
            if let Some(kubernetes) = &sources.kubernetes
                && (kubernetes.namespace.is_empty()
                    || kubernetes.namespace.contains(['/', '?', '&', '%', ' ']))
            {
                problems.push(format!(
                    "{origin}: clusters.{name}.kubernetes.namespace is `{}`, not a namespace's name",
                    kubernetes.namespace
                ));
            }
            if let Some(yarn) = &sources.yarn
                && yarn.logs_timeout_seconds == Some(0)
            {
                problems.push(format!(
                    "{origin}: clusters.{name}.yarn.logs_timeout_seconds must be above 0"
                ));
            }
            if sources.timeout_seconds == Some(0) || sources.max_log_bytes == Some(0) {
                problems.push(format!(
                    "{origin}: clusters.{name}: timeout_seconds and max_log_bytes must be above 0"
                ));
            }
        }
        if problems.is_empty() {
            Ok(file)
        } else {
            Err(ClustersFileError::Invalid(problems.join("\n")))
        }
    }

    /// Reads the clusters file at `path`; its relative folders (`worker_dirs`, `event_log_dir`,
    /// `credential_file`) are relative to the file's own folder.
    pub fn load(path: &std::path::Path) -> Result<ClustersFile, ClustersFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClustersFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut file = ClustersFile::from_yaml(&text, &path.display().to_string())?;
        let folder = path.parent().unwrap_or(std::path::Path::new("."));
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = folder.join(&*p);
            }
        };
        for sources in file.clusters.values_mut() {
            sources.worker_dirs.iter_mut().for_each(resolve);
            sources.event_log_dir.iter_mut().for_each(resolve);
            sources.credential_file.iter_mut().for_each(resolve);
        }
        Ok(file)
    }

    /// The sources of `cluster` (its own entry, else `default`), if any.
    pub fn sources_for(&self, cluster: Option<&str>) -> Option<&ClusterSources> {
        cluster
            .and_then(|name| self.clusters.get(name))
            .or_else(|| self.clusters.get("default"))
    }
}

impl ClusterSources {
    /// The live transport these sources are reached with: the timeout, and the credential read now (an error
    /// names where it was looked for, never what it holds).
    pub fn transport(&self) -> Result<Http, String> {
        let credential = match (&self.credential_env, &self.credential_file) {
            (Some(name), _) => Some(Credential::from_env(name)?),
            (None, Some(path)) => Some(Credential::from_file(path)?),
            (None, None) => None,
        };
        Ok(Http::new(
            Duration::from_secs(self.timeout_seconds.unwrap_or(10)),
            credential,
        ))
    }
}

/// Collects what `sources` keep of application `app_id`, through `transport`.
pub fn collect(app_id: &str, sources: &ClusterSources, transport: &dyn Transport) -> Collection {
    let started = Instant::now();
    let limits = ExcerptLimits::default();
    let mut collection = Collection {
        app_id: app_id.to_owned(),
        ..Collection::default()
    };
    // The id goes into URLs and the logs command's arguments: it comes from the driver's output, so it is checked
    // to be an id (`app-2026…-0000`, `application_…_0001`, `spark-c68a…`) and nothing more.
    if app_id.is_empty()
        || !app_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        collection.unreachable.push(format!(
            "`{app_id}` is not an application id: nothing was asked for"
        ));
        return collection;
    }
    let mut log_urls = Vec::new();
    if let Some(base) = &sources.history_server {
        let findings = history::read(base, app_id, transport);
        collection.bytes_read += findings.bytes_read;
        collection.unreachable.extend(findings.unreachable);
        collection.executors = findings.executors;
        log_urls = findings.executor_log_urls;
        if !findings.text.is_empty() {
            collection.pieces.push(Piece {
                source: LogSource::Eventlog,
                name: "history-server.log".to_owned(),
                text: findings.text,
            });
        }
    }
    let mut have_log = std::collections::BTreeSet::new();
    for dir in &sources.worker_dirs {
        let (logs, problems) = standalone::from_work_dir(dir, app_id, limits);
        collection.unreachable.extend(problems);
        for (id, excerpt) in logs {
            collection.bytes_read += excerpt.bytes_read;
            if have_log.insert(id.clone()) {
                collection.pieces.push(executor_piece(&id, excerpt.text));
            }
        }
    }
    let max_log_bytes = sources.max_log_bytes.unwrap_or(64 << 20);
    if sources.executor_logs_over_http {
        for (id, url) in log_urls {
            if id == "driver" || have_log.contains(&id) {
                continue;
            }
            match standalone::over_http(&url, transport, max_log_bytes, limits) {
                Ok((excerpt, read)) => {
                    collection.bytes_read += read;
                    have_log.insert(id.clone());
                    collection.pieces.push(executor_piece(&id, excerpt.text));
                }
                Err(problem) => collection
                    .unreachable
                    .push(format!("executor {id}'s log: {problem}")),
            }
        }
    }
    if let Some(yarn) = &sources.yarn {
        if let Some(base) = &yarn.resource_manager {
            let (report, read, problems) = yarn::read_report(base, app_id, transport);
            collection.bytes_read += read;
            collection.unreachable.extend(problems);
            collection.pieces.extend(report);
        }
        if !yarn.logs_command.is_empty() {
            let timeout = Duration::from_secs(yarn.logs_timeout_seconds.unwrap_or(300));
            let limits = ExcerptLimits {
                max_section_bytes: 64 << 10,
                ..limits
            };
            match yarn::logs_from_command(&yarn.logs_command, app_id, timeout, limits) {
                Ok(logs) => {
                    collection.bytes_read += logs.bytes_read;
                    if logs.logs_not_kept > 0 {
                        collection.unreachable.push(format!(
                            "{} more container logs in the aggregated logs, not kept",
                            logs.logs_not_kept
                        ));
                    }
                    collection
                        .pieces
                        .extend(logs.logs.into_iter().map(yarn::ContainerLog::into_piece));
                }
                Err(problem) => collection
                    .unreachable
                    .push(format!("the aggregated logs: {problem}")),
            }
        }
    }
    if let Some(kubernetes) = &sources.kubernetes {
        let findings = kubernetes::read(kubernetes, app_id, transport, max_log_bytes, limits);
        collection.bytes_read += findings.bytes_read;
        collection.unreachable.extend(findings.unreachable);
        collection.pieces.extend(findings.pieces);
        merge_executors(&mut collection.executors, findings.executors);
    }
    collection.bytes_kept = collection.pieces.iter().map(|p| p.text.len() as u64).sum();
    collection.elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
    collection
}

/// Adds what the cluster manager says of each executor (how its container ended) to what the History Server said.
fn merge_executors(executors: &mut Vec<ExecutorReport>, from_manager: Vec<ExecutorReport>) {
    for report in from_manager {
        match executors.iter_mut().find(|e| e.peaks.id == report.peaks.id) {
            Some(known) => {
                if known.peaks.exit_code.is_none() {
                    known.peaks.exit_code = report.peaks.exit_code;
                }
                if known.peaks.removed_because.is_none() {
                    known.peaks.removed_because = report.peaks.removed_because;
                }
            }
            None => executors.push(report),
        }
    }
}

/// Only the executors the History Server reports for `app_id` (for a successful run: their peaks), and what could
/// not be reached.
pub fn executors(
    app_id: &str,
    sources: &ClusterSources,
    transport: &dyn Transport,
) -> (Vec<ExecutorReport>, Vec<String>) {
    match &sources.history_server {
        Some(base) => {
            let findings = history::read_executors(base, app_id, transport);
            (findings.executors, findings.unreachable)
        }
        None => (Vec::new(), Vec::new()),
    }
}

fn executor_piece(id: &str, text: String) -> Piece {
    Piece {
        source: LogSource::Executor,
        name: format!("executor-{id}.stderr.log"),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_that_could_change_a_request_asks_for_nothing() {
        let sources = ClusterSources {
            history_server: Some("http://127.0.0.1:1".to_owned()),
            ..ClusterSources::default()
        };
        let recorded = transport::Recorded::new();
        for id in ["app-1/../../x", "application_1 -x", "a;rm", ""] {
            let collection = collect(id, &sources, &recorded);
            assert_eq!(collection.unreachable.len(), 1, "{id}");
            assert!(collection.unreachable[0].contains("not an application id"));
        }
        let collection = collect("app-20261206184128-0000", &sources, &recorded);
        assert!(collection.unreachable[0].contains("did not answer"));
    }

    #[test]
    fn exit_codes_are_read_from_every_wording() {
        for (text, code) in [
            ("Command exited with code 52", Some(52)),
            (
                "The executor with id 3 exited with exit code 137(SIGKILL, possible container OOM).",
                Some(137),
            ),
            (
                "Exit status: 143. Diagnostics: Container killed on request.",
                Some(143),
            ),
            (
                "Container killed by YARN for exceeding physical memory limits.",
                None,
            ),
        ] {
            assert_eq!(exit_code_in(text), code, "{text}");
        }
    }

    #[test]
    fn a_clusters_file_reports_every_problem() {
        let problems = ClustersFile::from_yaml(
            "clusters:\n  a:\n    history_server: localhost:18080\n    credential_env: T\n    credential_file: /t\n  b:\n    timeout_seconds: 0\n  c:\n    yarn: {resource_manager: rm:8088}\n    kubernetes: {api_server: https://k, namespace: a/b}\n",
            "clusters.yaml",
        )
        .expect_err("invalid")
        .to_string();
        assert_eq!(problems.lines().count(), 5, "{problems}");
        assert!(
            problems.contains("clusters.c.yarn.resource_manager is `rm:8088`"),
            "{problems}"
        );
        let file = ClustersFile::from_yaml(
            "clusters:\n  default:\n    history_server: http://127.0.0.1:18080\n",
            "clusters.yaml",
        )
        .expect("valid");
        assert!(file.sources_for(Some("other")).is_some());
        assert!(ClustersFile::from_yaml("clusters: {a: {histroy: x}}", "c.yaml").is_err());
    }
}

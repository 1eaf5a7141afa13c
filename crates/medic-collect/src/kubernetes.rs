//! Kubernetes: the application's pods as the API server sees them, through its JSON API.
//!
//! Spark labels every pod of an application `spark-app-selector=<application id>` and `spark-role=driver|executor`
//! (executors also `spark-exec-id`). For each pod the collector reads how its containers ended
//! (`state`/`lastState.terminated`: `reason: OOMKilled`, `exitCode: 137`), an eviction (`status.reason: Evicted`
//! and the kubelet's message), the warning events about it (`/events?fieldSelector=involvedObject.name=…`), and
//! the driver's and failed executors' logs (`/pods/{name}/log`, bounded by `limitBytes`, with the tail asked for
//! apart). Executor pods are often deleted when they end (`spark.kubernetes.executor.deleteOnTermination`): what
//! is gone is reported, not failed on.

use std::collections::BTreeMap;

use medic_core::LogSource;
use medic_core::history::ExecutorPeaks;
use serde::Deserialize;

use crate::excerpt::{ExcerptLimits, excerpt};
use crate::transport::{Transport, get_json};
use crate::{ExecutorReport, Piece};

/// Largest pod list or event list read.
const MAX_ANSWER_BYTES: u64 = 16 << 20;

/// Where a Kubernetes cluster's API is, and which namespace the applications run in.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSources {
    /// The API server (`https://kubernetes.default.svc`); the clusters file's credential is its bearer token
    /// (a service account's token file).
    pub api_server: String,
    /// The namespace the applications' pods run in.
    pub namespace: String,
    /// Read the driver pod's log and the failed executor pods' logs (default yes).
    #[serde(default = "crate::yes")]
    pub pod_logs: bool,
    /// Lines asked for from the end of a log longer than the bytes read from its start (default 500).
    #[serde(default)]
    pub log_tail_lines: Option<u64>,
}

#[derive(Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

#[derive(Deserialize)]
struct Pod {
    metadata: Metadata,
    #[serde(default)]
    status: PodStatus,
}

#[derive(Deserialize)]
struct Metadata {
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodStatus {
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    container_statuses: Vec<ContainerStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerStatus {
    name: String,
    #[serde(default)]
    state: Option<ContainerState>,
    #[serde(default)]
    last_state: Option<ContainerState>,
}

#[derive(Deserialize)]
struct ContainerState {
    #[serde(default)]
    terminated: Option<Terminated>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Terminated {
    #[serde(default)]
    reason: Option<String>,
    exit_code: i32,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    count: Option<u64>,
}

/// What the API server said of an application's pods.
#[derive(Debug, Default)]
pub struct PodFindings {
    /// The pods' endings and warning events (source: the scheduler, i.e. the cluster manager), and the logs read
    /// (driver and executors).
    pub pieces: Vec<Piece>,
    /// Each executor pod's ending.
    pub executors: Vec<ExecutorReport>,
    /// Bytes read.
    pub bytes_read: u64,
    /// What could not be read, with why.
    pub unreachable: Vec<String>,
}

/// How a pod ended: its first container that terminated abnormally, in its current or last state.
fn ending(pod: &Pod) -> Option<(String, &Terminated)> {
    pod.status.container_statuses.iter().find_map(|status| {
        [&status.state, &status.last_state]
            .into_iter()
            .flatten()
            .filter_map(|state| state.terminated.as_ref())
            .find(|t| t.exit_code != 0 || t.reason.as_deref().is_some_and(|r| r != "Completed"))
            .map(|t| (status.name.clone(), t))
    })
}

/// `key=value`, as a query's selector value (`=` escaped).
fn selector(key: &str, value: &str) -> String {
    format!("{key}%3D{value}")
}

/// Reads what the API server at `sources` keeps of application `app_id`'s pods.
pub fn read(
    sources: &KubernetesSources,
    app_id: &str,
    transport: &dyn Transport,
    max_log_bytes: u64,
    limits: ExcerptLimits,
) -> PodFindings {
    let mut findings = PodFindings::default();
    let api = format!(
        "{}/api/v1/namespaces/{}",
        sources.api_server.trim_end_matches('/'),
        sources.namespace
    );
    let url = format!(
        "{api}/pods?labelSelector={}",
        selector("spark-app-selector", app_id)
    );
    let pods: List<Pod> = match get(&url, transport, &mut findings.bytes_read) {
        Ok(pods) => pods,
        Err(problem) => {
            findings
                .unreachable
                .push(format!("the application's pods: {problem}"));
            return findings;
        }
    };
    if pods.items.is_empty() {
        findings.unreachable.push(format!(
            "no pod is labelled spark-app-selector={app_id} in namespace {} (deleted when the application ended?)",
            sources.namespace
        ));
        return findings;
    }
    let mut text = String::new();
    for pod in &pods.items {
        let role = pod
            .metadata
            .labels
            .get("spark-role")
            .map_or("", String::as_str);
        let executor_id = pod.metadata.labels.get("spark-exec-id");
        let who = match (role, executor_id) {
            ("executor", Some(id)) => format!("executor pod {} (executor {id})", pod.metadata.name),
            ("driver", _) => format!("driver pod {}", pod.metadata.name),
            _ => format!("pod {}", pod.metadata.name),
        };
        let phase = pod.status.phase.as_deref().unwrap_or("?");
        let ended = ending(pod);
        let mut failed = phase == "Failed" || ended.is_some();
        if let Some(reason) = &pod.status.reason {
            failed = true;
            text.push_str(&format!(
                "Kubernetes: {who}: {phase}, {reason}: {}\n",
                pod.status.message.as_deref().unwrap_or("")
            ));
        }
        if let Some((container, terminated)) = &ended {
            let reason = terminated.reason.as_deref().unwrap_or("no reason given");
            text.push_str(&format!(
                "Kubernetes: {who}: {phase}, container {container} terminated: {reason}, exit code {}\n",
                terminated.exit_code
            ));
            if let Some(message) = terminated
                .message
                .as_deref()
                .filter(|m| !m.trim().is_empty())
            {
                text.push_str(message.trim_end());
                text.push('\n');
            }
        }
        if let (Some(id), "executor") = (executor_id, role) {
            findings.executors.push(ExecutorReport {
                peaks: ExecutorPeaks {
                    id: id.clone(),
                    removed_because: ended.as_ref().map(|(container, t)| {
                        format!(
                            "container {container} terminated: {}, exit code {}",
                            t.reason.as_deref().unwrap_or("no reason given"),
                            t.exit_code
                        )
                    }),
                    exit_code: ended.as_ref().map(|(_, t)| t.exit_code),
                    ..ExecutorPeaks::default()
                },
                ..ExecutorReport::default()
            });
        }
        if !failed && role != "driver" {
            continue;
        }
        if failed {
            events(&api, pod, &who, transport, &mut findings, &mut text);
        }
        if sources.pod_logs {
            let source = if role == "driver" {
                LogSource::Driver
            } else {
                LogSource::Executor
            };
            let log = LogRequest {
                max_bytes: max_log_bytes,
                tail_lines: sources.log_tail_lines.unwrap_or(500),
                limits,
            };
            pod_log(
                &api,
                &pod.metadata.name,
                source,
                transport,
                log,
                &mut findings,
            );
        }
    }
    if !text.is_empty() {
        findings.pieces.insert(
            0,
            Piece {
                source: LogSource::Scheduler,
                name: "kubernetes-pods.log".to_owned(),
                text,
            },
        );
    }
    findings
}

/// The warning events about `pod`, as lines of `text`.
fn events(
    api: &str,
    pod: &Pod,
    who: &str,
    transport: &dyn Transport,
    findings: &mut PodFindings,
    text: &mut String,
) {
    let url = format!(
        "{api}/events?fieldSelector={}",
        selector("involvedObject.name", &pod.metadata.name)
    );
    match get::<List<Event>>(&url, transport, &mut findings.bytes_read) {
        Ok(events) => {
            for event in events
                .items
                .iter()
                .filter(|e| e.kind.as_deref() != Some("Normal"))
            {
                text.push_str(&format!(
                    "Kubernetes event on {who}: {} {}: {}{}\n",
                    event.kind.as_deref().unwrap_or("?"),
                    event.reason.as_deref().unwrap_or("?"),
                    event.message.as_deref().unwrap_or("").trim_end(),
                    event
                        .count
                        .filter(|&n| n > 1)
                        .map(|n| format!(" (×{n})"))
                        .unwrap_or_default(),
                ));
            }
        }
        Err(problem) => findings
            .unreachable
            .push(format!("{who}'s events: {problem}")),
    }
}

/// How much of a pod's log is read, and kept.
#[derive(Clone, Copy)]
struct LogRequest {
    max_bytes: u64,
    tail_lines: u64,
    limits: ExcerptLimits,
}

/// The log of `pod`: its first `max_bytes`, and its last lines when it is longer (the tail is read up to
/// `max_bytes` too).
fn pod_log(
    api: &str,
    pod: &str,
    source: LogSource,
    transport: &dyn Transport,
    LogRequest {
        max_bytes,
        tail_lines,
        limits,
    }: LogRequest,
    findings: &mut PodFindings,
) {
    let url = format!("{api}/pods/{pod}/log?limitBytes={max_bytes}");
    let mut body = match transport.get(&url, max_bytes) {
        Ok(body) => body,
        Err(problem) => {
            findings
                .unreachable
                .push(format!("pod {pod}'s log: {problem}"));
            return;
        }
    };
    findings.bytes_read += body.len() as u64;
    if body.len() as u64 >= max_bytes {
        let url = format!("{api}/pods/{pod}/log?tailLines={tail_lines}");
        match transport.get(&url, max_bytes) {
            Ok(tail) => {
                findings.bytes_read += tail.len() as u64;
                body.extend_from_slice("\n… (the middle of the log not read)\n".as_bytes());
                body.extend_from_slice(&tail);
            }
            Err(problem) => findings
                .unreachable
                .push(format!("pod {pod}'s log's tail: {problem}")),
        }
    }
    let kept = excerpt(body.as_slice(), limits);
    if !kept.text.trim().is_empty() {
        findings.pieces.push(Piece {
            source,
            name: format!("{pod}.log"),
            text: kept.text,
        });
    }
}

fn get<T: serde::de::DeserializeOwned>(
    url: &str,
    transport: &dyn Transport,
    read: &mut u64,
) -> Result<T, String> {
    get_json(transport, url, MAX_ANSWER_BYTES, "the API server", read)
}

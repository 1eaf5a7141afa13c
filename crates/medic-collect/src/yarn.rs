//! YARN: what the ResourceManager says of an application, and its containers' aggregated logs.
//!
//! * The ResourceManager's REST report (`/ws/v1/cluster/apps/{id}`, and `…/appattempts`): the final status and
//!   the diagnostics, where YARN says it killed a container for memory (`is running beyond physical memory
//!   limits`, `exitCode: -104`) and why the ApplicationMaster (the driver, in cluster mode) failed.
//! * The aggregated logs, as `yarn logs -applicationId …` prints them: every container's log files one after
//!   another (`Container: … on …`, `LogType:stderr`, `LogLength:…`, `Log Contents:`/`LogContents:`, the log,
//!   `End of LogType:stderr`). The answer can be gigabytes: it is read as a stream, each container's log kept as an
//!   excerpt as it goes by. The command is configurable (`logs_command`), since medic runs where the cluster's
//!   `yarn` client is; its output is the only thing read of it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use medic_core::LogSource;
use serde::Deserialize;

use crate::Piece;
use crate::excerpt::{Excerpt, ExcerptBuilder, ExcerptLimits, LineReader};
use crate::transport::{Transport, get_json};

/// Largest ResourceManager answer read.
const MAX_ANSWER_BYTES: u64 = 4 << 20;
/// Lines of the application's diagnostics kept.
const DIAGNOSTIC_LINES: usize = 60;
/// Most container logs kept from one aggregated answer; the others are counted.
const MAX_CONTAINER_LOGS: usize = 200;

/// Where a YARN cluster keeps what the collector reads.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YarnSources {
    /// The ResourceManager's web address (`http://rm:8088`).
    #[serde(default)]
    pub resource_manager: Option<String>,
    /// The command that prints the application's aggregated logs, `{app_id}` replaced by the application:
    /// `[yarn, logs, -applicationId, "{app_id}"]`. None: the logs are not read.
    #[serde(default)]
    pub logs_command: Vec<String>,
    /// Seconds the logs command may take (default 300).
    #[serde(default)]
    pub logs_timeout_seconds: Option<u64>,
}

#[derive(Deserialize)]
struct AppAnswer {
    app: App,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct App {
    id: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    final_status: Option<String>,
    #[serde(default)]
    application_type: Option<String>,
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    diagnostics: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttemptsAnswer {
    app_attempts: Attempts,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Attempts {
    #[serde(default)]
    app_attempt: Vec<Attempt>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Attempt {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    container_id: Option<String>,
    #[serde(default)]
    node_id: Option<String>,
    #[serde(default)]
    app_attempt_state: Option<String>,
}

/// What the ResourceManager said of an application, as text for the classifier, and what it could not say.
pub fn read_report(
    base: &str,
    app_id: &str,
    transport: &dyn Transport,
) -> (Option<Piece>, u64, Vec<String>) {
    let base = base.trim_end_matches('/');
    let url = format!("{base}/ws/v1/cluster/apps/{app_id}");
    let mut read = 0u64;
    let mut unreachable = Vec::new();
    let app: App = match get::<AppAnswer>(&url, transport, &mut read) {
        Ok(answer) => answer.app,
        Err(problem) => {
            unreachable.push(format!("the ResourceManager's report: {problem}"));
            return (None, read, unreachable);
        }
    };
    let unknown = || "?".to_owned();
    let mut text = format!(
        "YARN: application {} ({}, queue {}) ended {} (state {})\n",
        app.id,
        app.application_type.unwrap_or_else(unknown),
        app.queue.unwrap_or_else(unknown),
        app.final_status.unwrap_or_else(unknown),
        app.state.unwrap_or_else(unknown),
    );
    if let Some(diagnostics) = app.diagnostics.filter(|d| !d.trim().is_empty()) {
        text.push_str("YARN diagnostics:\n");
        for line in diagnostics.lines().take(DIAGNOSTIC_LINES) {
            text.push_str(line);
            text.push('\n');
        }
    }
    match get::<AttemptsAnswer>(&format!("{url}/appattempts"), transport, &mut read) {
        Ok(answer) => {
            for attempt in answer.app_attempts.app_attempt {
                let id = attempt.id.map(|id| id.to_string()).unwrap_or_else(unknown);
                text.push_str(&format!(
                    "YARN: attempt {id}: ApplicationMaster container {} on {}{}\n",
                    attempt.container_id.unwrap_or_else(unknown),
                    attempt.node_id.unwrap_or_else(unknown),
                    attempt
                        .app_attempt_state
                        .map(|state| format!(", {state}"))
                        .unwrap_or_default(),
                ));
            }
        }
        Err(problem) => unreachable.push(format!("the application's attempts: {problem}")),
    }
    let piece = Piece {
        source: LogSource::Scheduler,
        name: "yarn-application.log".to_owned(),
        text,
    };
    (Some(piece), read, unreachable)
}

fn get<T: serde::de::DeserializeOwned>(
    url: &str,
    transport: &dyn Transport,
    read: &mut u64,
) -> Result<T, String> {
    get_json(
        transport,
        url,
        MAX_ANSWER_BYTES,
        "the ResourceManager",
        read,
    )
}

/// One container's log file, as an excerpt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerLog {
    /// The container (`container_e54_1631812995637_0402_01_000002`).
    pub container: String,
    /// The node it ran on, as `yarn logs` names it.
    pub node: String,
    /// The log file (`stderr`, `stdout`, `syslog`, `prelaunch.err`).
    pub log_type: String,
    /// What was kept of it.
    pub excerpt: Excerpt,
}

impl ContainerLog {
    /// Whether the container is an attempt's first, the ApplicationMaster's: in cluster mode the driver.
    pub fn is_application_master(&self) -> bool {
        self.container.ends_with("_000001")
    }

    /// The piece the classifier reads: the ApplicationMaster's log as the driver's, the others as executors'.
    pub fn into_piece(self) -> Piece {
        Piece {
            source: if self.is_application_master() {
                LogSource::Driver
            } else {
                LogSource::Executor
            },
            name: format!("{}.{}.log", self.container, self.log_type),
            text: self.excerpt.text,
        }
    }
}

/// What an aggregated-logs answer held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AggregatedLogs {
    /// The kept container logs, in the answer's order.
    pub logs: Vec<ContainerLog>,
    /// Bytes read.
    pub bytes_read: u64,
    /// Containers in the answer.
    pub containers: usize,
    /// Container logs with an error or a tail that were not kept (past the most kept).
    pub logs_not_kept: usize,
}

/// Whether a log file of a container says anything about a failure: its output and error streams, YARN's own
/// syslog and the launch's errors; not the launch script or the directory listing.
fn worth_reading(log_type: &str) -> bool {
    matches!(log_type, "stderr" | "stdout" | "syslog" | "prelaunch.err")
        || log_type.starts_with("stderr")
        || log_type.starts_with("stdout")
}

/// The field after `key` on a header line (`LogType:stderr`, `LogType: stderr`).
fn header_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.strip_prefix(key).map(str::trim)
}

/// Reads an aggregated-logs answer (`yarn logs -applicationId …`) as a stream: each container's log files worth
/// reading, kept as excerpts. Accepts both forms Hadoop prints (2.x `Log Contents:` and 3.x `LogContents:`, with
/// or without `End of LogType:`).
pub fn read_aggregated_logs(reader: impl BufRead, limits: ExcerptLimits) -> AggregatedLogs {
    let mut out = AggregatedLogs::default();
    let mut lines = LineReader::new(reader, limits.max_line_bytes);
    let mut at = Position::default();
    while let Some((line, cut, bytes)) = lines.next_line() {
        out.bytes_read += bytes;
        if let Some(rest) = line.strip_prefix("Container: container_") {
            at.end_log(&mut out);
            let (id, on) = rest.split_once(" on ").unwrap_or((rest, ""));
            at.container = format!("container_{}", id.trim());
            at.node = on.trim().to_owned();
            at.log_type.clear();
            out.containers += 1;
        } else if line.starts_with("End of LogType:") {
            at.end_log(&mut out);
        } else if let Some(value) = header_value(&line, "LogType:") {
            // Hadoop before 2.7 has no end marker: a new file's header ends the last one.
            at.end_log(&mut out);
            at.log_type = value.to_owned();
        } else {
            match &mut at.contents {
                Contents::Headers if line == "Log Contents:" || line == "LogContents:" => {
                    at.contents = if worth_reading(&at.log_type) {
                        Contents::Kept(ExcerptBuilder::new(limits))
                    } else {
                        Contents::Skipped
                    };
                }
                Contents::Kept(builder) => builder.push(line, cut, bytes),
                Contents::Headers | Contents::Skipped => {}
            }
        }
    }
    at.end_log(&mut out);
    out
}

/// Where an aggregated-logs answer is: which container's which log file, and in which part of it.
#[derive(Default)]
struct Position {
    container: String,
    node: String,
    log_type: String,
    contents: Contents,
}

/// The part of a log file being read.
#[derive(Default)]
enum Contents {
    /// Its headers (`LogLength:`, …), before `Log Contents:`.
    #[default]
    Headers,
    /// Its lines, not worth keeping.
    Skipped,
    /// Its lines, kept as an excerpt.
    Kept(ExcerptBuilder),
}

impl Position {
    /// Ends the log file being read: its excerpt, if it kept anything, goes to `out`.
    fn end_log(&mut self, out: &mut AggregatedLogs) {
        let Contents::Kept(builder) = std::mem::take(&mut self.contents) else {
            return;
        };
        let excerpt = builder.finish();
        if excerpt.text.trim().is_empty() {
            return;
        }
        if out.logs.len() >= MAX_CONTAINER_LOGS {
            out.logs_not_kept += 1;
            return;
        }
        out.logs.push(ContainerLog {
            container: self.container.clone(),
            node: self.node.clone(),
            log_type: self.log_type.clone(),
            excerpt,
        });
    }
}

/// Runs the logs command for `app_id` and reads its output as a stream; gives up (killing it) after `timeout`.
pub fn logs_from_command(
    command: &[String],
    app_id: &str,
    timeout: Duration,
    limits: ExcerptLimits,
) -> Result<AggregatedLogs, String> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| "the logs command is empty".to_owned())?;
    let args: Vec<String> = args.iter().map(|a| a.replace("{app_id}", app_id)).collect();
    let shown = format!("`{program} {}`", args.join(" "));
    let mut child = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("{shown} did not start: {error}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || read_aggregated_logs(BufReader::new(stdout), limits));
    // Its errors (`Log aggregation has not completed`), kept short; the rest is drained so it never blocks.
    let errors = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut stderr = stderr;
        let _ = (&mut stderr).take(4096).read_to_end(&mut kept);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        String::from_utf8_lossy(&kept).trim().to_owned()
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(20));
            }
            // Past the deadline, or it cannot be waited for: killed, and what it printed so far is read.
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let logs = reader
        .join()
        .map_err(|_| format!("reading {shown}'s output failed"))?;
    let errors = errors.join().unwrap_or_default();
    match status {
        Some(status) if status.success() => Ok(logs),
        Some(status) if logs.containers > 0 => {
            tracing::warn!(%status, errors, "{shown} failed after printing logs");
            Ok(logs)
        }
        Some(status) => Err(format!("{shown} failed ({status}): {errors}")),
        None => Err(format!(
            "{shown} took longer than {} s and was stopped",
            timeout.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_aggregated_forms_are_split_by_container_and_file() {
        let answer = "\
Container: container_1_0001_01_000001 on node-a_8041
=====================
LogType:stderr
Log Upload Time:Wed Nov 02 03:51:47 +0800 2016
LogLength:40
Log Contents:
INFO ApplicationMaster: Final app status: FAILED
End of LogType:stderr

LogType:launch_container.sh
LogLength:3
Log Contents:
java.lang.OutOfMemoryError: in a script, not read
End of LogType:launch_container.sh

Container: container_1_0001_01_000002 on node-b_8041
LogAggregationType: AGGREGATED
=====================
LogType:stderr
LogLastModifiedTime:Tue Oct 19 12:30:32 +0000 2021
LogLength:3279
LogContents:
java.lang.OutOfMemoryError: Java heap space
\tat java.util.Arrays.copyOf(Arrays.java:3236)
LogType:stdout
LogLength:0
LogContents:
";
        let logs = read_aggregated_logs(answer.as_bytes(), ExcerptLimits::default());
        assert_eq!(logs.containers, 2);
        assert_eq!(logs.bytes_read, answer.len() as u64);
        let kept: Vec<(&str, &str, &str)> = logs
            .logs
            .iter()
            .map(|l| (l.container.as_str(), l.node.as_str(), l.log_type.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                ("container_1_0001_01_000001", "node-a_8041", "stderr"),
                ("container_1_0001_01_000002", "node-b_8041", "stderr"),
            ]
        );
        let executor = logs.logs[1].clone().into_piece();
        assert_eq!(executor.source, LogSource::Executor);
        assert!(
            executor
                .text
                .starts_with("java.lang.OutOfMemoryError: Java heap space\n\tat")
        );
        assert_eq!(logs.logs[0].clone().into_piece().source, LogSource::Driver);
    }

    #[test]
    fn a_logs_command_that_fails_or_hangs_is_reported() {
        let limits = ExcerptLimits::default();
        let command = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        let failed = logs_from_command(
            &command(&[
                "sh",
                "-c",
                "echo 'Log aggregation has not completed' >&2; exit 1",
                "{app_id}",
            ]),
            "application_1_0001",
            Duration::from_secs(10),
            limits,
        )
        .expect_err("failed");
        assert!(
            failed.contains("Log aggregation has not completed"),
            "{failed}"
        );
        let hung = logs_from_command(
            &command(&["sleep", "5"]),
            "application_1_0001",
            Duration::from_millis(200),
            limits,
        )
        .expect_err("hung");
        assert!(hung.contains("was stopped"), "{hung}");
        let printed = logs_from_command(
            &command(&[
                "printf",
                "Container: container_%s on n\\nLogType:stderr\\nLogContents:\\nboom\\n",
                "{app_id}",
            ]),
            "1_0001_01_000002",
            Duration::from_secs(10),
            limits,
        )
        .expect("printed");
        assert_eq!(printed.logs[0].container, "container_1_0001_01_000002");
    }
}

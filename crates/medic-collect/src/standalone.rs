//! A standalone cluster's executor logs: each executor's `stderr` in its worker's work directory
//! (`{work}/{app}/{executor}/stderr`), read where medic runs beside the workers, or over HTTP from the worker's raw
//! log endpoint (`/log/?appId=…&executorId=…&logType=stderr&offset=…&byteLength=…`), in bounded chunks.

use std::io::BufReader;
use std::path::Path;

use crate::excerpt::{Excerpt, ExcerptLimits, excerpt};
use crate::transport::Transport;

/// Bytes asked for in one chunk of a worker's log endpoint.
const CHUNK_BYTES: u64 = 1 << 20;

/// Every executor log of application `app_id` under the work directory `work_dir`, by executor id (sorted), as
/// excerpts; an unreadable one is reported by path.
pub fn from_work_dir(
    work_dir: &Path,
    app_id: &str,
    limits: ExcerptLimits,
) -> (Vec<(String, Excerpt)>, Vec<String>) {
    let app_dir = work_dir.join(app_id);
    let mut logs = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(&app_dir) else {
        return (logs, problems);
    };
    let mut executors: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    executors.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), id.clone()));
    for id in executors {
        let path = app_dir.join(&id).join("stderr");
        match std::fs::File::open(&path) {
            Ok(file) => logs.push((id, excerpt(BufReader::new(file), limits))),
            Err(error) => problems.push(format!("{}: {error}", path.display())),
        }
    }
    (logs, problems)
}

/// The excerpt of the executor log at `log_page` (a worker's `logPage/?…` URL, as the History Server lists it),
/// read from the worker's raw endpoint: the first `max_bytes`, and the last chunk when the log is longer.
pub fn over_http(
    log_page: &str,
    transport: &dyn Transport,
    max_bytes: u64,
    limits: ExcerptLimits,
) -> Result<(Excerpt, u64), String> {
    let raw = log_page.replacen("/logPage/", "/log/", 1);
    if raw == log_page {
        return Err(format!("{log_page} is not a standalone worker's log page"));
    }
    let mut body = Vec::new();
    let mut offset = 0u64;
    let mut total = None;
    let mut read = 0u64;
    while offset < total.unwrap_or(u64::MAX) && (offset as usize) < max_bytes as usize {
        let (chunk, size) = chunk(&raw, offset, transport)?;
        read += chunk.len() as u64;
        total = Some(size);
        if chunk.is_empty() {
            break;
        }
        offset += chunk.len() as u64;
        body.extend_from_slice(&chunk);
    }
    // A longer log: its end too, where the last errors are.
    if let Some(size) = total
        && size > offset
    {
        let start = size.saturating_sub(CHUNK_BYTES).max(offset);
        let (chunk, _) = chunk(&raw, start, transport)?;
        read += chunk.len() as u64;
        body.extend_from_slice(format!("\n… ({} bytes not read)\n", start - offset).as_bytes());
        body.extend_from_slice(&chunk);
    }
    Ok((excerpt(body.as_slice(), limits), read))
}

/// One chunk of the raw log from `offset`, and the log's whole size, from the endpoint's first line
/// (`==== Bytes A-B of N of PATH ====`).
fn chunk(raw: &str, offset: u64, transport: &dyn Transport) -> Result<(Vec<u8>, u64), String> {
    let url = format!("{raw}&offset={offset}&byteLength={CHUNK_BYTES}");
    let body = transport
        .get(&url, CHUNK_BYTES + 4096)
        .map_err(|error| error.to_string())?;
    let header_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let header = String::from_utf8_lossy(&body[..header_end]);
    let size = header
        .split(" of ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| format!("{url}: not a worker's log chunk (first line: {header})"))?;
    let data = body.get(header_end + 1..).unwrap_or(&[]).to_vec();
    Ok((data, size))
}

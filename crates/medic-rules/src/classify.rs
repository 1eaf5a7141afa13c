//! Streaming classification: read logs in bounded chunks, find candidate lines with one combined search, and keep
//! the first match of every rule; the highest-priority rule that matched decides.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use medic_core::{Classification, Evidence, JobIdentity, LogSource, RuleMatch, ScanStats};

use crate::prefilter::{CandidateFinder, FinderCache};
use crate::ruleset::RuleSet;

/// How much is read at once by default. Memory use is bounded by this plus [`MAX_LINE_BYTES`], whatever the log's
/// size.
const CHUNK_BYTES: usize = 4 << 20;
/// Lines longer than this are matched on their first `MAX_LINE_BYTES` bytes only (and counted as truncated).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Evidence lines are cut to this many bytes for display.
const MAX_EVIDENCE_BYTES: usize = 2000;

/// The classification of one run in progress: feed it every log of the run, then [`Classifier::finish`].
pub struct Classifier<'r> {
    set: &'r RuleSet,
    job: Option<JobIdentity>,
    first_matches: Vec<Option<FirstMatch>>,
    stats: ScanStats,
    warnings: Vec<String>,
    cache: FinderCache,
    buf: Vec<u8>,
    chunk_bytes: usize,
    max_line_bytes: usize,
}

struct FirstMatch {
    evidence: Evidence,
    captures: BTreeMap<String, String>,
}

/// Where the scan of one input stands.
struct Cursor<'a> {
    source: LogSource,
    input: &'a str,
    /// Lines completely read before the current region.
    lines: u64,
}

impl<'r> Classifier<'r> {
    pub(crate) fn new(set: &'r RuleSet, job: Option<JobIdentity>) -> Self {
        Classifier {
            set,
            job,
            first_matches: (0..set.rules().len()).map(|_| None).collect(),
            stats: ScanStats::default(),
            warnings: Vec::new(),
            cache: set.finder.create_cache(),
            buf: Vec::new(),
            chunk_bytes: CHUNK_BYTES,
            max_line_bytes: MAX_LINE_BYTES,
        }
    }

    /// Reads in chunks of `chunk_bytes` and matches lines on their first `max_line_bytes` bytes (both at least 1),
    /// instead of the defaults (4 MiB and [`MAX_LINE_BYTES`]). Memory use stays below their sum.
    pub fn with_buffer_limits(mut self, chunk_bytes: usize, max_line_bytes: usize) -> Self {
        self.chunk_bytes = chunk_bytes.max(1);
        self.max_line_bytes = max_line_bytes.max(1);
        self
    }

    /// Reads one log to its end. Never fails: a read error ends this input with a warning, and what was read before
    /// it still counts. Gzip-compressed input is recognised by its magic bytes and decompressed on the fly.
    pub fn scan_reader(&mut self, source: LogSource, input: &str, reader: impl Read) {
        let mut reader = BufReader::with_capacity(64 << 10, reader);
        let gzip = matches!(reader.fill_buf(), Ok([0x1f, 0x8b, ..]));
        let result = if gzip {
            self.scan_plain(source, input, MultiGzDecoder::new(reader))
        } else {
            self.scan_plain(source, input, reader)
        };
        if let Err(e) = result {
            self.warnings
                .push(format!("{input}: read stopped early: {e}"));
        }
    }

    /// Reads a file, or every file under a directory (in name order). A file named `stdout` or `stderr` (optionally
    /// `.gz`), as YARN and Kubernetes log folders name them, is tagged with that source unless `source` says otherwise.
    pub fn scan_path(&mut self, path: &Path, source: Option<LogSource>) {
        if path.is_dir() {
            let walk = walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name();
            for entry in walk {
                match entry {
                    Ok(entry) if entry.file_type().is_file() => {
                        self.scan_file(entry.path(), source)
                    }
                    Ok(_) => {}
                    Err(e) => self.warnings.push(format!("{}: {e}", path.display())),
                }
            }
        } else {
            self.scan_file(path, source);
        }
    }

    fn scan_file(&mut self, path: &Path, source: Option<LogSource>) {
        let name = path.display().to_string();
        let source = source.unwrap_or_else(|| source_from_file_name(path));
        match File::open(path) {
            Ok(file) => self.scan_reader(source, &name, file),
            Err(e) => self.warnings.push(format!("{name}: cannot open: {e}")),
        }
    }

    fn scan_plain(
        &mut self,
        source: LogSource,
        input: &str,
        mut reader: impl Read,
    ) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.reserve(self.chunk_bytes + self.max_line_bytes);
        let (chunk_bytes, max_line_bytes) = (self.chunk_bytes, self.max_line_bytes);
        let mut cursor = Cursor {
            source,
            input,
            lines: 0,
        };
        // Inside a line longer than MAX_LINE_BYTES whose head has been matched already: drop bytes to its end.
        let mut skipping_long_line = false;
        let result = loop {
            let filled = match fill(&mut reader, &mut buf, chunk_bytes) {
                Ok(n) => n,
                Err(e) => break Err(e),
            };
            let at_eof = filled == 0;
            self.stats.bytes += filled as u64;
            if skipping_long_line {
                match memchr::memchr(b'\n', &buf) {
                    Some(newline) => {
                        buf.drain(..=newline);
                        skipping_long_line = false;
                    }
                    None => buf.clear(),
                }
            }
            if at_eof {
                if !buf.is_empty() {
                    // The last line has no newline: it is still a line.
                    self.search_region(&buf, &mut cursor);
                    cursor.lines += 1;
                }
                break Ok(());
            }
            match memchr::memrchr(b'\n', &buf) {
                Some(last_newline) => {
                    self.search_region(&buf[..=last_newline], &mut cursor);
                    buf.drain(..=last_newline);
                }
                None if buf.len() >= max_line_bytes => {
                    self.search_region(&buf[..max_line_bytes], &mut cursor);
                    cursor.lines += 1;
                    self.stats.truncated_lines += 1;
                    buf.clear();
                    skipping_long_line = true;
                }
                None => {}
            }
        };
        self.stats.lines += cursor.lines;
        self.buf = buf;
        result
    }

    /// Finds every rule match in `region`, which holds whole lines.
    fn search_region(&mut self, region: &[u8], cursor: &mut Cursor<'_>) {
        let mut pos = 0;
        let mut counted_to = 0;
        CandidateFinder::start_region(&mut self.cache);
        // The finder reports the end of the earliest possible match; the line holding it is checked rule by rule,
        // and the search resumes after that line, so no line is skipped and none is checked twice.
        while pos < region.len() {
            let Some(end) = self.set.finder.next(&mut self.cache, region, pos) else {
                break;
            };
            let last_byte = end.saturating_sub(1).max(pos);
            let line_start =
                memchr::memrchr(b'\n', &region[pos..last_byte]).map_or(pos, |i| pos + i + 1);
            let line_end =
                memchr::memchr(b'\n', &region[last_byte..]).map_or(region.len(), |i| last_byte + i);
            cursor.lines +=
                memchr::memchr_iter(b'\n', &region[counted_to..line_start]).count() as u64;
            counted_to = line_start;
            self.check_line(&region[line_start..line_end], cursor);
            pos = line_end + 1;
        }
        cursor.lines += memchr::memchr_iter(b'\n', &region[counted_to..]).count() as u64;
    }

    /// Records the first match of every rule that matches `line` (line number `cursor.lines + 1`).
    fn check_line(&mut self, line: &[u8], cursor: &Cursor<'_>) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = if line.len() > self.max_line_bytes {
            self.stats.truncated_lines += 1;
            &line[..self.max_line_bytes]
        } else {
            line
        };
        for index in self.set.line_set.matches(line).iter() {
            let rule = &self.set.rules()[index];
            if rule.reads(cursor.source) && rule.applies_to(self.job.as_ref()) {
                self.record(index, cursor.source, cursor.input, cursor.lines + 1, line);
            }
        }
    }

    /// Notes that rule `index` matched `line`, unless it matched earlier already.
    pub(crate) fn record(
        &mut self,
        index: usize,
        source: LogSource,
        input: &str,
        line_number: u64,
        line: &[u8],
    ) {
        if self.first_matches[index].is_some() {
            return;
        }
        self.first_matches[index] = Some(FirstMatch {
            evidence: Evidence {
                source,
                input: input.to_owned(),
                line: line_number,
                text: display_line(line),
            },
            captures: self.set.rules()[index].captures(line).unwrap_or_default(),
        });
    }

    /// [`Classifier::finish`] for a caller that did its own reading.
    pub(crate) fn finish_with_stats(mut self, bytes: u64, lines: u64) -> Classification {
        self.stats.bytes += bytes;
        self.stats.lines += lines;
        self.finish()
    }

    /// The verdict: the highest-priority rule that matched, with every other match listed after it.
    pub fn finish(self) -> Classification {
        let rules = self.set.rules();
        let mut matches = self
            .first_matches
            .into_iter()
            .enumerate()
            .filter_map(|(index, first)| Some((&rules[index], first?)));
        let Some((winner, decisive)) = matches.next() else {
            return Classification::unclassified(self.stats, self.warnings);
        };
        Classification {
            category: winner.category,
            restartable: winner.restartable,
            memory_config: winner.category.is_memory_config(),
            rule: Some(winner.name.clone()),
            summary: winner.summary.clone(),
            evidence: Some(decisive.evidence),
            captures: decisive.captures,
            also_matched: matches
                .map(|(rule, first)| RuleMatch {
                    rule: rule.name.clone(),
                    category: rule.category,
                    evidence: first.evidence,
                })
                .collect(),
            scanned: self.stats,
            warnings: self.warnings,
        }
    }
}

/// Appends up to `chunk` bytes to `buf`, fewer only at the end of the input; returns how many were added.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, chunk: usize) -> io::Result<usize> {
    let before = buf.len();
    let target = before + chunk;
    while buf.len() < target {
        let want = target - buf.len();
        match reader.by_ref().take(want as u64).read_to_end(buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                if buf.len() > before {
                    // Keep what arrived; the error will recur on the next call and end the input then.
                    break;
                }
                return Err(e);
            }
        }
    }
    Ok(buf.len() - before)
}

fn source_from_file_name(path: &Path) -> LogSource {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match name.strip_suffix(".gz").unwrap_or(name) {
        "stdout" => LogSource::Stdout,
        "stderr" => LogSource::Stderr,
        _ => LogSource::Unknown,
    }
}

fn display_line(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(MAX_EVIDENCE_BYTES)]);
    // A cut may land inside a UTF-8 sequence; the lossy decoder turns that tail into U+FFFD, which is honest.
    text.trim_end().to_owned()
}

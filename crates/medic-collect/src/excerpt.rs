//! What of a log is worth keeping, read as a stream: the error sections (a line that reports an error, and the
//! stack or `Caused by` lines that follow it) and the tail. A multi-gigabyte executor log is read once, a line at a
//! time, and never held whole: the excerpt is bounded whatever the input.

use std::collections::VecDeque;
use std::io::BufRead;

/// How much of a log an excerpt keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExcerptLimits {
    /// Lines kept after a line that reports an error (its stack and causes).
    pub section_lines: usize,
    /// Lines kept from the end of the log.
    pub tail_lines: usize,
    /// Longest line kept; longer ones are cut, and counted.
    pub max_line_bytes: usize,
    /// Most bytes of error sections kept; later sections are counted, not kept.
    pub max_section_bytes: usize,
}

impl Default for ExcerptLimits {
    fn default() -> Self {
        ExcerptLimits {
            section_lines: 30,
            tail_lines: 40,
            max_line_bytes: 4096,
            max_section_bytes: 256 << 10,
        }
    }
}

/// A log's excerpt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Excerpt {
    /// The kept lines in log order: the error sections, then (after a marker line when lines were skipped between
    /// them) the tail.
    pub text: String,
    /// Bytes read.
    pub bytes_read: u64,
    /// Lines read.
    pub lines_read: u64,
    /// Error sections seen, kept or not.
    pub sections: u64,
    /// Error sections not kept (past `max_section_bytes`).
    pub sections_dropped: u64,
    /// Lines cut to `max_line_bytes`.
    pub lines_cut: u64,
}

/// Whether `line` reports an error: a log4j `ERROR`/`FATAL` line, an exception or error class at the start of a
/// line (a stack trace's head, a Python traceback's last line), `Caused by`, or a process's exit or kill.
pub fn reports_error(line: &str) -> bool {
    let trimmed = line.trim_start();
    if trimmed.starts_with("Caused by")
        || trimmed.starts_with("Traceback (most recent call last)")
        || trimmed.starts_with("Exception in thread")
    {
        return true;
    }
    // log4j: `26/12/06 18:41:39 ERROR Executor: ...`, and warnings that carry an exception.
    if line.contains(" ERROR ")
        || line.contains(" FATAL ")
        || line.contains(" WARN ") && (line.contains("Exception") || line.contains("Error"))
    {
        return true;
    }
    // `java.lang.OutOfMemoryError: Java heap space`, `org.apache.spark.SparkException: ...`, `MemoryError`.
    let head = trimmed.split([':', ' ']).next().unwrap_or("");
    (head.ends_with("Exception") || head.ends_with("Error"))
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '$' || c == '_')
        || trimmed.contains("exited with code")
        || trimmed.contains("non-zero exit code")
}

/// The excerpt of the log `reader` yields.
pub fn excerpt(reader: impl BufRead, limits: ExcerptLimits) -> Excerpt {
    let mut builder = ExcerptBuilder::new(limits);
    let mut lines = LineReader::new(reader, limits.max_line_bytes);
    while let Some((line, cut, bytes)) = lines.next_line() {
        builder.push(line, cut, bytes);
    }
    builder.finish()
}

/// An excerpt built a line at a time: for a stream that holds several logs one after another (a `yarn logs`
/// answer holds every container's), one builder per log.
#[derive(Debug)]
pub struct ExcerptBuilder {
    limits: ExcerptLimits,
    out: Excerpt,
    sections: String,
    tail: VecDeque<(u64, String)>,
    /// Lines still to keep after the last error line.
    following: usize,
    /// The number of the last line kept in a section.
    last_kept: Option<u64>,
    dropping_section: bool,
}

impl ExcerptBuilder {
    /// An empty excerpt.
    pub fn new(limits: ExcerptLimits) -> Self {
        ExcerptBuilder {
            limits,
            out: Excerpt::default(),
            sections: String::new(),
            tail: VecDeque::with_capacity(limits.tail_lines + 1),
            following: 0,
            last_kept: None,
            dropping_section: false,
        }
    }

    /// Takes the log's next `line` (without its end; `cut` when it was longer than the limit), which took `bytes`
    /// of the input.
    pub fn push(&mut self, line: String, cut: bool, bytes: u64) {
        let limits = self.limits;
        let out = &mut self.out;
        out.bytes_read += bytes;
        out.lines_read += 1;
        out.lines_cut += u64::from(cut);
        let number = out.lines_read;
        if reports_error(&line) && self.following == 0 {
            out.sections += 1;
            self.dropping_section = self.sections.len() + line.len() > limits.max_section_bytes;
            out.sections_dropped += u64::from(self.dropping_section);
            self.following = limits.section_lines + 1;
        }
        if self.following > 0 {
            self.following -= 1;
            // The budget holds inside a section too: one that never ends (every line an error) stops being kept.
            if !self.dropping_section && self.sections.len() + line.len() > limits.max_section_bytes
            {
                self.dropping_section = true;
                out.sections_dropped += 1;
            }
            if !self.dropping_section {
                if self.last_kept.is_some_and(|last| last + 1 < number) {
                    self.sections.push_str("…\n");
                }
                self.sections.push_str(&line);
                self.sections.push('\n');
                self.last_kept = Some(number);
            }
            // A new error inside a section extends it.
            if reports_error(&line) && !line.trim_start().starts_with("at ") {
                self.following = self.following.max(limits.section_lines);
            }
        }
        self.tail.push_back((number, line));
        if self.tail.len() > limits.tail_lines {
            self.tail.pop_front();
        }
    }

    /// The excerpt of the lines taken.
    pub fn finish(self) -> Excerpt {
        let mut out = self.out;
        out.text = self.sections;
        let mut previous = self.last_kept;
        for (number, line) in self.tail {
            if previous.is_some_and(|p| number <= p) {
                continue;
            }
            if previous.is_none_or(|p| p + 1 < number) && !out.text.is_empty() {
                out.text.push_str("…\n");
            }
            out.text.push_str(&line);
            out.text.push('\n');
            previous = Some(number);
        }
        out
    }
}

/// Reads lines of at most `max` bytes (the rest of a longer line is skipped, not held), lossily as UTF-8.
pub(crate) struct LineReader<R> {
    reader: R,
    max: usize,
    buffer: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(reader: R, max: usize) -> Self {
        LineReader {
            reader,
            max,
            buffer: Vec::new(),
        }
    }

    /// The next line (without its end), whether it was cut, and the bytes it took in the input.
    pub(crate) fn next_line(&mut self) -> Option<(String, bool, u64)> {
        self.buffer.clear();
        let mut bytes = 0u64;
        let mut cut = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                // A read error ends the log where it is: what was read so far is the excerpt.
                Err(_) => &[],
            };
            if available.is_empty() {
                if bytes == 0 {
                    return None;
                }
                break;
            }
            let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
                Some(end) => (&available[..=end], true),
                None => (available, false),
            };
            let room = self.max.saturating_sub(self.buffer.len());
            if chunk.len() > room {
                cut = true;
            }
            self.buffer
                .extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = chunk.len();
            bytes += used as u64;
            self.reader.consume(used);
            if done {
                break;
            }
        }
        while matches!(self.buffer.last(), Some(b'\n' | b'\r')) {
            self.buffer.pop();
        }
        Some((
            String::from_utf8_lossy(&self.buffer).into_owned(),
            cut,
            bytes,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_error_sections_and_the_tail_and_nothing_else() {
        let mut log = String::new();
        for i in 0..1000 {
            log.push_str(&format!(
                "26/12/06 18:41:{:02} INFO Executor: ordinary line {i}\n",
                i % 60
            ));
        }
        log.push_str(
            "26/12/06 18:41:39 ERROR Executor: Exception in task 1.0 in stage 0.0 (TID 1)\n",
        );
        log.push_str("java.lang.OutOfMemoryError: Java heap space\n");
        log.push_str("\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n");
        for i in 0..1000 {
            log.push_str(&format!(
                "26/12/06 18:42:{:02} INFO BlockManager: later line {i}\n",
                i % 60
            ));
        }
        let limits = ExcerptLimits {
            section_lines: 3,
            tail_lines: 2,
            ..ExcerptLimits::default()
        };
        let excerpt = excerpt(log.as_bytes(), limits);
        assert_eq!(excerpt.lines_read, 2003);
        assert_eq!(excerpt.bytes_read, log.len() as u64);
        assert_eq!(excerpt.sections, 1);
        assert_eq!(
            excerpt.text,
            "26/12/06 18:41:39 ERROR Executor: Exception in task 1.0 in stage 0.0 (TID 1)\n\
             java.lang.OutOfMemoryError: Java heap space\n\
             \tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n\
             26/12/06 18:42:00 INFO BlockManager: later line 0\n\
             26/12/06 18:42:01 INFO BlockManager: later line 1\n\
             …\n\
             26/12/06 18:42:38 INFO BlockManager: later line 998\n\
             26/12/06 18:42:39 INFO BlockManager: later line 999\n"
        );
    }

    #[test]
    fn a_huge_line_or_a_flood_of_errors_stays_bounded() {
        let mut log = "x".repeat(10 << 20);
        log.push('\n');
        for i in 0..100_000 {
            log.push_str(&format!("26/12/06 18:41:39 ERROR Executor: boom {i}\n"));
        }
        let limits = ExcerptLimits {
            section_lines: 1,
            tail_lines: 5,
            max_line_bytes: 1024,
            max_section_bytes: 64 << 10,
        };
        let excerpt = excerpt(log.as_bytes(), limits);
        assert_eq!(excerpt.lines_cut, 1);
        assert!(
            excerpt.text.len() < (64 << 10) + 6 * 1024,
            "{}",
            excerpt.text.len()
        );
        assert!(excerpt.sections_dropped > 0);
        assert!(excerpt.text.ends_with("ERROR Executor: boom 99999\n"));
    }

    #[test]
    fn what_reports_an_error() {
        for line in [
            "26/12/06 18:41:39 ERROR TaskSchedulerImpl: Lost executor 0 on 127.0.0.1: Command exited with code 52",
            "java.lang.OutOfMemoryError: Java heap space",
            "Caused by: org.apache.spark.SparkException: boom",
            "MemoryError",
            "org.apache.spark.memory.SparkOutOfMemoryError: [UNABLE_TO_ACQUIRE_MEMORY] Unable to acquire 1 bytes",
            "Container exited with a non-zero exit code 137. Killed by external signal",
            "26/12/06 18:41:39 WARN TaskSetManager: Lost task 1.0 in stage 0.0 (TID 1): java.lang.OutOfMemoryError",
        ] {
            assert!(reports_error(line), "{line}");
        }
        for line in [
            "26/12/06 18:41:39 INFO Executor: Running task 0.0 in stage 0.0 (TID 0)",
            "\tat org.apache.spark.executor.Executor.run(Executor.scala:906)",
            "the error rate is low",
            "26/12/06 18:41:39 WARN TaskSetManager: Lost task 0.0 in stage 1.0: TaskKilled (another attempt succeeded)",
        ] {
            assert!(!reports_error(line), "{line}");
        }
    }
}

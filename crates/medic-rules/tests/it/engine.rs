//! The engine's behaviour on awkward input, checked against the line-by-line reference implementation.

use std::io::{Read, Write};
use std::sync::LazyLock;

use medic_core::{Category, Classification, JobIdentity, LogSource};
use medic_rules::{RuleSet, reference};
use proptest::prelude::*;

use crate::data;

fn engine_rules() -> &'static RuleSet {
    static SET: LazyLock<RuleSet> = LazyLock::new(|| {
        RuleSet::load(&[data("packs/engine.yaml")], false).expect("engine pack loads")
    });
    &SET
}

fn builtin_rules() -> &'static RuleSet {
    static SET: LazyLock<RuleSet> =
        LazyLock::new(|| RuleSet::builtin().expect("builtin pack loads"));
    &SET
}

/// The parts of a classification that must not depend on how the input was read.
#[derive(Debug, PartialEq)]
struct Verdict {
    category: Category,
    rule: Option<String>,
    evidence: Option<(u64, String)>,
    also_matched: Vec<(String, u64)>,
    lines: u64,
}

fn verdict(c: &Classification) -> Verdict {
    Verdict {
        category: c.category,
        rule: c.rule.clone(),
        evidence: c.evidence.as_ref().map(|e| (e.line, e.text.clone())),
        also_matched: c
            .also_matched
            .iter()
            .map(|m| (m.rule.clone(), m.evidence.line))
            .collect(),
        lines: c.scanned.lines,
    }
}

/// A reader that hands out at most `step` bytes per call, to put chunk edges everywhere.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

const LINES: &[&str] = &[
    "25/11/21 10:00:00 INFO TaskSetManager: Starting task 1.0 in stage 2.0 (TID 3)",
    "25/11/21 10:00:01 INFO Executor: Finished task 1.0 in stage 2.0 (TID 3). 2000 bytes result sent to driver",
    "25/11/21 10:00:02 ERROR YarnScheduler: Lost executor 2 on host: Container killed by YARN for exceeding physical memory limits. 9.1 GB of 9 GB physical memory used.",
    "25/11/21 10:00:03 WARN TaskSetManager: Lost task 0.0 in stage 1.0 (TID 1): java.lang.OutOfMemoryError: Java heap space",
    "ValueError: invalid literal for int() with base 10: 'x'",
    "Malformed record",
    "org.apache.spark.shuffle.FetchFailedException: Failed to connect to host:7337",
    "java.io.IOException: Connection reset by peer",
    "java.io.IOException: NO SPACE LEFT ON DEVICE",
    "WarehouseTimeout after 30s",
    "",
];

fn log_strategy() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        8 => prop::sample::select(LINES).prop_map(|l| l.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
    ];
    let ending = prop::sample::select(vec![&b"\n"[..], &b"\r\n"[..]]);
    (prop::collection::vec((line, ending), 0..40), any::<bool>()).prop_map(
        |(lines, trailing_newline)| {
            let mut log = Vec::new();
            for (line, ending) in lines {
                log.extend_from_slice(&line);
                log.extend_from_slice(ending);
            }
            if !trailing_newline && log.ends_with(b"\n") {
                log.pop();
            }
            log
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic, and the fast engine finds exactly what trying every rule on every line finds,
    /// however the input is cut into reads and chunks.
    #[test]
    fn matches_the_reference_whatever_the_chunking(
        log in log_strategy(),
        step in 1usize..64,
        chunk in 1usize..256,
        source in prop::sample::select(vec![LogSource::Unknown, LogSource::Stdout, LogSource::Stderr]),
        scoped_job in any::<bool>(),
    ) {
        let set = engine_rules();
        let job = scoped_job.then(|| JobIdentity::new("nightly-etl"));
        let expected = reference::classify_line_by_line(set, source, "log", &log, job.as_ref());
        let whole = set.classify_bytes(source, "log", &log, job.as_ref());
        prop_assert_eq!(verdict(&whole), verdict(&expected));
        let mut classifier = set.classifier(job.as_ref()).with_buffer_limits(chunk, 1 << 20);
        classifier.scan_reader(source, "log", Trickle { bytes: &log, step });
        prop_assert_eq!(verdict(&classifier.finish()), verdict(&expected));
    }

    /// Any bytes at all, against the real built-in pack: no panic, and a consistent answer.
    #[test]
    fn arbitrary_bytes_never_panic(log in prop::collection::vec(any::<u8>(), 0..4096)) {
        let c = builtin_rules().classify_bytes(LogSource::Unknown, "-", &log, None);
        prop_assert_eq!(c.memory_config, c.category.is_memory_config());
        prop_assert_eq!(c.rule.is_none(), c.category == Category::Unclassified);
        if !log.starts_with(&[0x1f, 0x8b]) {
            // (Input that starts like gzip is decoded as gzip: a warning, and only what decoded is counted.)
            prop_assert_eq!(c.scanned.bytes, log.len() as u64);
        }
    }
}

#[test]
fn priority_decides_and_every_other_match_is_listed_with_its_line() {
    let log = [LINES[0], LINES[6], LINES[3], LINES[2], LINES[7]].join("\n");
    let c = engine_rules().classify_bytes(LogSource::Stderr, "driver.log", log.as_bytes(), None);
    assert_eq!(c.category, Category::ContainerMemoryExceeded);
    assert!(c.memory_config && !c.restartable);
    let evidence = c.evidence.expect("evidence");
    assert_eq!(
        (evidence.line, evidence.input.as_str(), evidence.source),
        (4, "driver.log", LogSource::Stderr)
    );
    assert_eq!(c.captures.get("used").map(String::as_str), Some("9.1 GB"));
    assert_eq!(c.captures.get("limit").map(String::as_str), Some("9 GB"));
    let others: Vec<_> = c
        .also_matched
        .iter()
        .map(|m| (m.rule.as_str(), m.evidence.line))
        .collect();
    assert_eq!(
        others,
        [
            ("heap-oom", 3),
            ("fetch-failed", 2),
            ("connection-reset", 5)
        ]
    );
}

#[test]
fn scoped_rules_apply_only_to_their_jobs() {
    let set = engine_rules();
    let log = format!("{}\n{}\n", LINES[9], LINES[7]);
    let other = set.classify_bytes(
        LogSource::Unknown,
        "-",
        log.as_bytes(),
        Some(&JobIdentity::new("hourly")),
    );
    assert_eq!(other.rule.as_deref(), Some("connection-reset"));
    let unknown = set.classify_bytes(LogSource::Unknown, "-", log.as_bytes(), None);
    assert_eq!(unknown.rule.as_deref(), Some("connection-reset"));
    let nightly = set.classify_bytes(
        LogSource::Unknown,
        "-",
        log.as_bytes(),
        Some(&JobIdentity::new("nightly-etl")),
    );
    assert_eq!(nightly.rule.as_deref(), Some("scoped-retry"));
}

#[test]
fn source_bound_rules_read_only_their_source_and_untagged_text() {
    let set = engine_rules();
    let log = LINES[4].as_bytes();
    assert_eq!(
        set.classify_bytes(LogSource::Stderr, "-", log, None)
            .category,
        Category::Unclassified
    );
    let on_stdout = set.classify_bytes(LogSource::Stdout, "-", log, None);
    assert_eq!(on_stdout.rule.as_deref(), Some("stdout-only-traceback"));
    assert_eq!(
        on_stdout.captures.get("error").map(String::as_str),
        Some("ValueError")
    );
    assert_eq!(
        set.classify_bytes(LogSource::Unknown, "-", log, None)
            .rule
            .as_deref(),
        Some("stdout-only-traceback")
    );
}

#[test]
fn anchors_work_on_crlf_lines_and_the_last_line_without_newline() {
    let set = engine_rules();
    let crlf = set.classify_bytes(
        LogSource::Unknown,
        "-",
        b"INFO a\r\nMalformed record\r\nINFO b\r\n",
        None,
    );
    assert_eq!(
        (crlf.rule.as_deref(), crlf.evidence.map(|e| e.line)),
        (Some("anchored-whole-line"), Some(2))
    );
    let last = set.classify_bytes(LogSource::Unknown, "-", b"INFO a\nMalformed record", None);
    assert_eq!(
        (last.rule.as_deref(), last.scanned.lines),
        (Some("anchored-whole-line"), 2)
    );
}

#[test]
fn empty_input_is_unclassified() {
    let c = engine_rules().classify_bytes(LogSource::Unknown, "-", b"", None);
    assert_eq!(
        (c.category, c.scanned.lines, c.scanned.bytes),
        (Category::Unclassified, 0, 0)
    );
}

#[test]
fn overlong_lines_are_matched_on_their_head_and_counted() {
    let set = engine_rules();
    let mut log = Vec::new();
    log.extend_from_slice(b"java.io.IOException: Connection reset by peer ");
    log.extend(std::iter::repeat_n(b'x', 5000));
    log.extend_from_slice(b" java.lang.OutOfMemoryError: Java heap space\n");
    log.extend_from_slice(b"Malformed record\n");
    let mut classifier = set.classifier(None).with_buffer_limits(300, 1000);
    classifier.scan_reader(LogSource::Unknown, "-", &log[..]);
    let c = classifier.finish();
    // The OOM lies beyond the line limit, so only the reset (in the head) and the next line count.
    assert_eq!(c.rule.as_deref(), Some("anchored-whole-line"));
    let others: Vec<_> = c
        .also_matched
        .iter()
        .map(|m| (m.rule.as_str(), m.evidence.line))
        .collect();
    assert_eq!(others, [("connection-reset", 1)]);
    assert_eq!((c.scanned.lines, c.scanned.truncated_lines), (2, 1));
    assert!(c.evidence.expect("evidence").text.len() <= 1000);
}

#[test]
fn gzip_input_is_decompressed_and_a_corrupt_stream_is_a_warning() {
    let set = engine_rules();
    let log = format!("{}\n{}\n", LINES[0], LINES[3]);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(log.as_bytes()).expect("compress");
    let gz = encoder.finish().expect("finish");
    let c = set.classify_bytes(LogSource::Unknown, "log.gz", &gz, None);
    assert_eq!(
        (c.rule.as_deref(), c.scanned.bytes),
        (Some("heap-oom"), log.len() as u64)
    );
    assert!(c.warnings.is_empty());

    let corrupt = &gz[..gz.len() / 2];
    let c = set.classify_bytes(LogSource::Unknown, "log.gz", corrupt, None);
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(
        c.warnings[0].starts_with("log.gz: read stopped early"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn directories_are_one_run_and_yarn_file_names_tag_their_source() {
    let dir = std::env::temp_dir().join(format!("medic-rules-dir-{}", std::process::id()));
    let container = dir.join("container_01");
    std::fs::create_dir_all(&container).expect("mkdir");
    std::fs::write(container.join("stdout"), format!("{}\n", LINES[4])).expect("write");
    std::fs::write(
        container.join("stderr"),
        format!("{}\n{}\n", LINES[0], LINES[7]),
    )
    .expect("write");
    let set = engine_rules();
    let mut classifier = set.classifier(None);
    classifier.scan_path(&dir, None);
    let c = classifier.finish();
    std::fs::remove_dir_all(&dir).expect("cleanup");
    let evidence = c.evidence.expect("evidence");
    assert_eq!(c.rule.as_deref(), Some("stdout-only-traceback"));
    assert_eq!(evidence.source, LogSource::Stdout);
    assert!(
        evidence.input.ends_with("container_01/stdout"),
        "{}",
        evidence.input
    );
    assert_eq!(c.scanned.lines, 3);
}

#[test]
fn unreadable_paths_are_warnings_and_still_classified() {
    let set = engine_rules();
    let mut classifier = set.classifier(None);
    classifier.scan_path(&data("no-such-log.txt"), None);
    let c = classifier.finish();
    assert_eq!(c.category, Category::Unclassified);
    assert_eq!(c.warnings.len(), 1);
    assert!(c.warnings[0].contains("cannot open"), "{:?}", c.warnings);
}

//! Classification throughput on a large generated Spark log.
//!
//! Generates (once, cached under `target/medic-bench/`) a log of `MEDIC_BENCH_BYTES` bytes (default 1 GiB) of
//! ordinary Spark INFO/WARN lines with rare real failure lines, loads the built-in pack plus
//! `MEDIC_BENCH_EXTRA_RULES` (default 300) generated rules, and measures with criterion:
//!
//! * `classify/medic`: the engine streaming the file from disk (page cache), one thread;
//! * `classify/line_by_line`: the reference implementation (every rule on every line) on the first
//!   `MEDIC_BENCH_NAIVE_BYTES` (default 16 MiB) of the same log — the full file would take hours.
//!
//! Then it times `rg -c -f` and `grep -E -c -f` with the same patterns on the same file (median of
//! `MEDIC_BENCH_TOOL_RUNS`, default 3, runs; skipped with a note when the tool is missing) and prints a summary
//! with MB/s and ratios, also written to `target/medic-bench/classify-summary.md`.
//!
//! `scripts/bench-classify.sh` installs ripgrep and runs this.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use medic_core::LogSource;
use medic_rules::{RulePack, RuleSet, reference};

const SEED: u64 = 0x5eed_1096;

fn main() {
    let bytes = env_u64("MEDIC_BENCH_BYTES", 1 << 30);
    let extra_rules = env_u64("MEDIC_BENCH_EXTRA_RULES", 300) as usize;
    let naive_bytes = env_u64("MEDIC_BENCH_NAIVE_BYTES", 16 << 20) as usize;
    let tool_runs = env_u64("MEDIC_BENCH_TOOL_RUNS", 3) as usize;

    let dir = target_dir().join("medic-bench");
    fs::create_dir_all(&dir).expect("create bench dir");
    let log = dir.join(format!("spark-{bytes}-{SEED:x}.log"));
    if fs::metadata(&log).map(|m| m.len() < bytes).unwrap_or(true) {
        eprintln!("generating {} ({bytes} bytes)…", log.display());
        write_log(&log, bytes);
    }
    let log_len = fs::metadata(&log).expect("log").len();

    let generated = generated_pack(extra_rules);
    let packs = vec![
        RulePack::builtin().expect("built-in pack"),
        RulePack::parse("<generated>", &generated).expect("generated pack is valid"),
    ];
    let set = RuleSet::compile(packs).expect("rules compile");
    let patterns: Vec<&str> = set.rules().iter().map(|r| r.pattern.as_str()).collect();
    eprintln!("{} rules ({} generated)", patterns.len(), extra_rules);

    // The benchmark must measure real work: the engine has to find the failure planted in the log, and agree with
    // the reference on the slice both are timed on.
    let verdict = classify_file(&set, &log);
    assert!(
        verdict.memory_config,
        "a planted memory failure must decide: {verdict:?}"
    );
    assert!(
        verdict.also_matched.len() >= 5,
        "planted failures must all be found: {verdict:?}"
    );
    let slice = read_prefix(&log, naive_bytes);
    let fast = set.classify_bytes(LogSource::Unknown, "slice", &slice, None);
    let slow = reference::classify_line_by_line(&set, LogSource::Unknown, "slice", &slice, None);
    assert_eq!(
        (fast.rule.as_deref(), fast.also_matched.len()),
        (slow.rule.as_deref(), slow.also_matched.len())
    );

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15))
        .configure_from_args();
    let mut group = criterion.benchmark_group("classify");
    group.throughput(Throughput::Bytes(log_len));
    group.bench_function("medic", |b| b.iter(|| black_box(classify_file(&set, &log))));
    group.throughput(Throughput::Bytes(slice.len() as u64));
    group.bench_function("line_by_line", |b| {
        b.iter(|| {
            black_box(reference::classify_line_by_line(
                &set,
                LogSource::Unknown,
                "slice",
                &slice,
                None,
            ))
        })
    });
    group.finish();
    criterion.final_summary();

    let medic_s = criterion_median_seconds("classify", "medic");
    let naive_s = criterion_median_seconds("classify", "line_by_line");
    let rg = time_tool(&dir, "rg", &patterns, &log, tool_runs);
    let grep = time_tool(&dir, "grep", &patterns, &log, tool_runs);

    let mb = |len: u64, secs: f64| len as f64 / 1e6 / secs;
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "log: {} MB, {} rules ({} built-in + {} generated)",
        log_len / 1_000_000,
        patterns.len(),
        patterns.len() - extra_rules,
        extra_rules
    );
    let _ = writeln!(
        summary,
        "| what | median time | MB/s (one core) | medic is faster by |"
    );
    let _ = writeln!(summary, "|---|---|---|---|");
    let medic_mbs = medic_s.map(|s| mb(log_len, s));
    if let (Some(s), Some(rate)) = (medic_s, medic_mbs) {
        let _ = writeln!(
            summary,
            "| medic classify (every matching rule reported) | {s:.3} s | {rate:.0} | 1× |"
        );
    }
    if let Some(s) = naive_s {
        let rate = mb(slice.len() as u64, s);
        let ratio = medic_mbs
            .map(|m| format!("{:.0}×", m / rate))
            .unwrap_or_default();
        let _ = writeln!(
            summary,
            "| line by line, every rule on every line ({} MB slice) | {s:.3} s | {rate:.1} | {ratio} |",
            slice.len() / 1_000_000
        );
    }
    for (name, result) in [("rg -c -f", rg), ("grep -E -c -f", grep)] {
        match result {
            Ok((s, note)) => {
                let rate = mb(log_len, s);
                let ratio = medic_mbs
                    .map(|m| format!("{:.2}×", m / rate))
                    .unwrap_or_default();
                let _ = writeln!(summary, "| {name}{note} | {s:.3} s | {rate:.0} | {ratio} |");
            }
            Err(why) => {
                let _ = writeln!(summary, "| {name} | not run: {why} | | |");
            }
        }
    }
    println!("\n{summary}");
    fs::write(dir.join("classify-summary.md"), &summary).expect("write summary");
}

fn classify_file(set: &RuleSet, log: &Path) -> medic_core::Classification {
    let mut classifier = set.classifier(None);
    classifier.scan_path(log, None);
    classifier.finish()
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

fn read_prefix(path: &Path, len: usize) -> Vec<u8> {
    let mut bytes = fs::read(path).map(|mut b| {
        b.truncate(len);
        b
    });
    let bytes = bytes.as_mut().expect("read log");
    if let Some(end) = memchr_last_newline(bytes) {
        bytes.truncate(end + 1);
    }
    std::mem::take(bytes)
}

fn memchr_last_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().rposition(|&b| b == b'\n')
}

/// The median of criterion's last run, from the estimates it saves.
fn criterion_median_seconds(group: &str, function: &str) -> Option<f64> {
    let path = target_dir()
        .join("criterion")
        .join(group)
        .join(function)
        .join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    Some(json["median"]["point_estimate"].as_f64()? / 1e9)
}

/// Times `rg -c -f` or `grep -E -c -f` over the log; returns the median seconds and a note.
fn time_tool(
    dir: &Path,
    tool: &str,
    patterns: &[&str],
    log: &Path,
    runs: usize,
) -> Result<(f64, String), String> {
    let local_rg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/tools/bin/rg");
    let program = if tool == "rg" && local_rg.exists() {
        local_rg
    } else {
        PathBuf::from(tool)
    };
    let (lines, note): (Vec<String>, String) = if tool == "grep" {
        let translated: Vec<String> = patterns.iter().filter_map(|p| to_posix_ere(p)).collect();
        let skipped = patterns.len() - translated.len();
        let note = if skipped > 0 {
            format!(" ({skipped} patterns not expressible in ERE left out)")
        } else {
            String::new()
        };
        (translated, note)
    } else {
        // ripgrep joins the patterns into one regex, where the same capture name in two rules is an error.
        let unnamed = regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>").expect("valid");
        (
            patterns
                .iter()
                .map(|p| unnamed.replace_all(p, "(?:").into_owned())
                .collect(),
            String::new(),
        )
    };
    let file = dir.join(format!("patterns-{tool}.txt"));
    fs::write(&file, lines.join("\n") + "\n").map_err(|e| e.to_string())?;
    let args: Vec<&std::ffi::OsStr> = match tool {
        "rg" => vec![
            "-c".as_ref(),
            "-f".as_ref(),
            file.as_os_str(),
            log.as_os_str(),
        ],
        _ => vec![
            "-E".as_ref(),
            "-c".as_ref(),
            "-f".as_ref(),
            file.as_os_str(),
            log.as_os_str(),
        ],
    };
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let output = Command::new(&program)
            .args(&args)
            .env("LC_ALL", "C")
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        let elapsed = start.elapsed().as_secs_f64();
        if !output.status.success() && output.status.code() != Some(1) {
            return Err(format!(
                "{tool} failed: {}",
                String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .next()
                    .unwrap_or("")
            ));
        }
        eprintln!(
            "{tool}: {} matching lines in {elapsed:.2} s",
            String::from_utf8_lossy(&output.stdout).trim()
        );
        times.push(elapsed);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], note))
}

/// Rewrites a Rust regex into POSIX ERE for `grep -E`, or `None` when it uses what ERE lacks.
fn to_posix_ere(pattern: &str) -> Option<String> {
    if pattern.contains("(?i") || pattern.contains("(?-") || pattern.contains("\\p{") {
        return None;
    }
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'd' => out.push_str("[0-9]"),
                's' => out.push_str("[[:space:]]"),
                'S' => out.push_str("[^[:space:]]"),
                'w' => out.push_str("[[:alnum:]_]"),
                'W' => out.push_str("[^[:alnum:]_]"),
                'b' => out.push_str("\\b"),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            '(' if chars.peek() == Some(&'?') => {
                chars.next();
                match chars.next()? {
                    ':' => {}
                    'P' | '<' => {
                        for c in chars.by_ref() {
                            if c == '>' {
                                break;
                            }
                        }
                    }
                    _ => return None,
                }
                out.push('(');
            }
            '?' if out.ends_with(['*', '+', '?', '}']) => {} // lazy quantifier: same set of matching lines
            _ => out.push(c),
        }
    }
    Some(out)
}

/// splitmix64: a tiny, seeded generator, enough to make the log reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Real failure lines, planted rarely (one per ~200 000 lines) among the noise.
const FAILURE_LINES: &[&str] = &[
    "25/11/21 03:12:44 WARN TaskSetManager: Lost task 17.0 in stage 4.0 (TID 913) (10.0.3.21 executor 7): org.apache.spark.shuffle.FetchFailedException: Failed to connect to ip-10-0-3-22.ec2.internal/10.0.3.22:7337",
    "25/11/21 03:12:45 ERROR YarnScheduler: Lost executor 7 on 10.0.3.21: Container killed by YARN for exceeding physical memory limits. 11.2 GB of 11 GB physical memory used. Consider boosting spark.executor.memoryOverhead.",
    "25/11/21 03:12:46 WARN TaskSetManager: Lost task 3.0 in stage 5.0 (TID 1022) (10.0.3.19 executor 2): java.lang.OutOfMemoryError: Java heap space",
    "25/11/21 03:12:47 WARN BlockManagerMasterEndpoint: No more replicas available for rdd_12_3 !",
    "25/11/21 03:12:48 ERROR Executor: Exception in task 9.0 in stage 5.0 (TID 1031): java.net.SocketTimeoutException: Read timed out",
    "25/11/21 03:12:49 ERROR TransportRequestHandler: Error sending result RpcResponse to /10.0.3.17:41234; closing connection: java.io.IOException: Connection reset by peer",
    "25/11/21 03:12:50 WARN DFSClient: Could not obtain block: BP-1234-10.0.0.1-1700000000000:blk_1073741825_1001 file=/data/events/part-00017",
];

const NOISE: &[&str] = &[
    "INFO TaskSetManager: Starting task {a}.0 in stage {s}.0 (TID {t}) (10.0.{b}.{c}, executor {e}, partition {a}, PROCESS_LOCAL, 9{b} bytes)",
    "INFO TaskSetManager: Finished task {a}.0 in stage {s}.0 (TID {t}) in {m} ms on 10.0.{b}.{c} (executor {e}) ({a}/200)",
    "INFO Executor: Running task {a}.0 in stage {s}.0 (TID {t})",
    "INFO Executor: Finished task {a}.0 in stage {s}.0 (TID {t}). {m}4 bytes result sent to driver",
    "INFO BlockManagerInfo: Added broadcast_{a}_piece0 in memory on 10.0.{b}.{c}:4{m} (size: {b}.{c} KiB, free: 2.{e} GiB)",
    "INFO MemoryStore: Block broadcast_{a} stored as values in memory (estimated size {m}.{c} KiB, free 2.{e} GiB)",
    "INFO DAGScheduler: Submitting {a} missing tasks from ResultStage {s} (MapPartitionsRDD[{t}] at save at EventsJob.scala:{m}) (first 15 tasks are for partitions Vector(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14))",
    "INFO ShuffleBlockFetcherIterator: Getting {a} ({b}.{c} MiB) non-empty blocks including {e} ({c}.0 KiB) local and 0 (0.0 B) host-local and 0 (0.0 B) push-merged-local and {m} ({b}.{e} MiB) remote blocks",
    "INFO ShuffleBlockFetcherIterator: Started {e} remote fetches in {m} ms",
    "INFO CodeGenerator: Code generated in {m}.{c} ms",
    "INFO ContextCleaner: Cleaned accumulator {t}",
    "INFO FileScanRDD: Reading File path: s3a://warehouse/events/dt=2025-11-{e}/part-{t}-c000.snappy.parquet, range: 0-134217728, partition values: [empty row]",
    "INFO DAGScheduler: ShuffleMapStage {s} (map at EventsJob.scala:{m}) finished in {b}.{c} s",
    "INFO YarnAllocator: Will request {e} executor container(s) for ResourceProfile Id: 0, each with 4 core(s) and 8192 MB memory. with custom resources: <memory:8192, vCores:4>",
    "WARN TaskSetManager: Stage {s} contains a task of very large size ({m} KiB). The maximum recommended task size is 1000 KiB.",
    "INFO SparkContext: Created broadcast {a} from save at EventsJob.scala:{m}",
    "INFO BlockManagerInfo: Removed broadcast_{a}_piece0 on 10.0.{b}.{c}:4{m} in memory (size: {b}.{c} KiB, free: 2.{e} GiB)",
    "INFO OutputCommitCoordinator: Commit denied for task {a} in stage {s} (TID {t}): already committed",
    "INFO MapOutputTrackerMaster: Size of output statuses for shuffle {s} is {m} bytes",
    "INFO SQLHadoopMapReduceCommitProtocol: Using output committer class org.apache.parquet.hadoop.ParquetOutputCommitter",
];

/// Writes a log of at least `bytes` bytes; written to a temporary name first so an interrupted run leaves no
/// truncated log behind.
fn write_log(path: &Path, bytes: u64) {
    let tmp = path.with_extension("partial");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp).expect("create log"));
    let mut rng = Rng(SEED);
    let mut written = 0u64;
    let mut line = String::with_capacity(512);
    let mut planted = 0usize;
    let mut generated_hits = 0usize;
    while written < bytes {
        line.clear();
        let n = rng.below(1_000_000);
        if n < 5 {
            line.push_str(FAILURE_LINES[planted % FAILURE_LINES.len()]);
            planted += 1;
        } else if n < 25 {
            // A line that one of the generated rules matches.
            let i = generated_hits % 300;
            let _ = write!(
                line,
                "25/11/21 04:00:00 ERROR {}: {} (code={})",
                component(i),
                phrase(i),
                1000 + i
            );
            generated_hits += 1;
        } else {
            let template = NOISE[rng.below(NOISE.len() as u64) as usize];
            let _ = write!(
                line,
                "25/11/21 {:02}:{:02}:{:02} ",
                rng.below(24),
                rng.below(60),
                rng.below(60)
            );
            let mut rest = template;
            while let Some(open) = rest.find('{') {
                line.push_str(&rest[..open]);
                let value = match &rest[open + 1..open + 2] {
                    "a" => rng.below(200),
                    "s" => rng.below(40),
                    "t" => rng.below(100_000),
                    "b" | "c" => rng.below(256),
                    "e" => rng.below(9) + 1,
                    _ => rng.below(1000),
                };
                let _ = write!(line, "{value}");
                rest = &rest[open + 3..];
            }
            line.push_str(rest);
        }
        line.push('\n');
        out.write_all(line.as_bytes()).expect("write log");
        written += line.len() as u64;
    }
    out.flush().expect("flush log");
    drop(out);
    fs::rename(&tmp, path).expect("rename log");
}

const COMPONENTS: &[&str] = &[
    "LakehouseWriter",
    "IngestGateway",
    "FeatureStoreClient",
    "CatalogSync",
    "MetricsPublisher",
    "DeltaCompactor",
    "PartitionPruner",
    "SchemaRegistryClient",
    "KafkaOffsetCommitter",
    "VaultTokenRenewer",
    "IcebergCommitter",
    "DruidIndexer",
    "ElasticBulkSink",
    "RedshiftUnloader",
    "SnowflakeStager",
    "BigQueryLoader",
    "HBaseBulkLoader",
    "CassandraSink",
    "MongoExporter",
    "PrestoGateway",
];
const PHRASES: &[&str] = &[
    "commit conflict on manifest",
    "token refresh rejected",
    "watermark regression detected",
    "checkpoint lease lost",
    "stale snapshot id",
    "segment handoff timed out",
    "bulk request rejected",
    "staging upload incomplete",
    "offset out of range",
    "schema fingerprint mismatch",
    "quota window exhausted",
    "replica set unavailable",
    "partition spec evolved",
    "unload manifest missing",
    "throttled by upstream",
];

fn component(i: usize) -> &'static str {
    COMPONENTS[i % COMPONENTS.len()]
}

fn phrase(i: usize) -> &'static str {
    PHRASES[(i / COMPONENTS.len()) % PHRASES.len()]
}

/// A pack of `n` rules shaped like teams' own rules: a component, a phrase, a captured code.
fn generated_pack(n: usize) -> String {
    let mut yaml = String::from(if n == 0 {
        "name: generated\nrules: []\n"
    } else {
        "name: generated\nrules:\n"
    });
    for i in 0..n {
        let escaped = phrase(i).replace('.', "\\.");
        let pattern = match i % 4 {
            0 => format!(
                "ERROR {}: {} \\(code=(?P<code>{})\\)",
                component(i),
                escaped,
                1000 + i
            ),
            1 => format!(
                "{}(?:Exception|Error): {} \\(code=(?P<code>{})\\)",
                component(i),
                escaped,
                1000 + i
            ),
            2 => format!(
                "{}: {} \\(code=(?P<code>{})\\)$",
                component(i),
                escaped,
                1000 + i
            ),
            _ => format!(
                "(?:WARN|ERROR) {}: {} \\(code=(?P<code>{}[0-9]*)\\)",
                component(i),
                escaped,
                1000 + i
            ),
        };
        let _ = write!(
            yaml,
            "  - name: team-rule-{i}\n    category: transient_infra\n    restartable: true\n    summary: generated rule {i}\n    pattern: '{pattern}'\n"
        );
    }
    yaml
}

//! How fast the YARN collector reads an application's aggregated logs, through the path a cluster uses: the logs
//! command's output (here `cat` of a generated `yarn logs` answer, cached under `target/medic-bench/`) read as a
//! stream and split into bounded per-container excerpts.
//!
//! The answer is `MEDIC_BENCH_BYTES` bytes (default 256 MiB) of 200 containers' `stderr` and `stdout` in Hadoop 3's
//! form, ordinary Spark INFO lines with an executor's `OutOfMemoryError` in every twentieth container. Prints MB/s
//! and the bytes kept. `cargo bench -p medic-collect --bench aggregated_logs`.

use std::fs::{self, File};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use medic_collect::excerpt::ExcerptLimits;
use medic_collect::yarn::{AggregatedLogs, logs_from_command};

const CONTAINERS: u64 = 200;

fn main() {
    let bytes: u64 = std::env::var("MEDIC_BENCH_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256 << 20);
    let dir = target_dir().join("medic-bench");
    fs::create_dir_all(&dir).expect("create the bench folder");
    let answer = dir.join(format!("yarn-logs-{bytes}.txt"));
    if fs::metadata(&answer)
        .map(|m| m.len() < bytes)
        .unwrap_or(true)
    {
        eprintln!("generating {} ({bytes} bytes)…", answer.display());
        write_answer(&answer, bytes);
    }
    let size = fs::metadata(&answer).expect("the answer").len();
    let command = vec!["cat".to_owned(), answer.display().to_string()];
    let limits = ExcerptLimits {
        max_section_bytes: 64 << 10,
        ..ExcerptLimits::default()
    };
    let read = || -> AggregatedLogs {
        logs_from_command(
            &command,
            "application_1_0001",
            Duration::from_secs(600),
            limits,
        )
        .expect("the logs command")
    };
    // The benchmark must measure real work: every container seen, every planted failure kept.
    let logs = read();
    assert_eq!(logs.containers as u64, CONTAINERS);
    assert_eq!(logs.bytes_read, size);
    let failures = logs
        .logs
        .iter()
        .filter(|l| {
            l.excerpt
                .text
                .contains("java.lang.OutOfMemoryError: Java heap space")
        })
        .count() as u64;
    assert_eq!(failures, CONTAINERS / 20);
    let kept: usize = logs.logs.iter().map(|l| l.excerpt.text.len()).sum();

    let mut criterion = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .configure_from_args();
    let mut group = criterion.benchmark_group("yarn_aggregated_logs");
    group.throughput(Throughput::Bytes(size));
    group.bench_function("logs_command_stream", |b| b.iter(|| black_box(read())));
    group.finish();

    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        black_box(read());
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "yarn aggregated logs: {size} bytes, {CONTAINERS} containers: median {median:.3} s = {:.0} MB/s; kept {kept} bytes \
         ({} container logs, {failures} with the planted OutOfMemoryError)",
        size as f64 / median / 1e6,
        logs.logs.len()
    );
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    )
}

/// A `yarn logs` answer of about `bytes` bytes: each container's `stderr` (Spark's INFO lines; an executor out of
/// heap in every twentieth) and a short `stdout`.
fn write_answer(path: &Path, bytes: u64) {
    let mut out = BufWriter::new(File::create(path).expect("create the answer"));
    let per_container = bytes / CONTAINERS;
    for c in 1..=CONTAINERS {
        let id = format!("container_e54_1631812995637_0402_01_{c:06}");
        writeln!(
            out,
            "Container: {id} on wrk-{}.example.com_45454_1634646632767\nLogAggregationType: AGGREGATED\n{}\n\
             LogType:stderr\nLogLastModifiedTime:Tue Oct 19 12:30:32 +0000 2021\nLogLength:{per_container}\nLogContents:",
            c % 7,
            "=".repeat(99)
        )
        .expect("write");
        let mut written = 0;
        let mut n = 0u64;
        while written < per_container {
            let line = format!(
                "21/10/19 12:{:02}:{:02} INFO TaskSetManager: Finished task {n}.0 in stage 3.0 (TID {}) in 812 ms on \
                 wrk-{}.example.com (executor {c}) ({n}/2000)\n",
                (n / 60) % 60,
                n % 60,
                n + 4000,
                c % 7
            );
            written += line.len() as u64;
            out.write_all(line.as_bytes()).expect("write");
            n += 1;
        }
        if c % 20 == 0 {
            writeln!(
                out,
                "21/10/19 12:59:59 ERROR Executor: Exception in task 7.0 in stage 3.0 (TID 4007)\n\
                 java.lang.OutOfMemoryError: Java heap space\n\tat java.util.Arrays.copyOf(Arrays.java:3236)\n\
                 21/10/19 12:59:59 ERROR CoarseGrainedExecutorBackend: RECEIVED SIGNAL TERM"
            )
            .expect("write");
        }
        writeln!(
            out,
            "End of LogType:stderr\n\nLogType:stdout\nLogLastModifiedTime:Tue Oct 19 12:30:32 +0000 2021\nLogLength:0\nLogContents:\n\
             End of LogType:stdout\n"
        )
        .expect("write");
    }
    out.flush().expect("flush");
}

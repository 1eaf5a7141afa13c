//! The logs a simulated attempt prints: ordinary Spark INFO lines, and for a failure, the real error text a real
//! cluster prints for it (taken from real Spark, YARN and Kubernetes logs), with its numbers filled in. Errors
//! "no rule knows" are written so that none of the built-in pack's rules matches them (a test checks it).

use std::fmt::Write;

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use crate::world::{Attempt, FailureKind, SimJob};

/// An attempt's standard output and standard error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Logs {
    /// Standard output (PySpark tracebacks land here).
    pub stdout: String,
    /// Standard error (Spark's log4j lines).
    pub stderr: String,
}

struct Context<'a> {
    job: &'a SimJob,
    attempt: &'a Attempt,
    app: String,
    clock: u32,
}

impl Context<'_> {
    fn host(&self, rng: &mut ChaCha8Rng) -> String {
        if self.job.kubernetes {
            format!(
                "10.{}.{}.{}",
                rng.random_range(0..4),
                rng.random_range(0..255),
                rng.random_range(2..255)
            )
        } else {
            format!(
                "ip-10-0-{}-{}.ec2.internal",
                rng.random_range(0..16),
                rng.random_range(2..255)
            )
        }
    }

    fn line(&mut self, out: &mut String, level: &str, class: &str, message: &str) {
        self.clock += 1;
        let (h, m, s) = (
            2 + self.clock / 3600,
            (self.clock / 60) % 60,
            self.clock % 60,
        );
        let _ = writeln!(
            out,
            "26/03/02 {h:02}:{m:02}:{s:02} {level} {class}: {message}"
        );
    }
}

fn gb(mib: f64) -> String {
    format!("{:.1} GB", mib / 1024.0)
}

/// The logs of `attempt` of `job` (number `number`), drawn with `rng`.
pub fn attempt_logs(job: &SimJob, attempt: &Attempt, number: u32, rng: &mut ChaCha8Rng) -> Logs {
    let mut ctx = Context {
        job,
        attempt,
        app: format!("application_1772400000000_{:04}", rng.random_range(1..9999)),
        clock: rng.random_range(0..600),
    };
    let mut logs = Logs::default();
    preamble(&mut ctx, &mut logs.stderr, number, rng);
    let tasks = if attempt.failure.is_some() {
        rng.random_range(10..40)
    } else {
        rng.random_range(4..12)
    };
    for _ in 0..tasks {
        noise(&mut ctx, &mut logs.stderr, rng);
    }
    match attempt.failure {
        None => {
            let took = attempt.runtime_seconds;
            ctx.line(
                &mut logs.stderr,
                "INFO",
                "DAGScheduler",
                &format!(
                    "Job 4 finished: save at NativeMethodAccessorImpl.java:0, took {took:.3} s"
                ),
            );
            ctx.line(
                &mut logs.stderr,
                "INFO",
                "SparkContext",
                "Successfully stopped SparkContext",
            );
        }
        Some(kind) => {
            failure(&mut ctx, &mut logs, kind, rng);
            for _ in 0..rng.random_range(2..6) {
                noise(&mut ctx, &mut logs.stderr, rng);
            }
            ctx.line(
                &mut logs.stderr,
                "INFO",
                "SparkContext",
                "Successfully stopped SparkContext",
            );
            ctx.line(
                &mut logs.stderr,
                "INFO",
                "ShutdownHookManager",
                "Shutdown hook called",
            );
        }
    }
    logs
}

fn preamble(ctx: &mut Context<'_>, out: &mut String, number: u32, rng: &mut ChaCha8Rng) {
    let host = ctx.host(rng);
    let app = ctx.app.clone();
    let id = ctx.job.identity.id.clone();
    for (class, message) in [
        ("SparkContext", "Running Spark version 3.5.1".to_owned()),
        ("SparkContext", format!("Submitted application: {id} (attempt {number})")),
        (
            "ResourceProfile",
            "Default ResourceProfile created, executor resources: Map(cores -> name: cores, amount: 4, script: , vendor: , memory -> name: memory, amount: 8192, script: , vendor: , offHeap -> name: offHeap, amount: 0, script: , vendor: ), task resources: Map(cpus -> name: cpus, amount: 1.0)".to_owned(),
        ),
        ("SecurityManager", "Changing view acls to: spark".to_owned()),
        (
            "Utils",
            format!("Successfully started service 'sparkDriver' on port {}.", rng.random_range(30000..45000)),
        ),
        ("SparkEnv", "Registering MapOutputTracker".to_owned()),
        ("SparkEnv", "Registering BlockManagerMaster".to_owned()),
        (
            "MemoryStore",
            format!("MemoryStore started with capacity {:.1} MiB", rng.random_range(400.0..4000.0)),
        ),
        (
            "BlockManagerMasterEndpoint",
            format!("Registering block manager {host}:{} with 2004.6 MiB RAM, BlockManagerId(driver, {host}, 41234, None)", rng.random_range(30000..45000)),
        ),
        ("SparkUI", format!("Bound SparkUI to 0.0.0.0, and started at http://{host}:4040")),
    ] {
        ctx.line(out, "INFO", class, &message);
    }
    if ctx.job.kubernetes {
        ctx.line(
            out,
            "INFO",
            "ExecutorPodsAllocator",
            &format!("Going to request 4 executors from Kubernetes for ResourceProfile Id: 0, target: 4, known: 0, sharedSlotFromPendingPods: {}.", i32::MAX),
        );
    } else {
        ctx.line(
            out,
            "INFO",
            "YarnClientImpl",
            &format!("Submitted application {app}"),
        );
        ctx.line(
            out,
            "INFO",
            "YarnAllocator",
            "Will request 4 executor container(s) for  ResourceProfile Id: 0, each with 4 core(s) and 9011 MB memory. with custom resources: <memory:9011, vCores:4>",
        );
    }
}

fn noise(ctx: &mut Context<'_>, out: &mut String, rng: &mut ChaCha8Rng) {
    let host = ctx.host(rng);
    let stage = rng.random_range(0..9);
    let task = rng.random_range(0..400);
    let tid = rng.random_range(0..5000);
    let executor = rng.random_range(1..12);
    let (class, message) = match rng.random_range(0..9) {
        0 => (
            "TaskSetManager",
            format!(
                "Starting task {task}.0 in stage {stage}.0 (TID {tid}) ({host}, executor {executor}, partition {task}, PROCESS_LOCAL, 7437 bytes)"
            ),
        ),
        1 | 2 => (
            "TaskSetManager",
            format!(
                "Finished task {task}.0 in stage {stage}.0 (TID {tid}) in {} ms on {host} (executor {executor}) ({}/400)",
                rng.random_range(200..90000),
                rng.random_range(1..400)
            ),
        ),
        3 => (
            "BlockManagerInfo",
            format!(
                "Added broadcast_{stage}_piece0 in memory on {host}:{} (size: {:.1} KiB, free: {:.1} MiB)",
                rng.random_range(30000..45000),
                rng.random_range(1.0..90.0),
                rng.random_range(100.0..4000.0)
            ),
        ),
        4 => (
            "DAGScheduler",
            format!(
                "Submitting {} missing tasks from ShuffleMapStage {stage} (MapPartitionsRDD[{}] at save at NativeMethodAccessorImpl.java:0)",
                rng.random_range(1..400),
                rng.random_range(3..90)
            ),
        ),
        5 => (
            "CodeGenerator",
            format!("Code generated in {:.6} ms", rng.random_range(1.0..80.0)),
        ),
        6 => (
            "FileSourceStrategy",
            "Pushed Filters: IsNotNull(event_date),GreaterThanOrEqual(event_date,2026-03-01)"
                .to_owned(),
        ),
        7 => (
            "ShuffleBlockFetcherIterator",
            format!(
                "Getting {} ({:.1} MiB) non-empty blocks including {} (0.0 B) local and 0 (0.0 B) host-local and 0 (0.0 B) push-merged-local and 0 (0.0 B) remote blocks",
                rng.random_range(1..400),
                rng.random_range(0.1..900.0),
                rng.random_range(0..40)
            ),
        ),
        _ => (
            "MemoryStore",
            format!(
                "Block broadcast_{stage} stored as values in memory (estimated size {:.1} KiB, free {:.1} MiB)",
                rng.random_range(1.0..900.0),
                rng.random_range(100.0..4000.0)
            ),
        ),
    };
    ctx.line(out, "INFO", class, &message);
}

fn failure(ctx: &mut Context<'_>, logs: &mut Logs, kind: FailureKind, rng: &mut ChaCha8Rng) {
    let host = ctx.host(rng);
    let executor = rng.random_range(1..12);
    let stage = rng.random_range(1..9);
    let task = rng.random_range(0..400);
    let tid = rng.random_range(0..5000);
    let out = &mut logs.stderr;
    let (granted, used) = ctx.attempt.container_mib;
    match kind {
        FailureKind::ExecutorHeap => match rng.random_range(0..4) {
            0 => {
                ctx.line(out, "WARN", "TaskSetManager", &format!("Lost task {task}.0 in stage {stage}.0 (TID {tid}) ({host} executor {executor}): java.lang.OutOfMemoryError: Java heap space"));
                out.push_str("\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n\tat org.apache.spark.sql.catalyst.expressions.UnsafeRow.copy(UnsafeRow.java:469)\n\tat org.apache.spark.sql.execution.joins.UnsafeHashedRelation$.apply(HashedRelation.scala:459)\n");
            }
            1 => {
                let want = rng.random_range(16u64..512) << 20;
                let got = rng.random_range(0..want / 2);
                ctx.line(
                    out,
                    "ERROR",
                    "Executor",
                    &format!("Exception in task {task}.0 in stage {stage}.0 (TID {tid})"),
                );
                let _ = writeln!(
                    out,
                    "org.apache.spark.memory.SparkOutOfMemoryError: [UNABLE_TO_ACQUIRE_MEMORY] Unable to acquire {want} bytes of memory, got {got}. SQLSTATE: 53200\n\tat org.apache.spark.memory.MemoryConsumer.throwOom(MemoryConsumer.java:157)\n\tat org.apache.spark.memory.MemoryConsumer.allocateArray(MemoryConsumer.java:97)"
                );
            }
            2 => {
                ctx.line(
                    out,
                    "ERROR",
                    "Executor",
                    &format!("Exception in task {task}.0 in stage {stage}.0 (TID {tid})"),
                );
                out.push_str("java.lang.OutOfMemoryError: GC overhead limit exceeded\n\tat org.apache.spark.util.collection.ExternalSorter.insertAll(ExternalSorter.scala:196)\n");
            }
            _ => {
                ctx.line(
                    out,
                    "ERROR",
                    "TaskSchedulerImpl",
                    &format!("Lost executor {executor} on {host}: Executor exit code 52 (JVM OOM)"),
                );
                ctx.line(out, "WARN", "TaskSetManager", &format!("Lost task {task}.0 in stage {stage}.0 (TID {tid}) ({host} executor {executor}): ExecutorLostFailure (executor {executor} exited caused by one of the running tasks) Reason: Executor exit code 52 (JVM OOM)"));
            }
        },
        FailureKind::ContainerMemory => {
            if ctx.job.kubernetes {
                ctx.line(out, "ERROR", "TaskSchedulerImpl", &format!("Lost executor {executor} on {host}: The executor with id {executor} exited with exit code 137(SIGKILL, possible container OOM)."));
                ctx.line(out, "INFO", "ExecutorPodsAllocator", &format!("Executor pod spark-exec-{executor} terminated. Container state: terminated, reason: OOMKilled, exit code: 137"));
            } else {
                ctx.line(out, "WARN", "YarnAllocator", &format!("Container killed by YARN for exceeding physical memory limits. {} of {} physical memory used. Consider boosting spark.executor.memoryOverhead.", gb(used), gb(granted)));
                ctx.line(out, "ERROR", "YarnScheduler", &format!("Lost executor {executor} on {host}: Container killed by YARN for exceeding physical memory limits. {} of {} physical memory used. Consider boosting spark.executor.memoryOverhead.", gb(used), gb(granted)));
            }
        }
        FailureKind::DriverHeap => {
            if rng.random_bool(0.5) {
                logs.stdout.push_str("Traceback (most recent call last):\n  File \"/jobs/report.py\", line 41, in <module>\n    rows = df.collect()\n  File \"/opt/spark/python/lib/pyspark.zip/pyspark/sql/dataframe.py\", line 1263, in collect\npy4j.protocol.Py4JJavaError: An error occurred while calling o35.collectToPython.\n: java.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n");
            } else {
                ctx.line(
                    out,
                    "ERROR",
                    "Utils",
                    "Uncaught exception in thread task-result-getter-2",
                );
                out.push_str("Exception in thread \"task-result-getter-2\" java.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.nio.HeapByteBuffer.<init>(HeapByteBuffer.java:64)\n");
            }
        }
        FailureKind::ShuffleFetch => {
            if rng.random_bool(0.5) {
                ctx.line(out, "WARN", "TaskSetManager", &format!("Lost task {task}.0 in stage {stage}.1 (TID {tid}) ({host} executor {executor}): FetchFailed(BlockManagerId({}, {host}, 7337, None), shuffleId=2, mapIndex=11, mapId=311, reduceId={task}, message=", executor + 1));
                let _ = writeln!(
                    out,
                    "org.apache.spark.shuffle.FetchFailedException: Failed to connect to {host}/10.0.4.12:7337"
                );
            } else {
                ctx.line(out, "WARN", "TaskSetManager", &format!("Lost task {task}.0 in stage {stage}.0 (TID {tid}) ({host} executor {executor}): org.apache.spark.shuffle.MetadataFetchFailedException: Missing an output location for shuffle 3 partition {task}"));
            }
        }
        FailureKind::TransientInfra => {
            let message = [
                format!("Lost executor {executor} on {host}: Container released on a *lost* node."),
                format!("Lost executor {executor} on {host}: Executor heartbeat timed out after 125000 ms"),
                "Task failed: com.amazonaws.services.s3.model.AmazonS3Exception: Slow Down (Service: Amazon S3; Status Code: 503; Error Code: SlowDown; Request ID: 7WD0Q4QK)".to_owned(),
                format!("Error sending result to {host}: java.io.IOException: Connection reset by peer"),
            ]
            .choose(rng)
            .cloned()
            .unwrap_or_default();
            ctx.line(out, "ERROR", "TaskSchedulerImpl", &message);
        }
        FailureKind::UserCode => {
            if rng.random_bool(0.5) {
                logs.stdout.push_str("Traceback (most recent call last):\n  File \"/jobs/etl.py\", line 88, in <module>\n    out = df.select(\"cust_id\", \"amount\")\npyspark.errors.exceptions.captured.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column or function parameter with name `cust_id` cannot be resolved. Did you mean one of the following? [`customer_id`, `amount`, `event_date`]. SQLSTATE: 42703\n");
            } else {
                ctx.line(out, "ERROR", "ApplicationMaster", "User class threw exception: java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"code\" is null");
                out.push_str("java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"code\" is null\n\tat com.acme.etl.Normalise.apply(Normalise.scala:31)\n");
            }
        }
        FailureKind::Permission => {
            if rng.random_bool(0.5) {
                ctx.line(out, "ERROR", "FileFormatWriter", "Aborting job 8c1f.");
                out.push_str("org.apache.hadoop.security.AccessControlException: Permission denied: user=etl, access=WRITE, inode=\"/warehouse/finance/ledger\":hive:hive:drwxr-xr-x\n");
            } else {
                ctx.line(out, "ERROR", "FileFormatWriter", "Aborting job 8c1f.");
                out.push_str("java.nio.file.AccessDeniedException: s3a://acme-lake/finance/ledger/part-00000.parquet: getFileStatus on s3a://acme-lake/finance/ledger/part-00000.parquet: com.amazonaws.services.s3.model.AmazonS3Exception: Forbidden (Service: Amazon S3; Status Code: 403; Error Code: 403 Forbidden; Request ID: 1X2Y3Z)\n");
            }
        }
        FailureKind::Data => {
            if rng.random_bool(0.5) {
                ctx.line(
                    out,
                    "ERROR",
                    "Executor",
                    &format!("Exception in task {task}.0 in stage {stage}.0 (TID {tid})"),
                );
                out.push_str("org.apache.spark.SparkNumberFormatException: [CAST_INVALID_INPUT] The value 'N/A' of the type \"STRING\" cannot be cast to \"INT\" because it is malformed. Correct the value as per the syntax, or change its target type. SQLSTATE: 22018\n");
            } else {
                ctx.line(
                    out,
                    "ERROR",
                    "Executor",
                    &format!("Exception in task {task}.0 in stage {stage}.0 (TID {tid})"),
                );
                out.push_str("org.apache.spark.SparkException: Malformed records are detected in record parsing. Parse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'.\n");
            }
        }
        FailureKind::Disk => {
            ctx.line(out, "ERROR", "DiskBlockObjectWriter", &format!("Uncaught exception while reverting partial writes to file /mnt/yarn/usercache/etl/appcache/{}/blockmgr-3f1e/2a/temp_shuffle_9a1c", ctx.app));
            out.push_str("java.io.IOException: No space left on device\n\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)\n");
        }
        FailureKind::NovelTransient => {
            ctx.line(out, "ERROR", "LakehouseCommitter", &format!("commit of sales.orders abandoned: optimistic concurrency check lost to writer {} (expected table version {}, found {})", ctx.job.identity.id, 4411 + task, 4412 + task));
        }
        FailureKind::NovelPermanent => {
            ctx.line(out, "ERROR", "GovernanceGate", "dataset finance.ledger is frozen for the quarter close (policy GOV-17); writes refused until 2026-04-05");
        }
    }
    ctx.line(
        out,
        "ERROR",
        "SparkContext",
        "Stopping SparkContext after the job's failure",
    );
}

#[cfg(test)]
mod tests {
    use medic_core::Category;
    use medic_core::LogSource;
    use medic_rules::RuleSet;

    use super::*;
    use crate::fleet::FleetSpec;
    use crate::world::{World, rng_for};

    /// Each kind's logs, on many draws, classify as the rule pack should: memory errors as their memory category,
    /// the others as theirs, novel ones as unclassified; and success logs match no rule at all.
    #[test]
    fn every_failure_kind_classifies_as_a_real_deployment_would_see_it() {
        let rules = RuleSet::builtin().expect("the built-in pack");
        let spec = FleetSpec::default_fleet();
        let world = World::new(&spec);
        let jobs: Vec<&SimJob> = world.jobs_on(0).take(60).collect();
        for kind in FailureKind::ALL {
            // A heap shortage prints either a heap error or the memory manager's refusal (execution memory).
            let expected: &[Category] = match kind {
                FailureKind::ExecutorHeap => &[Category::ExecutorOom, Category::ExecutionMemoryOom],
                FailureKind::ContainerMemory => &[Category::ContainerMemoryExceeded],
                FailureKind::DriverHeap => &[Category::DriverOom],
                FailureKind::ShuffleFetch => &[Category::ShuffleFetchFailure],
                FailureKind::TransientInfra => &[Category::TransientInfra],
                FailureKind::UserCode => &[Category::UserCodeError],
                FailureKind::Permission => &[Category::PermissionOrAuth],
                FailureKind::Data => &[Category::DataError],
                FailureKind::Disk => &[Category::DiskSpace],
                FailureKind::NovelTransient | FailureKind::NovelPermanent => {
                    &[Category::Unclassified]
                }
            };
            for (i, job) in jobs.iter().enumerate() {
                let mut attempt = world.attempt(job, 0, 1, &job.conf);
                attempt.failure = Some(kind);
                let mut rng = rng_for(7, kind.as_str(), &[i as u64]);
                let logs = attempt_logs(job, &attempt, 1, &mut rng);
                let mut classifier = rules.classifier(Some(&job.identity));
                classifier.scan_reader(LogSource::Stdout, "stdout", logs.stdout.as_bytes());
                classifier.scan_reader(LogSource::Stderr, "stderr", logs.stderr.as_bytes());
                let classification = classifier.finish();
                assert!(
                    expected.contains(&classification.category),
                    "{kind:?} as {} (rule {:?}):\n{}{}",
                    classification.category,
                    classification.rule,
                    logs.stdout,
                    logs.stderr
                );
            }
        }
        for (i, job) in jobs.iter().enumerate() {
            let mut attempt = world.attempt(job, 0, 1, &job.conf);
            attempt.failure = None;
            let logs = attempt_logs(job, &attempt, 1, &mut rng_for(7, "ok", &[i as u64]));
            let mut classifier = rules.classifier(None);
            classifier.scan_reader(LogSource::Stderr, "stderr", logs.stderr.as_bytes());
            let classification = classifier.finish();
            assert_eq!(
                classification.category,
                Category::Unclassified,
                "{}",
                logs.stderr
            );
            assert!(
                classification.also_matched.is_empty(),
                "{:?}",
                classification.also_matched
            );
        }
    }
}

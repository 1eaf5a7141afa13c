//! Spark's own rules, written once: the memory a JVM gets when a setting is left out (heaps, the default overhead),
//! which masters run in local mode and with how many threads, and the [`Resources`] a configuration occupies.
//!
//! Every crate that needs one of these rules calls this module instead of writing it again, so that the
//! simulator, the synthetic history, the recommender, right-sizing, the Spark runner and the cost of a record can
//! never disagree about what Spark does.
//!
//! The default overhead is defined once, in MiB as `f64` ([`default_overhead_mib`]), because the simulator and the
//! synthetic history compute in floating-point MiB and their seeded numbers must not move by a bit;
//! [`default_overhead_bytes`] is that same value truncated to whole bytes, for the callers that count bytes.
//! Scaling by 2^20 is exact in binary floating point, so both agree with `max(384 MiB, heap / 10)` computed in
//! bytes for any heap below a pebibyte (the tests check it).

use crate::SparkConf;
use crate::units::{SizeUnit, parse_size};

/// Bytes in a MiB.
const MIB: u64 = 1 << 20;
/// Bytes in a GiB.
const GIB: u64 = 1 << 30;

/// Spark's smallest memory overhead when none is set (`MEMORY_OVERHEAD_MIN`), MiB.
pub const MIN_MEMORY_OVERHEAD_MIB: f64 = 384.0;
/// Spark's smallest memory overhead when none is set, bytes.
pub const MIN_MEMORY_OVERHEAD_BYTES: u64 = 384 * MIB;
/// Spark's default overhead as a share of the heap (`MEMORY_OVERHEAD_FACTOR`).
pub const MEMORY_OVERHEAD_FACTOR: f64 = 0.10;
/// Spark's heap of a driver or an executor when `spark.*.memory` is not set (1g), bytes.
pub const DEFAULT_HEAP_BYTES: u64 = GIB;
/// Spark's heap of a driver or an executor when `spark.*.memory` is not set, MiB.
pub const DEFAULT_HEAP_MIB: f64 = 1024.0;
/// The executors of an application when `spark.executor.instances` is not set (YARN's default).
pub const DEFAULT_EXECUTOR_INSTANCES: f64 = 2.0;
/// Cores per executor, and the driver's, when `spark.executor.cores` or `spark.driver.cores` is not set (YARN's
/// default).
pub const DEFAULT_CORES: f64 = 1.0;

/// The master.
pub const MASTER: &str = "spark.master";
/// The executor heap.
pub const EXECUTOR_MEMORY: &str = "spark.executor.memory";
/// The executor's memory outside the heap; its container holds heap plus this.
pub const EXECUTOR_OVERHEAD: &str = "spark.executor.memoryOverhead";
/// The driver heap; in local mode, the whole application's.
pub const DRIVER_MEMORY: &str = "spark.driver.memory";
/// The driver's memory outside the heap.
pub const DRIVER_OVERHEAD: &str = "spark.driver.memoryOverhead";
/// The number of executors.
pub const EXECUTOR_INSTANCES: &str = "spark.executor.instances";
/// Cores per executor.
pub const EXECUTOR_CORES: &str = "spark.executor.cores";
/// The driver's cores.
pub const DRIVER_CORES: &str = "spark.driver.cores";
/// The memory of an executor's Python workers, asked of the cluster on top of its heap and overhead (unset: the
/// workers live in the overhead).
pub const PYSPARK_MEMORY: &str = "spark.executor.pyspark.memory";
/// The cores each task takes (`spark.task.cpus`): an executor runs `spark.executor.cores / spark.task.cpus` tasks at
/// once.
pub const TASK_CPUS: &str = "spark.task.cpus";
/// Whether executors come and go with the load.
pub const DYNAMIC_ALLOCATION: &str = "spark.dynamicAllocation.enabled";

/// Spark's overhead for a heap of `heap_mib` MiB when none is set: 10 % of the heap, at least 384 MiB.
///
/// The floating-point form the simulator and the synthetic history compute with; [`default_overhead_bytes`] is
/// the same value in whole bytes.
pub fn default_overhead_mib(heap_mib: f64) -> f64 {
    (MEMORY_OVERHEAD_FACTOR * heap_mib).max(MIN_MEMORY_OVERHEAD_MIB)
}

/// Spark's overhead for a heap of `heap_bytes` when none is set, in bytes: [`default_overhead_mib`] truncated to a
/// whole byte, which is `max(384 MiB, heap_bytes / 10)` for any heap below a pebibyte.
pub fn default_overhead_bytes(heap_bytes: u64) -> u64 {
    // Through the MiB form so that there is one formula; dividing and multiplying by 2^20 is exact.
    (default_overhead_mib(heap_bytes as f64 / MIB as f64) * MIB as f64) as u64
}

/// One of the two kinds of JVM whose memory Spark sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Jvm {
    /// Each executor (a container of heap plus overhead on a cluster).
    Executor,
    /// The driver.
    Driver,
}

impl Jvm {
    /// The setting of its heap (`spark.executor.memory`, `spark.driver.memory`).
    pub const fn heap_key(self) -> &'static str {
        match self {
            Jvm::Executor => EXECUTOR_MEMORY,
            Jvm::Driver => DRIVER_MEMORY,
        }
    }

    /// The setting of its overhead (`spark.executor.memoryOverhead`, `spark.driver.memoryOverhead`).
    pub const fn overhead_key(self) -> &'static str {
        match self {
            Jvm::Executor => EXECUTOR_OVERHEAD,
            Jvm::Driver => DRIVER_OVERHEAD,
        }
    }
}

/// The memory setting `key` of `conf` in bytes, a plain number being MiB as Spark reads `spark.*.memory` and
/// `spark.*.memoryOverhead`; `None` when it is not set or not a size.
pub fn memory_bytes(conf: &SparkConf, key: &str) -> Option<u64> {
    conf.get(key)
        .and_then(|text| parse_size(text, SizeUnit::Mib).ok())
}

/// [`memory_bytes`] in MiB.
pub fn memory_mib(conf: &SparkConf, key: &str) -> Option<f64> {
    memory_bytes(conf, key).map(|bytes| bytes as f64 / MIB as f64)
}

/// The heap `conf` gives `jvm`, bytes: its setting, or Spark's 1g when it is unset or unreadable.
pub fn heap_bytes(conf: &SparkConf, jvm: Jvm) -> u64 {
    memory_bytes(conf, jvm.heap_key()).unwrap_or(DEFAULT_HEAP_BYTES)
}

/// [`heap_bytes`] in MiB.
pub fn heap_mib(conf: &SparkConf, jvm: Jvm) -> f64 {
    memory_mib(conf, jvm.heap_key()).unwrap_or(DEFAULT_HEAP_MIB)
}

/// The overhead `conf` gives `jvm`, bytes: its setting, or Spark's default for the heap.
pub fn overhead_bytes(conf: &SparkConf, jvm: Jvm) -> u64 {
    memory_bytes(conf, jvm.overhead_key())
        .unwrap_or_else(|| default_overhead_bytes(heap_bytes(conf, jvm)))
}

/// [`overhead_bytes`] in MiB, with the default computed in MiB ([`default_overhead_mib`]).
pub fn overhead_mib(conf: &SparkConf, jvm: Jvm) -> f64 {
    memory_mib(conf, jvm.overhead_key())
        .unwrap_or_else(|| default_overhead_mib(heap_mib(conf, jvm)))
}

/// The worker threads of a local-mode application, as its master names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LocalThreads {
    /// `local` (one thread), `local[N]` or `local[N,F]`.
    Count(u64),
    /// `local[*]` or `local[*,F]`: as many threads as the machine has cores, which only the run itself can tell.
    AllCores,
}

impl LocalThreads {
    /// The cores the application has: its count, or for `local[*]` the `all_cores` the caller measured (1 when it
    /// did not, the least it can have had).
    pub fn cores(self, all_cores: Option<u64>) -> u64 {
        match self {
            LocalThreads::Count(count) => count,
            LocalThreads::AllCores => all_cores.filter(|&cores| cores > 0).unwrap_or(1),
        }
    }
}

/// The local-mode threads of `conf`, or `None` when it does not run in local mode.
///
/// Local mode is Spark's `local`, `local[N]`, `local[*]`, `local[N,F]` and `local[*,F]` (F: task failures allowed):
/// one JVM, the driver's, whose threads are the executors, so the driver's heap is the application's and the
/// executor settings are ignored. `local-cluster[W,C,M]` is *not* local mode: it starts W workers whose executors
/// are JVMs of their own with the executor settings, as on a cluster. An unset master, cluster managers (`yarn`,
/// `k8s://...`, `spark://...`) and masters Spark refuses (`local[0]`, `local[x]`) are not local mode either.
pub fn local_threads(conf: &SparkConf) -> Option<LocalThreads> {
    let master = conf.get(MASTER)?.trim();
    if master == "local" {
        return Some(LocalThreads::Count(1));
    }
    let inner = master.strip_prefix("local[")?.strip_suffix(']')?;
    let (threads, failures) = match inner.split_once(',') {
        Some((threads, failures)) => (threads.trim(), Some(failures.trim())),
        None => (inner.trim(), None),
    };
    if failures.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if threads == "*" {
        return Some(LocalThreads::AllCores);
    }
    if threads.is_empty() || !threads.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Spark refuses zero threads.
    threads
        .parse()
        .ok()
        .filter(|&count| count > 0)
        .map(LocalThreads::Count)
}

/// Whether `conf` runs in local mode (see [`local_threads`]).
pub fn is_local_mode(conf: &SparkConf) -> bool {
    local_threads(conf).is_some()
}

/// A count setting of `conf` (`spark.executor.cores`, `spark.task.cpus`): 1 when unset, unreadable or 0.
pub fn count_or_one(conf: &SparkConf, key: &str) -> u64 {
    conf.get(key)
        .and_then(|text| text.trim().parse::<u64>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

/// How many tasks one executor of `conf` runs at once: its cores over each task's, at least 1.
pub fn task_slots(conf: &SparkConf) -> u64 {
    (count_or_one(conf, EXECUTOR_CORES) / count_or_one(conf, TASK_CPUS)).max(1)
}

/// Whether the number of executors of `conf` follows from their cores rather than from a setting: a standalone
/// master starts as many executors as its workers' cores hold, and dynamic allocation as many as the tasks need.
/// There, fewer cores per executor means more executors (and more memory); more cores per task does not.
pub fn executor_count_follows_cores(conf: &SparkConf) -> bool {
    conf.get(MASTER)
        .is_some_and(|m| m.trim().starts_with("spark://"))
        || conf
            .get(DYNAMIC_ALLOCATION)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The resources a configuration occupies, with Spark's defaults for what it leaves out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resources {
    /// Cores in all: executors × executor cores plus the driver's; in local mode, the `local[N]` threads.
    pub cores: f64,
    /// GiB in all: executors × (heap + overhead + the Python workers' memory, which YARN and Kubernetes grant on
    /// top) plus the driver's heap and overhead; in local mode, the driver's alone.
    pub memory_gib: f64,
}

impl Resources {
    /// What `config` occupies. Unset or unreadable settings take Spark's defaults (1g heaps, 1 driver core, 2
    /// executors of 1 core on YARN), so that a cost is always defined; `local[*]` counts 1 core (see
    /// [`Resources::of_run`] for a run whose cores are known).
    pub fn of(config: &SparkConf) -> Resources {
        Resources::of_run(config, None, None)
    }

    /// What a run of `config` occupied, as its event log saw it (the Spark runner reads it): `local_all_cores`, the
    /// cores a `local[*]` run had; `executors`, on a cluster, how many executors it had on average over its run
    /// (their time over the application's), which count instead of `spark.executor.instances`: a standalone
    /// cluster starts as many as fit, dynamic allocation adds and removes them, and lost ones are replaced.
    ///
    /// In local mode there are no executors: the driver's JVM (heap plus overhead) does the work with the
    /// `local[N]` threads as its cores, whatever `spark.driver.cores` and the executor settings say.
    pub fn of_run(
        config: &SparkConf,
        local_all_cores: Option<u64>,
        executors: Option<f64>,
    ) -> Resources {
        let count = |key: &str, default: f64| {
            config
                .get(key)
                .and_then(|text| text.trim().parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n >= 0.0)
                .unwrap_or(default)
        };
        let gib_of =
            |jvm: Jvm| (heap_bytes(config, jvm) + overhead_bytes(config, jvm)) as f64 / GIB as f64;
        let driver_gib = gib_of(Jvm::Driver);
        if let Some(threads) = local_threads(config) {
            return Resources {
                cores: threads.cores(local_all_cores) as f64,
                memory_gib: driver_gib,
            };
        }
        let executors = executors
            .filter(|n| n.is_finite() && *n >= 0.0)
            .unwrap_or_else(|| count(EXECUTOR_INSTANCES, DEFAULT_EXECUTOR_INSTANCES));
        let python_gib = memory_bytes(config, PYSPARK_MEMORY).unwrap_or(0) as f64 / GIB as f64;
        Resources {
            cores: executors * count(EXECUTOR_CORES, DEFAULT_CORES)
                + count(DRIVER_CORES, DEFAULT_CORES),
            memory_gib: executors * (gib_of(Jvm::Executor) + python_gib) + driver_gib,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn conf(pairs: &[(&str, &str)]) -> SparkConf {
        let mut conf = SparkConf::new();
        for (key, value) in pairs {
            conf.set(*key, *value);
        }
        conf
    }

    fn master(master: Option<&str>) -> Option<LocalThreads> {
        local_threads(&conf(master.map(|m| (MASTER, m)).as_slice()))
    }

    #[test]
    fn default_overhead_is_384_mib_up_to_a_3840_mib_heap_then_a_tenth() {
        assert_eq!(default_overhead_mib(1024.0), 384.0);
        assert_eq!(default_overhead_mib(3839.0), 384.0);
        assert_eq!(default_overhead_mib(3840.0), 384.0);
        assert_eq!(default_overhead_mib(3850.0), 385.0);
        assert_eq!(default_overhead_mib(10240.0), 1024.0);
        assert_eq!(default_overhead_bytes(GIB), MIN_MEMORY_OVERHEAD_BYTES);
        assert_eq!(
            default_overhead_bytes(3839 * MIB),
            MIN_MEMORY_OVERHEAD_BYTES
        );
        assert_eq!(
            default_overhead_bytes(3840 * MIB),
            MIN_MEMORY_OVERHEAD_BYTES
        );
        assert_eq!(default_overhead_bytes(3850 * MIB), 385 * MIB);
        assert_eq!(default_overhead_bytes(3840 * MIB + 10), 384 * MIB + 1);
        assert_eq!(default_overhead_bytes(10 * GIB), GIB);
    }

    proptest! {
        // The MiB and byte forms are one formula: the same value in two units, and what the byte-counting
        // callers computed before (`max(384 MiB, heap / 10)` in integers, or `0.1 * heap` truncated).
        #[test]
        fn the_mib_and_byte_overheads_agree(heap in 0u64..(1 << 50)) {
            let bytes = default_overhead_bytes(heap);
            prop_assert_eq!(bytes, MIN_MEMORY_OVERHEAD_BYTES.max(heap / 10));
            prop_assert_eq!(bytes, MIN_MEMORY_OVERHEAD_BYTES.max((heap as f64 * 0.10) as u64));
            let mib = default_overhead_mib(heap as f64 / MIB as f64);
            // The synthetic history's form, in f64 bytes, is the MiB form scaled exactly.
            prop_assert_eq!(mib * MIB as f64, (384.0 * MIB as f64).max(0.1 * heap as f64));
            prop_assert_eq!((mib * MIB as f64) as u64, bytes);
        }
    }

    #[test]
    fn local_mode_is_one_jvm_and_local_cluster_is_not() {
        assert_eq!(master(Some("local")), Some(LocalThreads::Count(1)));
        assert_eq!(master(Some("local[2]")), Some(LocalThreads::Count(2)));
        assert_eq!(master(Some(" local[2] ")), Some(LocalThreads::Count(2)));
        assert_eq!(master(Some("local[*]")), Some(LocalThreads::AllCores));
        assert_eq!(master(Some("local[2,3]")), Some(LocalThreads::Count(2)));
        assert_eq!(master(Some("local[*, 4]")), Some(LocalThreads::AllCores));
        // Separate executor JVMs, sized by the executor settings.
        assert_eq!(master(Some("local-cluster[2,1,1024]")), None);
        assert_eq!(master(Some("yarn")), None);
        assert_eq!(master(Some("spark://host:7077")), None);
        assert_eq!(master(None), None);
        // Masters Spark refuses.
        for refused in [
            "local[0]",
            "local[x]",
            "local[]",
            "local[2,]",
            "local[2",
            "localhost",
        ] {
            assert_eq!(master(Some(refused)), None, "{refused}");
        }
        assert!(is_local_mode(&conf(&[(MASTER, "local[2]")])));
        assert!(!is_local_mode(&conf(&[(
            MASTER,
            "local-cluster[2,1,1024]"
        )])));
        assert!(!is_local_mode(&SparkConf::new()));
        assert_eq!(LocalThreads::Count(2).cores(Some(8)), 2);
        assert_eq!(LocalThreads::AllCores.cores(Some(8)), 8);
        assert_eq!(LocalThreads::AllCores.cores(Some(0)), 1);
        assert_eq!(LocalThreads::AllCores.cores(None), 1);
    }

    #[test]
    fn memory_settings_take_spark_defaults() {
        let set = conf(&[
            (EXECUTOR_MEMORY, "8g"),
            (DRIVER_MEMORY, "2048"),
            (DRIVER_OVERHEAD, "1g"),
            (EXECUTOR_OVERHEAD, "lots"),
        ]);
        assert_eq!(heap_bytes(&set, Jvm::Executor), 8 * GIB);
        assert_eq!(heap_mib(&set, Jvm::Driver), 2048.0);
        assert_eq!(overhead_bytes(&set, Jvm::Driver), GIB);
        // Unreadable: Spark's default for the heap.
        assert_eq!(overhead_mib(&set, Jvm::Executor), 8192.0 * 0.1);
        assert_eq!(memory_bytes(&set, EXECUTOR_OVERHEAD), None);
        let unset = SparkConf::new();
        assert_eq!(heap_bytes(&unset, Jvm::Driver), DEFAULT_HEAP_BYTES);
        assert_eq!(heap_mib(&unset, Jvm::Executor), DEFAULT_HEAP_MIB);
        assert_eq!(
            overhead_bytes(&unset, Jvm::Executor),
            MIN_MEMORY_OVERHEAD_BYTES
        );
        assert_eq!(overhead_mib(&unset, Jvm::Driver), MIN_MEMORY_OVERHEAD_MIB);
    }

    #[test]
    fn resources_follow_spark_defaults_and_overheads() {
        let defaults = Resources::of(&SparkConf::new());
        // 2 executors and a driver of 1 core, each 1 GiB heap + 384 MiB overhead.
        assert_eq!(defaults.cores, 3.0);
        assert!((defaults.memory_gib - 3.0 * 1.375).abs() < 1e-9);
        let sized = Resources::of(&conf(&[
            (EXECUTOR_INSTANCES, "10"),
            (EXECUTOR_CORES, "4"),
            (EXECUTOR_MEMORY, "8g"),
            (DRIVER_MEMORY, "not a size"),
        ]));
        assert_eq!(sized.cores, 41.0);
        // 10 × (8 GiB + 0.8 GiB) + driver 1.375 GiB.
        assert!((sized.memory_gib - (88.0 + 1.375)).abs() < 1e-6);
    }

    #[test]
    fn local_mode_occupies_the_driver_alone_with_its_threads() {
        let sized_for_a_cluster = |master: &str| {
            conf(&[
                (MASTER, master),
                (EXECUTOR_INSTANCES, "10"),
                (EXECUTOR_CORES, "4"),
                (EXECUTOR_MEMORY, "8g"),
                (DRIVER_CORES, "3"),
                (DRIVER_MEMORY, "3g"),
            ])
        };
        let on_yarn = Resources::of(&sized_for_a_cluster("yarn"));
        assert_eq!(on_yarn.cores, 43.0);
        // 10 × (8 GiB + 0.8 GiB) + driver 3 GiB + 384 MiB.
        assert!((on_yarn.memory_gib - (88.0 + 3.375)).abs() < 1e-6);
        // The executor settings and the driver's cores mean nothing in one JVM: 3 GiB + 384 MiB, 2 threads.
        let local = sized_for_a_cluster("local[2]");
        let one_jvm = Resources {
            cores: 2.0,
            memory_gib: 3.375,
        };
        assert_eq!(Resources::of(&local), one_jvm);
        assert_eq!(Resources::of_run(&local, Some(8), None), one_jvm);
        let all_cores = sized_for_a_cluster("local[*]");
        assert_eq!(Resources::of(&all_cores).cores, 1.0);
        assert_eq!(
            Resources::of_run(&all_cores, Some(8), None),
            Resources {
                cores: 8.0,
                memory_gib: 3.375,
            }
        );
        // local-cluster's executors are JVMs of their own: priced like a cluster.
        let local_cluster = sized_for_a_cluster("local-cluster[2,1,1024]");
        assert_eq!(Resources::of(&local_cluster), on_yarn);
        // The executors a run had count instead of the setting: 2.5 on average, of 4 cores and 8.8 GiB each.
        let observed = Resources::of_run(&sized_for_a_cluster("spark://m:7077"), None, Some(2.5));
        assert_eq!(observed.cores, 2.5 * 4.0 + 3.0);
        assert!((observed.memory_gib - (2.5 * 8.8 + 3.375)).abs() < 1e-6);
        // Not in local mode, where there are no executors.
        assert_eq!(Resources::of_run(&local, Some(8), Some(2.5)), one_jvm);
    }
}

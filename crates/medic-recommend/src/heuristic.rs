//! What medic recommends without a model (a new installation, or a space the model cannot see): fixed rules
//! that practitioners use, labelled as such in every answer.
//!
//! * Kubernetes VPA's rule after an out-of-memory kill: the memory × 1.2, and at least + 100 MiB.
//! * For heap errors, a ladder in the manner of Dr. Elephant's tiered memory advice: the heap goes at least to
//!   the next rung of 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128 GiB, because a 20 % bump of a small heap
//!   rarely clears a real out-of-memory error and each failed retry costs a whole run.
//! * A container killed for its memory gets the VPA bump of the whole container, all of it as overhead (the heap
//!   was not what overflowed).
//! * A result larger than `spark.driver.maxResultSize`: double the cap and bump the driver; a broadcast table too
//!   large (over Spark's limit, or more than the driver's heap can build): turn automatic broadcasts off
//!   (`spark.sql.autoBroadcastJoinThreshold=-1`). Measured with Spark 4.3 here: a broadcast that ran a 512 MiB
//!   driver out of memory ran as a sort-merge join in the same heap, while more memory fixed it only at 8 GiB.
//! * In local mode ([`medic_core::spark::local_threads`]: `local`, `local[N]`, `local[*]`, not `local-cluster`)
//!   the executors are threads of the driver's JVM, so the driver's heap is the one an executor heap error needs:
//!   the ladder climbs `spark.driver.memory`.
//! * Unclassified: retry once with the configuration unchanged.
//!
//! A bump that would exceed the cluster's largest container is not made: the answer is "do not retry".

use medic_core::spark::{self, Jvm};
use medic_core::{Category, SparkConf};

use crate::space::{ContainerCheck, Limits};

/// A heuristic's advice.
#[derive(Clone, Debug, PartialEq)]
pub struct Advice {
    /// The heuristic's name, reported in the answer.
    pub name: &'static str,
    /// The retry's configuration, or `None`: do not retry.
    pub config: Option<SparkConf>,
    /// Why, for a person.
    pub reason: String,
}

const LADDER_GIB: [u64; 14] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128];
const STEP_MIB: u64 = 256;

/// VPA's bump: × 1.2, at least + 100 MiB, rounded up to 256 MiB.
pub fn vpa_bump_mib(mib: u64) -> u64 {
    round_up(((mib as f64 * 1.2).ceil() as u64).max(mib + 100))
}

/// The next rung of the heap ladder above `mib` (or the VPA bump above the last rung).
pub fn ladder_mib(mib: u64) -> u64 {
    LADDER_GIB
        .iter()
        .map(|gib| gib * 1024)
        .find(|&rung| rung > mib)
        .unwrap_or_else(|| vpa_bump_mib(mib))
}

fn round_up(mib: u64) -> u64 {
    mib.div_ceil(STEP_MIB) * STEP_MIB
}

/// The heap `config` gives `jvm`, in whole MiB (rounded down), Spark's 1g when unset.
fn heap_mib(config: &SparkConf, jvm: Jvm) -> u64 {
    spark::heap_bytes(config, jvm) >> 20
}

/// The advice for a failure of `category` (decided by `rule`) of a run configured with `original`.
pub fn advise(
    category: Category,
    rule: Option<&str>,
    original: &SparkConf,
    limits: Limits,
) -> Advice {
    let mut config = original.clone();
    let (name, reason) = match category {
        Category::ExecutorOom if spark::is_local_mode(original) => {
            let heap = heap_mib(original, Jvm::Driver);
            let new = ladder_mib(heap).max(vpa_bump_mib(heap));
            config.set("spark.driver.memory", format!("{new}m"));
            (
                "heap_ladder_local",
                format!(
                    "local mode, where executors run in the driver's JVM: driver heap {heap} MiB → {new} MiB (next ladder rung, at least VPA's × 1.2 + 100 MiB)"
                ),
            )
        }
        Category::ExecutorOom => {
            let heap = heap_mib(original, Jvm::Executor);
            let new = ladder_mib(heap).max(vpa_bump_mib(heap));
            config.set("spark.executor.memory", format!("{new}m"));
            (
                "heap_ladder",
                format!(
                    "executor heap {heap} MiB → {new} MiB (next ladder rung, at least VPA's × 1.2 + 100 MiB)"
                ),
            )
        }
        Category::ContainerMemoryExceeded => {
            let heap = heap_mib(original, Jvm::Executor);
            let overhead = spark::memory_bytes(original, spark::EXECUTOR_OVERHEAD).map_or_else(
                || spark::default_overhead_mib(heap as f64) as u64,
                |b| b >> 20,
            );
            let container = heap + overhead;
            let new_overhead = overhead + (vpa_bump_mib(container) - container);
            config.set("spark.executor.memoryOverhead", format!("{new_overhead}m"));
            (
                "vpa_oom_bump",
                format!(
                    "container {container} MiB → {} MiB (VPA: × 1.2, at least + 100 MiB), all of it as overhead: {overhead} → {new_overhead} MiB",
                    heap + new_overhead
                ),
            )
        }
        Category::DriverOom => {
            let heap = heap_mib(original, Jvm::Driver);
            match rule {
                Some("broadcast-table-too-large" | "broadcast-not-enough-driver-memory") => {
                    config.set("spark.sql.autoBroadcastJoinThreshold", "-1");
                    (
                        "disable_broadcast",
                        "a table too large to broadcast: automatic broadcast joins turned off"
                            .to_owned(),
                    )
                }
                Some("driver-max-result-size-exceeded") => {
                    let cap = spark::memory_bytes(original, "spark.driver.maxResultSize")
                        .map_or(1024, |bytes| bytes >> 20);
                    let new_heap = vpa_bump_mib(heap.max(2 * cap + 1024));
                    config.set("spark.driver.maxResultSize", format!("{}m", 2 * cap));
                    config.set("spark.driver.memory", format!("{new_heap}m"));
                    (
                        "result_size_doubling",
                        format!(
                            "spark.driver.maxResultSize {cap} MiB → {} MiB, driver heap {heap} → {new_heap} MiB to hold it",
                            2 * cap
                        ),
                    )
                }
                _ => {
                    let new = ladder_mib(heap).max(vpa_bump_mib(heap));
                    config.set("spark.driver.memory", format!("{new}m"));
                    (
                        "heap_ladder",
                        format!(
                            "driver heap {heap} MiB → {new} MiB (next ladder rung, at least VPA's × 1.2 + 100 MiB)"
                        ),
                    )
                }
            }
        }
        _ => (
            "retry_unchanged",
            "no rule for this error: one retry with the configuration unchanged".to_owned(),
        ),
    };
    if !ContainerCheck::new(&config, limits).within_limits() {
        return Advice {
            name,
            config: None,
            reason: format!(
                "{reason}, but that exceeds the cluster's limits ({} MiB per container, {} cores per executor): do not retry",
                limits.max_container_mib, limits.max_executor_cores
            ),
        };
    }
    Advice {
        name,
        config: Some(config),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_container_mib: 16384,
        max_executor_cores: 8,
    };

    #[test]
    fn vpa_is_at_least_a_hundred_mib_and_twenty_percent() {
        assert_eq!(vpa_bump_mib(256), 512); // 356 rounded up to the 256 MiB step
        assert_eq!(vpa_bump_mib(1024), 1280); // 1228.8 → 1229 → 1280
        assert_eq!(vpa_bump_mib(10240), 12288);
        assert_eq!(ladder_mib(4096), 6144);
        assert_eq!(ladder_mib(5000), 6144);
        assert_eq!(ladder_mib(200 * 1024), vpa_bump_mib(200 * 1024));
    }

    #[test]
    fn heap_errors_climb_the_ladder_and_containers_grow_their_overhead() {
        let mut original = SparkConf::new();
        original.set("spark.executor.memory", "4g");
        let advice = advise(Category::ExecutorOom, None, &original, LIMITS);
        assert_eq!(
            advice
                .config
                .as_ref()
                .and_then(|c| c.get("spark.executor.memory")),
            Some("6144m")
        );
        let advice = advise(Category::ContainerMemoryExceeded, None, &original, LIMITS);
        // Container 4096 + 410 (default overhead) = 4506 → 5632: overhead 410 + 1126 = 1536.
        assert_eq!(
            advice
                .config
                .as_ref()
                .and_then(|c| c.get("spark.executor.memoryOverhead")),
            Some("1536m")
        );
        assert_eq!(advice.name, "vpa_oom_bump");
    }

    #[test]
    fn in_local_mode_heap_errors_climb_the_drivers_ladder() {
        let mut original = SparkConf::new();
        original.set("spark.master", "local[2]");
        original.set("spark.driver.memory", "512m");
        original.set("spark.executor.memory", "4g");
        let advice = advise(Category::ExecutorOom, None, &original, LIMITS);
        assert_eq!(advice.name, "heap_ladder_local");
        let config = advice.config.expect("fits");
        assert_eq!(config.get("spark.driver.memory"), Some("1024m"));
        assert_eq!(config.get("spark.executor.memory"), Some("4g"));
        original.set("spark.master", "yarn");
        let advice = advise(Category::ExecutorOom, None, &original, LIMITS);
        assert_eq!(advice.name, "heap_ladder");
        // local-cluster's executors are JVMs of their own, with their own heap.
        original.set("spark.master", "local-cluster[2,1,1024]");
        let advice = advise(Category::ExecutorOom, None, &original, LIMITS);
        assert_eq!(advice.name, "heap_ladder");
    }

    #[test]
    fn a_bump_past_the_largest_container_is_do_not_retry() {
        let mut original = SparkConf::new();
        original.set("spark.executor.memory", "14g");
        let advice = advise(Category::ExecutorOom, None, &original, LIMITS);
        assert_eq!(advice.config, None);
        assert!(advice.reason.contains("do not retry"), "{}", advice.reason);
    }

    #[test]
    fn driver_rules_have_their_own_fix() {
        let original = SparkConf::new();
        let advice = advise(
            Category::DriverOom,
            Some("broadcast-table-too-large"),
            &original,
            LIMITS,
        );
        assert_eq!(
            advice
                .config
                .as_ref()
                .and_then(|c| c.get("spark.sql.autoBroadcastJoinThreshold")),
            Some("-1")
        );
        let advice = advise(
            Category::DriverOom,
            Some("broadcast-not-enough-driver-memory"),
            &original,
            LIMITS,
        );
        assert_eq!(advice.name, "disable_broadcast");
        let advice = advise(
            Category::DriverOom,
            Some("driver-max-result-size-exceeded"),
            &original,
            LIMITS,
        );
        let config = advice.config.expect("fits");
        assert_eq!(config.get("spark.driver.maxResultSize"), Some("2048m"));
        assert_eq!(config.get("spark.driver.memory"), Some("3840m"));
        let advice = advise(Category::Unclassified, None, &original, LIMITS);
        assert_eq!(advice.config, Some(original));
    }
}

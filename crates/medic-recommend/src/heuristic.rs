//! What medic recommends without a model (a new installation, or a space the model cannot see): fixed rules
//! that practitioners use, labelled as such in every answer.
//!
//! * Kubernetes VPA's rule after an out-of-memory kill: the memory × 1.2, and at least + 100 MiB.
//! * For heap errors, a ladder in the manner of Dr. Elephant's tiered memory advice: the heap goes at least to
//!   the next rung of 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128 GiB, because a 20 % bump of a small heap
//!   rarely clears a real out-of-memory error and each failed retry costs a whole run.
//! * A container killed for its memory gets the VPA bump of the whole container, all of it as overhead (the heap
//!   was not what overflowed).
//! * A result larger than `spark.driver.maxResultSize`: a cap that holds the results the error names with half
//!   again to spare (`Total size of serialized results of N tasks (X MiB)`, the rule's `size` capture), at least
//!   twice the old cap, and a driver heap to hold it; a broadcast table too large (over Spark's limit, or more than
//!   the driver's heap can build): turn automatic broadcasts off (`spark.sql.autoBroadcastJoinThreshold=-1`), and
//!   when they are off already (a join hint forces the broadcast), raise the driver's heap instead. Measured with Spark 4.3 here: a broadcast that ran a 512 MiB
//!   driver out of memory ran as a sort-merge join in the same heap, while more memory fixed it only at 8 GiB.
//! * In local mode ([`medic_core::spark::local_threads`]: `local`, `local[N]`, `local[*]`, not `local-cluster`)
//!   the executors are threads of the driver's JVM, so the driver's heap is the one an executor heap error needs:
//!   the ladder climbs `spark.driver.memory`.
//! * Unclassified: retry once with the configuration unchanged.
//! * Escalation ([`advise_run`]): after a memory failure, a candidate that would rerun the failed configuration,
//!   or one an earlier attempt of the run already failed with, is skipped for the next knob; when none is left the
//!   answer is "do not retry".
//!
//! A bump that would exceed the cluster's largest container is not made: the answer is "do not retry".

use medic_core::recommendation::FailedRun;
use medic_core::spark::{self, Jvm};
use medic_core::units::parse_logged_size;
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

/// The advice for `run`: the first of the [`candidates`] for its failure that does not repeat a configuration the
/// run already failed with (for a memory failure, retrying one of those cannot help: medic escalates to the next
/// knob), or "do not retry" when every candidate does. A candidate beyond the cluster's limits is not made.
pub fn advise_run(run: &FailedRun, limits: Limits) -> Advice {
    let all = candidates(
        run.category,
        run.rule.as_deref(),
        &run.config,
        &run.evidence,
    );
    let memory = run.category.is_memory_config();
    let repeated: Vec<&Candidate> = all
        .iter()
        .take_while(|candidate| memory && run.repeats(&candidate.config))
        .collect();
    let Some(chosen) = all
        .iter()
        .find(|candidate| !memory || !run.repeats(&candidate.config))
    else {
        let names: Vec<&str> = all.iter().map(|candidate| candidate.name).collect();
        return Advice {
            name: "exhausted",
            config: None,
            reason: format!(
                "every change medic knows for this {} failure ({}) leaves a configuration this run already failed \
                 with: do not retry, a person should look",
                run.category,
                names.join(", ")
            ),
        };
    };
    let reason = if repeated.is_empty() {
        chosen.reason.clone()
    } else {
        let skipped: Vec<&str> = repeated.iter().map(|candidate| candidate.name).collect();
        format!(
            "{} would leave a configuration this run already failed with, so another knob: {}",
            skipped.join(" and "),
            chosen.reason
        )
    };
    if !ContainerCheck::new(&chosen.config, limits).within_limits() {
        return Advice {
            name: chosen.name,
            config: None,
            reason: format!(
                "{reason}, but that exceeds the cluster's limits ({} MiB per container, {} cores per executor): do not retry",
                limits.max_container_mib, limits.max_executor_cores
            ),
        };
    }
    Advice {
        name: chosen.name,
        config: Some(chosen.config.clone()),
        reason,
    }
}

/// One change a heuristic can make.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The heuristic's name.
    pub name: &'static str,
    /// The retry's configuration.
    pub config: SparkConf,
    /// Why, for a person.
    pub reason: String,
}

/// The changes the heuristics know for a failure of `category` (decided by `rule`) of a run configured with
/// `original`, in the order medic tries them: the cheapest knob that fits the failure first, then the one a
/// repeat of the same failure calls for (a broadcast that still fails once automatic broadcasts are off was forced
/// by a hint: the driver needs the heap). `evidence` holds what the rule captured from the error.
pub fn candidates(
    category: Category,
    rule: Option<&str>,
    original: &SparkConf,
    evidence: &std::collections::BTreeMap<String, String>,
) -> Vec<Candidate> {
    let candidate = |name, change: &dyn Fn(&mut SparkConf), reason: String| {
        let mut config = original.clone();
        change(&mut config);
        Candidate {
            name,
            config,
            reason,
        }
    };
    let ladder = |jvm: Jvm, name: &'static str, what: &str| {
        let heap = heap_mib(original, jvm);
        let new = ladder_mib(heap).max(vpa_bump_mib(heap));
        candidate(
            name,
            &|config| {
                config.set(jvm.heap_key(), format!("{new}m"));
            },
            format!(
                "{what} {heap} MiB → {new} MiB (next ladder rung, at least VPA's × 1.2 + 100 MiB)"
            ),
        )
    };
    match category {
        Category::ExecutorOom if spark::is_local_mode(original) => vec![ladder(
            Jvm::Driver,
            "heap_ladder_local",
            "local mode, where executors run in the driver's JVM: driver heap",
        )],
        Category::ExecutorOom => vec![ladder(Jvm::Executor, "heap_ladder", "executor heap")],
        Category::ContainerMemoryExceeded => {
            let heap = heap_mib(original, Jvm::Executor);
            let overhead = spark::memory_bytes(original, spark::EXECUTOR_OVERHEAD).map_or_else(
                || spark::default_overhead_mib(heap as f64) as u64,
                |b| b >> 20,
            );
            let container = heap + overhead;
            let new_overhead = overhead + (vpa_bump_mib(container) - container);
            vec![candidate(
                "vpa_oom_bump",
                &|config| {
                    config.set(spark::EXECUTOR_OVERHEAD, format!("{new_overhead}m"));
                },
                format!(
                    "container {container} MiB → {} MiB (VPA: × 1.2, at least + 100 MiB), all of it as overhead: {overhead} → {new_overhead} MiB",
                    heap + new_overhead
                ),
            )]
        }
        Category::DriverOom => match rule {
            Some("broadcast-table-too-large" | "broadcast-not-enough-driver-memory") => vec![
                candidate(
                    "disable_broadcast",
                    &|config| {
                        config.set("spark.sql.autoBroadcastJoinThreshold", "-1");
                    },
                    "a table too large to broadcast: automatic broadcast joins turned off"
                        .to_owned(),
                ),
                ladder(
                    Jvm::Driver,
                    "heap_ladder",
                    "a broadcast the configuration cannot turn off (a join hint forces it): driver heap",
                ),
            ],
            Some("driver-max-result-size-exceeded") => {
                let heap = heap_mib(original, Jvm::Driver);
                let cap = spark::memory_bytes(original, "spark.driver.maxResultSize")
                    .map_or(1024, |bytes| bytes >> 20);
                // The error names the size of the results: the new cap holds them with half again to spare, and
                // is at least twice the old one.
                let needed = evidence
                    .get("size")
                    .and_then(|size| parse_logged_size(size).ok())
                    .map_or(0, |bytes| {
                        (bytes.div_ceil(1 << 20) * 3 / 2).div_ceil(32) * 32
                    });
                let new_cap = (2 * cap).max(needed);
                let new_heap = vpa_bump_mib(heap.max(new_cap + 1024));
                let sized = if needed > 2 * cap {
                    format!(" (the results were {}, plus half again)", evidence["size"])
                } else {
                    String::new()
                };
                vec![candidate(
                    "result_size_doubling",
                    &|config| {
                        config.set("spark.driver.maxResultSize", format!("{new_cap}m"));
                        config.set(spark::DRIVER_MEMORY, format!("{new_heap}m"));
                    },
                    format!(
                        "spark.driver.maxResultSize {cap} MiB → {new_cap} MiB{sized}, driver heap {heap} → {new_heap} MiB to hold it"
                    ),
                )]
            }
            _ => vec![ladder(Jvm::Driver, "heap_ladder", "driver heap")],
        },
        _ => vec![candidate(
            "retry_unchanged",
            &|_| {},
            "no rule for this error: one retry with the configuration unchanged".to_owned(),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The advice for a failure of `category` (decided by `rule`) of a run configured with `original`, knowing
    /// nothing of earlier attempts.
    fn advise(
        category: Category,
        rule: Option<&str>,
        original: &SparkConf,
        limits: Limits,
    ) -> Advice {
        let mut run = failed(category, "", original);
        run.rule = rule.map(str::to_owned);
        advise_run(&run, limits)
    }

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

    fn failed(category: Category, rule: &str, config: &SparkConf) -> FailedRun {
        FailedRun {
            job: medic_core::JobIdentity::new("nightly.join"),
            config: config.clone(),
            category,
            rule: Some(rule.to_owned()),
            restartable: Some(false),
            input_bytes: None,
            plan_operators: Vec::new(),
            cost_dollars: None,
            evidence: Default::default(),
            tried: Vec::new(),
        }
    }

    #[test]
    fn a_repeated_failure_escalates_to_another_knob_and_never_retries_a_failed_configuration() {
        // Automatic broadcasts are already off, and the broadcast still ran the driver out of memory (a join hint
        // forces it): turning them off again would retry the very configuration that failed.
        let mut original = SparkConf::new();
        original.set("spark.driver.memory", "512m");
        original.set("spark.sql.autoBroadcastJoinThreshold", "-1");
        let run = failed(
            Category::DriverOom,
            "broadcast-not-enough-driver-memory",
            &original,
        );
        let advice = advise_run(&run, LIMITS);
        assert_eq!(advice.name, "heap_ladder");
        let config = advice.config.expect("another knob");
        assert_eq!(config.get("spark.driver.memory"), Some("1024m"));
        assert!(
            advice
                .reason
                .contains("disable_broadcast would leave a configuration"),
            "{}",
            advice.reason
        );
        // That configuration failed too, earlier in the run: nothing left to try.
        let mut exhausted = failed(
            Category::DriverOom,
            "broadcast-not-enough-driver-memory",
            &original,
        );
        exhausted.tried.push(config);
        let advice = advise_run(&exhausted, LIMITS);
        assert_eq!((advice.name, advice.config), ("exhausted", None));
        // Unclassified failures are not memory failures: one unchanged retry is theirs to have.
        let unknown = failed(Category::Unclassified, "none", &original);
        assert_eq!(advise_run(&unknown, LIMITS).config, Some(original));
    }

    #[test]
    fn the_result_size_the_error_names_sizes_the_new_cap() {
        let mut original = SparkConf::new();
        original.set("spark.driver.maxResultSize", "32m");
        original.set("spark.driver.memory", "1g");
        let mut run = failed(
            Category::DriverOom,
            "driver-max-result-size-exceeded",
            &original,
        );
        // Under twice the cap: the cap doubles.
        run.evidence
            .insert("size".to_owned(), "40.6 MiB".to_owned());
        let config = advise_run(&run, LIMITS).config.expect("retry");
        assert_eq!(config.get("spark.driver.maxResultSize"), Some("64m"));
        // Far over it: the cap holds the results with half again to spare, whatever the old cap.
        run.evidence.insert("size".to_owned(), "1.2 GiB".to_owned());
        let advice = advise_run(&run, LIMITS);
        let config = advice.config.expect("retry");
        // 1.2 GiB is 1229 MiB; × 1.5 = 1843, to the next 32 MiB: 1856; the heap holds it plus 1 GiB, bumped.
        assert_eq!(config.get("spark.driver.maxResultSize"), Some("1856m"));
        assert_eq!(config.get("spark.driver.memory"), Some("3584m"));
        assert!(
            advice.reason.contains("the results were 1.2 GiB"),
            "{}",
            advice.reason
        );
    }
}

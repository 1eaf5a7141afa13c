//! What medic recommends without a model (a new installation, local mode, or a space the model cannot see): fixed
//! rules that practitioners use, labelled as such in every answer.
//!
//! * The memory that ran out is multiplied, not nudged: a failed retry costs a whole run (and a heap just under
//!   the need hangs in garbage collection before it fails), so the first step must be big enough to succeed. The
//!   factor is 2, 3 or 4 (Pinterest's larger executor profiles), whichever has the lowest expected cost under a
//!   heavy-tailed prior on how far off the failed setting was ([`jump_factor`]): where memory is a small share of
//!   the run's price (a small heap beside its cores) the step is 4×, where it dominates, 2×. At least VPA's rule
//!   after an out-of-memory kill (× 1.2, + 100 MiB).
//! * Where the error says how much was needed, the new setting covers it with a margin: the results of a
//!   `spark.driver.maxResultSize` failure (`Total size of serialized results of N tasks (X MiB)`), the request
//!   execution memory could not grant (`Unable to acquire X bytes of memory, got Y`: the heap whose execution
//!   share gives every task slot X with half again to spare), the memory a killed container used
//!   (`X GB of Y GB physical memory used`).
//! * Each memory category has its knob ([`candidates`]): a JVM heap or execution-memory failure the heap, then
//!   fewer tasks sharing it; a killed container its overhead, then heap moved to the overhead when the event log
//!   shows heap to spare; the driver its heap; results over `maxResultSize` the cap and the heap to hold it; a
//!   broadcast automatic broadcasts off, then the driver's heap (measured with Spark 4.3 here: a broadcast that ran
//!   a 512 MiB driver out of memory ran as a sort-merge join in the same heap, while more memory fixed it only at
//!   8 GiB); a Python worker its own limit (`spark.executor.pyspark.memory`) or, without one, the overhead where the
//!   workers live, never the heap (in local mode without a limit the workers share the machine, and no setting
//!   gives them more: do not retry).
//! * In local mode ([`medic_core::spark::local_threads`]: `local`, `local[N]`, `local[*]`, not `local-cluster`)
//!   the executors are threads of the driver's JVM, so the driver's heap is the one an executor heap error needs.
//! * Unclassified: retry once with the configuration unchanged.
//! * Escalation ([`advise_run`]): after a memory failure, a candidate that would rerun the failed configuration,
//!   or one an earlier attempt of the run already failed with, is skipped for the next knob, and so is one beyond
//!   the cluster's largest container; a heap error after a heap step changes the tasks sharing the heap as well.
//!   When none is left the answer is "do not retry", with the reason.

use medic_core::history::Prices;
use medic_core::recommendation::FailedRun;
use medic_core::spark::{self, Jvm};
use medic_core::units::parse_logged_size;
use medic_core::{Category, SparkConf};

use crate::prior::MemoryPrior;
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
    /// The prior's chance that the retry still falls short, where the retry multiplies the memory that ran out
    /// (or each task's share of it) by a known factor.
    pub p_fail: Option<f64>,
    /// What the retry's configuration costs per hour over the failed one's ([`Prices::default`]).
    pub cost_ratio: Option<f64>,
}

const STEP_MIB: u64 = 256;

/// What a retry may multiply the memory that ran out by: Pinterest's larger executor profiles.
pub const JUMP_FACTORS: [u64; 3] = [2, 3, 4];

/// VPA's bump: × 1.2, at least + 100 MiB, rounded up to 256 MiB.
pub fn vpa_bump_mib(mib: u64) -> u64 {
    round_up(((mib as f64 * 1.2).ceil() as u64).max(mib + 100))
}

/// The factor of [`JUMP_FACTORS`] a retry multiplies the memory setting `key` of `original` (now `current_mib`)
/// by, and what a run with it costs relative to the failed one (same runtime, [`Prices::default`]).
///
/// The factor minimises the expected cost `c(k) + P(need > k) · (1 + c(2k))`: the retry's own cost, and when it
/// fails too, that failure and a retry at twice again. `P(need > k)` is the calibrated `prior`'s heavy tail: a
/// failure at a setting says the need was above it, not by how much, and a failed retry is the expensive outcome.
/// Where memory is a small share of the price (a 512 MiB heap beside two cores costs 5 % of the run) the answer is
/// 4; where it is most of it, 2.
pub fn jump_factor(
    original: &SparkConf,
    key: &str,
    current_mib: u64,
    prior: MemoryPrior,
) -> (u64, f64) {
    let prices = Prices::default();
    let price = |config: &SparkConf| prices.cost(config, 3600.0);
    let base = price(original);
    let relative = |factor: u64| {
        let mut config = original.clone();
        config.set(key, format!("{}m", current_mib.max(1) * factor));
        if base > 0.0 {
            price(&config) / base
        } else {
            1.0
        }
    };
    let expected = |factor: u64| {
        relative(factor) + prior.p_above(factor as f64) * (1.0 + relative(2 * factor))
    };
    let factor = JUMP_FACTORS
        .into_iter()
        .min_by(|a, b| expected(*a).total_cmp(&expected(*b)))
        .unwrap_or(2);
    (factor, relative(factor))
}

/// The memory setting `key` of `original` (now `current_mib`) raised for a retry: × [`jump_factor`], at least
/// VPA's bump and at least `floor_mib` (what the error says is needed), rounded up to 256 MiB. Returns the new
/// value in MiB and why.
fn raised(
    original: &SparkConf,
    key: &str,
    current_mib: u64,
    floor_mib: u64,
    prior: MemoryPrior,
) -> (u64, String) {
    let (factor, relative) = jump_factor(original, key, current_mib, prior);
    let jumped = round_up(current_mib * factor).max(vpa_bump_mib(current_mib));
    if floor_mib > jumped {
        let new = round_up(floor_mib);
        return (
            new,
            format!("{current_mib} MiB → {new} MiB, what the error says is needed with half again"),
        );
    }
    (
        jumped,
        format!(
            "{current_mib} MiB → {jumped} MiB (× {factor}: the step of 2, 3, 4 with the lowest expected cost, a run \
             at it costing {relative:.2}× the failed one)"
        ),
    )
}

fn round_up(mib: u64) -> u64 {
    mib.div_ceil(STEP_MIB) * STEP_MIB
}

/// The heap `config` gives `jvm`, in whole MiB (rounded down), Spark's 1g when unset.
fn heap_mib(config: &SparkConf, jvm: Jvm) -> u64 {
    spark::heap_bytes(config, jvm) >> 20
}

/// The advice for `run`: the first of the [`candidates`] for its failure that the run may take. After a memory
/// failure a candidate that repeats a configuration the run already failed with is skipped (the same configuration
/// fails the same way: medic escalates to the next knob), and so is one beyond the cluster's limits (unless its
/// containers are no larger than the failed run's: a heap moved to the overhead grows nothing). With none left
/// the answer is "do not retry", with the reason.
pub fn advise_run(run: &FailedRun, limits: Limits, prior: MemoryPrior) -> Advice {
    let all = candidates(run, prior);
    let memory = run.category.is_memory_config();
    if all.is_empty() {
        return Advice {
            name: "no_setting",
            config: None,
            p_fail: None,
            cost_ratio: None,
            reason: format!(
                "no setting medic knows gives more memory for this {} failure in this configuration{}: do not retry, \
                 a person should look",
                run.category,
                if run.category == Category::PythonWorkerOom {
                    " (local mode, and the Python workers have no limit of their own: they share the machine)"
                } else {
                    ""
                }
            ),
        };
    }
    let failed = ContainerCheck::new(&run.config, limits);
    let mut skipped = Vec::new();
    for candidate in &all {
        let (config, also) = if memory {
            with_companions(run, &candidate.config, limits, prior)
        } else {
            (candidate.config.clone(), Vec::new())
        };
        if memory && run.repeats(&config) {
            skipped.push(format!(
                "{} would leave a configuration this run already failed with",
                candidate.name
            ));
            continue;
        }
        let check = ContainerCheck::new(&config, limits);
        if !check.within_limits() && !check.no_larger_than(&failed) {
            skipped.push(format!(
                "{} exceeds the cluster's limits ({} MiB per container, {} cores per executor)",
                candidate.name, limits.max_container_mib, limits.max_executor_cores
            ));
            continue;
        }
        let mut reason = if skipped.is_empty() {
            candidate.reason.clone()
        } else {
            format!(
                "{}, so another knob: {}",
                skipped.join("; "),
                candidate.reason
            )
        };
        for note in also {
            reason.push_str("; ");
            reason.push_str(&note);
        }
        let prices = Prices::default();
        let failed_price = prices.cost(&run.config, 3600.0);
        return Advice {
            name: candidate.name,
            p_fail: candidate.step.map(|step| prior.p_above(step)),
            cost_ratio: (failed_price > 0.0).then(|| prices.cost(&config, 3600.0) / failed_price),
            config: Some(config),
            reason,
        };
    }
    let names: Vec<&str> = all.iter().map(|candidate| candidate.name).collect();
    Advice {
        name: if all.len() == 1 {
            all[0].name
        } else {
            "exhausted"
        },
        config: None,
        p_fail: None,
        cost_ratio: None,
        reason: format!(
            "every change medic knows for this {} failure ({}) is ruled out ({}): do not retry, a person should look",
            run.category,
            names.join(", "),
            skipped.join("; ")
        ),
    }
}

/// Of an event log's measures, the share of the overhead the executors' off-heap use (resident set less heap)
/// must reach to count as at its limit: a container at its limit is killed, so only the last few percent say so.
const FULL_OVERHEAD_SHARE: f64 = 0.98;

/// `config` (a retry of `run`) with the other memories `run`'s event log shows at their limit raised too: a
/// retry that cures the failure only to meet the next shortage costs another run. The driver's heap when its
/// peak reached [`FULL_HEAP_SHARE`] of it (on a cluster: in local mode it is the heap the failure raised); the
/// executor's overhead when their off-heap use (resident set less heap) reached [`FULL_OVERHEAD_SHARE`] of it.
/// Each takes the step its own failure would, where `config` leaves it as the failed run had it and the result
/// stays within the cluster's limits. Returns the configuration and a note per memory raised.
pub fn with_companions(
    run: &FailedRun,
    config: &SparkConf,
    limits: Limits,
    prior: MemoryPrior,
) -> (SparkConf, Vec<String>) {
    let mut config = config.clone();
    let mut notes = Vec::new();
    let Some(metrics) = &run.metrics else {
        return (config, notes);
    };
    let original = &run.config;
    let unchanged = |config: &SparkConf, key: &str| config.get(key) == original.get(key);
    let mut try_raise = |config: &mut SparkConf, key: &str, value: String, note: String| {
        let mut raised = config.clone();
        raised.set(key, value);
        if ContainerCheck::new(&raised, limits).within_limits() {
            *config = raised;
            notes.push(note);
        }
    };
    if !spark::is_local_mode(original)
        && run.category.memory() != Some(medic_core::Memory::Driver)
        && unchanged(&config, spark::DRIVER_MEMORY)
        && let Some(peak) = metrics.peak_driver_heap_bytes
    {
        let heap = heap_mib(original, Jvm::Driver);
        if peak as f64 >= FULL_HEAP_SHARE * (heap << 20) as f64 {
            let (new, why) = raised(original, spark::DRIVER_MEMORY, heap, 0, prior);
            try_raise(
                &mut config,
                spark::DRIVER_MEMORY,
                format!("{new}m"),
                format!(
                    "the event log shows the driver at its heap too ({} MiB of {heap} MiB): driver heap {why}",
                    peak >> 20
                ),
            );
        }
    }
    if !spark::is_local_mode(original)
        && run.category.memory() == Some(medic_core::Memory::ExecutorHeap)
        && unchanged(&config, spark::EXECUTOR_OVERHEAD)
        && let (Some(resident), Some(heap_peak)) =
            (metrics.peak_jvm_rss_bytes, metrics.peak_executor_heap_bytes)
    {
        let heap = heap_mib(original, Jvm::Executor);
        let overhead = spark::overhead_bytes(original, Jvm::Executor) >> 20;
        let off_heap = resident.saturating_sub(heap_peak) >> 20;
        // A resident set larger than the executor's container is another JVM's (the driver's): no evidence.
        let executors = resident >> 20 <= (heap + overhead) * 21 / 20;
        if executors && off_heap as f64 >= FULL_OVERHEAD_SHARE * overhead as f64 {
            let container = heap + overhead;
            let new_overhead = overhead + (vpa_bump_mib(container) - container);
            try_raise(
                &mut config,
                spark::EXECUTOR_OVERHEAD,
                format!("{new_overhead}m"),
                format!(
                    "the event log shows the executors' off-heap use at their overhead too ({off_heap} MiB of \
                     {overhead} MiB): overhead {overhead} → {new_overhead} MiB (VPA's step of the container)"
                ),
            );
        }
    }
    (config, notes)
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
    /// The factor by which it multiplies the memory that ran out (or each task's share of it), when it does: what
    /// the prior's P(fail) is read at.
    pub step: Option<f64>,
}

/// The heuristic for an unclassified failure whose event log shows a heap full: that heap's step.
pub const FULL_HEAP_JUMP: &str = "full_heap_jump";

/// Of an event log's peaks, the share of its heap a JVM must have used to count as the one that ran out.
const FULL_HEAP_SHARE: f64 = 0.9;

/// The changes the heuristics know for `run`'s failure, in the order medic tries them: the knob its category
/// names first, then the one a repeat of the same failure (or a cluster's limit) calls for. What the rule captured
/// from the error (`run.evidence`) and what the event log measured (`run.metrics`) size them.
///
/// * A JVM heap or execution-memory failure: the heap (× 2 to 4, or sized from the request execution memory
///   refused), then fewer tasks sharing it. Fewer concurrent tasks is the second choice, not the first: priced
///   with [`Prices`], halving an executor's cores with the same heap costs the same GiB-hours as doubling its heap
///   (the executor holds its memory twice as long), makes the run slower, and helps only as far as the need is
///   per task (a heap's user memory and broadcasts are shared). It is what is left when the heap cannot grow (the
///   cluster's largest container) or a heap step already failed.
/// * A bare heap error in cluster mode whose event log shows the driver at its heap and the executors below theirs
///   is the driver's: its heap first.
/// * A container killed for memory: its overhead (VPA's step, or what the kill says it used plus a quarter); when
///   the container cannot grow and the event log shows heap to spare, memory moved from the heap to the overhead.
/// * The driver: its heap. Results over `maxResultSize`: the cap, sized from the error, and a heap to hold it. A
///   broadcast: automatic broadcasts off, then the driver's heap (a hint forces the broadcast).
/// * A Python worker: its own limit, or the overhead it lives in.
pub fn candidates(run: &FailedRun, prior: MemoryPrior) -> Vec<Candidate> {
    let original = &run.config;
    let evidence = &run.evidence;
    let candidate = |name, change: &dyn Fn(&mut SparkConf), reason: String, step: Option<f64>| {
        let mut config = original.clone();
        change(&mut config);
        Candidate {
            name,
            config,
            reason,
            step,
        }
    };
    let ratio = |new: u64, old: u64| Some(new as f64 / old.max(1) as f64);
    // The memory that ran out, multiplied; `floor_mib` is what the error says is needed.
    let heap_jump = |jvm: Jvm, name: &'static str, what: &str, floor_mib: u64| {
        let heap = heap_mib(original, jvm);
        let (new, why) = raised(original, jvm.heap_key(), heap, floor_mib, prior);
        candidate(
            name,
            &|config| {
                config.set(jvm.heap_key(), format!("{new}m"));
            },
            format!("{what} {why}"),
            ratio(new, heap),
        )
    };
    let local = spark::is_local_mode(original);
    match run.category {
        Category::ExecutorOom | Category::ExecutionMemoryOom => {
            let jvm = if local { Jvm::Driver } else { Jvm::Executor };
            let floor = if run.category == Category::ExecutionMemoryOom {
                execution_memory_floor_mib(original, jvm, evidence)
            } else {
                0
            };
            let step = if local {
                heap_jump(
                    jvm,
                    "heap_jump_local",
                    "local mode, where executors run in the driver's JVM: driver heap",
                    floor,
                )
            } else {
                heap_jump(jvm, "heap_jump", "executor heap", floor)
            };
            let mut fewer = fewer_concurrent_tasks(original, jvm, &step);
            let mut all = Vec::new();
            if !local && run.category == Category::ExecutorOom && driver_ran_out(run) {
                all.push(heap_jump(
                    Jvm::Driver,
                    "driver_heap_jump",
                    "the event log shows the driver at its heap and the executors below theirs: driver heap",
                    0,
                ));
            }
            // The heap was raised for this run's last failure and it failed again the same way: the need is not
            // only the heap's, so the next step changes another knob as well.
            if let Some(earlier) = heap_raised_before(run, jvm)
                && !fewer.is_empty()
            {
                let both = fewer.remove(0);
                all.push(Candidate {
                    reason: format!("the heap {earlier} did not cure it: {}", both.reason),
                    ..both
                });
            }
            all.push(step);
            all.extend(fewer);
            all
        }
        Category::ContainerMemoryExceeded => {
            let heap = heap_mib(original, Jvm::Executor);
            let overhead = spark::overhead_bytes(original, Jvm::Executor) >> 20;
            let container = heap + overhead;
            // The error may say what the container used: the new one holds that with a quarter to spare.
            let used = evidence
                .get("used")
                .and_then(|used| parse_logged_size(used).ok())
                .map_or(0, |bytes| (bytes >> 20) * 5 / 4);
            let new_container = vpa_bump_mib(container).max(round_up(used));
            let new_overhead = overhead + (new_container - container);
            let mut all = vec![candidate(
                "vpa_oom_bump",
                &|config| {
                    config.set(spark::EXECUTOR_OVERHEAD, format!("{new_overhead}m"));
                },
                format!(
                    "container {container} MiB → {new_container} MiB (VPA: × 1.2, at least + 100 MiB{}), all of it as overhead: {overhead} → {new_overhead} MiB",
                    if used > 0 {
                        ", and the memory it used plus a quarter"
                    } else {
                        ""
                    }
                ),
                ratio(new_overhead, overhead),
            )];
            // The executors' measured peak heap leaves room: the same container, with heap moved to the overhead.
            if let Some(peak) = run
                .metrics
                .as_ref()
                .and_then(|metrics| metrics.peak_executor_heap_bytes)
                .map(|bytes| bytes.div_ceil(1 << 20))
                .filter(|&peak| peak > 0)
            {
                let new_heap = round_up(peak * 5 / 4).max(STEP_MIB);
                if new_heap + STEP_MIB <= heap {
                    let moved = heap - new_heap;
                    all.push(candidate(
                        "heap_to_overhead",
                        &|config| {
                            config.set(spark::EXECUTOR_MEMORY, format!("{new_heap}m"));
                            config.set(
                                spark::EXECUTOR_OVERHEAD,
                                format!("{}m", overhead + moved),
                            );
                        },
                        format!(
                            "the executors peaked at {peak} MiB of their {heap} MiB heap: {moved} MiB moved from the heap \
                             (→ {new_heap} MiB, the peak plus a quarter) to the overhead (→ {} MiB), the container unchanged",
                            overhead + moved
                        ),
                        ratio(overhead + moved, overhead),
                    ));
                }
            }
            all
        }
        Category::PythonWorkerOom => match spark::memory_bytes(original, spark::PYSPARK_MEMORY) {
            Some(limit) => {
                let limit = limit >> 20;
                let (new, why) = raised(original, spark::PYSPARK_MEMORY, limit, 0, prior);
                vec![candidate(
                    "python_memory_jump",
                    &|config| {
                        config.set(spark::PYSPARK_MEMORY, format!("{new}m"));
                    },
                    format!("the Python workers' own limit (spark.executor.pyspark.memory) {why}"),
                    ratio(new, limit),
                )]
            }
            // Without a limit, the workers share the machine with the driver's JVM: no setting gives them more.
            None if local => Vec::new(),
            None => {
                let overhead = spark::overhead_bytes(original, Jvm::Executor) >> 20;
                let (new, why) = raised(original, spark::EXECUTOR_OVERHEAD, overhead, 0, prior);
                vec![candidate(
                    "python_overhead_jump",
                    &|config| {
                        config.set(spark::EXECUTOR_OVERHEAD, format!("{new}m"));
                    },
                    format!(
                        "no limit of their own, so the Python workers live in the executor's overhead: overhead {why}"
                    ),
                    ratio(new, overhead),
                )]
            }
        },
        Category::BroadcastTooLarge => vec![
            candidate(
                "disable_broadcast",
                &|config| {
                    config.set("spark.sql.autoBroadcastJoinThreshold", "-1");
                },
                "a table too large to broadcast: automatic broadcast joins turned off".to_owned(),
                None,
            ),
            heap_jump(
                Jvm::Driver,
                "heap_jump",
                "a broadcast the configuration cannot turn off (a join hint forces it): driver heap",
                0,
            ),
        ],
        Category::ResultSizeExceeded => {
            let heap = heap_mib(original, Jvm::Driver);
            let cap = spark::memory_bytes(original, "spark.driver.maxResultSize")
                .map_or(1024, |bytes| bytes >> 20);
            // The size the error names counts only the tasks that had finished when Spark gave up (measured: 50 of
            // 160 tasks), so the results are at least that and often several times more. The cap itself costs
            // nothing, the heap that holds the results does: the cap is multiplied by the step the heap's price
            // allows (`jump_factor`), and holds at least the named size with half again.
            // When the event log says how many tasks the stage had, the results of all of them are the named
            // size scaled by that over the tasks it counted.
            let finished = evidence
                .get("tasks")
                .and_then(|n| n.trim().parse::<u64>().ok());
            let stage_tasks = run.metrics.as_ref().and_then(|m| m.failed_stage_tasks);
            let scale = match (finished, stage_tasks) {
                (Some(finished), Some(all)) if finished > 0 && all > finished => {
                    all as f64 / finished as f64
                }
                _ => 1.0,
            };
            let needed = evidence
                .get("size")
                .and_then(|size| parse_logged_size(size).ok())
                .map_or(0, |bytes| {
                    ((bytes.div_ceil(1 << 20) as f64 * scale * 1.5).ceil() as u64).div_ceil(32) * 32
                });
            let (factor, _) = jump_factor(original, spark::DRIVER_MEMORY, heap, prior);
            let jumped = factor * cap;
            let new_cap = jumped.max(needed);
            let new_heap = vpa_bump_mib(heap.max(new_cap + 1024));
            let sized = if needed > jumped && scale > 1.0 {
                format!(
                    " (the {} tasks that finished sent {}: all {} of the stage's, plus half again)",
                    finished.unwrap_or(0),
                    evidence["size"],
                    stage_tasks.unwrap_or(0)
                )
            } else if needed > jumped {
                format!(
                    " (the results were at least {}, plus half again)",
                    evidence["size"]
                )
            } else {
                format!(
                    " (× {factor}: the results named, {}, count only the tasks that finished)",
                    evidence.get("size").map_or("unknown", String::as_str)
                )
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
                ratio(new_cap, cap),
            )]
        }
        Category::DriverOom => vec![heap_jump(Jvm::Driver, "heap_jump", "driver heap", 0)],
        Category::Unclassified => match heap_full(run) {
            // No rule knows the error, but the event log shows a heap full when it came: its one retry gets
            // more of that heap (measured: a driver short of heap while reading task results fails with
            // `IllegalStateException: unread block data`, which no rule names).
            Some((jvm, peak)) => vec![heap_jump(
                jvm,
                FULL_HEAP_JUMP,
                &format!(
                    "no rule for this error, but the event log shows the {} at its heap ({} MiB of {} MiB): {} heap",
                    if jvm == Jvm::Driver {
                        "driver"
                    } else {
                        "executors"
                    },
                    peak >> 20,
                    heap_mib(original, jvm),
                    if jvm == Jvm::Driver {
                        "driver"
                    } else {
                        "executor"
                    },
                ),
                0,
            )],
            None => vec![candidate(
                "retry_unchanged",
                &|_| {},
                "no rule for this error: one retry with the configuration unchanged".to_owned(),
                None,
            )],
        },
        _ => vec![candidate(
            "retry_unchanged",
            &|_| {},
            "no rule for this error: one retry with the configuration unchanged".to_owned(),
            None,
        )],
    }
}

/// The JVM whose heap `run`'s event log shows full (its peak at [`FULL_HEAP_SHARE`] of it or more) and that
/// peak: the executors' on a cluster, else the driver's (in local mode the executors run in it).
fn heap_full(run: &FailedRun) -> Option<(Jvm, u64)> {
    let metrics = run.metrics.as_ref()?;
    let full = |peak: Option<u64>, jvm: Jvm| {
        peak.filter(|&peak| {
            peak as f64 >= FULL_HEAP_SHARE * spark::heap_bytes(&run.config, jvm) as f64
        })
        .map(|peak| (jvm, peak))
    };
    let executors = (!spark::is_local_mode(&run.config))
        .then(|| full(metrics.peak_executor_heap_bytes, Jvm::Executor))
        .flatten();
    executors.or_else(|| full(metrics.peak_driver_heap_bytes, Jvm::Driver))
}

/// Whether `run`'s event log says its driver, not its executors, ran out of heap: the driver's peak at its heap,
/// the executors' below theirs. Only for a bare heap error, whose text does not say which JVM it came from.
fn driver_ran_out(run: &FailedRun) -> bool {
    let Some(metrics) = &run.metrics else {
        return false;
    };
    let at_heap = |peak: Option<u64>, jvm: Jvm| {
        peak.map(|peak| peak as f64 >= FULL_HEAP_SHARE * spark::heap_bytes(&run.config, jvm) as f64)
    };
    run.rule
        .as_deref()
        .is_none_or(|rule| rule.ends_with("-bare") || rule.contains("without-class"))
        && at_heap(metrics.peak_driver_heap_bytes, Jvm::Driver) == Some(true)
        && at_heap(metrics.peak_executor_heap_bytes, Jvm::Executor) == Some(false)
}

/// How the previous attempt of `run` raised `jvm`'s heap, if it did and then failed with the same memory: `"512 MiB
/// → 2048 MiB"`.
fn heap_raised_before(run: &FailedRun, jvm: Jvm) -> Option<String> {
    let earlier = run.tried.last()?;
    let (before, now) = (heap_mib(earlier, jvm), heap_mib(&run.config, jvm));
    (now > before).then(|| format!("{before} MiB → {now} MiB"))
}

/// Fewer tasks sharing `jvm`'s heap, each task's share of it doubled: in local mode half the threads; on a cluster
/// whose executor count is fixed (`spark.executor.instances`), half the executor's cores (the cores freed are not
/// paid for); where the count follows the cores (a standalone master, dynamic allocation), twice the cores per task
/// (`spark.task.cpus`), which keeps every executor and its container as they were, where fewer cores per executor
/// would start more executors, each with a heap of its own. First with `stepped`'s larger heap as well, then with
/// the heap as it was (what is left when the heap cannot grow). Nothing when one task runs alone already.
fn fewer_concurrent_tasks(original: &SparkConf, jvm: Jvm, stepped: &Candidate) -> Vec<Candidate> {
    let (key, slots, halved) = match spark::local_threads(original) {
        Some(spark::LocalThreads::Count(threads)) if threads > 1 => {
            (spark::MASTER, threads, format!("local[{}]", threads / 2))
        }
        Some(_) => return Vec::new(),
        None => {
            let slots = spark::task_slots(original);
            if slots < 2 {
                return Vec::new();
            }
            let key = if spark::executor_count_follows_cores(original) {
                spark::TASK_CPUS
            } else {
                spark::EXECUTOR_CORES
            };
            let count = spark::count_or_one(original, key);
            // Twice the cores per task, or half the cores per executor.
            let fewer = if key == spark::TASK_CPUS {
                count * 2
            } else {
                count / 2
            };
            (key, slots, fewer.to_string())
        }
    };
    let heap = heap_mib(original, jvm);
    let mut all = Vec::new();
    let mut only_fewer = original.clone();
    only_fewer.set(key, halved.clone());
    let stepped_heap = heap_mib(&stepped.config, jvm);
    let share = (slots / (slots / 2)) as f64;
    if stepped_heap > heap {
        let mut both = stepped.config.clone();
        both.set(key, halved.clone());
        all.push(Candidate {
            name: "fewer_tasks_and_heap",
            config: both,
            reason: format!(
                "{slots} tasks sharing the heap → {} ({key} = {halved}), and the heap {heap} → {stepped_heap} MiB: \
                 each task's share of it {:.1}×",
                slots / 2,
                share * stepped_heap as f64 / heap as f64
            ),
            step: Some(share * stepped_heap as f64 / heap.max(1) as f64),
        });
    }
    all.push(Candidate {
        name: "fewer_tasks",
        config: only_fewer,
        reason: format!(
            "{slots} tasks sharing the heap → {} ({key} = {halved}): each task's share of the {heap} MiB heap {share:.1}×",
            slots / 2
        ),
        step: Some(share),
    });
    all
}

/// Spark's reserved system memory: the heap's first 300 MiB are not for execution or storage.
const RESERVED_MIB: u64 = 300;

/// The heap whose execution memory grants every task slot of `jvm` the request that failed (the `requested`
/// bytes of `Unable to acquire X bytes of memory, got Y`) with half again to spare, or 0 without that evidence.
/// Spark's unified memory is `(heap - 300 MiB) × spark.memory.fraction` (0.6 unless set), and a task may hold at
/// most its share of it (`1/N` of N running tasks).
fn execution_memory_floor_mib(
    config: &SparkConf,
    jvm: Jvm,
    evidence: &std::collections::BTreeMap<String, String>,
) -> u64 {
    let Some(requested) = evidence
        .get("requested")
        .and_then(|bytes| bytes.parse::<u64>().ok())
    else {
        return 0;
    };
    let fraction = config
        .get("spark.memory.fraction")
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|f| *f > 0.0 && *f <= 1.0)
        .unwrap_or(0.6);
    let slots = match spark::local_threads(config) {
        Some(threads) => threads.cores(None),
        None if jvm == Jvm::Executor => spark::task_slots(config),
        None => 1,
    }
    .max(1);
    let per_slot_mib = requested.div_ceil(1 << 20) as f64 * 1.5;
    RESERVED_MIB + (per_slot_mib * slots as f64 / fraction).ceil() as u64
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
        advise_run(&run, limits, MemoryPrior::default())
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
    }

    #[test]
    fn heap_errors_multiply_the_heap_and_containers_grow_their_overhead() {
        let mut original = SparkConf::new();
        original.set("spark.executor.memory", "4g");
        let advice = advise(Category::ExecutorOom, None, &original, LIMITS);
        // Two executors of one core and 4 GiB (with the driver): memory is a quarter of the price, so × 3
        // (hand-computed with the default prior's tail of 1.37: expected costs 2.33, 2.25 and 2.34 for × 2, 3, 4).
        assert_eq!(
            advice
                .config
                .as_ref()
                .and_then(|c| c.get("spark.executor.memory")),
            Some("12288m")
        );
        // What the prior says of a step of 3, and its price: a quarter of the price tripled.
        let p_fail = advice.p_fail.expect("a step");
        assert!(
            (p_fail - 3f64.powf(-crate::prior::DEFAULT_TAIL)).abs() < 1e-12,
            "{p_fail}"
        );
        let cost_ratio = advice.cost_ratio.expect("priced");
        assert!((1.5..1.53).contains(&cost_ratio), "{cost_ratio}");
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
    fn in_local_mode_heap_errors_raise_the_drivers_heap() {
        let mut original = SparkConf::new();
        original.set("spark.master", "local[2]");
        original.set("spark.driver.memory", "512m");
        original.set("spark.executor.memory", "4g");
        let advice = advise(Category::ExecutorOom, None, &original, LIMITS);
        assert_eq!(advice.name, "heap_jump_local");
        let config = advice.config.expect("fits");
        // Half a GiB beside two cores is 5 % of the price: × 4.
        assert_eq!(config.get("spark.driver.memory"), Some("2048m"));
        assert_eq!(config.get("spark.executor.memory"), Some("4g"));
        original.set("spark.master", "yarn");
        let advice = advise(Category::ExecutorOom, None, &original, LIMITS);
        assert_eq!(advice.name, "heap_jump");
        // local-cluster's executors are JVMs of their own, with their own heap.
        original.set("spark.master", "local-cluster[2,1,1024]");
        let advice = advise(Category::ExecutorOom, None, &original, LIMITS);
        assert_eq!(advice.name, "heap_jump");
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
            Category::BroadcastTooLarge,
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
            Category::BroadcastTooLarge,
            Some("broadcast-not-enough-driver-memory"),
            &original,
            LIMITS,
        );
        assert_eq!(advice.name, "disable_broadcast");
        let advice = advise(
            Category::ResultSizeExceeded,
            Some("driver-max-result-size-exceeded"),
            &original,
            LIMITS,
        );
        let config = advice.config.expect("fits");
        // Spark's 1g cap and 1g driver: the cap takes the step a 1 GiB driver's price allows (× 4), and the heap
        // holds it with a GiB to spare, bumped.
        assert_eq!(config.get("spark.driver.maxResultSize"), Some("4096m"));
        assert_eq!(config.get("spark.driver.memory"), Some("6144m"));
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
            metrics: None,
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
            Category::BroadcastTooLarge,
            "broadcast-not-enough-driver-memory",
            &original,
        );
        let advice = advise_run(&run, LIMITS, MemoryPrior::default());
        assert_eq!(advice.name, "heap_jump");
        let config = advice.config.expect("another knob");
        assert_eq!(config.get("spark.driver.memory"), Some("2048m"));
        assert!(
            advice
                .reason
                .contains("disable_broadcast would leave a configuration"),
            "{}",
            advice.reason
        );
        // That configuration failed too, earlier in the run: nothing left to try.
        let mut exhausted = failed(
            Category::BroadcastTooLarge,
            "broadcast-not-enough-driver-memory",
            &original,
        );
        exhausted.tried.push(config);
        let advice = advise_run(&exhausted, LIMITS, MemoryPrior::default());
        assert_eq!((advice.name, advice.config), ("exhausted", None));
        // Unclassified failures are not memory failures: one unchanged retry is theirs to have.
        let unknown = failed(Category::Unclassified, "none", &original);
        assert_eq!(
            advise_run(&unknown, LIMITS, MemoryPrior::default()).config,
            Some(original)
        );
    }

    #[test]
    fn the_result_size_the_error_names_sizes_the_new_cap() {
        let mut original = SparkConf::new();
        original.set("spark.driver.maxResultSize", "32m");
        original.set("spark.driver.memory", "1g");
        let mut run = failed(
            Category::ResultSizeExceeded,
            "driver-max-result-size-exceeded",
            &original,
        );
        // Just over the cap: the size counts only the tasks that finished, so the cap takes the heap's step.
        run.evidence
            .insert("size".to_owned(), "40.6 MiB".to_owned());
        let (factor, _) = jump_factor(
            &original,
            "spark.driver.memory",
            1024,
            MemoryPrior::default(),
        );
        let config = advise_run(&run, LIMITS, MemoryPrior::default())
            .config
            .expect("retry");
        assert_eq!(
            config.get("spark.driver.maxResultSize"),
            Some(format!("{}m", 32 * factor).as_str())
        );
        assert!(factor > 2, "a 1 GiB driver is a small share of the price");
        // Far over it: the cap holds the results with half again to spare, whatever the old cap.
        run.evidence.insert("size".to_owned(), "1.2 GiB".to_owned());
        let advice = advise_run(&run, LIMITS, MemoryPrior::default());
        let config = advice.config.expect("retry");
        // 1.2 GiB is 1229 MiB; × 1.5 = 1843, to the next 32 MiB: 1856; the heap holds it plus 1 GiB, bumped.
        assert_eq!(config.get("spark.driver.maxResultSize"), Some("1856m"));
        assert_eq!(config.get("spark.driver.memory"), Some("3584m"));
        assert!(
            advice.reason.contains("the results were at least 1.2 GiB"),
            "{}",
            advice.reason
        );
    }

    #[test]
    fn fewer_tasks_keep_the_executors_where_their_count_follows_their_cores() {
        let fewer = |pairs: &[(&str, &str)]| {
            let mut original = SparkConf::new();
            for (key, value) in pairs {
                original.set(*key, *value);
            }
            let run = failed(Category::ExecutorOom, "", &original);
            let all = candidates(&run, MemoryPrior::default());
            let fewer = all
                .iter()
                .find(|c| c.name == "fewer_tasks")
                .expect("fewer tasks");
            (
                fewer.config.get("spark.executor.cores").map(str::to_owned),
                fewer.config.get("spark.task.cpus").map(str::to_owned),
                fewer.step,
            )
        };
        // A fixed number of executors: half the cores each (the freed cores are not paid for).
        let yarn = [
            ("spark.master", "yarn"),
            ("spark.executor.instances", "10"),
            ("spark.executor.cores", "4"),
        ];
        assert_eq!(fewer(&yarn), (Some("2".to_owned()), None, Some(2.0)));
        // A standalone master starts as many executors as the cores hold: two cores per task instead, the
        // executors as they were.
        let standalone = [
            ("spark.master", "spark://127.0.0.1:7077"),
            ("spark.executor.cores", "4"),
        ];
        assert_eq!(
            fewer(&standalone),
            (Some("4".to_owned()), Some("2".to_owned()), Some(2.0))
        );
        // Dynamic allocation too; and tasks already taking two of four cores go to four.
        let dynamic = [
            ("spark.master", "yarn"),
            ("spark.dynamicAllocation.enabled", "true"),
            ("spark.executor.cores", "4"),
            ("spark.task.cpus", "2"),
        ];
        assert_eq!(
            fewer(&dynamic),
            (Some("4".to_owned()), Some("4".to_owned()), Some(2.0))
        );
    }

    #[test]
    fn the_step_is_smaller_where_memory_is_most_of_the_price() {
        // Ten executors of one core and 16 GiB: memory is two thirds of the price.
        let mut original = SparkConf::new();
        original.set("spark.executor.memory", "16g");
        original.set("spark.executor.instances", "10");
        assert_eq!(
            jump_factor(
                &original,
                "spark.executor.memory",
                16384,
                MemoryPrior::default()
            )
            .0,
            2
        );
        original.set("spark.executor.memory", "1g");
        original.set("spark.executor.cores", "8");
        assert_eq!(
            jump_factor(
                &original,
                "spark.executor.memory",
                1024,
                MemoryPrior::default()
            )
            .0,
            4
        );
    }

    #[test]
    fn the_request_execution_memory_refused_sizes_the_heap() {
        // Unable to acquire 48 MiB in a 512 MiB local[2] driver whose memory fraction is 0.2: each of the two task
        // slots needs 72 MiB (half again), so the unified pool needs 720 MiB, the heap 300 MiB more.
        let mut original = SparkConf::new();
        original.set("spark.master", "local[2]");
        original.set("spark.driver.memory", "512m");
        original.set("spark.memory.fraction", "0.2");
        let mut run = failed(
            Category::ExecutionMemoryOom,
            "spark-unable-to-acquire-memory",
            &original,
        );
        run.evidence
            .insert("requested".to_owned(), "50331684".to_owned());
        // × 4 gives 2048 MiB, more than the evidence asks for: the bigger wins.
        let config = advise_run(&run, LIMITS, MemoryPrior::default())
            .config
            .expect("retry");
        assert_eq!(config.get("spark.driver.memory"), Some("2048m"));
        // A request of 400 MiB needs 300 + 2 × 600 / 0.2 = 6300 MiB, rounded to 6400.
        run.evidence
            .insert("requested".to_owned(), (400u64 << 20).to_string());
        let advice = advise_run(&run, LIMITS, MemoryPrior::default());
        assert_eq!(
            advice.config.expect("retry").get("spark.driver.memory"),
            Some("6400m")
        );
        assert!(
            advice.reason.contains("what the error says"),
            "{}",
            advice.reason
        );
    }

    #[test]
    fn a_python_worker_gets_its_own_memory_never_the_heap() {
        let mut original = SparkConf::new();
        original.set("spark.master", "local[2]");
        original.set("spark.driver.memory", "512m");
        original.set("spark.executor.pyspark.memory", "128m");
        let run = failed(Category::PythonWorkerOom, "python-memory-error", &original);
        let advice = advise_run(&run, LIMITS, MemoryPrior::default());
        assert_eq!(advice.name, "python_memory_jump");
        let config = advice.config.expect("retry");
        // In local mode the workers' memory is not priced: the largest step.
        assert_eq!(config.get("spark.executor.pyspark.memory"), Some("512m"));
        assert_eq!(config.get("spark.driver.memory"), Some("512m"));
        // No limit of their own, in local mode: nothing to raise.
        let mut unlimited = original.clone();
        unlimited.0.remove("spark.executor.pyspark.memory");
        let advice = advise_run(
            &failed(Category::PythonWorkerOom, "python-memory-error", &unlimited),
            LIMITS,
            MemoryPrior::default(),
        );
        assert_eq!((advice.name, advice.config), ("no_setting", None));
        // No limit on a cluster: the workers live in the overhead.
        unlimited.set("spark.master", "yarn");
        let advice = advise_run(
            &failed(Category::PythonWorkerOom, "python-memory-error", &unlimited),
            LIMITS,
            MemoryPrior::default(),
        );
        assert_eq!(advice.name, "python_overhead_jump");
        assert!(
            advice
                .config
                .expect("retry")
                .get("spark.executor.memoryOverhead")
                .is_some()
        );
    }

    #[test]
    fn a_killed_container_gets_at_least_what_it_used() {
        let mut original = SparkConf::new();
        original.set("spark.executor.memory", "4g");
        let mut run = failed(
            Category::ContainerMemoryExceeded,
            "yarn-container-killed-memory-limits",
            &original,
        );
        run.evidence.insert("used".to_owned(), "8.0 GB".to_owned());
        let config = advise_run(&run, LIMITS, MemoryPrior::default())
            .config
            .expect("retry");
        // 8 GiB used, plus a quarter: a 10240 MiB container, of which 4096 MiB heap and 6144 MiB overhead.
        assert_eq!(config.get("spark.executor.memoryOverhead"), Some("6144m"));
    }
}

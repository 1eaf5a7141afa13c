//! A seeded generator of retry history with a known rule, for tests, benchmarks and (later) the simulator.
//!
//! Each job has a hidden per-executor memory *need*: a log-normal base that depends on the job (and, through the
//! plan, on its joins), growing with the input size and with the cores sharing an executor. A retry fails when the
//! executor's usable memory (heap scaled by `spark.memory.fraction`, plus half the overhead) is below the need,
//! and then a fraction `label_noise` of outcomes is flipped. Runtime depends on the input size, the parallelism
//! and how close the memory is to the need (spilling); a failed attempt stops part-way. Cost is
//! [`Prices::cost`] of the configuration and the runtime. Timestamps increase record by record.

use medic_core::history::{Prices, RetryRecord};
use medic_core::spark::{self, Jvm};
use medic_core::{Category, JobIdentity, RunOutcome, SparkConf};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Duration, OffsetDateTime};

use crate::model::standard_normal;

const GIB: f64 = (1u64 << 30) as f64;
const MIB: f64 = (1u64 << 20) as f64;

/// Settings of the generator.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticConfig {
    /// The RNG seed: the same seed gives the same records.
    pub seed: u64,
    /// Number of distinct jobs.
    pub jobs: usize,
    /// Probability that an outcome is flipped.
    pub label_noise: f64,
    /// Time of the first record.
    pub start: OffsetDateTime,
    /// Largest gap between consecutive records, in seconds (gaps are uniform in 1 to this).
    pub max_gap_seconds: i64,
    /// Prices for the cost.
    pub prices: Prices,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            seed: 42,
            jobs: 200,
            label_noise: 0.03,
            start: time::macros::datetime!(2026-01-01 00:00 UTC),
            max_gap_seconds: 600,
            prices: Prices::default(),
        }
    }
}

/// One synthetic job and its hidden properties.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticJob {
    /// The job's identity.
    pub identity: JobIdentity,
    /// The operators of its plan.
    pub plan_operators: Vec<String>,
    /// Its median input size in bytes.
    pub typical_input_bytes: f64,
    /// Its memory need per executor, in bytes, at 1 GiB of input and 4 cores.
    pub base_need_bytes: f64,
}

/// A fleet of jobs that emits retry records one after another.
#[derive(Clone, Debug)]
pub struct SyntheticFleet {
    config: SyntheticConfig,
    jobs: Vec<SyntheticJob>,
    rng: ChaCha8Rng,
    now: OffsetDateTime,
}

const OWNERS: [&str; 8] = [
    "data-eng",
    "analytics",
    "ml",
    "finance",
    "growth",
    "search",
    "ads",
    "risk",
];
const CLUSTERS: [&str; 3] = ["yarn-a", "yarn-b", "k8s-1"];

impl SyntheticFleet {
    /// A fleet of `config.jobs` jobs drawn from `config.seed`.
    pub fn new(config: SyntheticConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let jobs = (0..config.jobs.max(1))
            .map(|i| {
                let mut operators = vec!["FileScan".to_owned(), "Project".to_owned()];
                let mut need_factor = 1.0;
                for (op, factor) in [
                    ("SortMergeJoin", 1.5),
                    ("BroadcastHashJoin", 1.25),
                    ("Window", 1.3),
                    ("HashAggregate", 1.1),
                    ("Filter", 1.0),
                    ("Sort", 1.1),
                ] {
                    if rng.random_bool(0.4) {
                        operators.push(op.to_owned());
                        need_factor *= factor;
                    }
                }
                let base =
                    2.0 * GIB * need_factor * f64::from(0.5 * standard_normal(&mut rng)).exp();
                let typical = 8.0 * GIB * f64::from(1.2 * standard_normal(&mut rng)).exp();
                SyntheticJob {
                    identity: JobIdentity {
                        id: format!("job-{i:04}"),
                        workflow: Some(format!("wf-{:03}", i / 6)),
                        owner: OWNERS.choose(&mut rng).map(|s| (*s).to_owned()),
                        cluster: CLUSTERS.choose(&mut rng).map(|s| (*s).to_owned()),
                    },
                    plan_operators: operators,
                    typical_input_bytes: typical,
                    base_need_bytes: base,
                }
            })
            .collect();
        let now = config.start;
        SyntheticFleet {
            config,
            jobs,
            rng,
            now,
        }
    }

    /// The jobs.
    pub fn jobs(&self) -> &[SyntheticJob] {
        &self.jobs
    }

    /// The hidden memory need (bytes per executor) of `job` with `input_bytes` of input and `cores` per executor.
    pub fn memory_need_bytes(job: &SyntheticJob, input_bytes: f64, cores: f64) -> f64 {
        job.base_need_bytes
            * (input_bytes / GIB).max(0.01).powf(0.3)
            * (cores.max(1.0) / 4.0).sqrt()
    }

    /// The usable executor memory of `config` (bytes): heap scaled by `spark.memory.fraction` relative to Spark's
    /// 0.6, plus half the overhead (Spark's default overhead when unset).
    pub fn usable_memory_bytes(config: &SparkConf) -> f64 {
        let heap = spark::heap_bytes(config, Jvm::Executor) as f64;
        // In MiB and back: scaling by 2^20 is exact, so this is Spark's default in f64 bytes to the bit.
        let overhead = spark::overhead_mib(config, Jvm::Executor) * MIB;
        let fraction = config
            .get("spark.memory.fraction")
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|f| (0.05..=1.0).contains(f))
            .unwrap_or(0.6);
        heap * (fraction / 0.6).sqrt() + 0.5 * overhead
    }

    /// Whether the retry fails before label noise.
    pub fn fails_without_noise(job: &SyntheticJob, config: &SparkConf, input_bytes: f64) -> bool {
        let cores = config
            .get("spark.executor.cores")
            .and_then(|t| t.trim().parse::<f64>().ok())
            .unwrap_or(1.0);
        Self::usable_memory_bytes(config) < Self::memory_need_bytes(job, input_bytes, cores)
    }

    /// The next record: a random job, a random retry configuration around its need, the outcome and the cost.
    pub fn next_record(&mut self) -> RetryRecord {
        let rng = &mut self.rng;
        let index = rng.random_range(0..self.jobs.len());
        let job = &self.jobs[index];
        let input = job.typical_input_bytes * f64::from(0.3 * standard_normal(rng)).exp();
        let cores = *[1u32, 2, 4, 4, 5, 8].choose(rng).unwrap_or(&4);
        let need = Self::memory_need_bytes(job, input, f64::from(cores));
        // Heaps from a quarter to four times the need, so that both outcomes are common.
        let heap_mib = ((need / MIB) * (rng.random_range(-1.4f64..1.4)).exp()).max(512.0);
        let heap_mib = (heap_mib / 256.0).round().max(2.0) * 256.0;
        let mut config = SparkConf::new();
        config.set("spark.executor.memory", format_heap(heap_mib, rng));
        config.set("spark.executor.cores", cores.to_string());
        let instances = (2.0 * f64::from(rng.random_range(0.0f32..4.0)).exp()).round();
        config.set("spark.executor.instances", format!("{instances}"));
        if rng.random_bool(0.4) {
            let min = spark::MIN_MEMORY_OVERHEAD_MIB;
            let overhead = rng
                .random_range(min..(0.3 * heap_mib).max(min + 1.0))
                .round();
            config.set("spark.executor.memoryOverhead", format!("{overhead}m"));
        }
        if rng.random_bool(0.3) {
            let fraction = [0.4, 0.5, 0.6, 0.7, 0.8].choose(rng).unwrap_or(&0.6);
            config.set("spark.memory.fraction", fraction.to_string());
        }
        if rng.random_bool(0.7) {
            let driver = ["1g", "2g", "4g", "8g", "4096m"]
                .choose(rng)
                .unwrap_or(&"2g");
            config.set("spark.driver.memory", *driver);
        }
        if rng.random_bool(0.2) {
            config.set("spark.driver.memoryOverhead", "1g");
        }
        let partitions = match rng.random_range(0..10) {
            0..=5 => Some(*[200u32, 400, 1000, 2000].choose(rng).unwrap_or(&200)),
            _ => None,
        };
        if let Some(p) = partitions {
            config.set("spark.sql.shuffle.partitions", p.to_string());
        }
        if rng.random_bool(0.1) {
            config.set("spark.default.parallelism", "400");
        }
        if rng.random_bool(0.2) {
            let threshold = ["-1", "10m", "104857600", "50MB"]
                .choose(rng)
                .unwrap_or(&"-1");
            config.set("spark.sql.autoBroadcastJoinThreshold", *threshold);
        }
        // A few hand-edited values that Spark itself would refuse, as real history has them.
        if rng.random_bool(0.005) {
            config.set("spark.sql.shuffle.partitions", "lots");
        }

        let clean_failure = Self::fails_without_noise(job, &config, input);
        let failed = clean_failure != rng.random_bool(self.config.label_noise);
        let usable = Self::usable_memory_bytes(&config);
        let parallel = (instances.max(1.0) * f64::from(cores)).max(1.0);
        let spill = 1.0 + 0.8 * (1.5 - usable / need).clamp(0.0, 1.0);
        let partitions_penalty = match partitions {
            Some(p) if f64::from(p) < parallel => 1.3,
            _ => 1.0,
        };
        let mut runtime = (60.0 + 900.0 * (input / GIB) / parallel.powf(0.8))
            * spill
            * partitions_penalty
            * f64::from(0.1 * standard_normal(rng)).exp();
        if failed {
            runtime *= rng.random_range(0.1..0.9);
        }
        let cost = self.config.prices.cost(&config, runtime);
        let category = match rng.random_range(0..10) {
            0..=4 => Category::ExecutorOom,
            5..=7 => Category::ContainerMemoryExceeded,
            _ => Category::Unclassified,
        };
        let rule = match category {
            Category::ExecutorOom => Some("java-heap-space".to_owned()),
            Category::ContainerMemoryExceeded => Some("yarn-container-killed".to_owned()),
            _ => None,
        };
        let gap = rng.random_range(1..=self.config.max_gap_seconds.max(1));
        self.now += Duration::seconds(gap);
        let known_input = rng.random_bool(0.95);
        RetryRecord {
            job: job.identity.clone(),
            config,
            failure_category: category,
            failure_rule: rule,
            input_bytes: known_input.then_some(input as u64),
            plan_operators: job.plan_operators.clone(),
            outcome: if failed {
                RunOutcome::Failed
            } else {
                RunOutcome::Succeeded
            },
            cost_dollars: cost,
            runtime_seconds: runtime,
            peak_memory_bytes: None,
            at: self.now,
        }
    }

    /// The next `n` records.
    pub fn records(&mut self, n: usize) -> Vec<RetryRecord> {
        (0..n).map(|_| self.next_record()).collect()
    }
}

/// A heap size in one of the forms users write: `8g`, `8192m`, `8192` (plain MiB) or `1.5g`.
fn format_heap(mib: f64, rng: &mut ChaCha8Rng) -> String {
    let whole_gib = (mib / 1024.0).fract() == 0.0;
    match rng.random_range(0..4) {
        0 if whole_gib => format!("{}g", mib / 1024.0),
        1 if (mib / 512.0).fract() == 0.0 => format!("{}g", mib / 1024.0),
        2 => format!("{mib}"),
        _ => format!("{mib}m"),
    }
}

/// `n` records of a fleet built from `config`.
pub fn generate(config: &SyntheticConfig, n: usize) -> Vec<RetryRecord> {
    SyntheticFleet::new(config.clone()).records(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_records_and_time_moves_forward() {
        let config = SyntheticConfig::default();
        let a = generate(&config, 300);
        let b = generate(&config, 300);
        assert_eq!(a, b);
        let c = generate(&SyntheticConfig { seed: 43, ..config }, 300);
        assert_ne!(a, c);
        assert!(a.windows(2).all(|w| w[0].at < w[1].at));
        let failures = a.iter().filter(|r| r.outcome == RunOutcome::Failed).count();
        assert!((60..240).contains(&failures), "{failures} of 300 fail");
        assert!(a.iter().all(|r| r.validate().is_empty()));
        assert!(a.iter().all(|r| r.cost_dollars > 0.0));
        // Every heap is readable in Spark's syntax.
        for r in &a {
            let heap = spark::memory_bytes(&r.config, spark::EXECUTOR_MEMORY);
            assert!(heap.is_some(), "{:?}", r.config.get(spark::EXECUTOR_MEMORY));
        }
    }
}

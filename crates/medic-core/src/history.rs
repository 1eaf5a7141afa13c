//! The history the model learns from: one [`RetryRecord`] per attempt that followed a memory-configuration or
//! unclassified failure, and the [`Prices`] that turn an attempt's resources and runtime into dollars.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::units::{SizeUnit, parse_size};
use crate::{Category, JobIdentity, RunOutcome, SparkConf};

/// One attempt after a failure: what it ran with, what it ran on, and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRecord {
    /// The job.
    pub job: JobIdentity,
    /// The Spark configuration the attempt ran with.
    pub config: SparkConf,
    /// The category of the failure this attempt followed.
    pub failure_category: Category,
    /// The rule that classified that failure, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_rule: Option<String>,
    /// Bytes of input, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_bytes: Option<u64>,
    /// Operator names of the Spark plan (`SortMergeJoin`, `HashAggregate`, ...), when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_operators: Vec<String>,
    /// How the attempt ended.
    pub outcome: RunOutcome,
    /// What it cost, in dollars (given, or computed by [`Prices::cost`]).
    pub cost_dollars: f64,
    /// How long it ran, in seconds.
    pub runtime_seconds: f64,
    /// The highest memory use seen (bytes), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory_bytes: Option<u64>,
    /// When the attempt started.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl RetryRecord {
    /// Every reason this record cannot be learned from (a negative or non-finite cost or runtime, an empty job
    /// id). Empty when it is fine.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.job.id.trim().is_empty() {
            problems.push("the job id is empty".to_owned());
        }
        for (name, value) in [
            ("cost_dollars", self.cost_dollars),
            ("runtime_seconds", self.runtime_seconds),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                problems.push(format!("`{name}` is {value}, not a non-negative number"));
            }
        }
        problems
    }
}

/// What resources cost: the prices that turn an attempt's configuration and runtime into dollars.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// Dollars per core-hour.
    pub core_hour: f64,
    /// Dollars per GiB-hour of memory granted (heap plus overhead).
    pub gib_hour: f64,
}

impl Default for Prices {
    /// Roughly on-demand cloud prices in 2026 (a general-purpose instance split into cores and memory).
    fn default() -> Self {
        Prices {
            core_hour: 0.04,
            gib_hour: 0.005,
        }
    }
}

/// The resources a configuration asks for, with Spark's defaults for what it leaves out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resources {
    /// Cores in all: executors × executor cores, plus the driver's.
    pub cores: f64,
    /// GiB in all: executors × (heap + overhead), plus the driver's heap and overhead.
    pub memory_gib: f64,
}

/// Spark's minimum memory overhead (384 MiB) and default overhead factor (0.10).
const MIN_OVERHEAD: u64 = 384 << 20;
const OVERHEAD_FACTOR: f64 = 0.10;

impl Resources {
    /// What `config` asks for. Unset or unreadable settings take Spark's defaults (1g heaps, 1 driver core, 2
    /// executors of 1 core on YARN), so that a cost is always defined.
    pub fn of(config: &SparkConf) -> Resources {
        let size = |key: &str, default: u64| {
            config
                .get(key)
                .and_then(|text| parse_size(text, SizeUnit::Mib).ok())
                .unwrap_or(default)
        };
        let count = |key: &str, default: f64| {
            config
                .get(key)
                .and_then(|text| text.trim().parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n >= 0.0)
                .unwrap_or(default)
        };
        let with_overhead = |heap: u64, overhead_key: &str| {
            let overhead = config
                .get(overhead_key)
                .and_then(|text| parse_size(text, SizeUnit::Mib).ok())
                .unwrap_or_else(|| MIN_OVERHEAD.max((heap as f64 * OVERHEAD_FACTOR) as u64));
            (heap + overhead) as f64 / (1u64 << 30) as f64
        };
        let executors = count("spark.executor.instances", 2.0);
        let executor_cores = count("spark.executor.cores", 1.0);
        let driver_cores = count("spark.driver.cores", 1.0);
        let executor_gib = with_overhead(
            size("spark.executor.memory", 1 << 30),
            "spark.executor.memoryOverhead",
        );
        let driver_gib = with_overhead(
            size("spark.driver.memory", 1 << 30),
            "spark.driver.memoryOverhead",
        );
        Resources {
            cores: executors * executor_cores + driver_cores,
            memory_gib: executors * executor_gib + driver_gib,
        }
    }
}

impl Prices {
    /// Dollars for running `config` for `runtime_seconds`.
    pub fn cost(&self, config: &SparkConf, runtime_seconds: f64) -> f64 {
        let resources = Resources::of(config);
        let hours = runtime_seconds.max(0.0) / 3600.0;
        hours * (resources.cores * self.core_hour + resources.memory_gib * self.gib_hour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_follow_spark_defaults_and_overheads() {
        let mut config = SparkConf::new();
        let defaults = Resources::of(&config);
        // 2 executors and a driver of 1 core, each 1 GiB heap + 384 MiB overhead.
        assert_eq!(defaults.cores, 3.0);
        assert!((defaults.memory_gib - 3.0 * 1.375).abs() < 1e-9);
        config.set("spark.executor.instances", "10");
        config.set("spark.executor.cores", "4");
        config.set("spark.executor.memory", "8g");
        config.set("spark.driver.memory", "not a size");
        let sized = Resources::of(&config);
        assert_eq!(sized.cores, 41.0);
        // 10 × (8 GiB + 0.8 GiB) + driver 1.375 GiB.
        assert!((sized.memory_gib - (88.0 + 1.375)).abs() < 1e-6);
        let prices = Prices {
            core_hour: 0.1,
            gib_hour: 0.01,
        };
        let cost = prices.cost(&config, 1800.0);
        assert!((cost - 0.5 * (41.0 * 0.1 + 89.375 * 0.01)).abs() < 1e-9);
    }
}

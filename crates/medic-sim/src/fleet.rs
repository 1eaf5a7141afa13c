//! The fleet spec: what the simulated fleet looks like, read from YAML (`fleets/default.yaml` documents every
//! field). Loading checks every field and reports every problem, not just the first.

use serde::Deserialize;
use time::Date;

use crate::error::{Error, Result};

/// The built-in fleet (`medic simulate` and `medic demo` without a file).
pub const DEFAULT_FLEET: &str = include_str!("../fleets/default.yaml");

/// A whole fleet and the period simulated.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    /// Seed of everything random: the same spec gives the same numbers.
    pub seed: u64,
    /// Jobs running once a day.
    pub jobs: u32,
    /// Days of history before the compared period, run with the platform's old way (engineers retrying by hand);
    /// medic learns from them.
    pub history_days: u32,
    /// Days of the compared period.
    pub days: u32,
    /// The first history day, `YYYY-MM-DD`.
    pub start: String,
    /// Attempts per run in all, the first included (every policy gets the same).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Share of jobs replaced by new ones (new ids, never seen in history) each day.
    #[serde(default)]
    pub churn_per_day: f64,
    /// Clusters the jobs run on (names), spread evenly.
    pub clusters: Vec<String>,
    /// The hidden memory needs.
    pub memory: MemorySpec,
    /// How users set memory.
    pub provisioning: ProvisioningSpec,
    /// Failures memory does not explain.
    pub failures: FailureSpec,
    /// How long runs take.
    pub runtime: RuntimeSpec,
    /// What compute costs.
    pub prices: PriceSpec,
}

fn default_max_attempts() -> u32 {
    3
}

fn default_spill_headroom() -> f64 {
    1.1
}

fn default_gc_hang() -> GcHang {
    GcHang {
        within: 0.15,
        runtime_factor: 2.0,
    }
}

fn default_peak_follows_heap() -> f64 {
    0.2
}

/// A heap just under the need does not fail fast: the JVM collects garbage for a long time before it gives up.
/// Seen with Spark 4.3 here: a driver heap that was almost enough hung about 150 s before it failed, where the
/// job's successful runs took 25 to 42 s. A long job's hang is bounded by the task failing, so the default is a
/// milder 2 full runs.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcHang {
    /// How far under the need (as a share of the need) a heap hangs instead of failing fast: 0.15 means a
    /// usable heap of 85 % to 100 % of the need.
    pub within: f64,
    /// A hanging attempt runs this many times a full run before it fails (instead of `failed_fraction`).
    pub runtime_factor: f64,
}

/// A log-normal distribution given by its median and the standard deviation of its logarithm.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormal {
    /// The median.
    pub median: f64,
    /// The standard deviation of the logarithm.
    pub sigma: f64,
}

/// A normal distribution.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normal {
    /// The mean.
    pub mean: f64,
    /// The standard deviation.
    pub sigma: f64,
}

/// A uniform range.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// The lowest value.
    pub min: f64,
    /// The highest value.
    pub max: f64,
}

/// The hidden memory needs of the jobs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySpec {
    /// Peak JVM heap one executor needs (GiB) at the job's usual input, cores and partitions.
    pub heap_need_gib: LogNormal,
    /// Memory one executor uses outside the heap (MiB): the container's overhead must hold it.
    pub overhead_need_mib: LogNormal,
    /// Heap the driver needs (GiB), for the jobs that collect results to the driver.
    pub driver_need_gib: LogNormal,
    /// Share of jobs that collect results to the driver (the others need little driver memory).
    pub collect_share: f64,
    /// Daily growth of each job's input (a fraction: 0.01 is 1 % a day), drawn per job.
    pub growth_per_day: Normal,
    /// Day-to-day variation of a job's input around its trend (standard deviation of the logarithm).
    pub input_noise_sigma: f64,
}

/// How users ask for memory.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningSpec {
    /// Requested over needed memory for most jobs (per job, the same for heap, overhead and driver).
    pub over_factor: LogNormal,
    /// Share of jobs that ask for less than they need in one component (heap, overhead or driver).
    pub under_share: f64,
    /// Requested over needed memory for those jobs, in that component.
    pub under_factor: Range,
}

/// Chances per run of failures that memory does not explain. Transient ones may strike again on a retry;
/// permanent ones always do.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureSpec {
    /// Shuffle blocks lost or unreachable (transient).
    pub shuffle_fetch: f64,
    /// Nodes lost, throttling, network and service trouble (transient).
    pub transient_infra: f64,
    /// A bug in the job's code or query (permanent).
    pub user_code: f64,
    /// A missing permission or credential (permanent).
    pub permission: f64,
    /// Bad or missing input data (permanent).
    pub data: f64,
    /// A full disk (strikes again on a retry with `disk_recurrence`).
    pub disk: f64,
    /// Errors no rule knows that a retry gets past (transient).
    pub novel_transient: f64,
    /// Errors no rule knows that no retry gets past (permanent).
    pub novel_permanent: f64,
    /// Chance that a transient failure strikes again on a retry.
    pub transient_recurrence: f64,
    /// Chance that a full disk is still full on a retry.
    pub disk_recurrence: f64,
}

/// How long runs take.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSpec {
    /// Minutes of a run at the job's usual input and configuration, without spilling.
    pub minutes: LogNormal,
    /// How much slower a run is when its heap only just holds what it needs (spilling, and garbage collection
    /// near the limit): 0.8 makes it 1.8× slower at exactly the need, falling linearly to no slowdown at
    /// `spill_headroom` times the need.
    pub spill_slowdown: f64,
    /// Usable heap over the need from which a run no longer slows down (above 1, at most 3). A run's measured peak
    /// heap already includes the execution memory it used, so a heap a little above that peak does not spill:
    /// only garbage collection close to the limit slows it. Fleet files written before it existed get 1.1.
    #[serde(default = "default_spill_headroom")]
    pub spill_headroom: f64,
    /// How far a failed attempt gets before it fails, as a fraction of a full run.
    pub failed_fraction: Range,
    /// Heaps just under the need hang in garbage collection before they fail. Fleet files written before it
    /// existed get a hang within 15 % of the need, 2 full runs long.
    #[serde(default = "default_gc_hang")]
    pub gc_hang: GcHang,
    /// How a successful run's measured peak heap grows with the heap it was given, beyond its need: the peak is
    /// `need × (heap / need)^this` (the JVM collects lazily when it has room, as real Spark's peaks showed here).
    /// 0 is a peak that is exactly the need. Fleet files written before it existed get 0.2.
    #[serde(default = "default_peak_follows_heap")]
    pub peak_follows_heap: f64,
}

/// Prices of compute.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSpec {
    /// Dollars per core-hour.
    pub core_hour: f64,
    /// Dollars per GiB-hour of memory granted (heap plus overhead).
    pub gib_hour: f64,
    /// Dollars a failure costs when no retry fixed it and a person has to (default 100: an engineer's hour).
    #[serde(default = "default_human_fix")]
    pub human_fix: f64,
}

fn default_human_fix() -> f64 {
    100.0
}

impl FleetSpec {
    /// Reads a spec from YAML; `origin` names it in errors. Every invalid value is reported.
    pub fn from_yaml(text: &str, origin: &str) -> Result<FleetSpec> {
        let spec: FleetSpec = serde_saphyr::from_str(text).map_err(|e| Error::InvalidFleet {
            origin: origin.to_owned(),
            problems: vec![e.to_string()],
        })?;
        let problems = spec.problems();
        if problems.is_empty() {
            Ok(spec)
        } else {
            Err(Error::InvalidFleet {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    /// The built-in fleet.
    pub fn default_fleet() -> FleetSpec {
        FleetSpec::from_yaml(DEFAULT_FLEET, "the built-in fleet")
            .unwrap_or_else(|e| unreachable!("the built-in fleet is checked by a test: {e}"))
    }

    /// The first history day.
    pub fn start_date(&self) -> Option<Date> {
        Date::parse(
            &self.start,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()
    }

    /// Every problem with the values, each as `field: what is wrong`.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, field: &str, want: &str| {
            if !ok {
                problems.push(format!("{field}: must be {want}"));
            }
        };
        let share = |x: f64| (0.0..=1.0).contains(&x);
        let positive = |x: f64| x.is_finite() && x > 0.0;
        let sigma = |x: f64| x.is_finite() && (0.0..=3.0).contains(&x);
        check(
            (1..=1_000_000).contains(&self.jobs),
            "jobs",
            "between 1 and 1000000",
        );
        check(self.history_days <= 3650, "history_days", "at most 3650");
        check(
            (1..=3650).contains(&self.days),
            "days",
            "between 1 and 3650",
        );
        check(
            self.start_date().is_some(),
            "start",
            "a date written YYYY-MM-DD",
        );
        check(
            (1..=10).contains(&self.max_attempts),
            "max_attempts",
            "between 1 and 10",
        );
        check(
            share(self.churn_per_day),
            "churn_per_day",
            "between 0 and 1",
        );
        check(
            !self.clusters.is_empty() && self.clusters.iter().all(|c| !c.trim().is_empty()),
            "clusters",
            "a non-empty list of names",
        );
        let m = &self.memory;
        for (field, d) in [
            ("memory.heap_need_gib", m.heap_need_gib),
            ("memory.overhead_need_mib", m.overhead_need_mib),
            ("memory.driver_need_gib", m.driver_need_gib),
            ("provisioning.over_factor", self.provisioning.over_factor),
            ("runtime.minutes", self.runtime.minutes),
        ] {
            check(
                positive(d.median),
                &format!("{field}.median"),
                "a positive number",
            );
            check(sigma(d.sigma), &format!("{field}.sigma"), "between 0 and 3");
        }
        check(
            share(m.collect_share),
            "memory.collect_share",
            "between 0 and 1",
        );
        check(
            m.growth_per_day.mean.is_finite() && m.growth_per_day.mean.abs() <= 0.2,
            "memory.growth_per_day.mean",
            "between -0.2 and 0.2",
        );
        check(
            m.growth_per_day.sigma.is_finite() && (0.0..=0.2).contains(&m.growth_per_day.sigma),
            "memory.growth_per_day.sigma",
            "between 0 and 0.2",
        );
        check(
            sigma(m.input_noise_sigma),
            "memory.input_noise_sigma",
            "between 0 and 3",
        );
        let p = &self.provisioning;
        check(
            share(p.under_share),
            "provisioning.under_share",
            "between 0 and 1",
        );
        check(
            positive(p.under_factor.min)
                && p.under_factor.min <= p.under_factor.max
                && p.under_factor.max < 1.0,
            "provisioning.under_factor",
            "0 < min <= max < 1",
        );
        let f = &self.failures;
        let chances = [
            ("failures.shuffle_fetch", f.shuffle_fetch),
            ("failures.transient_infra", f.transient_infra),
            ("failures.user_code", f.user_code),
            ("failures.permission", f.permission),
            ("failures.data", f.data),
            ("failures.disk", f.disk),
            ("failures.novel_transient", f.novel_transient),
            ("failures.novel_permanent", f.novel_permanent),
            ("failures.transient_recurrence", f.transient_recurrence),
            ("failures.disk_recurrence", f.disk_recurrence),
        ];
        for (field, chance) in chances {
            check(share(chance), field, "between 0 and 1");
        }
        let total: f64 = chances[..8].iter().map(|(_, c)| c).sum();
        check(
            total <= 1.0,
            "failures",
            "chances per run that add up to at most 1",
        );
        let r = &self.runtime;
        check(
            r.spill_slowdown.is_finite() && (0.0..=10.0).contains(&r.spill_slowdown),
            "runtime.spill_slowdown",
            "between 0 and 10",
        );
        check(
            r.spill_headroom.is_finite() && r.spill_headroom > 1.0 && r.spill_headroom <= 3.0,
            "runtime.spill_headroom",
            "above 1 and at most 3",
        );
        check(
            r.gc_hang.within.is_finite()
                && (0.0..1.0).contains(&r.gc_hang.within)
                && r.gc_hang.runtime_factor.is_finite()
                && (0.0..=10.0).contains(&r.gc_hang.runtime_factor),
            "runtime.gc_hang",
            "within in [0, 1) and runtime_factor in [0, 10]",
        );
        check(
            r.peak_follows_heap.is_finite() && (0.0..=1.0).contains(&r.peak_follows_heap),
            "runtime.peak_follows_heap",
            "between 0 and 1",
        );
        check(
            positive(r.failed_fraction.min)
                && r.failed_fraction.min <= r.failed_fraction.max
                && r.failed_fraction.max <= 1.0,
            "runtime.failed_fraction",
            "0 < min <= max <= 1",
        );
        check(
            positive(self.prices.core_hour),
            "prices.core_hour",
            "a positive number",
        );
        check(
            positive(self.prices.gib_hour),
            "prices.gib_hour",
            "a positive number",
        );
        check(
            self.prices.human_fix.is_finite() && self.prices.human_fix >= 0.0,
            "prices.human_fix",
            "a number of dollars, 0 or more",
        );
        problems
    }
}

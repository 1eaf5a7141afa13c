//! The hidden truth: the jobs of a fleet, what each needs on each day, and what happens when one runs with a
//! given configuration. Nothing outside this crate's runner and statistics reads it; policies see only what the
//! runner shows them (logs, the configuration, input size and plan operators).
//!
//! Every random draw comes from a generator seeded by the fleet's seed and *what* is drawn (job, day, attempt),
//! never from a shared stream, so every policy meets the same inputs and the same bad luck on the same day, and
//! a run's outcome does not depend on which runs came before it.

use std::collections::HashMap;

use medic_core::history::Prices;
use medic_core::spark::{self, Jvm};
use medic_core::{JobIdentity, SparkConf};
use rand::distr::{Distribution, StandardUniform};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::fleet::{FleetSpec, LogNormal};

const MIB_PER_GIB: f64 = 1024.0;

/// Why an attempt failed, in truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    /// An executor's heap was too small.
    ExecutorHeap,
    /// An executor used more than heap plus overhead and its container was killed.
    ContainerMemory,
    /// The driver's heap was too small.
    DriverHeap,
    /// Shuffle blocks were lost.
    ShuffleFetch,
    /// A node, the network or a service failed.
    TransientInfra,
    /// A bug in the job.
    UserCode,
    /// A missing permission.
    Permission,
    /// Bad input data.
    Data,
    /// A full disk.
    Disk,
    /// An error no rule knows that a retry gets past.
    NovelTransient,
    /// An error no rule knows that no retry gets past.
    NovelPermanent,
}

impl FailureKind {
    /// Every kind.
    pub const ALL: [FailureKind; 11] = [
        FailureKind::ExecutorHeap,
        FailureKind::ContainerMemory,
        FailureKind::DriverHeap,
        FailureKind::ShuffleFetch,
        FailureKind::TransientInfra,
        FailureKind::UserCode,
        FailureKind::Permission,
        FailureKind::Data,
        FailureKind::Disk,
        FailureKind::NovelTransient,
        FailureKind::NovelPermanent,
    ];

    /// A memory-configuration failure: a different configuration fixes it.
    pub fn is_memory(self) -> bool {
        matches!(
            self,
            FailureKind::ExecutorHeap | FailureKind::ContainerMemory | FailureKind::DriverHeap
        )
    }

    /// No retry gets past it, whatever the configuration.
    pub fn is_permanent(self) -> bool {
        matches!(
            self,
            FailureKind::UserCode
                | FailureKind::Permission
                | FailureKind::Data
                | FailureKind::NovelPermanent
        )
    }

    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::ExecutorHeap => "executor_heap",
            FailureKind::ContainerMemory => "container_memory",
            FailureKind::DriverHeap => "driver_heap",
            FailureKind::ShuffleFetch => "shuffle_fetch",
            FailureKind::TransientInfra => "transient_infra",
            FailureKind::UserCode => "user_code",
            FailureKind::Permission => "permission",
            FailureKind::Data => "data",
            FailureKind::Disk => "disk",
            FailureKind::NovelTransient => "novel_transient",
            FailureKind::NovelPermanent => "novel_permanent",
        }
    }
}

/// One job and its hidden needs.
#[derive(Clone, Debug, PartialEq)]
pub struct SimJob {
    /// Who it is.
    pub identity: JobIdentity,
    /// Its plan's operators (the runner reports them, as an event log would).
    pub plan_operators: Vec<String>,
    /// The configuration its owner wrote.
    pub conf: SparkConf,
    /// The day it first runs (0 for jobs of the first day; later for jobs that replaced others).
    pub born: u32,
    /// Whether its cluster is Kubernetes (it prints Kubernetes errors rather than YARN's).
    pub kubernetes: bool,
    typical_input_bytes: f64,
    growth: f64,
    heap_need_mib: f64,
    overhead_need_mib: f64,
    driver_need_mib: f64,
    cores: f64,
    partitions: f64,
    parallelism: f64,
    minutes: f64,
}

/// What happened to one attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    /// Why it failed; `None` when it succeeded.
    pub failure: Option<FailureKind>,
    /// How long it ran, in seconds.
    pub runtime_seconds: f64,
    /// What it cost, in dollars.
    pub cost_dollars: f64,
    /// The highest JVM heap an executor used, in bytes.
    pub peak_heap_bytes: u64,
    /// Bytes of input.
    pub input_bytes: u64,
    /// Bytes spilled to disk because the heap only just held the need (0 from the fleet's `spill_headroom` up).
    pub spilled_bytes: u64,
    /// Executor heap granted and needed, MiB (for the logs' numbers).
    pub heap_mib: (f64, f64),
    /// Container size granted (heap + overhead) and used, MiB. The use may exceed the grant: that is the
    /// container kill the logs report.
    pub container_mib: (f64, f64),
    /// Driver heap granted and used (the need, at most the grant), MiB.
    pub driver_mib: (f64, f64),
}

/// The fleet: every job that runs on some day of the simulated period.
#[derive(Clone, Debug)]
pub struct World {
    spec: FleetSpec,
    prices: Prices,
    /// Per slot, its successive jobs (a replacement starts a new one).
    slots: Vec<Vec<SimJob>>,
    by_id: HashMap<String, (usize, usize)>,
}

/// A generator seeded by the fleet's seed and what is drawn.
pub(crate) fn rng_for(seed: u64, what: &str, keys: &[u64]) -> ChaCha8Rng {
    let mut bytes = Vec::with_capacity(what.len() + 8 * keys.len());
    bytes.extend_from_slice(what.as_bytes());
    for key in keys {
        bytes.extend_from_slice(&key.to_le_bytes());
    }
    ChaCha8Rng::seed_from_u64(xxh3_64_with_seed(&bytes, seed))
}

fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller: rand's distributions crate would be one more dependency for one line.
    let u: f64 = StandardUniform.sample(rng);
    let v: f64 = StandardUniform.sample(rng);
    (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn draw(rng: &mut ChaCha8Rng, d: LogNormal) -> f64 {
    d.median * (d.sigma * standard_normal(rng)).exp()
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

/// A memory size as users write it: whole GiB as `8g`, else MiB as `2560m`.
pub fn format_mib(mib: f64) -> String {
    let mib = mib.round().max(1.0);
    if mib % MIB_PER_GIB == 0.0 {
        format!("{}g", mib / MIB_PER_GIB)
    } else {
        format!("{mib}m")
    }
}

fn number_of(conf: &SparkConf, key: &str) -> Option<f64> {
    conf.get(key)
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|x| x.is_finite() && *x > 0.0)
}

/// Executor heap, overhead (explicit or Spark's default) and driver heap granted by `conf`, MiB.
pub fn granted_mib(conf: &SparkConf) -> (f64, f64, f64) {
    (
        spark::heap_mib(conf, Jvm::Executor),
        spark::overhead_mib(conf, Jvm::Executor),
        spark::heap_mib(conf, Jvm::Driver),
    )
}

impl World {
    /// The fleet `spec` describes, over its history and compared days.
    pub fn new(spec: &FleetSpec) -> World {
        let total_days = spec.history_days + spec.days;
        let mut slots = Vec::with_capacity(spec.jobs as usize);
        for slot in 0..spec.jobs {
            let mut jobs = vec![new_job(spec, slot, 0, 0)];
            for day in 1..total_days {
                let mut rng = rng_for(spec.seed, "churn", &[u64::from(slot), u64::from(day)]);
                if rng.random_bool(spec.churn_per_day) {
                    let generation = jobs.len() as u32;
                    jobs.push(new_job(spec, slot, generation, day));
                }
            }
            slots.push(jobs);
        }
        let by_id = slots
            .iter()
            .enumerate()
            .flat_map(|(slot, jobs)| {
                jobs.iter()
                    .enumerate()
                    .map(move |(g, job)| (job.identity.id.clone(), (slot, g)))
            })
            .collect();
        World {
            spec: spec.clone(),
            prices: Prices {
                core_hour: spec.prices.core_hour,
                gib_hour: spec.prices.gib_hour,
            },
            slots,
            by_id,
        }
    }

    /// The spec.
    pub fn spec(&self) -> &FleetSpec {
        &self.spec
    }

    /// The prices.
    pub fn prices(&self) -> Prices {
        self.prices
    }

    /// The jobs that run on `day` (0 is the first history day), one per slot.
    pub fn jobs_on(&self, day: u32) -> impl Iterator<Item = &SimJob> {
        self.slots.iter().map(move |jobs| {
            jobs.iter()
                .rev()
                .find(|job| job.born <= day)
                .unwrap_or(&jobs[0])
        })
    }

    /// The job with this id.
    pub fn job(&self, id: &str) -> Option<&SimJob> {
        self.by_id.get(id).map(|&(slot, g)| &self.slots[slot][g])
    }

    fn key(&self, job: &SimJob) -> [u64; 2] {
        let (slot, g) = self.by_id.get(&job.identity.id).copied().unwrap_or((0, 0));
        [slot as u64, g as u64]
    }

    /// Bytes of input `job` reads on `day`.
    pub fn input_bytes(&self, job: &SimJob, day: u32) -> f64 {
        let [slot, g] = self.key(job);
        let mut rng = rng_for(self.spec.seed, "input", &[slot, g, u64::from(day)]);
        let age = f64::from(day.saturating_sub(job.born));
        job.typical_input_bytes
            * (job.growth * age + self.spec.memory.input_noise_sigma * standard_normal(&mut rng))
                .exp()
    }

    /// What happens when `job` runs its `attempt` (1-based) of `day` with `conf`.
    pub fn attempt(&self, job: &SimJob, day: u32, attempt: u32, conf: &SparkConf) -> Attempt {
        let [slot, g] = self.key(job);
        let input = self.input_bytes(job, day);
        let x = input / job.typical_input_bytes;
        let (heap, overhead, driver) = granted_mib(conf);
        // Tasks running at once in an executor: its cores over each task's.
        let slots = number_of(conf, "spark.executor.cores").unwrap_or(1.0)
            / number_of(conf, "spark.task.cpus")
                .filter(|&n| n >= 1.0)
                .unwrap_or(1.0);
        let partitions = number_of(conf, "spark.sql.shuffle.partitions").unwrap_or(200.0);
        let instances = number_of(conf, "spark.executor.instances").unwrap_or(2.0);
        let fraction = number_of(conf, "spark.memory.fraction")
            .filter(|f| *f <= 1.0)
            .unwrap_or(0.6);

        let heap_need = job.heap_need_mib
            * x.powf(0.7)
            * (slots / job.cores).sqrt()
            * (job.partitions / partitions).powf(0.15);
        let usable_heap = heap * (fraction / 0.6).sqrt();
        let overhead_need = job.overhead_need_mib * x.powf(0.3) * (slots / job.cores).powf(0.3);
        let driver_need = job.driver_need_mib * x.sqrt();

        // Failures memory does not explain come first: a permission error does not wait for memory to run out.
        let incident = {
            let mut rng = rng_for(self.spec.seed, "incident", &[slot, g, u64::from(day)]);
            let kind = self.incident(&mut rng);
            kind.filter(|kind| {
                attempt == 1 || {
                    let mut again = rng_for(
                        self.spec.seed,
                        "recurrence",
                        &[slot, g, u64::from(day), u64::from(attempt)],
                    );
                    let f = &self.spec.failures;
                    match kind {
                        _ if kind.is_permanent() => true,
                        FailureKind::Disk => again.random_bool(f.disk_recurrence),
                        _ => again.random_bool(f.transient_recurrence),
                    }
                }
            })
        };
        let failure = incident.or(if heap_need > usable_heap {
            Some(FailureKind::ExecutorHeap)
        } else if overhead_need > overhead {
            Some(FailureKind::ContainerMemory)
        } else if driver_need > driver {
            Some(FailureKind::DriverHeap)
        } else {
            None
        });

        let mut rng = rng_for(
            self.spec.seed,
            "runtime",
            &[slot, g, u64::from(day), u64::from(attempt)],
        );
        // How tight the heap is: 0 from `spill_headroom` up, 1 at the need (and below, where the run fails). The
        // need is the run's measured peak, execution memory included, so only the last few percent hurt.
        let full = self.spec.runtime.spill_headroom;
        let tightness = ((full - usable_heap / heap_need) / (full - 1.0)).clamp(0.0, 1.0);
        let spill = 1.0 + self.spec.runtime.spill_slowdown * tightness;
        let parallelism = (instances * slots).max(1.0);
        let mut runtime_s = job.minutes
            * 60.0
            * x.powf(0.9)
            * (job.parallelism / parallelism).powf(0.8)
            * spill
            * (0.05 * standard_normal(&mut rng)).exp();
        if failure.is_some() {
            let f = self.spec.runtime.failed_fraction;
            // Drawn even when the run hangs, so that every later draw of the stream stays where it was.
            let fraction = rng.random_range(f.min..=f.max);
            // A heap just under its need hangs in garbage collection before it fails (a heap error only: the
            // container and the driver's own failures are drawn as they were).
            let hang = self.spec.runtime.gc_hang;
            let hangs = failure == Some(FailureKind::ExecutorHeap)
                && usable_heap >= heap_need * (1.0 - hang.within);
            runtime_s *= if hangs { hang.runtime_factor } else { fraction };
        }
        // The JVM collects lazily when it has room: a run given more heap than it needs shows a higher peak.
        let peak_heap = if usable_heap > heap_need {
            heap_need * (usable_heap / heap_need).powf(self.spec.runtime.peak_follows_heap)
        } else {
            usable_heap
        };
        Attempt {
            failure,
            runtime_seconds: runtime_s,
            cost_dollars: self.prices.cost(conf, runtime_s),
            peak_heap_bytes: (peak_heap * (1u64 << 20) as f64) as u64,
            input_bytes: input as u64,
            // A run that spills writes a share of its input to disk, more the tighter its heap.
            spilled_bytes: (input * 0.5 * tightness) as u64,
            heap_mib: (heap, heap_need),
            // The heap the JVM holds is resident too: a container uses its heap's peak plus what lives off-heap.
            container_mib: (heap + overhead, peak_heap.min(heap) + overhead_need),
            driver_mib: (driver, driver_need.min(driver)),
        }
    }

    /// What `job`'s run of `day` costs when all goes well: its own configuration, no failure, no spilling. The
    /// part of a successful retry's cost above this is the failure's doing (more memory, or a slower run); the
    /// rest is the work, paid for anyway.
    pub fn clean_cost(&self, job: &SimJob, day: u32) -> f64 {
        let x = self.input_bytes(job, day) / job.typical_input_bytes;
        self.prices
            .cost(&job.conf, job.minutes * 60.0 * x.powf(0.9))
    }

    fn incident(&self, rng: &mut ChaCha8Rng) -> Option<FailureKind> {
        let f = &self.spec.failures;
        let mut u: f64 = rng.random();
        for (kind, chance) in [
            (FailureKind::ShuffleFetch, f.shuffle_fetch),
            (FailureKind::TransientInfra, f.transient_infra),
            (FailureKind::UserCode, f.user_code),
            (FailureKind::Permission, f.permission),
            (FailureKind::Data, f.data),
            (FailureKind::Disk, f.disk),
            (FailureKind::NovelTransient, f.novel_transient),
            (FailureKind::NovelPermanent, f.novel_permanent),
        ] {
            if u < chance {
                return Some(kind);
            }
            u -= chance;
        }
        None
    }
}

fn new_job(spec: &FleetSpec, slot: u32, generation: u32, born: u32) -> SimJob {
    let mut rng = rng_for(spec.seed, "job", &[u64::from(slot), u64::from(generation)]);
    let m = &spec.memory;
    let p = &spec.provisioning;
    let id = if generation == 0 {
        format!("job-{slot:04}")
    } else {
        format!("job-{slot:04}-v{}", generation + 1)
    };
    let cluster = spec.clusters[slot as usize % spec.clusters.len()].clone();
    let mut operators = vec!["FileScan".to_owned(), "Project".to_owned()];
    for op in [
        "SortMergeJoin",
        "BroadcastHashJoin",
        "Window",
        "HashAggregate",
        "Filter",
        "Sort",
    ] {
        if rng.random_bool(0.4) {
            operators.push(op.to_owned());
        }
    }
    let collects = rng.random_bool(m.collect_share);
    let heap_need_mib = (draw(&mut rng, m.heap_need_gib) * MIB_PER_GIB).max(256.0);
    let overhead_need_mib = draw(&mut rng, m.overhead_need_mib).max(64.0);
    let driver_need_mib = if collects {
        (draw(&mut rng, m.driver_need_gib) * MIB_PER_GIB).max(256.0)
    } else {
        300.0
    };
    let growth = m.growth_per_day.mean + m.growth_per_day.sigma * standard_normal(&mut rng);
    let typical_input_bytes = 8.0 * (1u64 << 30) as f64 * (1.2 * standard_normal(&mut rng)).exp();
    let cores = *[2.0, 4.0, 4.0, 5.0, 8.0].choose(&mut rng).unwrap_or(&4.0);
    let instances = (4.0 * (0.8 * standard_normal(&mut rng)).exp())
        .round()
        .clamp(2.0, 60.0);
    let partitions = [None, Some(200.0), Some(400.0), Some(800.0), Some(2000.0)]
        .choose(&mut rng)
        .copied()
        .flatten();
    let minutes = draw(&mut rng, spec.runtime.minutes).max(1.0);

    // How the owner sized it: one factor for every component, except that a tail under-sizes one of them.
    let over = draw(&mut rng, p.over_factor).max(1.05);
    let mut factors = [over; 3];
    if rng.random_bool(p.under_share) {
        let under = rng.random_range(p.under_factor.min..=p.under_factor.max);
        let component = match rng.random_range(0..100) {
            0..60 => 0,
            60..85 => 1,
            _ if collects => 2,
            _ => 0,
        };
        factors[component] = under;
    }
    let round_to = |mib: f64, step: f64| ((mib / step).round() * step).max(step);
    let heap = round_to(heap_need_mib * factors[0], 512.0).max(1024.0);
    let default_overhead = spark::default_overhead_mib(heap);
    let mut overhead_need_mib = overhead_need_mib;
    let explicit_overhead = if factors[1] < 1.0 {
        // An owner who under-sizes the overhead sets it explicitly; the need is what makes it too small.
        let set = round_to(
            (overhead_need_mib * factors[1]).max(spark::MIN_MEMORY_OVERHEAD_MIB),
            128.0,
        );
        overhead_need_mib = overhead_need_mib.max(set / factors[1]);
        Some(set)
    } else if rng.random_bool(0.3) {
        Some(round_to(
            (overhead_need_mib * factors[1]).max(spark::MIN_MEMORY_OVERHEAD_MIB),
            128.0,
        ))
    } else {
        // Spark's default overhead must hold the need with the owner's margin.
        overhead_need_mib = overhead_need_mib.min(default_overhead / factors[1].max(1.05));
        None
    };
    let driver = round_to((driver_need_mib * factors[2]).max(1024.0), 512.0);
    let driver_need_mib = if factors[2] < 1.0 {
        driver / factors[2]
    } else {
        driver_need_mib.min(driver / factors[2].max(1.05))
    };

    let mut conf = SparkConf::new();
    conf.set("spark.executor.memory", format_mib(heap));
    conf.set("spark.executor.cores", format!("{cores}"));
    conf.set("spark.executor.instances", format!("{instances}"));
    conf.set("spark.driver.memory", format_mib(driver));
    if let Some(overhead) = explicit_overhead {
        conf.set("spark.executor.memoryOverhead", format_mib(overhead));
    }
    if let Some(partitions) = partitions {
        conf.set("spark.sql.shuffle.partitions", format!("{partitions}"));
    }
    SimJob {
        identity: JobIdentity {
            id,
            workflow: Some(format!("wf-{:03}", slot / 8)),
            owner: Some(OWNERS[slot as usize % OWNERS.len()].to_owned()),
            cluster: Some(cluster.clone()),
        },
        plan_operators: operators,
        conf,
        born,
        kubernetes: cluster.starts_with("k8s"),
        typical_input_bytes,
        growth,
        heap_need_mib,
        overhead_need_mib,
        driver_need_mib,
        cores,
        partitions: partitions.unwrap_or(200.0),
        parallelism: instances * cores,
        minutes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_spec_gives_the_same_fleet_and_outcomes() {
        let spec = FleetSpec::default_fleet();
        let a = World::new(&spec);
        let b = World::new(&spec);
        let job_a = a.jobs_on(3).nth(17).expect("a job");
        let job_b = b.jobs_on(3).nth(17).expect("a job");
        assert_eq!(job_a, job_b);
        assert_eq!(
            a.attempt(job_a, 3, 1, &job_a.conf),
            b.attempt(job_b, 3, 1, &job_b.conf)
        );
    }

    #[test]
    fn users_ask_for_about_four_times_what_they_use_and_a_tail_fails_for_memory() {
        let spec = FleetSpec::default_fleet();
        let world = World::new(&spec);
        let (mut requested, mut used, mut memory_failures, mut runs) = (0.0, 0.0, 0, 0);
        for job in world.jobs_on(0) {
            let attempt = world.attempt(job, 0, 1, &job.conf);
            runs += 1;
            match attempt.failure {
                None => {
                    requested += attempt.heap_mib.0;
                    used += attempt.heap_mib.1;
                }
                Some(kind) if kind.is_memory() => memory_failures += 1,
                Some(_) => {}
            }
        }
        let ratio = requested / used;
        assert!((3.0..5.0).contains(&ratio), "requested/used {ratio}");
        let share = f64::from(memory_failures) / f64::from(runs);
        assert!((0.02..0.10).contains(&share), "memory failures {share}");
    }

    /// `job`'s first attempt of `day` with an executor heap of `heap_mib` and nothing else changed.
    fn with_heap(world: &World, job: &SimJob, day: u32, heap_mib: f64) -> Attempt {
        let mut conf = job.conf.clone();
        conf.set("spark.executor.memory", format_mib(heap_mib));
        // Spark's default overhead follows the heap; keep the owner's so only the heap changes.
        conf.set(
            "spark.executor.memoryOverhead",
            format_mib(granted_mib(&job.conf).1),
        );
        world.attempt(job, day, 1, &conf)
    }

    #[test]
    fn a_heap_near_the_measured_peak_slows_only_within_the_spill_headroom() {
        let spec = FleetSpec::default_fleet();
        assert_eq!(spec.runtime.spill_headroom, 1.1);
        let world = World::new(&spec);
        let day = 4;
        let mut checked = 0;
        for job in world.jobs_on(day).take(40) {
            let own = world.attempt(job, day, 1, &job.conf);
            if own.failure.is_some() {
                continue;
            }
            let need = own.heap_mib.1;
            let sized = |factor: f64| with_heap(&world, job, day, need * factor);
            let roomy = sized(1.3);
            assert_eq!(roomy.failure, None, "{}", job.identity.id);
            assert_eq!(roomy.spilled_bytes, 0, "{}", job.identity.id);
            assert_eq!(roomy.heap_mib.1, need);
            let tight = sized(1.02);
            assert_eq!(tight.failure, None, "{}", job.identity.id);
            assert!(tight.spilled_bytes > 0, "{}", job.identity.id);
            assert!(
                tight.runtime_seconds > roomy.runtime_seconds,
                "{}",
                job.identity.id
            );
            checked += 1;
        }
        assert!(checked >= 20, "{checked}");
    }

    #[test]
    fn the_driver_heap_used_is_the_need_at_most_the_grant() {
        let spec = FleetSpec::default_fleet();
        let world = World::new(&spec);
        for job in world.jobs_on(2).take(50) {
            let attempt = world.attempt(job, 2, 1, &job.conf);
            let (granted, used) = attempt.driver_mib;
            assert_eq!(granted, granted_mib(&job.conf).2);
            assert!(used > 0.0 && used <= granted, "{}", job.identity.id);
            if attempt.failure == Some(FailureKind::DriverHeap) {
                assert_eq!(used, granted);
            }
        }
    }

    #[test]
    fn more_memory_fixes_a_memory_failure_and_costs_more() {
        let spec = FleetSpec::default_fleet();
        let world = World::new(&spec);
        let (job, failed) = world
            .jobs_on(5)
            .find_map(|job| {
                let attempt = world.attempt(job, 5, 1, &job.conf);
                (attempt.failure == Some(FailureKind::ExecutorHeap)).then_some((job, attempt))
            })
            .expect("an executor OOM on day 5");
        let mut bigger = job.conf.clone();
        bigger.set(
            "spark.executor.memory",
            format_mib((failed.heap_mib.1 * 1.6 / 512.0).ceil() * 512.0),
        );
        let fixed = world.attempt(job, 5, 2, &bigger);
        assert_eq!(fixed.failure, None);
        assert!(world.prices.cost(&bigger, 3600.0) > world.prices.cost(&job.conf, 3600.0));
    }

    #[test]
    fn a_heap_just_under_the_need_hangs_and_peaks_grow_with_the_heap() {
        let spec = FleetSpec::default_fleet();
        let world = World::new(&spec);
        let day = 4;
        let mut checked = 0;
        for job in world.jobs_on(day).take(40) {
            let own = world.attempt(job, day, 1, &job.conf);
            if own.failure.is_some() {
                continue;
            }
            let need = own.heap_mib.1;
            let sized = |factor: f64| with_heap(&world, job, day, need * factor);
            let (almost, far, fits, roomy) = (sized(0.95), sized(0.5), sized(1.5), sized(3.0));
            if almost.failure != Some(FailureKind::ExecutorHeap)
                || far.failure != Some(FailureKind::ExecutorHeap)
            {
                continue;
            }
            // Almost enough: 2 full (slowed) runs in garbage collection; far short: it fails part of the way in.
            assert!(
                almost.runtime_seconds > 1.5 * fits.runtime_seconds,
                "{}",
                job.identity.id
            );
            assert!(
                far.runtime_seconds < almost.runtime_seconds / 2.0,
                "{}",
                job.identity.id
            );
            // The same need, a higher peak with more heap: need × 2^0.2 between them.
            let ratio = roomy.peak_heap_bytes as f64 / fits.peak_heap_bytes as f64;
            assert!((ratio - 2f64.powf(0.2)).abs() < 0.01, "{ratio}");
            checked += 1;
        }
        assert!(checked >= 20, "{checked}");
    }
}

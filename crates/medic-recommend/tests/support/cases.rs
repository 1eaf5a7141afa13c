//! Failed runs of a synthetic fleet whose hidden memory need is known, and a model trained on the fleet's
//! history: shared by the tests and the optimiser benchmark (included with `#[path]`).

use medic_core::{Category, SparkConf};
use medic_model::synthetic::{SyntheticConfig, SyntheticFleet, SyntheticJob};
use medic_model::{TrainConfig, train};
use medic_recommend::{FailedRun, ModelHandle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A failed run and the truth behind it.
#[allow(dead_code)] // the benchmark reads only `run`
pub struct Case {
    /// The job, with its hidden need.
    pub job: SyntheticJob,
    /// Its input size in bytes.
    pub input_bytes: f64,
    /// What the recommender is told.
    pub run: FailedRun,
}

#[allow(dead_code)]
impl Case {
    /// Whether `config` would succeed (before label noise).
    pub fn succeeds_with(&self, config: &SparkConf) -> bool {
        !SyntheticFleet::fails_without_noise(&self.job, config, self.input_bytes)
    }
}

/// The synthetic fleet's settings.
pub fn fleet_config() -> SyntheticConfig {
    SyntheticConfig::default()
}

/// A model trained on `records` of the fleet's history.
pub fn trained_model(records: usize, epochs: usize) -> ModelHandle {
    let history = medic_model::synthetic::generate(&fleet_config(), records);
    let config = TrainConfig {
        max_epochs: epochs,
        ..TrainConfig::default()
    };
    let trained = train(&history, &config, |_, _| {}).expect("training on synthetic history");
    ModelHandle {
        predictor: trained.predictor().expect("predictor"),
        version: "synthetic".to_owned(),
        trained_on: trained.report.training.categories.clone(),
    }
}

/// `n` executor out-of-memory failures: jobs of the fleet run with a heap below their need.
pub fn failed_cases(seed: u64, n: usize) -> Vec<Case> {
    let fleet = SyntheticFleet::new(fleet_config());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cases = Vec::new();
    while cases.len() < n {
        let job = fleet.jobs()[rng.random_range(0..fleet.jobs().len())].clone();
        let input = job.typical_input_bytes * rng.random_range(0.7..1.4);
        let cores = [2u32, 4, 4, 5, 8][rng.random_range(0..5)];
        let need = SyntheticFleet::memory_need_bytes(&job, input, f64::from(cores));
        let heap_mib = ((need / (1u64 << 20) as f64) * rng.random_range(0.35..0.9) / 256.0)
            .floor()
            .max(4.0)
            * 256.0;
        let mut config = SparkConf::new();
        config.set("spark.executor.memory", format!("{heap_mib}m"));
        config.set("spark.executor.cores", cores.to_string());
        config.set(
            "spark.executor.instances",
            rng.random_range(4u32..40).to_string(),
        );
        config.set("spark.sql.shuffle.partitions", "400");
        config.set("spark.driver.memory", "2g");
        if !SyntheticFleet::fails_without_noise(&job, &config, input) {
            continue;
        }
        let run = FailedRun {
            job: job.identity.clone(),
            config,
            category: Category::ExecutorOom,
            rule: Some("java-heap-space".to_owned()),
            restartable: Some(false),
            input_bytes: Some(input as u64),
            plan_operators: job.plan_operators.clone(),
            cost_dollars: None,
            evidence: Default::default(),
            metrics: None,
            tried: Vec::new(),
        };
        cases.push(Case {
            job,
            input_bytes: input,
            run,
        });
    }
    cases
}

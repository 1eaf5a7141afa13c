//! Nightingale: for a failed Spark job and a candidate configuration for its retry, the probability that the
//! retry fails and what it will cost.
//!
//! The optimiser asks many candidate configurations of one failed job at a time, so the model is built around
//! that call ([`Predictor::predict`]): the job's own fields are hashed once and shared by every candidate, and the
//! candidates' numeric settings go through the network in one batch.
//!
//! * [`features`]: the [`FeatureSpec`] turns a job and a configuration into inputs: numeric Spark settings read
//!   with Spark's unit rules, `log1p`-scaled and standardised (fitted on the training set only), with a missing
//!   indicator each; high-cardinality fields (job, workflow, owner, cluster, failure rule and category, plan
//!   operators) hashed with seeded xxh3 into `2^k` buckets. Malformed values are counted, never fatal.
//! * [`model`]: the candle network: mean of the ids' embeddings, concatenated with the numeric inputs, a ReLU
//!   trunk, a failure-logit head and a `log1p`-cost head. `ModelConfig` + `Model::new(vb, &config)` + `forward`,
//!   as in candle; no I/O.
//! * [`train`]: BCE + w × MSE, Adam, seeded shuffling and initialisation (same records and seed, bit-identical
//!   weights), early stopping on the latest records by time.
//! * [`metrics`]: AUC, Brier score, expected calibration error with the reliability diagram, MAE and RMSE.
//! * [`artifact`]: a model directory (safetensors weights + JSON description), checked whole when loaded.
//! * [`promotion`]: the gate a new model passes before it replaces the current one.
//! * [`synthetic`]: a seeded generator of retry history with a known failure rule, for tests and benchmarks.
//!
//! Nothing here reads the clock or an unseeded RNG: times (`created_at`) come from the caller.

pub mod artifact;
mod error;
pub mod features;
pub mod metrics;
pub mod model;
pub mod predict;
pub mod promotion;
pub mod synthetic;
pub mod train;

pub use artifact::{LoadedModel, ModelDescription, load, save};
pub use error::{Error, Result};
pub use features::{FeatureSpec, FeatureStats, RetryContext};
pub use model::{JobModel, Model, ModelConfig};
pub use predict::{JobScorer, Prediction, Predictor};
pub use promotion::{MIN_COMPARISON_RECORDS, PromotionPolicy, Verdict, unseen_by};
pub use train::{EpochMetrics, TrainConfig, TrainedModel, TrainingReport, time_split, train};

impl TrainedModel {
    /// A predictor for the trained model.
    pub fn predictor(&self) -> Result<Predictor> {
        Predictor::new(self.model.clone(), self.spec.clone())
    }
}

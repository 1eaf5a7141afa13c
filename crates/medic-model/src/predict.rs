//! The optimiser's view of the model: for one failed job and many candidate configurations, P(retry fails) and
//! the expected cost of each, in one batched forward pass.

use candle_core::{Device, Tensor};
use medic_core::SparkConf;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::features::{FeatureSpec, FeatureStats, RetryContext};
use crate::model::Model;
use crate::train::dollars;

/// The model's answer for one candidate configuration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Probability that the retry fails.
    pub p_fail: f32,
    /// Predicted cost of the retry, in dollars.
    pub cost_dollars: f32,
}

/// A model ready to answer: the network and the feature spec it was trained with.
#[derive(Clone, Debug)]
pub struct Predictor {
    model: Model,
    spec: FeatureSpec,
}

impl Predictor {
    /// A predictor from a model and its spec; refuses a pair that does not fit together.
    pub fn new(model: Model, spec: FeatureSpec) -> Result<Self> {
        model.config().validate(&spec)?;
        Ok(Predictor { model, spec })
    }

    /// The feature spec.
    pub fn spec(&self) -> &FeatureSpec {
        &self.spec
    }

    /// The network.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// One prediction per candidate, in order.
    pub fn predict(
        &self,
        context: &RetryContext,
        candidates: &[SparkConf],
    ) -> Result<Vec<Prediction>> {
        self.run(context, candidates, None)
    }

    /// As [`predict`](Self::predict), with the counts of missing and malformed settings among the candidates.
    pub fn predict_with_stats(
        &self,
        context: &RetryContext,
        candidates: &[SparkConf],
    ) -> Result<(Vec<Prediction>, FeatureStats)> {
        let mut stats = FeatureStats::new(&self.spec);
        let predictions = self.run(context, candidates, Some(&mut stats))?;
        Ok((predictions, stats))
    }

    fn run(
        &self,
        context: &RetryContext,
        candidates: &[SparkConf],
        mut stats: Option<&mut FeatureStats>,
    ) -> Result<Vec<Prediction>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let device = Device::Cpu;
        // The job's ids are the same for every candidate: hash them and average their embeddings once, and let
        // the first layer broadcast the one bag over all rows.
        let mut ids = Vec::with_capacity(self.spec.max_ids_per_record);
        self.spec.hash_ids(context, &mut ids, stats.as_deref_mut());
        // A job always hashes its id and category; the empty case is only guarded (padding of weight 0).
        let share = if ids.is_empty() {
            ids.push(0);
            0.0
        } else {
            1.0 / ids.len() as f32
        };
        let weights = vec![share; ids.len()];
        let n_ids = ids.len();
        let bag = self.model.embed_bags(
            &Tensor::from_vec(ids, (1, n_ids), &device)?,
            &Tensor::from_vec(weights, (1, n_ids), &device)?,
        )?;
        // One buffer for all candidates, handed to candle without a copy (`from_vec` takes ownership; a buffer
        // kept between calls would have to be copied into the tensor anyway).
        let width = self.spec.numeric_width();
        let mut numeric = vec![0f32; candidates.len() * width];
        for (row, candidate) in numeric.chunks_exact_mut(width.max(1)).zip(candidates) {
            self.spec
                .encode_numeric(candidate, context.input_bytes, row, stats.as_deref_mut());
        }
        let numeric = Tensor::from_vec(numeric, (candidates.len(), width), &device)?;
        let out = self.model.forward_embedded(&bag, &numeric)?;
        let p_fail = candle_nn::ops::sigmoid(&out.fail_logit)?.to_vec1::<f32>()?;
        let log_cost = out.log_cost.to_vec1::<f32>()?;
        Ok(p_fail
            .into_iter()
            .zip(log_cost)
            .map(|(p_fail, log_cost)| Prediction {
                p_fail,
                cost_dollars: dollars(log_cost),
            })
            .collect())
    }
}

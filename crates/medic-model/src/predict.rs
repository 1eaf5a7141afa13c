//! The optimiser's view of the model: for one failed job and many candidate configurations, P(retry fails) and
//! the expected cost of each, in one batched forward pass.

use candle_core::{Device, Tensor};
use medic_core::SparkConf;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::features::{FeatureSpec, FeatureStats, RetryContext};
use crate::model::{JobModel, Model, ModelOutput};
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

    /// The predictor specialised to one failed job, for an optimiser that scores many candidates of it: the
    /// job's ids are hashed and embedded once and folded into the first layer ([`Model::for_bag`]).
    pub fn for_job(&self, context: &RetryContext) -> Result<JobScorer> {
        let bag = self.job_bag(context, None)?;
        Ok(JobScorer {
            model: self.model.for_bag(&bag)?,
            spec: self.spec.clone(),
            input_bytes: context.input_bytes,
        })
    }

    /// The mean embedding of the job's hashed ids, `[1, embedding_dim]`.
    fn job_bag(&self, context: &RetryContext, stats: Option<&mut FeatureStats>) -> Result<Tensor> {
        let device = Device::Cpu;
        let mut ids = Vec::with_capacity(self.spec.max_ids_per_record);
        self.spec.hash_ids(context, &mut ids, stats);
        // A job always hashes its id and category; the empty case is only guarded (padding of weight 0).
        let share = if ids.is_empty() {
            ids.push(0);
            0.0
        } else {
            1.0 / ids.len() as f32
        };
        let weights = vec![share; ids.len()];
        let n_ids = ids.len();
        self.model.embed_bags(
            &Tensor::from_vec(ids, (1, n_ids), &device)?,
            &Tensor::from_vec(weights, (1, n_ids), &device)?,
        )
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
        // The job's ids are the same for every candidate: embed them once and let the first layer broadcast the
        // one bag over all rows.
        let bag = self.job_bag(context, stats.as_deref_mut())?;
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
        predictions(&out)
    }
}

fn predictions(out: &ModelOutput) -> Result<Vec<Prediction>> {
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

/// A [`Predictor`] specialised to one failed job ([`Predictor::for_job`]). Candidates are numeric rows: the
/// optimiser encodes the failed configuration once ([`encode`](Self::encode)) and changes only the cells of the
/// settings it searches ([`FeatureSpec::encode_setting`]), instead of building and re-reading a `SparkConf` per
/// candidate.
#[derive(Clone, Debug)]
pub struct JobScorer {
    model: JobModel,
    spec: FeatureSpec,
    input_bytes: Option<u64>,
}

impl JobScorer {
    /// The feature spec.
    pub fn spec(&self) -> &FeatureSpec {
        &self.spec
    }

    /// Width of one row.
    pub fn width(&self) -> usize {
        self.spec.numeric_width()
    }

    /// The row of `config` for this job.
    pub fn encode(&self, config: &SparkConf) -> Vec<f32> {
        let mut row = vec![0f32; self.width()];
        self.spec
            .encode_numeric(config, self.input_bytes, &mut row, None);
        row
    }

    /// One prediction per row of `rows` (concatenated rows of [`width`](Self::width)); the same numbers as
    /// [`Predictor::predict`] on the configurations the rows encode, up to float rounding.
    pub fn score(&self, rows: Vec<f32>) -> Result<Vec<Prediction>> {
        let width = self.width();
        if width == 0 || rows.is_empty() {
            return Ok(Vec::new());
        }
        if !rows.len().is_multiple_of(width) {
            return Err(crate::Error::InvalidConfig(format!(
                "{} values are not whole rows of {width}",
                rows.len()
            )));
        }
        let n = rows.len() / width;
        let numeric = Tensor::from_vec(rows, (n, width), &Device::Cpu)?;
        predictions(&self.model.forward(&numeric)?)
    }
}

//! Training: joint loss BCE(failure) + w × MSE(`log1p` cost), Adam, seeded shuffling, early stopping on a
//! time-based validation split.
//!
//! Reproducibility: the weights are initialised from a seeded ChaCha RNG ([`crate::model::initialise`]), the
//! batches are shuffled by another stream of the same seed, and the whole run happens inside a rayon pool of
//! [`TrainConfig::threads`] threads (default 1), the pool candle's matrix products run on. The same records and
//! seed therefore give bit-identical weights. One thread is also the fastest setting measured on this 2-core
//! machine for these small matrices: the second thread costs more in synchronisation than it computes.

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use medic_core::RunOutcome;
use medic_core::history::RetryRecord;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::features::{FeatureSpec, FeatureStats, HashingConfig, NumericSource};
use crate::metrics::{EvaluationMetrics, evaluate};
use crate::model::{Model, ModelConfig, initialise};

/// How to train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Seed of the initial weights and of the shuffling.
    pub seed: u64,
    /// Most epochs to run.
    pub max_epochs: usize,
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Weight `w` of the cost term in the loss.
    pub cost_weight: f64,
    /// Latest fraction of the training records (by time) held out for early stopping; 0 for none.
    pub validation_fraction: f64,
    /// Stop after this many epochs without a better validation loss (and keep the best epoch's weights);
    /// `None` runs every epoch and keeps the last weights.
    pub patience: Option<usize>,
    /// Threads for the tensor operations.
    pub threads: usize,
    /// Width of the id embeddings.
    pub embedding_dim: usize,
    /// Widths of the hidden layers.
    pub hidden: Vec<usize>,
    /// Hashing of the ids.
    pub hashing: HashingConfig,
    /// The numeric features.
    pub numeric: Vec<NumericSource>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 1,
            max_epochs: 40,
            batch_size: 256,
            learning_rate: 3e-3,
            cost_weight: 1.0,
            validation_fraction: 0.1,
            patience: Some(4),
            threads: 1,
            embedding_dim: 16,
            hidden: vec![64, 32],
            hashing: HashingConfig::default(),
            numeric: NumericSource::defaults(),
        }
    }
}

impl TrainConfig {
    fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.max_epochs == 0 {
            problems.push("max_epochs is 0".to_owned());
        }
        if self.batch_size == 0 {
            problems.push("batch_size is 0".to_owned());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            problems.push(format!(
                "learning_rate {} is not positive",
                self.learning_rate
            ));
        }
        if !(self.cost_weight.is_finite() && self.cost_weight >= 0.0) {
            problems.push(format!("cost_weight {} is negative", self.cost_weight));
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            problems.push(format!(
                "validation_fraction {} is not in [0, 1)",
                self.validation_fraction
            ));
        }
        if self.patience.is_some() && self.validation_fraction == 0.0 {
            problems.push("early stopping (patience) needs a validation_fraction".to_owned());
        }
        if self.threads == 0 {
            problems.push("threads is 0".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidConfig(problems.join("; ")))
        }
    }
}

/// Losses after one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean joint loss over the epoch's training batches.
    pub train_loss: f64,
    /// Joint loss on the validation split (absent without one).
    pub validation_loss: Option<f64>,
    /// Its BCE part.
    pub validation_bce: Option<f64>,
    /// Its MSE part (`log1p` cost), unweighted.
    pub validation_mse: Option<f64>,
}

/// The time span and size of a set of records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataRange {
    /// Records in the set.
    pub records: u64,
    /// The earliest `at`.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first: Option<OffsetDateTime>,
    /// The latest `at`.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last: Option<OffsetDateTime>,
    /// Records per failure category: what the model has seen (a recommender does not trust it on a category it
    /// has hardly seen). Absent from models saved before it was recorded.
    #[serde(default)]
    pub categories: std::collections::BTreeMap<medic_core::Category, u64>,
}

impl DataRange {
    /// The range of `records`.
    pub fn of(records: &[&RetryRecord]) -> Self {
        DataRange {
            records: records.len() as u64,
            first: records.iter().map(|r| r.at).min(),
            last: records.iter().map(|r| r.at).max(),
            categories: records.iter().fold(Default::default(), |mut counts, r| {
                *counts.entry(r.failure_category).or_default() += 1;
                counts
            }),
        }
    }
}

/// What a training run did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingReport {
    /// One entry per epoch run.
    pub epochs: Vec<EpochMetrics>,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Whether early stopping ended the run before `max_epochs`.
    pub stopped_early: bool,
    /// Records refused by `RetryRecord::validate`.
    pub skipped_records: u64,
    /// Missing and malformed values met while encoding the training and validation records.
    pub feature_stats: FeatureStats,
    /// The records trained on.
    pub training: DataRange,
    /// The records validated on.
    pub validation: DataRange,
    /// Mean `log1p(cost)` of the training records: the cost head's starting point and its baseline to beat.
    pub log_cost_mean: f64,
}

/// A trained model and everything needed to save it or predict with it.
#[derive(Clone)]
pub struct TrainedModel {
    /// The network.
    pub model: Model,
    /// Its variables (what is saved).
    pub varmap: VarMap,
    /// The feature spec fitted on the training records.
    pub spec: FeatureSpec,
    /// The training settings.
    pub train_config: TrainConfig,
    /// What happened.
    pub report: TrainingReport,
}

impl std::fmt::Debug for TrainedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainedModel")
            .field("config", self.model.config())
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

/// Splits `records` by time: sorted by `at` (ties keep their input order), the latest `holdout_fraction` (rounded
/// down) go to the second set. Time-based because the model will be asked about the future: a random split would
/// let it see, in training, retries of the same job made after the ones it is tested on.
pub fn time_split(
    records: &[RetryRecord],
    holdout_fraction: f64,
) -> (Vec<&RetryRecord>, Vec<&RetryRecord>) {
    let refs: Vec<&RetryRecord> = records.iter().collect();
    split_refs(refs, holdout_fraction)
}

fn split_refs(
    mut refs: Vec<&RetryRecord>,
    holdout_fraction: f64,
) -> (Vec<&RetryRecord>, Vec<&RetryRecord>) {
    refs.sort_by_key(|r| r.at);
    let fraction = if holdout_fraction.is_finite() {
        holdout_fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let held = (refs.len() as f64 * fraction).floor() as usize;
    let later = refs.split_off(refs.len() - held);
    (refs, later)
}

/// Records encoded once, so that epochs only gather rows.
pub(crate) struct Encoded {
    width: usize,
    numeric: Vec<f32>,
    /// `ids[id_offsets[i]..id_offsets[i + 1]]` are row i's bucket ids.
    id_offsets: Vec<usize>,
    ids: Vec<u32>,
    failed: Vec<f32>,
    log_cost: Vec<f32>,
}

/// The tensors of one batch.
pub(crate) struct Batch {
    pub(crate) ids: Tensor,
    pub(crate) weights: Tensor,
    pub(crate) numeric: Tensor,
    pub(crate) failed: Tensor,
    pub(crate) log_cost: Tensor,
}

impl Encoded {
    pub(crate) fn new(
        spec: &FeatureSpec,
        records: &[&RetryRecord],
        stats: &mut FeatureStats,
    ) -> Self {
        let width = spec.numeric_width();
        let mut encoded = Encoded {
            width,
            numeric: vec![0.0; records.len() * width],
            id_offsets: Vec::with_capacity(records.len() + 1),
            ids: Vec::with_capacity(records.len() * 10),
            failed: Vec::with_capacity(records.len()),
            log_cost: Vec::with_capacity(records.len()),
        };
        encoded.id_offsets.push(0);
        let mut bag = Vec::new();
        for (row, record) in encoded.numeric.chunks_exact_mut(width.max(1)).zip(records) {
            spec.encode_numeric(&record.config, record.input_bytes, row, Some(stats));
        }
        for record in records {
            spec.hash_record_ids(record, &mut bag, Some(stats));
            encoded.ids.extend_from_slice(&bag);
            encoded.id_offsets.push(encoded.ids.len());
            encoded.failed.push(match record.outcome {
                RunOutcome::Failed => 1.0,
                RunOutcome::Succeeded => 0.0,
            });
            encoded
                .log_cost
                .push(record.cost_dollars.max(0.0).ln_1p() as f32);
        }
        encoded
    }

    pub(crate) fn len(&self) -> usize {
        self.failed.len()
    }

    pub(crate) fn failed(&self) -> &[f32] {
        &self.failed
    }

    pub(crate) fn log_cost(&self) -> &[f32] {
        &self.log_cost
    }

    /// The tensors of `rows`, id bags padded to the longest bag among them.
    pub(crate) fn batch(&self, rows: &[usize]) -> Result<Batch> {
        let bag = |r: usize| &self.ids[self.id_offsets[r]..self.id_offsets[r + 1]];
        let longest = rows.iter().map(|&r| bag(r).len()).max().unwrap_or(0).max(1);
        let n = rows.len();
        let mut ids = vec![0u32; n * longest];
        let mut weights = vec![0f32; n * longest];
        let mut numeric = Vec::with_capacity(n * self.width);
        let mut failed = Vec::with_capacity(n);
        let mut log_cost = Vec::with_capacity(n);
        for (i, &r) in rows.iter().enumerate() {
            let own = bag(r);
            let share = 1.0 / own.len().max(1) as f32;
            ids[i * longest..i * longest + own.len()].copy_from_slice(own);
            weights[i * longest..i * longest + own.len()].fill(share);
            numeric.extend_from_slice(&self.numeric[r * self.width..(r + 1) * self.width]);
            failed.push(self.failed[r]);
            log_cost.push(self.log_cost[r]);
        }
        let device = Device::Cpu;
        Ok(Batch {
            ids: Tensor::from_vec(ids, (n, longest), &device)?,
            weights: Tensor::from_vec(weights, (n, longest), &device)?,
            numeric: Tensor::from_vec(numeric, (n, self.width), &device)?,
            failed: Tensor::from_vec(failed, n, &device)?,
            log_cost: Tensor::from_vec(log_cost, n, &device)?,
        })
    }
}

/// BCE with logits, in the stable form max(z, 0) − z·y + log(1 + e^−|z|), averaged.
fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    let softplus = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
    ((logits.relu()? - (logits * targets)?)? + softplus)?.mean_all()
}

/// The joint loss and its parts for one batch.
fn losses(model: &Model, batch: &Batch, cost_weight: f64) -> Result<(Tensor, Tensor, Tensor)> {
    let out = model.forward(&batch.ids, &batch.weights, &batch.numeric)?;
    let bce = bce_with_logits(&out.fail_logit, &batch.failed)?;
    let mse = (&out.log_cost - &batch.log_cost)?.sqr()?.mean_all()?;
    let total = (&bce + (&mse * cost_weight)?)?;
    Ok((total, bce, mse))
}

/// Rows per forward pass when only evaluating (no gradients kept, so larger than a training batch).
const EVAL_CHUNK: usize = 4096;

/// P(fail) and predicted `log1p(cost)` of every row of `data`.
pub(crate) fn score(model: &Model, data: &Encoded) -> Result<(Vec<f32>, Vec<f32>)> {
    let mut p_fail = Vec::with_capacity(data.len());
    let mut log_cost = Vec::with_capacity(data.len());
    let rows: Vec<usize> = (0..data.len()).collect();
    for chunk in rows.chunks(EVAL_CHUNK) {
        let batch = data.batch(chunk)?;
        let out = model.forward(&batch.ids, &batch.weights, &batch.numeric)?;
        p_fail.extend(candle_nn::ops::sigmoid(&out.fail_logit)?.to_vec1::<f32>()?);
        log_cost.extend(out.log_cost.to_vec1::<f32>()?);
    }
    Ok((p_fail, log_cost))
}

/// Mean joint loss, BCE and MSE over `data`.
fn validation_losses(model: &Model, data: &Encoded, cost_weight: f64) -> Result<(f64, f64, f64)> {
    let (mut bce_sum, mut mse_sum) = (0.0, 0.0);
    let rows: Vec<usize> = (0..data.len()).collect();
    for chunk in rows.chunks(EVAL_CHUNK) {
        let batch = data.batch(chunk)?;
        let (_, bce, mse) = losses(model, &batch, cost_weight)?;
        bce_sum += f64::from(bce.to_scalar::<f32>()?) * chunk.len() as f64;
        mse_sum += f64::from(mse.to_scalar::<f32>()?) * chunk.len() as f64;
    }
    let n = data.len().max(1) as f64;
    let (bce, mse) = (bce_sum / n, mse_sum / n);
    Ok((bce + cost_weight * mse, bce, mse))
}

/// Measures `model` on `records` (encoded with `spec`); `baseline_log_cost` is the constant cost prediction to
/// compare with (the training mean, [`TrainingReport::log_cost_mean`]).
pub fn evaluate_records(
    model: &Model,
    spec: &FeatureSpec,
    records: &[&RetryRecord],
    baseline_log_cost: f64,
) -> Result<EvaluationMetrics> {
    let mut stats = FeatureStats::new(spec);
    let data = Encoded::new(spec, records, &mut stats);
    let (p_fail, predicted) = score(model, &data)?;
    let failed: Vec<bool> = data.failed().iter().map(|&f| f > 0.5).collect();
    evaluate(
        &p_fail,
        &failed,
        &predicted,
        data.log_cost(),
        baseline_log_cost as f32,
    )
    .ok_or_else(|| Error::NotEnoughData("no records to evaluate".to_owned()))
}

/// Trains a model on `records`: the latest `validation_fraction` of them (by time) for early stopping, the rest
/// for the weights and the feature normalisation. `progress` is called after every epoch.
pub fn train<F>(records: &[RetryRecord], config: &TrainConfig, progress: F) -> Result<TrainedModel>
where
    F: FnMut(usize, &EpochMetrics) + Send,
{
    config.validate()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
        .map_err(|e| {
            Error::InvalidConfig(format!("cannot start {} threads: {e}", config.threads))
        })?;
    pool.install(|| train_here(records, config, progress))
}

fn train_here<F>(
    records: &[RetryRecord],
    config: &TrainConfig,
    mut progress: F,
) -> Result<TrainedModel>
where
    F: FnMut(usize, &EpochMetrics),
{
    let usable: Vec<&RetryRecord> = records.iter().filter(|r| r.validate().is_empty()).collect();
    let skipped = (records.len() - usable.len()) as u64;
    let (training, validation) = split_refs(usable, config.validation_fraction);
    if training.is_empty() {
        return Err(Error::NotEnoughData(format!(
            "no usable training records ({skipped} refused)"
        )));
    }
    if config.validation_fraction > 0.0 && validation.is_empty() {
        return Err(Error::NotEnoughData(format!(
            "{} records leave none for validation at fraction {}",
            training.len(),
            config.validation_fraction
        )));
    }
    let spec = FeatureSpec::fit(
        training.iter().copied(),
        config.numeric.clone(),
        config.hashing,
    )
    .map_err(Error::InvalidConfig)?;
    let model_config = ModelConfig::for_spec(&spec, config.embedding_dim, config.hidden.clone());
    model_config.validate(&spec)?;

    let mut stats = FeatureStats::new(&spec);
    let train_data = Encoded::new(&spec, &training, &mut stats);
    let valid_data = Encoded::new(&spec, &validation, &mut stats);
    let log_cost_mean = crate::features::json_exact(
        train_data
            .log_cost()
            .iter()
            .map(|&c| f64::from(c))
            .sum::<f64>()
            / train_data.len() as f64,
    );

    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = Model::new(vb, &model_config)?;
    initialise(&varmap, config.seed, log_cost_mean as f32)?;
    let named_vars = sorted_vars(&varmap)?;
    let mut optimizer = AdamW::new(
        named_vars.iter().map(|(_, v)| v.clone()).collect(),
        ParamsAdamW {
            lr: config.learning_rate,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )?;

    // A separate stream of the same seed, so that changing the initialisation never changes the batch order.
    let mut shuffle_rng = ChaCha8Rng::seed_from_u64(config.seed);
    shuffle_rng.set_stream(1);
    let mut order: Vec<usize> = (0..train_data.len()).collect();
    let mut epochs = Vec::new();
    let mut best: Option<(f64, usize, Vec<Tensor>)> = None;
    let mut stale = 0;
    let mut stopped_early = false;
    for epoch in 1..=config.max_epochs {
        order.shuffle(&mut shuffle_rng);
        let mut loss_sum = 0.0;
        for rows in order.chunks(config.batch_size) {
            let batch = train_data.batch(rows)?;
            let (loss, _, _) = losses(&model, &batch, config.cost_weight)?;
            optimizer.backward_step(&loss)?;
            loss_sum += f64::from(loss.to_scalar::<f32>()?) * rows.len() as f64;
        }
        let validation_losses = if valid_data.len() > 0 {
            Some(validation_losses(&model, &valid_data, config.cost_weight)?)
        } else {
            None
        };
        let metrics = EpochMetrics {
            epoch,
            train_loss: loss_sum / train_data.len() as f64,
            validation_loss: validation_losses.map(|v| v.0),
            validation_bce: validation_losses.map(|v| v.1),
            validation_mse: validation_losses.map(|v| v.2),
        };
        progress(epoch, &metrics);
        epochs.push(metrics);
        let (Some(patience), Some((loss, _, _))) = (config.patience, validation_losses) else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _, _)| loss < *b) {
            let snapshot = named_vars
                .iter()
                .map(|(_, v)| v.as_tensor().copy())
                .collect::<candle_core::Result<Vec<_>>>()?;
            best = Some((loss, epoch, snapshot));
            stale = 0;
        } else {
            stale += 1;
            if stale >= patience {
                stopped_early = epoch < config.max_epochs;
                break;
            }
        }
    }
    let best_epoch = match best {
        Some((_, epoch, snapshot)) => {
            for ((_, var), saved) in named_vars.iter().zip(&snapshot) {
                var.set(saved)?;
            }
            epoch
        }
        None => epochs.len(),
    };
    let report = TrainingReport {
        epochs,
        best_epoch,
        stopped_early,
        skipped_records: skipped,
        feature_stats: stats,
        training: DataRange::of(&training),
        validation: DataRange::of(&validation),
        log_cost_mean,
    };
    Ok(TrainedModel {
        model,
        varmap,
        spec,
        train_config: config.clone(),
        report,
    })
}

/// The variables of `varmap` in name order (a `HashMap` has none; a fixed order keeps everything reproducible).
pub(crate) fn sorted_vars(varmap: &VarMap) -> Result<Vec<(String, candle_core::Var)>> {
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| Error::InvalidConfig("the variable map's lock is poisoned".to_owned()))?;
    let mut named: Vec<(String, candle_core::Var)> =
        vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(named)
}

/// The predictions' `log1p(cost)` to dollars (never negative).
pub(crate) fn dollars(log_cost: f32) -> f32 {
    log_cost.exp_m1().max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{SyntheticConfig, generate};

    #[test]
    fn split_is_by_time_not_by_position() {
        let mut records = generate(&SyntheticConfig::default(), 10);
        records.reverse();
        let (early, late) = time_split(&records, 0.3);
        assert_eq!((early.len(), late.len()), (7, 3));
        let last_early = early.iter().map(|r| r.at).max();
        assert!(late.iter().all(|r| Some(r.at) > last_early));
        let (all, none) = time_split(&records, 0.0);
        assert_eq!((all.len(), none.len()), (10, 0));
        let (_, nan) = time_split(&records, f64::NAN);
        assert!(nan.is_empty());
    }

    #[test]
    fn bce_matches_the_textbook_formula_and_stays_finite() {
        let logits = Tensor::new(&[-3.0f32, 0.0, 2.0, 80.0, -80.0], &Device::Cpu).expect("t");
        let targets = Tensor::new(&[0.0f32, 1.0, 1.0, 0.0, 0.0], &Device::Cpu).expect("t");
        let got = f64::from(
            bce_with_logits(&logits, &targets)
                .expect("bce")
                .to_scalar::<f32>()
                .expect("scalar"),
        );
        let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
        let textbook: f64 = [(-3.0, 0.0), (0.0, 1.0), (2.0, 1.0)]
            .iter()
            .map(|&(z, y): &(f64, f64)| {
                -(y * sigmoid(z).ln() + (1.0 - y) * (1.0 - sigmoid(z)).ln())
            })
            .sum::<f64>()
            + 80.0; // z = 80, y = 0: loss ≈ 80; z = −80, y = 0: loss ≈ 0.
        assert!((got - textbook / 5.0).abs() < 1e-4, "{got}");
    }

    #[test]
    fn bad_settings_are_refused_before_training() {
        let records = generate(&SyntheticConfig::default(), 20);
        for bad in [
            TrainConfig {
                batch_size: 0,
                ..TrainConfig::default()
            },
            TrainConfig {
                validation_fraction: 1.0,
                ..TrainConfig::default()
            },
            TrainConfig {
                validation_fraction: 0.0,
                ..TrainConfig::default()
            },
            TrainConfig {
                threads: 0,
                ..TrainConfig::default()
            },
            TrainConfig {
                hidden: vec![],
                ..TrainConfig::default()
            },
        ] {
            assert!(
                train(&records, &bad, |_, _| {}).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert!(matches!(
            train(&[], &TrainConfig::default(), |_, _| {}),
            Err(Error::NotEnoughData(_))
        ));
    }
}

//! Saving and loading a model: a directory with the weights in safetensors (`weights.safetensors`) and a JSON
//! [`ModelDescription`] (`model.json`) holding everything else needed to use them: the network's shape, the feature
//! spec with its normalisation and hash seed, the training data's range, the measured metrics, and an xxh3
//! checksum of the weights file.
//!
//! Loading checks everything before building the model and reports what is wrong as an [`Error`]: a missing or
//! unreadable file, JSON of the wrong shape, an unknown format, a checksum mismatch (a corrupt or swapped weights
//! file), a missing, unexpected, mistyped or misshapen tensor. Files are written to a temporary name and renamed,
//! so a crash never leaves half a model under the final name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{Error, Result};
use crate::features::FeatureSpec;
use crate::metrics::EvaluationMetrics;
use crate::model::{Model, ModelConfig};
use crate::predict::Predictor;
use crate::train::{DataRange, TrainConfig, TrainedModel, sorted_vars};

/// The format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Name of the weights file inside a model directory.
pub const WEIGHTS_FILE: &str = "weights.safetensors";
/// Name of the description file inside a model directory.
pub const DESCRIPTION_FILE: &str = "model.json";

/// Everything about a saved model except its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDescription {
    /// [`FORMAT_VERSION`] when written.
    pub format: u32,
    /// Version of the crate that wrote it.
    pub version: String,
    /// When it was created (given by the caller, from its clock).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The network's shape.
    pub model: ModelConfig,
    /// The feature spec, with normalisation statistics and hash seed.
    pub features: FeatureSpec,
    /// The training settings.
    pub training: TrainConfig,
    /// The records trained on.
    pub training_data: DataRange,
    /// The records used for early stopping.
    pub validation_data: DataRange,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// Mean `log1p(cost)` of the training records (the cost baseline).
    pub log_cost_mean: f64,
    /// Metrics measured on a hold-out set, when the caller measured them.
    #[serde(default)]
    pub metrics: Option<EvaluationMetrics>,
    /// xxh3-64 of the weights file, hexadecimal.
    pub weights_xxh3: String,
}

/// A model read back from disk.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// Its description.
    pub description: ModelDescription,
    /// The network with its weights.
    pub model: Model,
}

impl LoadedModel {
    /// A predictor for it.
    pub fn predictor(&self) -> Result<Predictor> {
        Predictor::new(self.model.clone(), self.description.features.clone())
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes).map_err(io_error(&temporary))?;
    std::fs::rename(&temporary, path).map_err(io_error(path))
}

/// Saves `trained` into the directory `dir` (created if needed) with the hold-out `metrics`, stamped
/// `created_at`. Returns the description written.
pub fn save(
    dir: &Path,
    trained: &TrainedModel,
    metrics: Option<EvaluationMetrics>,
    created_at: OffsetDateTime,
) -> Result<ModelDescription> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let weights_path = dir.join(WEIGHTS_FILE);
    let tensors: Vec<(String, Tensor)> = sorted_vars(&trained.varmap)?
        .into_iter()
        .map(|(name, var)| (name, var.as_tensor().clone()))
        .collect();
    let bytes = safetensors::serialize(tensors, None).map_err(|e| Error::Weights {
        path: weights_path.clone(),
        message: format!("cannot serialise: {e}"),
    })?;
    write_atomically(&weights_path, &bytes)?;
    let report = &trained.report;
    let description = ModelDescription {
        format: FORMAT_VERSION,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at,
        model: trained.model.config().clone(),
        features: trained.spec.clone(),
        training: trained.train_config.clone(),
        training_data: report.training.clone(),
        validation_data: report.validation.clone(),
        best_epoch: report.best_epoch,
        epochs_run: report.epochs.len(),
        log_cost_mean: report.log_cost_mean,
        metrics,
        weights_xxh3: format!("{:016x}", xxh3_64(&bytes)),
    };
    let description_path = dir.join(DESCRIPTION_FILE);
    let json = serde_json::to_vec_pretty(&description).map_err(|e| Error::Description {
        path: description_path.clone(),
        message: e.to_string(),
    })?;
    write_atomically(&description_path, &json)?;
    Ok(description)
}

/// Loads the model saved in the directory `dir`, checking it whole before use.
pub fn load(dir: &Path) -> Result<LoadedModel> {
    let description_path = dir.join(DESCRIPTION_FILE);
    let text = std::fs::read(&description_path).map_err(io_error(&description_path))?;
    let description_error = |message: String| Error::Description {
        path: description_path.clone(),
        message,
    };
    // The format first, so that a future format is reported as such rather than as a field serde did not expect.
    let format = serde_json::from_slice::<serde_json::Value>(&text)
        .map_err(|e| description_error(e.to_string()))?
        .get("format")
        .and_then(serde_json::Value::as_u64);
    if format != Some(u64::from(FORMAT_VERSION)) {
        return Err(Error::UnsupportedFormat {
            path: description_path.clone(),
            found: format.and_then(|f| u32::try_from(f).ok()).unwrap_or(0),
            supported: FORMAT_VERSION,
        });
    }
    let description: ModelDescription =
        serde_json::from_slice(&text).map_err(|e| description_error(e.to_string()))?;
    description
        .features
        .validate()
        .map_err(&description_error)?;
    description
        .model
        .validate(&description.features)
        .map_err(|e| description_error(e.to_string()))?;

    let weights_path = dir.join(WEIGHTS_FILE);
    let weights_error = |message: String| Error::Weights {
        path: weights_path.clone(),
        message,
    };
    let bytes = std::fs::read(&weights_path).map_err(io_error(&weights_path))?;
    let checksum = format!("{:016x}", xxh3_64(&bytes));
    if checksum != description.weights_xxh3 {
        return Err(weights_error(format!(
            "checksum {checksum} differs from the description's {}: the file is corrupt or belongs to another model",
            description.weights_xxh3
        )));
    }
    let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
        .map_err(|e| weights_error(format!("not a safetensors file: {e}")))?;
    check_tensors(&tensors, &description.model).map_err(&weights_error)?;
    let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
    let model = Model::new(vb, &description.model)?;
    Ok(LoadedModel { description, model })
}

/// Every problem with `tensors` against the parameters `config` needs, or nothing.
fn check_tensors(tensors: &HashMap<String, Tensor>, config: &ModelConfig) -> Result<(), String> {
    let expected = config.parameter_shapes();
    let mut problems = Vec::new();
    for (name, shape) in &expected {
        match tensors.get(name) {
            None => problems.push(format!("tensor `{name}` is missing")),
            Some(t) if t.dtype() != DType::F32 => {
                problems.push(format!("tensor `{name}` is {:?}, expected f32", t.dtype()));
            }
            Some(t) if t.dims() != shape.as_slice() => {
                problems.push(format!(
                    "tensor `{name}` has shape {:?}, expected {shape:?}",
                    t.dims()
                ));
            }
            Some(_) => {}
        }
    }
    let mut unexpected: Vec<&String> = tensors
        .keys()
        .filter(|k| !expected.iter().any(|(name, _)| name == *k))
        .collect();
    unexpected.sort();
    for name in unexpected {
        problems.push(format!("unexpected tensor `{name}`"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

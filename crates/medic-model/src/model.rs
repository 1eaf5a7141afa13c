//! The two-headed MLP, in candle: an embedding bag over the hashed ids, concatenated with the numeric inputs, a
//! ReLU trunk, and two linear heads (failure logit, `log1p` cost). No I/O: weights come through a `VarBuilder`.

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Init, Linear, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::features::FeatureSpec;

/// The shape of the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Rows of the embedding table (the feature spec's hash buckets).
    pub buckets: usize,
    /// Width of each embedding.
    pub embedding_dim: usize,
    /// Width of the numeric input (values and missing indicators).
    pub numeric_inputs: usize,
    /// Widths of the hidden layers, input side first.
    pub hidden: Vec<usize>,
}

impl ModelConfig {
    /// A network for the inputs of `spec`, with embeddings of `embedding_dim` and the given hidden layers.
    pub fn for_spec(spec: &FeatureSpec, embedding_dim: usize, hidden: Vec<usize>) -> Self {
        ModelConfig {
            buckets: spec.buckets(),
            embedding_dim,
            numeric_inputs: spec.numeric_width(),
            hidden,
        }
    }

    /// Every parameter's name and shape, in name order: what a weights file must hold.
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut shapes = vec![(
            "embedding.weight".to_owned(),
            vec![self.buckets, self.embedding_dim],
        )];
        let mut width = self.embedding_dim + self.numeric_inputs;
        for (i, &hidden) in self.hidden.iter().enumerate() {
            shapes.push((format!("trunk.{i}.weight"), vec![hidden, width]));
            shapes.push((format!("trunk.{i}.bias"), vec![hidden]));
            width = hidden;
        }
        for head in ["fail_head", "cost_head"] {
            shapes.push((format!("{head}.weight"), vec![1, width]));
            shapes.push((format!("{head}.bias"), vec![1]));
        }
        shapes.sort();
        shapes
    }

    /// Refuses empty or absurd shapes, and a config that does not fit `spec`.
    pub fn validate(&self, spec: &FeatureSpec) -> Result<()> {
        let mut problems = Vec::new();
        if self.buckets != spec.buckets() {
            problems.push(format!(
                "{} buckets but the feature spec hashes into {}",
                self.buckets,
                spec.buckets()
            ));
        }
        if self.numeric_inputs != spec.numeric_width() {
            problems.push(format!(
                "{} numeric inputs but the feature spec has {}",
                self.numeric_inputs,
                spec.numeric_width()
            ));
        }
        if !(1..=1024).contains(&self.embedding_dim) {
            problems.push(format!(
                "embedding_dim {} is not in 1..=1024",
                self.embedding_dim
            ));
        }
        if self.hidden.is_empty() || self.hidden.iter().any(|&h| !(1..=8192).contains(&h)) {
            problems.push(format!(
                "hidden layers {:?} must be 1 to 8192 wide, at least one",
                self.hidden
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidConfig(problems.join("; ")))
        }
    }
}

/// The two heads' outputs for a batch of `n` rows.
#[derive(Clone, Debug)]
pub struct ModelOutput {
    /// Failure logits, shape `[n]`; `sigmoid` gives P(retry fails).
    pub fail_logit: Tensor,
    /// Predicted `log1p(cost in dollars)`, shape `[n]`.
    pub log_cost: Tensor,
}

/// The network. Parameter names: `embedding.weight`, `trunk.{i}.weight`/`bias`, `fail_head.*`, `cost_head.*`.
#[derive(Clone, Debug)]
pub struct Model {
    embedding: Tensor,
    trunk: Vec<Linear>,
    fail_head: Linear,
    cost_head: Linear,
    config: ModelConfig,
}

fn linear(inputs: usize, outputs: usize, vb: VarBuilder) -> candle_core::Result<Linear> {
    // Zeros here; a fresh model gets its values from `initialise` with a seeded RNG, because candle's own
    // initialisers draw from an unseeded thread RNG. A loaded model ignores the hint.
    let weight = vb.get_with_hints((outputs, inputs), "weight", Init::Const(0.0))?;
    let bias = vb.get_with_hints(outputs, "bias", Init::Const(0.0))?;
    Ok(Linear::new(weight, Some(bias)))
}

impl Model {
    /// Builds the network from `vb` (a `VarMap` for training, saved tensors for inference).
    pub fn new(vb: VarBuilder, config: &ModelConfig) -> Result<Self> {
        let embedding = vb.pp("embedding").get_with_hints(
            (config.buckets, config.embedding_dim),
            "weight",
            Init::Const(0.0),
        )?;
        let mut trunk = Vec::with_capacity(config.hidden.len());
        let mut width = config.embedding_dim + config.numeric_inputs;
        for (i, &hidden) in config.hidden.iter().enumerate() {
            trunk.push(linear(width, hidden, vb.pp(format!("trunk.{i}")))?);
            width = hidden;
        }
        Ok(Model {
            embedding,
            trunk,
            fail_head: linear(width, 1, vb.pp("fail_head"))?,
            cost_head: linear(width, 1, vb.pp("cost_head"))?,
            config: config.clone(),
        })
    }

    /// The configuration the model was built with.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The mean embedding of each row's ids: `ids` is `[n, l]` (u32, padded), `weights` is `[n, l]` (f32) with
    /// `1 / count` for a real id and 0 for padding. Returns `[n, embedding_dim]`.
    pub fn embed_bags(&self, ids: &Tensor, weights: &Tensor) -> Result<Tensor> {
        let (n, l) = ids.dims2()?;
        let gathered = self
            .embedding
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((n, l, self.config.embedding_dim))?;
        Ok(gathered.broadcast_mul(&weights.unsqueeze(2)?)?.sum(1)?)
    }

    /// Both heads for `n` rows: `bags` is `[n, embedding_dim]` or `[1, embedding_dim]` (one job shared by every
    /// row, broadcast), `numeric` is `[n, numeric_inputs]`.
    pub fn forward_embedded(&self, bags: &Tensor, numeric: &Tensor) -> Result<ModelOutput> {
        let (n, _) = numeric.dims2()?;
        let bags = if bags.dim(0)? == n {
            bags.clone()
        } else {
            bags.broadcast_as((n, self.config.embedding_dim))?
        };
        let mut x = Tensor::cat(&[&bags, numeric], 1)?;
        for layer in &self.trunk {
            x = layer.forward(&x)?.relu()?;
        }
        Ok(ModelOutput {
            fail_logit: self.fail_head.forward(&x)?.squeeze(1)?,
            log_cost: self.cost_head.forward(&x)?.squeeze(1)?,
        })
    }

    /// Both heads for a batch: ids and weights as in [`embed_bags`](Self::embed_bags), numeric `[n, inputs]`.
    pub fn forward(&self, ids: &Tensor, weights: &Tensor, numeric: &Tensor) -> Result<ModelOutput> {
        let bags = self.embed_bags(ids, weights)?;
        self.forward_embedded(&bags, numeric)
    }
}

/// The network specialised to one job: the job's embedding bag is constant across an optimiser's candidates, so
/// its share of the first layer (`W_bag · bag + b`) is computed once and becomes that layer's bias. Each candidate
/// then costs only the numeric part of the first layer and the rest of the trunk.
#[derive(Clone, Debug)]
pub struct JobModel {
    /// The first layer's numeric weights, transposed to `[numeric_inputs, hidden_0]` for a plain matmul.
    first_numeric_t: Tensor,
    /// `W_bag · bag + b`, shape `[1, hidden_0]`.
    first_bias: Tensor,
    rest: Vec<Linear>,
    fail_head: Linear,
    cost_head: Linear,
}

impl Model {
    /// The network for one job whose mean embedding is `bag` (`[1, embedding_dim]`).
    pub fn for_bag(&self, bag: &Tensor) -> Result<JobModel> {
        let Some((first, rest)) = self.trunk.split_first() else {
            return Err(Error::InvalidConfig(
                "the network has no hidden layer".to_owned(),
            ));
        };
        let dim = self.config.embedding_dim;
        let weight = first.weight();
        let bag_part = weight.narrow(1, 0, dim)?;
        let numeric_part = weight.narrow(1, dim, self.config.numeric_inputs)?;
        let mut first_bias = bag.matmul(&bag_part.t()?)?;
        if let Some(bias) = first.bias() {
            first_bias = first_bias.broadcast_add(bias)?;
        }
        Ok(JobModel {
            first_numeric_t: numeric_part.t()?.contiguous()?,
            first_bias,
            rest: rest.to_vec(),
            fail_head: self.fail_head.clone(),
            cost_head: self.cost_head.clone(),
        })
    }
}

impl JobModel {
    /// Both heads for `n` candidates of the job: `numeric` is `[n, numeric_inputs]`.
    pub fn forward(&self, numeric: &Tensor) -> Result<ModelOutput> {
        let mut x = numeric
            .matmul(&self.first_numeric_t)?
            .broadcast_add(&self.first_bias)?
            .relu()?;
        for layer in &self.rest {
            x = layer.forward(&x)?.relu()?;
        }
        Ok(ModelOutput {
            fail_logit: self.fail_head.forward(&x)?.squeeze(1)?,
            log_cost: self.cost_head.forward(&x)?.squeeze(1)?,
        })
    }
}

/// Gives every variable of a freshly built model its initial value from a ChaCha RNG seeded with `seed`, in name
/// order, so that the same seed always gives the same weights: embeddings N(0, 0.1²), linear weights uniform in
/// ±1/√fan_in (PyTorch's default), biases 0. `cost_bias` starts the cost head at the training mean of
/// `log1p(cost)`, so that the first epochs learn structure rather than the offset.
pub fn initialise(varmap: &VarMap, seed: u64, cost_bias: f32) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| Error::InvalidConfig("the variable map's lock is poisoned".to_owned()))?;
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for name in names {
        let Some(var) = vars.get(name) else { continue };
        let dims = var.dims().to_vec();
        let count: usize = dims.iter().product();
        let values: Vec<f32> = if name.ends_with("bias") {
            let value = if name.starts_with("cost_head") {
                cost_bias
            } else {
                0.0
            };
            vec![value; count]
        } else if name.starts_with("embedding") {
            (0..count)
                .map(|_| 0.1 * standard_normal(&mut rng))
                .collect()
        } else {
            let fan_in = dims.last().copied().unwrap_or(1).max(1) as f32;
            let bound = 1.0 / fan_in.sqrt();
            (0..count)
                .map(|_| rng.random_range(-bound..bound))
                .collect()
        };
        let tensor =
            Tensor::from_vec(values, dims.as_slice(), &Device::Cpu)?.to_dtype(DType::F32)?;
        var.set(&tensor)?;
    }
    Ok(())
}

/// A standard normal draw (Box–Muller), so that no distribution crate is needed.
pub(crate) fn standard_normal(rng: &mut impl Rng) -> f32 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{HashingConfig, NumericSource};

    fn small() -> (FeatureSpec, ModelConfig) {
        let spec = FeatureSpec::fit(
            std::iter::empty(),
            NumericSource::defaults(),
            HashingConfig {
                bits: 6,
                ..HashingConfig::default()
            },
        )
        .expect("spec");
        let config = ModelConfig::for_spec(&spec, 4, vec![8, 4]);
        (spec, config)
    }

    #[test]
    fn shapes_and_shared_bags_agree_with_per_row_bags() {
        let (spec, config) = small();
        config.validate(&spec).expect("valid");
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let model = Model::new(vb, &config).expect("model");
        initialise(&varmap, 1, 0.5).expect("init");
        let n = 3;
        let width = spec.numeric_width();
        let numeric: Vec<f32> = (0..n * width).map(|i| (i as f32 * 0.37).sin()).collect();
        let numeric = Tensor::from_vec(numeric, (n, width), &Device::Cpu).expect("t");
        // One job with ids [5, 9] repeated on every row versus the shared [1, l] bag.
        let ids = Tensor::from_vec(vec![5u32, 9, 5, 9, 5, 9], (n, 2), &Device::Cpu).expect("t");
        let weights = Tensor::from_vec(vec![0.5f32; 6], (n, 2), &Device::Cpu).expect("t");
        let full = model.forward(&ids, &weights, &numeric).expect("forward");
        assert_eq!(full.fail_logit.dims(), &[n]);
        assert_eq!(full.log_cost.dims(), &[n]);
        let one_ids = Tensor::from_vec(vec![5u32, 9], (1, 2), &Device::Cpu).expect("t");
        let one_weights = Tensor::from_vec(vec![0.5f32; 2], (1, 2), &Device::Cpu).expect("t");
        let bag = model.embed_bags(&one_ids, &one_weights).expect("bag");
        let shared = model.forward_embedded(&bag, &numeric).expect("forward");
        let a: Vec<f32> = full.fail_logit.to_vec1().expect("v");
        let b: Vec<f32> = shared.fail_logit.to_vec1().expect("v");
        // Equal up to rounding: the kernels may sum in another order for another layout.
        assert!(
            a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-6),
            "{a:?} {b:?}"
        );
        // Padding (weight 0) changes nothing.
        let padded_ids = Tensor::from_vec(vec![5u32, 9, 0], (1, 3), &Device::Cpu).expect("t");
        let padded_w = Tensor::from_vec(vec![0.5f32, 0.5, 0.0], (1, 3), &Device::Cpu).expect("t");
        let padded = model.embed_bags(&padded_ids, &padded_w).expect("bag");
        let p: Vec<f32> = padded.flatten_all().expect("f").to_vec1().expect("v");
        let q: Vec<f32> = bag.flatten_all().expect("f").to_vec1().expect("v");
        assert_eq!(p, q);
        let costs: Vec<f32> = full.log_cost.to_vec1().expect("v");
        assert!(costs.iter().all(|c| c.is_finite()));
    }

    #[test]
    fn config_must_fit_the_spec() {
        let (spec, config) = small();
        for bad in [
            ModelConfig {
                buckets: 7,
                ..config.clone()
            },
            ModelConfig {
                numeric_inputs: 1,
                ..config.clone()
            },
            ModelConfig {
                hidden: vec![],
                ..config.clone()
            },
            ModelConfig {
                embedding_dim: 0,
                ..config.clone()
            },
        ] {
            assert!(bad.validate(&spec).is_err(), "{bad:?}");
        }
    }
}

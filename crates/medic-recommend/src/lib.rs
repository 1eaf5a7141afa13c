//! The recommender: for a failed run whose error is a memory-configuration error or unclassified, the
//! configuration of its retry, or "do not retry".
//!
//! * [`space`]: the search spaces (per category, the settings a retry may change and their values), the decision
//!   policy (λ, `p_max`, the cost cap, the unclassified threshold) and the clusters' limits, from YAML.
//! * [`optimize`]: optimisers over a space's grid under a deadline: batched search (the default), Bayesian
//!   optimisation (egobox), and exhaustive search (the reference).
//! * [`evaluate`]: the model as the optimisers' evaluator.
//! * [`heuristic`]: the documented fallback when there is no model, with [`prior`], its calibrated prior on how far
//!   a memory need lies above the setting that failed.
//! * [`recommend`]: the [`Recommender`] that puts them together and explains its answer.
//!
//! No I/O, no clock reading besides `Instant` for deadlines: the same request, model and seed give the same
//! answer unless a deadline cuts a search short (which the answer says).

mod error;
pub mod evaluate;
pub mod heuristic;
pub mod optimize;
pub mod prior;
pub mod recommend;
pub mod space;

pub use error::Error;
pub use optimize::{OptimizerKind, StopReason};
pub use recommend::{
    Alternative, Change, Estimate, FailedRun, ModelHandle, Options, Predicted, Recommendation,
    Recommender,
};
pub use space::SearchSpaces;

//! The model lifecycle: a training round turns the retry history into a registered, and perhaps promoted,
//! Nightingale model.
//!
//! A round trains on the history except its latest records, audits the model on those (the hold-out), compares
//! it with the promoted model on the hold-out records the promoted one has not learned from
//! ([`medic_model::unseen_by`]), saves it with its plots (`weights.safetensors`, `model.json`, `loss.svg`,
//! `calibration.svg` in `OUT/VERSION`), registers it in the store with its description, the gate's verdict and
//! the comparison, and promotes it when it passes the gate. `medic train` and the simulator's nightly retraining
//! both run it; `medic serve` is meant to run it on a schedule.
//!
//! # Design: blocking steps apart from async ones
//!
//! A round is two kinds of work, and a server cannot treat them alike:
//!
//! * [`train_candidate`] (training, audit, save, plots) is minutes of CPU and some file writes, and
//!   [`judge`] (loading the promoted model, evaluating both on the unseen records, the gate) reads a model
//!   directory and evaluates. Both are plain functions: they need no runtime, and `medic train --from FILE`,
//!   which has no store, calls [`train_candidate`] alone.
//! * [`register`] (the registry entry, the promotion) only talks to the [`medic_store::Store`], which is async
//!   (sqlx), so it is an `async fn`.
//!
//! [`run_round`] is the one entry point that sequences them, in the order a round has always had (train, read the
//! promoted model, judge, register, promote). It is an `async fn` that runs the two blocking steps with
//! `tokio::task::spawn_blocking`: awaited from a task in `medic serve`, it leaves the server's workers free to
//! answer while a model trains. Callers without an async context of their own (the binary) `block_on` it on the
//! runtime they already have for the store; the library never builds or is handed a runtime. tokio is here for
//! `spawn_blocking` only, and costs nothing: the store is on tokio already.
//!
//! The records are the caller's choice (all of the store's history today), so that a caller can train on a file
//! or on a window. The steps are public so that a caller can also run them apart, e.g. judge a candidate against
//! a model it already holds.
//!
//! What is decided here and must stay stable: the version name ([`version_name`]), the registry's description
//! (`description`, `verdict`, `comparison_with_current`), the artifact path (canonicalised, so that a server
//! started elsewhere finds it) and the gate's use: the thresholds on the hold-out, plus "not worse than the
//! promoted model" when at least [`medic_model::MIN_COMPARISON_RECORDS`] hold-out records are unseen by it.
//!
//! This crate knows neither HTTP, the rule engine nor the recommender: it takes records and a store, and
//! leaves model files and registry entries behind.

mod error;
pub mod plots;
mod promote;
mod round;

pub use error::{Error, Result};
pub use promote::{hold_out_metrics, promote};
pub use round::{
    Candidate, Comparison, Judgement, Round, RoundOptions, judge, register, run_round,
    train_candidate, version_name,
};

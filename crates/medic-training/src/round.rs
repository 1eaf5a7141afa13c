//! One training round, in three steps that can run apart ([`train_candidate`], [`judge`], [`register`]) and
//! [`run_round`], which sequences them.

use std::path::{Path, PathBuf};

use medic_core::history::RetryRecord;
use medic_model::metrics::EvaluationMetrics;
use medic_model::train::evaluate_records;
use medic_model::{
    EpochMetrics, MIN_COMPARISON_RECORDS, ModelDescription, PromotionPolicy, TrainConfig,
    TrainedModel, TrainingReport, Verdict, time_split, unseen_by,
};
use medic_store::{ModelEntry, NewModel, Store};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::plots;

/// How to run a training round.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundOptions {
    /// Training settings.
    pub config: TrainConfig,
    /// The latest fraction of the records held out for the audit.
    pub holdout: f64,
    /// Where model directories go (`out/VERSION`).
    pub out: PathBuf,
    /// The promotion gate.
    pub gate: PromotionPolicy,
    /// Promote a model that passes the gate.
    pub promote: bool,
}

/// A model trained, audited on the hold-out records and saved with its plots, not yet judged against the
/// promoted model nor registered.
#[derive(Debug)]
pub struct Candidate {
    /// Its version ([`version_name`]).
    pub version: String,
    /// Its directory (`out/VERSION`).
    pub dir: PathBuf,
    /// Its directory as the registry names it: absolute when it can be, so that a server started elsewhere
    /// finds the model.
    pub artifact: String,
    /// The trained network and its feature spec.
    pub trained: TrainedModel,
    /// The description saved with it (`model.json`).
    pub description: ModelDescription,
    /// The model on the hold-out records.
    pub metrics: EvaluationMetrics,
    /// The hold-out records, kept for the comparison with the promoted model.
    holdout: Vec<RetryRecord>,
}

impl Candidate {
    /// The records held out of training, oldest first.
    pub fn holdout(&self) -> &[RetryRecord] {
        &self.holdout
    }
}

/// How the candidate compared with the promoted model.
#[derive(Clone, Debug, PartialEq)]
pub enum Comparison {
    /// No model is promoted.
    NoCurrentModel,
    /// The promoted model's artifact cannot be loaded (moved, damaged); the candidate is judged alone.
    CurrentUnloadable {
        /// The promoted version.
        version: String,
        /// Why it cannot be loaded.
        reason: String,
    },
    /// Too few hold-out records are newer than what the promoted model learned from for a comparison to mean
    /// something ([`MIN_COMPARISON_RECORDS`]); the candidate is judged on the thresholds alone.
    TooFewUnseen {
        /// The promoted version.
        version: String,
        /// How many hold-out records it has not seen.
        records: usize,
    },
    /// Both models measured on the hold-out records the promoted one has not seen.
    Compared {
        /// The promoted version.
        version: String,
        /// How many records.
        records: usize,
        /// The candidate on them.
        candidate: EvaluationMetrics,
        /// The promoted model on them.
        current: EvaluationMetrics,
    },
}

impl Comparison {
    /// The `comparison_with_current` field of the registry's description: `null` when nothing was compared.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Comparison::NoCurrentModel | Comparison::CurrentUnloadable { .. } => {
                serde_json::Value::Null
            }
            Comparison::TooFewUnseen { version, records } => serde_json::json!({
                "records": records,
                "note": format!(
                    "{records} hold-out record(s) are newer than what {version} learned from; fewer than {MIN_COMPARISON_RECORDS}: judged on the thresholds alone"
                ),
            }),
            Comparison::Compared {
                records,
                candidate,
                current,
                ..
            } => serde_json::json!({
                "records": records,
                "candidate": candidate,
                "current": current,
            }),
        }
    }
}

/// The gate's decision on a candidate, with the comparison it rests on.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    /// The verdict: the thresholds, and "not worse than the promoted model" when they could be compared.
    pub verdict: Verdict,
    /// The comparison with the promoted model.
    pub comparison: Comparison,
}

/// What a training round made.
#[derive(Clone, Debug)]
pub struct Round {
    /// The new model's version.
    pub version: String,
    /// Its directory.
    pub dir: PathBuf,
    /// How training went.
    pub report: TrainingReport,
    /// The new model on the hold-out records.
    pub metrics: EvaluationMetrics,
    /// The gate's verdict.
    pub verdict: Verdict,
    /// The comparison with the model promoted before the round.
    pub comparison: Comparison,
    /// Whether it was promoted.
    pub promoted: bool,
}

/// The version of a model trained at `now` with `seed`: `mYYYYMMDD-HHMMSS-sSEED`.
pub fn version_name(now: OffsetDateTime, seed: u64) -> String {
    format!(
        "m{:04}{:02}{:02}-{:02}{:02}{:02}-s{}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        seed
    )
}

/// Trains on `records` except the latest `options.holdout` of them (by time), audits the model on those, and saves
/// it in `options.out/VERSION` with its loss and reliability plots, stamped `now`.
///
/// This is the CPU-heavy step (minutes on a large history) and it writes files: in an async server, run it on a
/// blocking thread. It needs no runtime. `on_epoch` is called after every epoch.
pub fn train_candidate(
    records: &[RetryRecord],
    options: &RoundOptions,
    now: OffsetDateTime,
    on_epoch: impl FnMut(usize, &EpochMetrics) + Send,
) -> Result<Candidate> {
    let (training, holdout) = time_split(records, options.holdout);
    let training: Vec<RetryRecord> = training.into_iter().cloned().collect();
    let trained = medic_model::train(&training, &options.config, on_epoch)?;
    let metrics = evaluate_records(
        &trained.model,
        &trained.spec,
        &holdout,
        trained.report.log_cost_mean,
    )?;
    let version = version_name(now, options.config.seed);
    let dir = options.out.join(&version);
    let description = medic_model::save(&dir, &trained, Some(metrics.clone()), now)?;
    plots::loss_curves(&dir.join("loss.svg"), &trained.report.epochs)?;
    plots::reliability(&dir.join("calibration.svg"), &metrics)?;
    // Absolute, so that a server started elsewhere finds the model the registry names.
    let artifact = std::fs::canonicalize(&dir)
        .unwrap_or_else(|_| dir.clone())
        .display()
        .to_string();
    Ok(Candidate {
        version,
        dir,
        artifact,
        trained,
        description,
        metrics,
        holdout: holdout.into_iter().cloned().collect(),
    })
}

/// Judges `candidate` by `gate`: its thresholds on the candidate's hold-out metrics and, when `current` (the
/// promoted model) can be loaded and has not seen at least [`MIN_COMPARISON_RECORDS`] of the hold-out records,
/// "not worse than `current`" on those records.
///
/// Loading `current` reads its artifact and both models are evaluated: in an async server, run it on a blocking
/// thread. A `current` that cannot be loaded is logged and leaves the candidate judged alone.
pub fn judge(
    candidate: &Candidate,
    current: Option<&ModelEntry>,
    gate: &PromotionPolicy,
) -> Result<Judgement> {
    let mut verdict = gate.judge(&candidate.metrics, None);
    let Some(entry) = current else {
        return Ok(Judgement {
            verdict,
            comparison: Comparison::NoCurrentModel,
        });
    };
    let loaded = match medic_model::load(Path::new(&entry.artifact)) {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::warn!(
                "the current model {} cannot be loaded ({e}); judging the new one alone",
                entry.version
            );
            return Ok(Judgement {
                verdict,
                comparison: Comparison::CurrentUnloadable {
                    version: entry.version.clone(),
                    reason: e.to_string(),
                },
            });
        }
    };
    // The current model is compared with the new one on the hold-out records it did not learn from: retrained
    // daily, it has learned from most of today's hold-out, and would look better than it is.
    let holdout: Vec<&RetryRecord> = candidate.holdout.iter().collect();
    let unseen = unseen_by(&holdout, &loaded.description);
    if unseen.len() < MIN_COMPARISON_RECORDS {
        return Ok(Judgement {
            verdict,
            comparison: Comparison::TooFewUnseen {
                version: entry.version.clone(),
                records: unseen.len(),
            },
        });
    }
    let trained = &candidate.trained;
    let candidate_metrics = evaluate_records(
        &trained.model,
        &trained.spec,
        &unseen,
        trained.report.log_cost_mean,
    )?;
    let current_metrics = evaluate_records(
        &loaded.model,
        &loaded.description.features,
        &unseen,
        loaded.description.log_cost_mean,
    )?;
    verdict
        .reasons
        .extend(gate.compare(&candidate_metrics, &current_metrics));
    verdict.promote = verdict.reasons.is_empty();
    Ok(Judgement {
        verdict,
        comparison: Comparison::Compared {
            version: entry.version.clone(),
            records: unseen.len(),
            candidate: candidate_metrics,
            current: current_metrics,
        },
    })
}

/// Registers `candidate` in `store` with its description, verdict and comparison, and promotes it when the
/// verdict allows and `promote` is set. Changes are audited under `actor`.
pub async fn register(
    store: &Store,
    candidate: Candidate,
    judgement: Judgement,
    promote: bool,
    actor: &str,
) -> Result<Round> {
    let Judgement {
        verdict,
        comparison,
    } = judgement;
    store
        .register_model(
            NewModel {
                version: candidate.version.clone(),
                artifact: candidate.artifact.clone(),
                description: serde_json::json!({
                    "description": candidate.description,
                    "verdict": verdict,
                    "comparison_with_current": comparison.to_json(),
                }),
            },
            actor,
        )
        .await?;
    let promoted = verdict.promote && promote;
    if promoted {
        store.promote_model(&candidate.version, actor).await?;
    }
    Ok(Round {
        version: candidate.version,
        dir: candidate.dir,
        report: candidate.trained.report,
        metrics: candidate.metrics,
        verdict,
        comparison,
        promoted,
    })
}

/// A whole round: trains and saves a candidate on `records` ([`train_candidate`]), judges it against the model
/// `store` has promoted ([`judge`]), registers it and promotes it when it passes ([`register`]).
///
/// The two blocking steps run on tokio's blocking threads, so that a server's workers keep answering while a
/// model trains; that is why `records` and `on_epoch` are owned. Must be called on a tokio runtime (as every
/// [`Store`] call is). A panic in training is resumed here, as if training had run on the caller's thread.
pub async fn run_round(
    store: &Store,
    records: Vec<RetryRecord>,
    options: &RoundOptions,
    now: OffsetDateTime,
    actor: &str,
    on_epoch: impl FnMut(usize, &EpochMetrics) + Send + 'static,
) -> Result<Round> {
    let training_options = options.clone();
    let candidate =
        blocking(move || train_candidate(&records, &training_options, now, on_epoch)).await?;
    let current = store.promoted_model().await?;
    let gate = options.gate;
    let (candidate, judgement) = blocking(move || {
        let judgement = judge(&candidate, current.as_ref(), &gate)?;
        Ok((candidate, judgement))
    })
    .await?;
    register(store, candidate, judgement, options.promote, actor).await
}

/// Runs `work` on tokio's blocking threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(Error::Cancelled(e.to_string())),
    }
}

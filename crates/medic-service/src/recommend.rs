//! Nightingale as the service sees it: the [`Recommend`] seam, and [`PromotedModelRecommender`], the recommender
//! with the model the store has promoted, reloaded when the registry promotes another (checked on every request,
//! so that a `medic model promote` on a shared store takes effect on every server at once).
//!
//! The remediation flow and `recommend` requests both go through a [`Recommend`], so that they recommend alike,
//! and so that a server can leave recommendations to another process (`medic serve --recommend-url`) or a test
//! can put a failing recommender in.

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use medic_api::RecommendRequest;
use medic_core::Category;
use medic_core::recommendation::{FailedRun, Recommendation};
use medic_recommend::{ModelHandle, Options, Recommender, SearchSpaces};
use medic_store::Store;

use crate::Service;
use crate::error::{Error, Result};
use crate::failure::FailureGiven;

/// A boxed future, as a dyn-compatible trait must return one.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that recommends the configuration of a failed run's retry.
pub trait Recommend: Send + Sync + fmt::Debug {
    /// The recommendation for `run`. [`Error::Invalid`] when the request cannot be answered as given (a negative
    /// λ), [`Error::Internal`] when the recommender failed.
    fn recommend(&self, run: FailedRun, options: Options) -> BoxFuture<'_, Result<Recommendation>>;
}

/// The recommender of the search spaces and the promoted model, swapped whole when the promoted model changes.
#[derive(Debug)]
pub struct PromotedModelRecommender {
    store: Store,
    spaces: SearchSpaces,
    current: RwLock<Current>,
}

#[derive(Debug)]
struct Current {
    /// The promoted version this recommender was built for (`None`: no model promoted).
    version: Option<String>,
    recommender: Arc<Recommender>,
    /// Why the promoted model could not be loaded, if it could not.
    problem: Option<String>,
}

impl PromotedModelRecommender {
    /// A recommender over `spaces` with the model `store` promotes, looked up on the first request.
    pub fn new(store: Store, spaces: SearchSpaces) -> Self {
        let recommender = Arc::new(Recommender::new(spaces.clone(), None));
        PromotedModelRecommender {
            store,
            spaces,
            current: RwLock::new(Current {
                version: None,
                recommender,
                problem: None,
            }),
        }
    }

    /// The recommender for the model the store has promoted now, and the reason the promoted model could not be
    /// loaded if that happened (the recommender then falls back to the heuristics).
    async fn current(&self) -> Result<(Arc<Recommender>, Option<String>)> {
        let promoted = self.store.promoted_model().await?;
        let wanted = promoted.as_ref().map(|entry| entry.version.clone());
        if let Ok(current) = self.current.read()
            && current.version == wanted
        {
            return Ok((current.recommender.clone(), current.problem.clone()));
        }
        let (model, problem) = match promoted {
            None => (None, None),
            Some(entry) => {
                let artifact = entry.artifact.clone();
                let loaded = tokio::task::spawn_blocking(move || load(Path::new(&artifact)))
                    .await
                    .unwrap_or_else(|error| Err(format!("the loading task failed: {error}")));
                match loaded {
                    Ok((predictor, trained_on)) => (
                        Some(ModelHandle {
                            predictor,
                            version: entry.version.clone(),
                            trained_on,
                        }),
                        None,
                    ),
                    Err(reason) => {
                        let problem = format!(
                            "the promoted model {} could not be loaded from {}: {reason}",
                            entry.version, entry.artifact
                        );
                        tracing::warn!("{problem}; recommending with the heuristics");
                        (None, Some(problem))
                    }
                }
            }
        };
        let recommender = Arc::new(Recommender::new(self.spaces.clone(), model));
        if let Ok(mut current) = self.current.write() {
            *current = Current {
                version: wanted,
                recommender: recommender.clone(),
                problem: problem.clone(),
            };
        }
        Ok((recommender, problem))
    }
}

impl Recommend for PromotedModelRecommender {
    fn recommend(&self, run: FailedRun, options: Options) -> BoxFuture<'_, Result<Recommendation>> {
        Box::pin(async move {
            let (recommender, problem) = self.current().await?;
            // The search is CPU work of a few milliseconds: off the async workers.
            let mut answer =
                tokio::task::spawn_blocking(move || recommender.recommend(&run, &options))
                    .await
                    .map_err(|error| {
                        Error::Internal(format!("the recommendation task failed: {error}"))
                    })?
                    .map_err(|error| match error {
                        medic_recommend::Error::InvalidRequest(message) => {
                            Error::invalid_request(message)
                        }
                        other => Error::Internal(other.to_string()),
                    })?;
            if let Some(problem) = problem {
                answer.notes.push(problem);
            }
            Ok(answer)
        })
    }
}

/// The model in `dir` and its training records per category.
fn load(dir: &Path) -> Result<(medic_model::Predictor, TrainedOn), String> {
    let loaded = medic_model::load(dir).map_err(|error| error.to_string())?;
    let predictor = loaded.predictor().map_err(|error| error.to_string())?;
    Ok((predictor, loaded.description.training_data.categories))
}

type TrainedOn = std::collections::BTreeMap<Category, u64>;

/// Longest deadline a request may ask for.
pub const MAX_DEADLINE_MS: u64 = 10_000;

impl Service {
    /// The configuration of a failed run's retry, or "do not retry", from the recommender; nothing is stored.
    pub async fn recommend(&self, request: RecommendRequest) -> Result<Recommendation> {
        let failure = FailureGiven::of_recommend(&request);
        if let Some(problem) = failure.problem() {
            return Err(Error::invalid_request(problem));
        }
        let classification = failure.classify(self.rules.get());
        let deadline_ms = request.deadline_ms.unwrap_or(500);
        if deadline_ms > MAX_DEADLINE_MS {
            return Err(Error::invalid_request(format!(
                "deadline_ms is {deadline_ms}, at most {MAX_DEADLINE_MS}"
            )));
        }
        let run = FailedRun {
            job: request.job,
            config: request.config,
            category: classification.category,
            rule: classification.rule,
            restartable: Some(classification.restartable),
            input_bytes: request.input_bytes,
            plan_operators: request.plan_operators,
            cost_dollars: request.cost_dollars,
            evidence: if request.evidence.is_empty() {
                classification.captures
            } else {
                request.evidence
            },
            metrics: request.metrics,
            tried: request.tried,
        };
        let options = Options {
            optimizer: request.optimizer.unwrap_or_default(),
            deadline: Duration::from_millis(deadline_ms),
            lambda: request.lambda,
            ..Options::default()
        };
        self.recommender.recommend(run, options).await
    }
}

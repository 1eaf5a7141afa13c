//! The recommender behind `/v1/recommend`: the search spaces, and the promoted model, reloaded when the registry
//! promotes another (checked on every request, so a `medic model promote` on the shared store takes effect on
//! every server at once).

use std::path::Path;
use std::sync::{Arc, RwLock};

use medic_recommend::{ModelHandle, Recommender, SearchSpaces};
use medic_store::Store;

/// The current recommender, swapped whole when the promoted model changes.
#[derive(Debug)]
pub struct RecommendService {
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

impl RecommendService {
    /// A service over `spaces`, with no model until the first request finds the promoted one.
    pub fn new(spaces: SearchSpaces) -> Self {
        let recommender = Arc::new(Recommender::new(spaces.clone(), None));
        RecommendService {
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
    pub async fn current(
        &self,
        store: &Store,
    ) -> Result<(Arc<Recommender>, Option<String>), medic_store::StoreError> {
        let promoted = store.promoted_model().await?;
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

/// The model in `dir` and its training records per category.
fn load(dir: &Path) -> Result<(medic_model::Predictor, TrainedOn), String> {
    let loaded = medic_model::load(dir).map_err(|error| error.to_string())?;
    let predictor = loaded.predictor().map_err(|error| error.to_string())?;
    Ok((predictor, loaded.description.training_data.categories))
}

type TrainedOn = std::collections::BTreeMap<medic_core::Category, u64>;

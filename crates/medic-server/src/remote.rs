//! The recommender of another server (`medic serve --roles recommend`), for a server that remediates without
//! recommending (`--recommend-url`).

use std::time::Duration;

use medic_api::{Medic, MedicError, RecommendRequest};
use medic_client::HttpMedic;
use medic_core::recommendation::{FailedRun, Recommendation};
use medic_recommend::Options;
use medic_service::{BoxFuture, Error, Recommend};

/// `POST /v1/recommend` of the server at a base URL, as a [`Recommend`].
#[derive(Debug)]
pub struct RemoteRecommender {
    url: String,
}

impl RemoteRecommender {
    /// The recommender at `url` (`http://HOST:PORT`).
    pub fn new(url: &str) -> Self {
        RemoteRecommender {
            url: url.trim_end_matches('/').to_owned(),
        }
    }
}

impl Recommend for RemoteRecommender {
    fn recommend(
        &self,
        run: FailedRun,
        options: Options,
    ) -> BoxFuture<'_, medic_service::Result<Recommendation>> {
        // The remote search honours the deadline; the rest is the network's share.
        let client =
            HttpMedic::with_timeout(&self.url, None, options.deadline + Duration::from_secs(10));
        let request = RecommendRequest {
            category: Some(run.category),
            rule: run.rule,
            input_bytes: run.input_bytes,
            plan_operators: run.plan_operators,
            cost_dollars: run.cost_dollars,
            lambda: options.lambda,
            optimizer: Some(options.optimizer),
            deadline_ms: Some(options.deadline.as_millis() as u64),
            tried: run.tried,
            evidence: run.evidence,
            ..RecommendRequest::new(run.job, run.config)
        };
        let url = self.url.clone();
        Box::pin(async move {
            // A blocking client, off the async workers.
            let answer = tokio::task::spawn_blocking(move || client.recommend(request))
                .await
                .map_err(|error| {
                    Error::Internal(format!("the recommendation task failed: {error}"))
                })?;
            answer.map_err(|error| match error {
                // The remote server refused what this one would refuse too: say so as a refusal, not a failure.
                MedicError::Invalid { message, .. } => Error::Invalid {
                    code: "invalid_request",
                    what: "request",
                    problems: vec![message],
                },
                other => Error::Internal(format!("the recommender at {url}: {other}")),
            })
        })
    }
}

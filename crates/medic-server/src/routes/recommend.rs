//! `POST /v1/recommend`: the configuration of a failed run's retry, or "do not retry".

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use medic_core::{Category, Classification, JobIdentity, LogSource, ScanStats, SparkConf};
use medic_recommend::{FailedRun, OptimizerKind, Options, Recommendation};
use medic_rules::RuleSet;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::{AppState, ServiceRole};

/// Longest deadline a request may ask for.
pub const MAX_DEADLINE_MS: u64 = 10_000;

/// A failed run. The failure is given by its classification (as `medic classify --json` prints it), by its
/// category (and rule), or by its logs, which the server classifies with its rule packs.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendRequest {
    /// The job.
    pub job: JobIdentity,
    /// The configuration it failed with.
    #[serde(default)]
    pub config: SparkConf,
    /// The failure's classification.
    #[serde(default)]
    pub classification: Option<Classification>,
    /// The failure's category, when there is no classification.
    #[serde(default)]
    pub category: Option<Category>,
    /// The rule that classified it.
    #[serde(default)]
    pub rule: Option<String>,
    /// The run's logs, when there is neither.
    #[serde(default)]
    pub logs: Vec<LogText>,
    /// Bytes of input, when known.
    #[serde(default)]
    pub input_bytes: Option<u64>,
    /// Operators of the Spark plan, when known.
    #[serde(default)]
    pub plan_operators: Vec<String>,
    /// What the failed attempt cost, in dollars.
    #[serde(default)]
    pub failed_cost: Option<f64>,
    /// λ for this request (default: the policy's for the job or its owner).
    #[serde(default)]
    pub lambda: Option<f64>,
    /// `batched` (default), `bayesian` or `exhaustive`.
    #[serde(default)]
    pub optimizer: Option<OptimizerKind>,
    /// The answer is due within this many milliseconds (default 500, at most 10 000); the search returns its
    /// best so far.
    #[serde(default)]
    pub deadline_ms: Option<u64>,
}

/// One log's text.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogText {
    /// Which log.
    #[serde(default)]
    pub source: LogSource,
    /// Its text.
    pub text: String,
}

/// `POST /v1/recommend`: the retry's configuration with the numbers that justify it, or "do not retry". Reads
/// only; needs no token.
#[utoipa::path(post, path = "/v1/recommend", request_body = RecommendRequest, tag = "recommend",
    responses(
        (status = 200, description = "The decision, the configuration and the model's numbers", body = Recommendation),
        (status = 422, description = "No way to know the failure, or an invalid λ, cost or deadline", body = ErrorBody),
    ))]
pub async fn recommend(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RecommendRequest>,
) -> ApiResult<Json<Recommendation>> {
    Ok(Json(answer_request(&state, request).await?))
}

/// The answer to the JSON of a `POST /v1/recommend` body, without HTTP: what `medic recommend --db` calls, so
/// that the command and the server answer alike.
pub async fn answer(state: &AppState, body: serde_json::Value) -> ApiResult<Recommendation> {
    let request: RecommendRequest =
        serde_json::from_value(body).map_err(|error| invalid(error.to_string()))?;
    answer_request(state, request).await
}

async fn answer_request(state: &AppState, request: RecommendRequest) -> ApiResult<Recommendation> {
    let failure = FailureGiven {
        job: &request.job,
        classification: request.classification.as_ref(),
        category: request.category,
        rule: request.rule.as_deref(),
        logs: &request.logs,
    };
    if let Some(problem) = failure.problem() {
        return Err(invalid(problem));
    }
    let classification = failure.classify(&state.rules);
    let deadline_ms = request.deadline_ms.unwrap_or(500);
    if deadline_ms > MAX_DEADLINE_MS {
        return Err(invalid(format!(
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
        failed_cost: request.failed_cost,
    };
    let options = Options {
        optimizer: request.optimizer.unwrap_or_default(),
        deadline: Duration::from_millis(deadline_ms),
        lambda: request.lambda,
        ..Options::default()
    };
    recommend_run(state, run, options).await
}

/// The recommender's answer for `run`, with the promoted model of the moment: what `/v1/recommend` and
/// `/v1/remediate` both call, so that they recommend alike.
pub(crate) async fn recommend_run(
    state: &AppState,
    run: FailedRun,
    options: Options,
) -> ApiResult<Recommendation> {
    if let Some(url) = state
        .roles
        .recommend_url
        .clone()
        .filter(|_| !state.roles.plays(ServiceRole::Recommend))
    {
        let answer = tokio::task::spawn_blocking(move || remote(&url, &run, &options))
            .await
            .map_err(|error| {
                ApiError::Internal(format!("the recommendation task failed: {error}"))
            })??;
        state.metrics.record_recommendation(&answer);
        return Ok(answer);
    }
    let (recommender, problem) = state.recommender.current(&state.store).await?;
    // The search is CPU work of a few milliseconds: off the async workers.
    let mut answer = tokio::task::spawn_blocking(move || recommender.recommend(&run, &options))
        .await
        .map_err(|error| ApiError::Internal(format!("the recommendation task failed: {error}")))?
        .map_err(|error| match error {
            medic_recommend::Error::InvalidRequest(message) => invalid(message),
            other => ApiError::Internal(other.to_string()),
        })?;
    if let Some(problem) = problem {
        answer.notes.push(problem);
    }
    state.metrics.record_recommendation(&answer);
    Ok(answer)
}

/// The answer of the recommender at `url` (a server playing `recommend`), for a server that does not play it.
fn remote(url: &str, run: &FailedRun, options: &Options) -> ApiResult<Recommendation> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // The remote search honours the deadline; the rest is the network's share.
        .timeout_global(Some(options.deadline + Duration::from_secs(10)))
        .build()
        .into();
    let body = serde_json::json!({
        "job": run.job,
        "config": run.config,
        "category": run.category,
        "rule": run.rule,
        "input_bytes": run.input_bytes,
        "plan_operators": run.plan_operators,
        "failed_cost": run.failed_cost,
        "lambda": options.lambda,
        "optimizer": options.optimizer,
        "deadline_ms": options.deadline.as_millis() as u64,
    });
    let unreachable =
        |error: ureq::Error| ApiError::Internal(format!("the recommender at {url}: {error}"));
    let mut response = agent
        .post(&format!("{url}/v1/recommend"))
        .send_json(body)
        .map_err(unreachable)?;
    let status = response.status();
    let value: serde_json::Value = response.body_mut().read_json().map_err(unreachable)?;
    if !status.is_success() {
        let message = value
            .pointer("/error/message")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("no message")
            .to_owned();
        return Err(if status.as_u16() == 422 {
            invalid(message)
        } else {
            ApiError::Internal(format!(
                "the recommender at {url} answered {status}: {message}"
            ))
        });
    }
    serde_json::from_value(value)
        .map_err(|error| ApiError::Internal(format!("the recommender at {url}: {error}")))
}

/// Logs to classify.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyRequest {
    /// The job, for the rules scoped to it.
    pub job: JobIdentity,
    /// The run's logs.
    pub logs: Vec<LogText>,
}

/// `POST /v1/classify`: the classification of a run's logs with the server's rule packs. Reads only; needs no
/// token.
#[utoipa::path(post, path = "/v1/classify", request_body = ClassifyRequest, tag = "classify",
    responses(
        (status = 200, description = "The category, whether a plain retry helps, the rule and the evidence", body = Classification),
        (status = 422, description = "No logs", body = ErrorBody),
    ))]
pub async fn classify(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ClassifyRequest>,
) -> ApiResult<Json<Classification>> {
    let failure = FailureGiven {
        job: &request.job,
        classification: None,
        category: None,
        rule: None,
        logs: &request.logs,
    };
    if let Some(problem) = failure.problem() {
        return Err(invalid(problem));
    }
    Ok(Json(failure.classify(&state.rules)))
}

/// How a request names its failure: exactly one of its classification, its category (with the rule, if known) or
/// its logs. Shared by `/v1/recommend` and `/v1/remediate`, whose requests carry the same four fields.
pub(crate) struct FailureGiven<'a> {
    /// The job, for the rules scoped to it.
    pub job: &'a JobIdentity,
    /// The classification, as `medic classify --json` prints it.
    pub classification: Option<&'a Classification>,
    /// The category.
    pub category: Option<Category>,
    /// The rule that gave the category.
    pub rule: Option<&'a str>,
    /// The logs, to classify here.
    pub logs: &'a [LogText],
}

impl FailureGiven<'_> {
    /// Why the failure cannot be known from the request, if it cannot.
    pub fn problem(&self) -> Option<String> {
        let given = [
            self.classification.is_some(),
            self.category.is_some(),
            !self.logs.is_empty(),
        ]
        .iter()
        .filter(|given| **given)
        .count();
        (given != 1).then(|| {
            "give exactly one of `classification`, `category` (with `rule`) or `logs`".to_owned()
        })
    }

    /// The failure's classification: the one given; one made from the category given (whose `restartable` and
    /// summary are the named rule's when the server's rule packs have it for this job, else not restartable); or
    /// the logs classified with the server's rule packs, where rules scoped to the job apply. Call only when
    /// [`FailureGiven::problem`] found none.
    pub fn classify(&self, rules: &RuleSet) -> Classification {
        if let Some(classification) = self.classification {
            return classification.clone();
        }
        if let Some(category) = self.category {
            let known = self.rule.and_then(|name| {
                rules.rules().iter().find(|rule| {
                    rule.name == name
                        && rule.category == category
                        && rule.applies_to(Some(self.job))
                })
            });
            let mut classification = Classification::unclassified(ScanStats::default(), Vec::new());
            classification.category = category;
            classification.memory_config = category.is_memory_config();
            classification.rule = self.rule.map(str::to_owned);
            classification.restartable = known.is_some_and(|rule| rule.restartable);
            classification.summary = known.map_or_else(
                || format!("Given as {category} by the caller; no logs were classified."),
                |rule| rule.summary.clone(),
            );
            return classification;
        }
        let mut classifier = rules.classifier(Some(self.job));
        for (i, log) in self.logs.iter().enumerate() {
            classifier.scan_reader(log.source, &format!("logs[{i}]"), log.text.as_bytes());
        }
        classifier.finish()
    }
}

pub(crate) fn invalid(message: String) -> ApiError {
    ApiError::Invalid {
        code: "invalid_request",
        what: "request",
        problems: vec![message],
    }
}

//! Prometheus metrics: every request counted and timed by route and status, and what resolutions did.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    /// `retry` or `do_not_retry`.
    decision: String,
    /// The optimiser or `heuristic`/`none`.
    optimizer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RemediationLabels {
    /// `retry` or `do_not_retry`.
    decision: String,
    /// The guard-rail that stopped the retry, or `none`.
    guard: String,
    /// `true` in shadow mode, so that shadow decisions are told apart from acted-on ones.
    shadow: String,
}

/// The server's metrics registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    patches_applied: Counter,
    patches_skipped: Counter,
    recommendations: Family<DecisionLabels, Counter>,
    recommendation_evaluations: Histogram,
    remediations: Family<RemediationLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with medic's metrics, all at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("medic");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        // 50 µs .. ~3 s: resolutions take well under a millisecond, store writes a few (fsync).
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.000_05, 2.0, 16,
            ))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            latency.clone(),
        );
        let patches_applied = Counter::default();
        registry.register(
            "resolve_patches_applied",
            "Patches applied by configuration resolutions",
            patches_applied.clone(),
        );
        let patches_skipped = Counter::default();
        registry.register(
            "resolve_patches_skipped",
            "Patches that matched a resolution but could not apply",
            patches_skipped.clone(),
        );
        let recommendations = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "recommendations",
            "Recommendations by decision and optimiser",
            recommendations.clone(),
        );
        let recommendation_evaluations = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(1.0, 4.0, 10),
        );
        registry.register(
            "recommendation_model_evaluations",
            "Model evaluations per recommendation",
            recommendation_evaluations.clone(),
        );
        let remediations = Family::<RemediationLabels, Counter>::default();
        registry.register(
            "remediations",
            "Remediation decisions by decision, guard-rail and mode",
            remediations.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            patches_applied,
            patches_skipped,
            recommendations,
            recommendation_evaluations,
            remediations,
        }
    }

    /// Counts one remediation decision: retry or not, the guard-rail that stopped it (`None`: none did), and
    /// whether it was made in shadow mode.
    pub fn record_remediation(&self, retry: bool, guard: Option<&str>, shadow: bool) {
        self.remediations
            .get_or_create(&RemediationLabels {
                decision: if retry { "retry" } else { "do_not_retry" }.to_owned(),
                guard: guard.unwrap_or("none").to_owned(),
                shadow: shadow.to_string(),
            })
            .inc();
    }

    /// Counts what one resolution applied and skipped.
    pub fn record_resolution(&self, applied: usize, skipped: usize) {
        self.patches_applied.inc_by(applied as u64);
        self.patches_skipped.inc_by(skipped as u64);
    }

    /// Counts one recommendation by decision and optimiser.
    pub fn record_recommendation(&self, answer: &medic_recommend::Recommendation) {
        self.recommendations
            .get_or_create(&DecisionLabels {
                decision: if answer.retry {
                    "retry"
                } else {
                    "do_not_retry"
                }
                .to_owned(),
                optimizer: answer.optimizer.clone(),
            })
            .inc();
        self.recommendation_evaluations
            .observe(answer.evaluations as f64);
    }

    /// The metrics in the Prometheus (OpenMetrics) text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Middleware: counts and times every request, and logs it at debug level (method, route, status, time; never
/// headers, so never a token).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    // The route template (`/v1/patches/{id}`), not the path, so that ids do not explode the label space.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    tracing::debug!(%method, %route, status, micros = elapsed.as_micros() as u64, "request");
    response
}

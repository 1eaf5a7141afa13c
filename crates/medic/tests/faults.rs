//! The fault campaign: every parser of what users and their schedulers hand medic, fed mutated and random input,
//! must answer with a value or an error, never a panic; and the HTTP API must never answer 500 to a bad body.
//!
//! Property-based (`proptest`, stable Rust): each target starts from a real file of the project (the rule pack, a
//! workflow, a fleet, the search spaces, a benchmark file, a policy) or a valid request, and mutates it: a span of
//! the text replaced by random text drawn from YAML's and JSON's punctuation, letters, digits, control and
//! non-ASCII characters; or random text alone. CI runs 64 cases per target from a fixed seed (`PROPTEST_CASES`,
//! `PROPTEST_RNG_SEED` change them); `scripts/fuzz.sh CASES [SEED]` runs as many as asked from a new seed, in
//! release, and prints them per target.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use medic_core::clock::ManualClock;
use medic_core::patch::{Lifetime, Patch, PatchBody, PatchStatus, Provenance, Scope};
use medic_core::{JobIdentity, SparkConf};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use tower::ServiceExt;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path),
    )
    .unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Random text of the kind that breaks parsers: YAML and JSON punctuation, indentation, line ends, digits and
/// letters, control characters and non-ASCII.
fn hostile_text() -> impl Strategy<Value = String> {
    "[a-z0-9_ :\\-\\n\\t\"'{}\\[\\],.#&*!|>%@`$\\\\\u{0}\u{7}\u{1b}\u{85}é∞🦀]{0,200}"
}

/// `seed` with a span replaced by hostile text, or hostile text alone (one case in eight).
fn mutated(seed: String) -> impl Strategy<Value = String> {
    let length = seed.len();
    prop_oneof![
        1 => hostile_text(),
        7 => (0..=length, 0..=64usize, hostile_text()).prop_map(move |(start, span, text)| {
            let mut start = start;
            while !seed.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + span).min(seed.len());
            while !seed.is_char_boundary(end) {
                end += 1;
            }
            format!("{}{text}{}", &seed[..start], &seed[end..])
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: env_number("PROPTEST_CASES").map_or(64, |cases| cases as u32),
        // The same cases on every run unless a seed is given (`scripts/fuzz.sh` gives a new one and prints it), so
        // that CI is reproducible and a failure can be replayed.
        rng_seed: RngSeed::Fixed(env_number("PROPTEST_RNG_SEED").unwrap_or(20_261_203)),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn rule_packs(text in mutated(repo_file("rules/spark.yaml"))) {
        if let Ok(pack) = medic_rules::RulePack::parse("fuzz.yaml", &text) {
            // A pack that parses compiles or is refused with its problems.
            let _ = medic_rules::RuleSet::compile(vec![pack]);
        }
    }

    #[test]
    fn logs(bytes in proptest::collection::vec(any::<u8>(), 0..4096), gzip in any::<bool>()) {
        let mut bytes = bytes;
        if gzip {
            // Gzip's magic bytes in front of garbage: the reader must report, not panic.
            bytes.splice(0..0, [0x1f, 0x8b, 0x08, 0x00]);
        }
        let rules = builtin_rules();
        let mut classifier = rules.classifier(None);
        classifier.scan_reader(medic_core::LogSource::Stderr, "fuzz", bytes.as_slice());
        let _ = classifier.finish();
    }

    #[test]
    fn workflows(text in mutated(repo_file("examples/spark/workflow.yaml"))) {
        let _ = medic_scheduler::Workflow::parse("fuzz.yaml", &text, Path::new("/tmp"));
    }

    #[test]
    fn fleets(text in mutated(repo_file("crates/medic-sim/fleets/bursty.yaml"))) {
        let _ = medic_sim::FleetSpec::from_yaml(&text, "fuzz.yaml");
    }

    #[test]
    fn search_spaces(text in mutated(repo_file("crates/medic-recommend/spaces/spark.yaml"))) {
        let _ = medic_recommend::SearchSpaces::from_yaml(&text, "fuzz.yaml");
    }

    #[test]
    fn benchmark_files(text in mutated(repo_file("examples/spark/bench/tuning.yaml"))) {
        let _ = medic_bench::BenchFile::parse("fuzz.yaml", "tuning", &text, "/tmp".into());
    }

    #[test]
    fn policies(text in mutated("max_attempts_per_run: 3\nmax_retries_per_job_per_day: 5\nwindow_days: 14\nmargin: 0.2\n".to_owned())) {
        let _ = medic_service::RemediationPolicy::from_yaml(&text, "fuzz.yaml");
        let _ = medic_rightsize::RightsizePolicy::from_yaml(&text, "fuzz.yaml");
    }

    #[test]
    fn configurations(text in mutated("spark.executor.memory 4g\nspark.driver.memory=2g\\\n  x\\u00e9\n{\"spark.x\": \"1\"}\n".to_owned())) {
        // Every configuration read back from an output form it could be written in is the same configuration.
        for conf in [
            SparkConf::parse_any(&text),
            SparkConf::from_spark_defaults(&text),
            SparkConf::from_json(&text),
            SparkConf::from_conf_args(&text.lines().collect::<Vec<_>>()),
        ]
        .into_iter()
        .flatten()
        {
            if let Ok(defaults) = conf.to_spark_defaults() {
                prop_assert_eq!(SparkConf::from_spark_defaults(&defaults), Ok(conf.clone()), "{}", defaults);
            }
            if let Ok(lines) = conf.to_conf_lines() {
                prop_assert_eq!(SparkConf::parse_any(&lines), Ok(conf.clone()), "{}", lines);
            }
        }
    }

    #[test]
    fn patches(text in mutated(r#"[{"op": "replace", "path": "/spark.executor.memory", "value": "8g"}, {"op": "remove", "path": "/spark.x"}]"#.to_owned())) {
        if let Ok(body) = serde_json::from_str::<PatchBody>(&text) {
            let _ = body.validate();
            let _ = body.redacted();
            let patch = Patch {
                id: "p1".to_owned(),
                scope: Scope::job("rollup"),
                patch: body,
                lifetime: Lifetime::OneShot,
                provenance: Provenance::default(),
                created_at: time::macros::datetime!(2026-12-03 10:00 UTC),
                expires_at: None,
                status: PatchStatus::Active,
                version: 1,
            };
            let job = JobIdentity { id: "rollup".to_owned(), workflow: None, owner: None, cluster: None };
            let config = SparkConf::from_json(r#"{"spark.executor.memory": "4g", "spark.x": "1"}"#).expect("config");
            let _ = medic_core::patch::resolve(&config, &[patch], &job, time::macros::datetime!(2026-12-03 11:00 UTC));
        }
    }

    #[test]
    fn http_bodies((route, body) in (0..API_BODIES.len()).prop_flat_map(|route| (Just(route), mutated(API_BODIES[route].2.to_owned())))) {
        let (method, path, _) = API_BODIES[route];
        let (status, answer) = api().send(method, path, body.clone());
        prop_assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{method} {path} {body:?}: {answer}");
        if status.as_u16() >= 400 {
            let shape: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
            prop_assert!(shape["error"]["code"].is_string(), "{method} {path} {body:?}: {status} {answer}");
        }
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
}

fn builtin_rules() -> &'static medic_rules::RuleSet {
    static RULES: OnceLock<medic_rules::RuleSet> = OnceLock::new();
    RULES.get_or_init(|| medic_rules::RuleSet::builtin().expect("the built-in pack"))
}

/// A valid body for every operation that takes one, as the admin sends it.
const API_BODIES: [(&str, &str, &str); 8] = [
    (
        "POST",
        "/v1/patches",
        r#"{"scope": {"job": "rollup"}, "patch": {"spark.executor.memory": "8g"}, "lifetime": "one_shot", "reason": "fuzz"}"#,
    ),
    (
        "POST",
        "/v1/config/resolve",
        r#"{"job": {"id": "rollup", "workflow": "nightly"}, "config": {"spark.executor.memory": "4g"}}"#,
    ),
    (
        "POST",
        "/v1/runs",
        r#"{"job": {"id": "rollup"}, "applied": ["p1"], "outcome": "succeeded"}"#,
    ),
    (
        "POST",
        "/v1/classify",
        r#"{"job": {"id": "rollup"}, "logs": [{"source": "stderr", "text": "java.lang.OutOfMemoryError: Java heap space"}]}"#,
    ),
    (
        "POST",
        "/v1/recommend",
        r#"{"job": {"id": "rollup"}, "config": {"spark.executor.memory": "4g"}, "category": "executor_oom", "deadline_ms": 50}"#,
    ),
    (
        "POST",
        "/v1/remediate",
        r#"{"job": {"id": "rollup"}, "attempt": 1, "config": {"spark.executor.memory": "4g"}, "logs": [{"source": "stderr", "text": "java.lang.OutOfMemoryError: Java heap space"}]}"#,
    ),
    ("POST", "/v1/history", r#"{"records": []}"#),
    ("PUT", "/v1/mode", r#"{"shadow": false}"#),
];

const ADMIN: &str = "fuzz-admin-token-0123456789";

/// The API over a SQLite store, shared by every case, with its runtime.
struct Api {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    _database: medic_store::testing::TestDatabase,
}

fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (router, database) = runtime.block_on(async {
            let database = medic_store::testing::TestDatabase::create(
                medic_store::testing::TestBackend::Sqlite,
            )
            .await;
            let clock = Arc::new(ManualClock::new(
                time::macros::datetime!(2026-12-03 10:00 UTC),
            ));
            let store = medic_store::Store::open(database.url(), clock)
                .await
                .expect("store");
            let mut tokens = medic_server::Tokens::new();
            tokens
                .add("fuzz", medic_server::Role::Admin, ADMIN)
                .expect("token");
            (
                medic_server::app(medic_server::AppState::new(store, tokens)),
                database,
            )
        });
        Api {
            runtime,
            router,
            _database: database,
        }
    })
}

impl Api {
    fn send(&self, method: &str, path: &str, body: String) -> (StatusCode, String) {
        self.runtime.block_on(async {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .expect("request");
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("infallible");
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        })
    }
}

#[test]
fn the_valid_seeds_are_accepted() {
    // Mutating a valid input tests the parser's paths past the first line only if the seed itself parses.
    assert!(medic_rules::RulePack::parse("seed", &repo_file("rules/spark.yaml")).is_ok());
    assert!(
        medic_scheduler::Workflow::parse(
            "seed",
            &repo_file("examples/spark/workflow.yaml"),
            Path::new("/tmp")
        )
        .is_ok()
    );
    assert!(
        medic_sim::FleetSpec::from_yaml(&repo_file("crates/medic-sim/fleets/bursty.yaml"), "seed")
            .is_ok()
    );
    assert!(
        medic_recommend::SearchSpaces::from_yaml(
            &repo_file("crates/medic-recommend/spaces/spark.yaml"),
            "seed"
        )
        .is_ok()
    );
    for (method, path, body) in API_BODIES {
        let (status, answer) = api().send(method, path, body.to_owned());
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
    }
}

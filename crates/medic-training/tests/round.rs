//! Training rounds on a synthetic history with a known failure rule, against a real SQLite store: the first
//! model is registered and promoted; later rounds are compared with the promoted model on the records it has not
//! seen, or judged on the thresholds alone when there are too few.

use std::path::Path;
use std::sync::Arc;

use medic_core::clock::ManualClock;
use medic_core::history::RetryRecord;
use medic_model::synthetic::{SyntheticConfig, generate};
use medic_model::{PromotionPolicy, TrainConfig};
use medic_store::testing::{TestBackend, TestDatabase};
use medic_store::{ModelStatus, Store};
use medic_training::{Comparison, Round, RoundOptions, run_round, version_name};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-02-01 03:00 UTC);

fn history() -> Vec<RetryRecord> {
    generate(&SyntheticConfig::default(), 3_000)
}

fn options(out: &Path) -> RoundOptions {
    RoundOptions {
        config: TrainConfig {
            seed: 7,
            max_epochs: 15,
            ..TrainConfig::default()
        },
        holdout: 0.2,
        out: out.to_path_buf(),
        gate: PromotionPolicy::default(),
        promote: true,
    }
}

async fn store(database: &TestDatabase) -> Store {
    Store::open(database.url(), Arc::new(ManualClock::new(NOW)))
        .await
        .expect("store")
}

async fn round(
    store: &Store,
    records: &[RetryRecord],
    options: &RoundOptions,
    now: OffsetDateTime,
) -> Round {
    run_round(store, records.to_vec(), options, now, "test", |_, _| {})
        .await
        .expect("a round")
}

#[tokio::test]
async fn a_first_round_is_saved_registered_and_promoted() {
    let database = TestDatabase::create(TestBackend::Sqlite).await;
    let store = store(&database).await;
    let out = tempfile::tempdir().expect("dir");
    let options = options(out.path());

    let first = round(&store, &history(), &options, NOW).await;

    assert_eq!(first.version, "m20260201-030000-s7");
    assert_eq!(first.version, version_name(NOW, options.config.seed));
    assert_eq!(first.dir, out.path().join(&first.version));
    for file in [
        "weights.safetensors",
        "model.json",
        "loss.svg",
        "calibration.svg",
    ] {
        assert!(first.dir.join(file).is_file(), "{file} missing");
    }
    assert_eq!(first.metrics.rows, 600, "the latest 20 % audit the model");
    assert_eq!(first.comparison, Comparison::NoCurrentModel);
    assert!(first.verdict.promote, "{:?}", first.verdict.reasons);
    assert!(first.promoted);

    let entry = store.promoted_model().await.expect("read").expect("one");
    assert_eq!(entry.version, first.version);
    assert_eq!(entry.status, ModelStatus::Promoted);
    let canonical = std::fs::canonicalize(&first.dir).expect("canonical");
    assert_eq!(entry.artifact, canonical.display().to_string());
    assert!(Path::new(&entry.artifact).is_absolute());
    let description = &entry.description;
    let saved = medic_model::load(&first.dir).expect("the saved model loads");
    assert_eq!(
        description["description"],
        serde_json::to_value(&saved.description).expect("json"),
        "the registry holds the description saved with the model"
    );
    assert_eq!(description["description"]["metrics"]["rows"], 600);
    assert_eq!(description["verdict"]["promote"], true);
    assert_eq!(description["verdict"]["reasons"], serde_json::json!([]));
    assert!(description["comparison_with_current"].is_null());
}

#[tokio::test]
async fn a_later_round_is_compared_with_the_promoted_model_on_what_it_has_not_seen() {
    let database = TestDatabase::create(TestBackend::Sqlite).await;
    let store = store(&database).await;
    let out = tempfile::tempdir().expect("dir");
    let records = history();
    let options = options(out.path());

    // The first model learns from the older 60 %; the whole history's hold-out (the latest 20 %) is newer.
    let older = &records[..1_800];
    let first = round(&store, older, &options, NOW).await;
    assert!(first.promoted, "{:?}", first.verdict.reasons);

    // A negative tolerance makes any candidate "worse than the current model" on every measure: the comparison,
    // not the thresholds, keeps it from promotion.
    let strict = RoundOptions {
        gate: PromotionPolicy {
            tolerance: -1.0,
            ..options.gate
        },
        ..options.clone()
    };
    let later = NOW + time::Duration::days(1);
    let second = round(&store, &records, &strict, later).await;

    let Comparison::Compared {
        version,
        records: compared,
        candidate,
        current,
    } = &second.comparison
    else {
        panic!("not compared: {:?}", second.comparison);
    };
    assert_eq!(version, &first.version);
    assert_eq!(
        *compared, 600,
        "every hold-out record is newer than the first model's data"
    );
    assert_eq!(candidate.rows, 600);
    assert_eq!(current.rows, 600);
    assert!(!second.verdict.promote);
    assert!(!second.promoted);
    let worse: Vec<&String> = second
        .verdict
        .reasons
        .iter()
        .filter(|reason| reason.contains("worse than the current model's"))
        .collect();
    assert_eq!(worse.len(), 3, "{:?}", second.verdict.reasons);

    let promoted = store.promoted_model().await.expect("read").expect("one");
    assert_eq!(promoted.version, first.version, "the current model stays");
    let entry = store
        .model(&second.version)
        .await
        .expect("read")
        .expect("registered");
    assert_eq!(entry.status, ModelStatus::Candidate);
    let comparison = &entry.description["comparison_with_current"];
    assert_eq!(comparison["records"], 600);
    assert_eq!(comparison["candidate"]["rows"], 600);
    assert_eq!(comparison["current"]["rows"], 600);
    assert_eq!(entry.description["verdict"]["promote"], false);

    // The first model's own training records again, a day later: it learned from all of their hold-out, so the
    // candidate is judged on the thresholds alone.
    let seen = &older[..1_440];
    let third = round(&store, seen, &options, later + time::Duration::days(1)).await;
    assert_eq!(
        third.comparison,
        Comparison::TooFewUnseen {
            version: first.version.clone(),
            records: 0
        }
    );
    assert_eq!(third.verdict, options.gate.judge(&third.metrics, None));
    assert!(third.promoted, "{:?}", third.verdict.reasons);
    let entry = store.promoted_model().await.expect("read").expect("one");
    assert_eq!(entry.version, third.version);
    let note = entry.description["comparison_with_current"]["note"]
        .as_str()
        .expect("a note");
    assert!(note.ends_with("judged on the thresholds alone"), "{note}");
    let retired = store
        .model(&first.version)
        .await
        .expect("read")
        .expect("registered");
    assert_eq!(retired.status, ModelStatus::Retired);
}

//! The same suite against both backends: SQLite in a temporary file, and the real PostgreSQL server, each test in
//! a fresh database ([`medic_store::testing`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use medic_core::clock::ManualClock;
use medic_core::history::{AttemptEntry, RetryRecord, RunMetrics};
use medic_core::patch::{Lifetime, PatchBody, PatchStatus, Provenance, Scope};
use medic_core::{Category, JobIdentity, RunOutcome, SparkConf};
use medic_store::testing::{TestBackend, TestDatabase};
use medic_store::{
    AttemptFilter, JobPatchesRead, ModelStatus, NewModel, NewPatch, PatchFilter, PatchWrite,
    RecordFilter, Store, StoreError,
};
use time::macros::datetime;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(datetime!(2026-11-22 10:00 UTC)))
}

async fn open(backend: TestBackend, clock: Arc<ManualClock>) -> (Store, TestDatabase) {
    let database = TestDatabase::create(backend).await;
    let store = Store::open(database.url(), clock)
        .await
        .expect("store opens");
    (store, database)
}

fn new_patch(scope: Scope, body: serde_json::Value) -> NewPatch {
    NewPatch {
        scope,
        patch: serde_json::from_value::<PatchBody>(body).expect("body"),
        lifetime: Lifetime::UntilSuccess,
        provenance: Provenance {
            reason: Some("test".into()),
            ..Provenance::default()
        },
        expires_at: None,
    }
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let clock = super::clock();
                    let (store, _database) = super::open(super::TestBackend::Sqlite, clock.clone()).await;
                    super::$name(store, clock).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let clock = super::clock();
                    let (store, _database) = super::open(super::TestBackend::Postgres, clock.clone()).await;
                    super::$name(store, clock).await;
                }
            )*
        }
    };
}

both_backends!(
    created_patches_read_back_identically,
    resolution_applies_matching_patches_in_scope_order,
    stale_versions_are_refused,
    concurrent_writers_lose_no_update,
    every_change_is_audited,
    lists_filter_by_job_and_status,
    runs_consume_one_shot_and_until_success_patches,
    history_is_written_all_or_nothing_and_read_in_time_order,
    one_model_version_is_promoted_at_a_time,
    attempts_read_back_whole_by_job_and_outcome,
    a_write_decided_on_changed_patches_writes_nothing,
    a_job_has_at_most_one_active_medic_patch,
    every_query_of_one_job_reads_an_index,
);

async fn created_patches_read_back_identically(store: Store, _clock: Arc<ManualClock>) {
    let created = store
        .create_patch(
            new_patch(
                Scope::job("rollup"),
                serde_json::json!([{"op": "add", "path": "/spark.executor.memory", "value": "8g"}]),
            ),
            "alice",
        )
        .await
        .expect("create");
    assert_eq!((created.version, created.status), (1, PatchStatus::Active));
    let read = store
        .patch(&created.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(read, created);
    assert!(store.patch("p999999").await.expect("read").is_none());
    assert!(store.patch("not-an-id").await.expect("read").is_none());
}

async fn resolution_applies_matching_patches_in_scope_order(store: Store, clock: Arc<ManualClock>) {
    let job = JobIdentity {
        id: "rollup".into(),
        workflow: Some("nightly".into()),
        owner: Some("data-eng".into()),
        cluster: None,
    };
    store
        .create_patch(
            new_patch(
                Scope::job("rollup"),
                serde_json::json!({"spark.executor.memory": "8g"}),
            ),
            "medic",
        )
        .await
        .expect("create");
    clock.advance(time::Duration::minutes(1));
    store
        .create_patch(
            new_patch(
                Scope {
                    owner: Some("data-eng".into()),
                    ..Scope::default()
                },
                serde_json::json!({"spark.executor.memory": "6g", "spark.executor.cores": "4"}),
            ),
            "medic",
        )
        .await
        .expect("create");
    store
        .create_patch(
            new_patch(
                Scope::job("hourly"),
                serde_json::json!({"spark.executor.memory": "1g"}),
            ),
            "medic",
        )
        .await
        .expect("create");
    let failing = store
        .create_patch(new_patch(Scope::default(), serde_json::json!([{"op": "test", "path": "/spark.executor.memory", "value": "2g"}])), "medic")
        .await
        .expect("create");
    let original = SparkConf::from_spark_defaults("spark.executor.memory 4g\n").expect("conf");
    let resolution = store.resolve(&job, &original).await.expect("resolve");
    assert_eq!(resolution.applied, ["p2", "p1"]);
    assert_eq!(resolution.config.get("spark.executor.memory"), Some("8g"));
    assert_eq!(resolution.config.get("spark.executor.cores"), Some("4"));
    assert_eq!(resolution.skipped.len(), 1);
    assert_eq!(resolution.skipped[0].id, failing.id);
}

async fn stale_versions_are_refused(store: Store, _clock: Arc<ManualClock>) {
    let patch = store
        .create_patch(
            new_patch(Scope::job("rollup"), serde_json::json!({"spark.a": "1"})),
            "alice",
        )
        .await
        .expect("create");
    let revoked = store.revoke(&patch.id, 1, "bob").await.expect("revoke");
    assert_eq!((revoked.status, revoked.version), (PatchStatus::Revoked, 2));
    match store.revoke(&patch.id, 1, "carol").await {
        Err(StoreError::VersionConflict {
            expected: 1,
            current: 2,
            ..
        }) => {}
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert!(matches!(
        store.revoke("p424242", 1, "dave").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn concurrent_writers_lose_no_update(store: Store, _clock: Arc<ManualClock>) {
    // 32 writers each move the same patch through as many versions as they can, reading the current version and
    // retrying on conflict: every successful update must be counted exactly once in the final version.
    let patch = store
        .create_patch(
            new_patch(Scope::job("rollup"), serde_json::json!({"spark.a": "1"})),
            "setup",
        )
        .await
        .expect("create");
    let successes = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for writer in 0..32 {
        let store = store.clone();
        let id = patch.id.clone();
        let successes = successes.clone();
        writers.push(tokio::spawn(async move {
            let mut done = 0;
            while done < 3 {
                let current = store.patch(&id).await.expect("read").expect("exists");
                let next = if current.status == PatchStatus::Active {
                    PatchStatus::Superseded
                } else {
                    PatchStatus::Active
                };
                match store
                    .set_status(&id, current.version, next, &format!("writer-{writer}"))
                    .await
                {
                    Ok(_) => {
                        done += 1;
                        successes.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(StoreError::VersionConflict { .. }) => {}
                    Err(e) => panic!("writer {writer}: {e}"),
                }
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer finished");
    }
    let final_version = store
        .patch(&patch.id)
        .await
        .expect("read")
        .expect("exists")
        .version;
    assert_eq!(successes.load(Ordering::SeqCst), 96);
    assert_eq!(final_version, 1 + 96, "an acknowledged update was lost");
    let audited = store.audit(1000).await.expect("audit");
    assert_eq!(audited.len(), 1 + 96);
}

async fn every_change_is_audited(store: Store, clock: Arc<ManualClock>) {
    let patch = store
        .create_patch(
            new_patch(Scope::job("rollup"), serde_json::json!({"spark.a": "1"})),
            "alice",
        )
        .await
        .expect("create");
    clock.advance(time::Duration::hours(1));
    store.revoke(&patch.id, 1, "bob").await.expect("revoke");
    let entries = store.audit(10).await.expect("audit");
    let summary: Vec<(&str, &str, Option<&str>)> = entries
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.patch_id.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("bob", "revoke", Some("p1")),
            ("alice", "create", Some("p1"))
        ]
    );
    assert_eq!(entries[0].at, datetime!(2026-11-22 11:00 UTC));
    assert_eq!(entries[1].detail["scope"]["job"], "rollup");
}

async fn lists_filter_by_job_and_status(store: Store, _clock: Arc<ManualClock>) {
    for job in ["a", "b", "a"] {
        store
            .create_patch(
                new_patch(Scope::job(job), serde_json::json!({"spark.x": "1"})),
                "t",
            )
            .await
            .expect("create");
    }
    store.revoke("p3", 1, "t").await.expect("revoke");
    let all = store
        .list_patches(&PatchFilter::default())
        .await
        .expect("list");
    assert_eq!(all.len(), 3);
    let a = store
        .list_patches(&PatchFilter {
            job: Some("a".into()),
            status: None,
        })
        .await
        .expect("list");
    assert_eq!(
        a.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["p1", "p3"]
    );
    let active_a = store
        .list_patches(&PatchFilter {
            job: Some("a".into()),
            status: Some(PatchStatus::Active),
        })
        .await
        .expect("list");
    assert_eq!(
        active_a.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["p1"]
    );
}

async fn runs_consume_one_shot_and_until_success_patches(store: Store, _clock: Arc<ManualClock>) {
    let job = JobIdentity::new("rollup");
    let mut ids = Vec::new();
    for (key, lifetime) in [
        ("spark.a", Lifetime::OneShot),
        ("spark.b", Lifetime::UntilSuccess),
        ("spark.c", Lifetime::Persistent),
    ] {
        let mut new = new_patch(Scope::job("rollup"), serde_json::json!({ key: "1" }));
        new.lifetime = lifetime;
        ids.push(store.create_patch(new, "alice").await.expect("create").id);
    }
    let other_job = store
        .create_patch(
            NewPatch {
                lifetime: Lifetime::OneShot,
                ..new_patch(Scope::job("hourly"), serde_json::json!({"spark.d": "1"}))
            },
            "alice",
        )
        .await
        .expect("create");
    let mut reported = ids.clone();
    reported.push(other_job.id.clone());
    reported.push("p999999".to_owned());

    // A failed run uses up the one-shot patch only; a patch of another job named in the report is left alone.
    let consumed = store
        .record_run(&job, &reported, RunOutcome::Failed, "scheduler")
        .await
        .expect("failed run");
    let consumed: Vec<&str> = consumed.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(consumed, [ids[0].as_str()]);
    let resolution = store
        .resolve(&job, &SparkConf::new())
        .await
        .expect("resolve");
    assert_eq!(resolution.applied, [ids[1].clone(), ids[2].clone()]);

    // A success uses up the until-success patch; the persistent one stays; repeating the report changes nothing.
    let consumed = store
        .record_run(&job, &reported, RunOutcome::Succeeded, "scheduler")
        .await
        .expect("successful run");
    assert_eq!(consumed.len(), 1);
    assert_eq!(consumed[0].id, ids[1]);
    assert_eq!(consumed[0].status, PatchStatus::Consumed);
    assert!(
        store
            .record_run(&job, &reported, RunOutcome::Succeeded, "scheduler")
            .await
            .expect("repeat")
            .is_empty()
    );
    let resolution = store
        .resolve(&job, &SparkConf::new())
        .await
        .expect("resolve");
    assert_eq!(resolution.applied, [ids[2].clone()]);
    let other = store
        .patch(&other_job.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(other.status, PatchStatus::Active);
}

fn retry_record(index: u32) -> RetryRecord {
    let mut config = SparkConf::new();
    config.set("spark.executor.memory", format!("{}m", 1024 + index));
    RetryRecord {
        job: JobIdentity {
            id: format!("job-{}", index % 7),
            workflow: index.is_multiple_of(2).then(|| "nightly".to_owned()),
            owner: Some("data-eng".to_owned()),
            cluster: None,
        },
        config,
        failure_category: if index.is_multiple_of(3) {
            Category::Unclassified
        } else {
            Category::ExecutorOom
        },
        failure_rule: (!index.is_multiple_of(3)).then(|| "java-heap-space".to_owned()),
        input_bytes: Some(u64::from(index) << 20),
        plan_operators: vec!["SortMergeJoin".to_owned(), "Exchange".to_owned()],
        outcome: if index.is_multiple_of(4) {
            RunOutcome::Failed
        } else {
            RunOutcome::Succeeded
        },
        cost_dollars: f64::from(index) / 100.0,
        runtime_seconds: 60.0 + f64::from(index),
        peak_memory_bytes: index.is_multiple_of(5).then_some(u64::from(index) << 24),
        // Written out of time order, with fractions of a second and several offsets: reads must come back sorted
        // by the instant, not by the text of the time.
        at: (datetime!(2026-11-01 00:00 UTC)
            + time::Duration::seconds(i64::from((index * 7919) % 2500))
            + time::Duration::milliseconds(i64::from(index % 3) * 250))
        .to_offset(if index.is_multiple_of(5) {
            time::macros::offset!(+2)
        } else {
            time::macros::offset!(-7)
        }),
    }
}

async fn history_is_written_all_or_nothing_and_read_in_time_order(
    store: Store,
    _clock: Arc<ManualClock>,
) {
    // More records than one INSERT statement holds.
    let records: Vec<RetryRecord> = (0..2500).map(retry_record).collect();
    assert_eq!(store.add_records(&records).await.expect("add"), 2500);
    let mut expected = records.clone();
    expected.sort_by_key(|record| record.at);
    let read = store.records(&RecordFilter::default()).await.expect("read");
    assert_eq!(read, expected);

    let since = datetime!(2026-11-01 00:10 UTC);
    let until = datetime!(2026-11-01 00:20 UTC);
    let window = store
        .records(&RecordFilter {
            since: Some(since),
            until: Some(until),
        })
        .await
        .expect("window");
    assert_eq!(window.len(), 600);
    assert!(
        window
            .iter()
            .all(|record| record.at >= since && record.at < until)
    );

    // One bad record refuses the whole batch, and says which.
    let mut batch: Vec<RetryRecord> = (2500..2510).map(retry_record).collect();
    batch[7].runtime_seconds = f64::NAN;
    match store.add_records(&batch).await {
        Err(StoreError::Invalid { problems, .. }) => {
            assert_eq!(problems.len(), 1);
            assert!(problems[0].starts_with("record 8:"), "{problems:?}");
        }
        other => panic!("expected the batch to be refused, got {other:?}"),
    }
    assert_eq!(store.record_count().await.expect("count"), 2500);
}

async fn one_model_version_is_promoted_at_a_time(store: Store, clock: Arc<ManualClock>) {
    for version in ["m1", "m2"] {
        clock.advance(time::Duration::minutes(1));
        let entry = store
            .register_model(
                NewModel {
                    version: version.to_owned(),
                    artifact: format!("models/{version}"),
                    description: serde_json::json!({"metrics": {"auc": 0.97}}),
                },
                "trainer",
            )
            .await
            .expect("register");
        assert_eq!(entry.status, ModelStatus::Candidate);
    }
    assert!(matches!(
        store
            .register_model(
                NewModel {
                    version: "m1".into(),
                    artifact: "x".into(),
                    description: serde_json::json!({})
                },
                "trainer"
            )
            .await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(store.promoted_model().await.expect("read").is_none());
    store
        .promote_model("m1", "oncall")
        .await
        .expect("promote m1");
    let promoted = store
        .promote_model("m2", "oncall")
        .await
        .expect("promote m2");
    assert_eq!(promoted.status, ModelStatus::Promoted);
    let statuses: Vec<(String, ModelStatus)> = store
        .models()
        .await
        .expect("list")
        .into_iter()
        .map(|m| (m.version, m.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("m1".to_owned(), ModelStatus::Retired),
            ("m2".to_owned(), ModelStatus::Promoted)
        ]
    );
    assert!(matches!(
        store.promote_model("m9", "oncall").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store
            .promoted_model()
            .await
            .expect("read")
            .map(|m| m.version),
        Some("m2".to_owned())
    );
}

/// An attempt of `job` at `minute` past midnight; even attempts succeed.
fn attempt_entry(job: &str, attempt: u32, minute: i64) -> AttemptEntry {
    let succeeded = attempt.is_multiple_of(2);
    let mut config = SparkConf::new();
    config.set("spark.master", "local[2]");
    config.set("spark.driver.memory", format!("{}m", 512 * attempt));
    AttemptEntry {
        job: JobIdentity {
            id: job.to_owned(),
            workflow: Some("spark-examples".to_owned()),
            owner: None,
            cluster: Some("local".to_owned()),
        },
        attempt,
        config,
        applied_patches: if attempt > 1 {
            vec!["p1".to_owned()]
        } else {
            Vec::new()
        },
        outcome: if succeeded {
            RunOutcome::Succeeded
        } else {
            RunOutcome::Failed
        },
        exit_code: Some(if succeeded { 0 } else { 52 }),
        timed_out: false,
        failure_category: (!succeeded).then_some(Category::ExecutorOom),
        failure_rule: (!succeeded).then(|| "executor-task-oom".to_owned()),
        follows_category: (attempt > 1).then_some(Category::ExecutorOom),
        decision: if succeeded { "succeeded" } else { "retry" }.to_owned(),
        reason: "a reason, with \"quotes\" and ünïcode".to_owned(),
        recommended_changes: if succeeded {
            Default::default()
        } else {
            [
                ("spark.driver.memory".to_owned(), Some("1024m".to_owned())),
                ("spark.memory.fraction".to_owned(), None),
            ]
            .into()
        },
        patch_id: (!succeeded).then(|| "p1".to_owned()),
        runtime_seconds: 21.25,
        cost_dollars: 0.000_123,
        peak_memory_bytes: Some(u64::from(attempt) << 28),
        metrics: succeeded.then(|| RunMetrics {
            app_runtime_seconds: Some(15.5),
            tasks: 4,
            peak_jvm_heap_bytes: Some(u64::from(attempt) << 28),
            peak_driver_heap_bytes: Some(u64::from(attempt) << 28),
            gc_time_ms: 266,
            ..RunMetrics::default()
        }),
        at: datetime!(2026-11-22 00:00:00.123456 UTC) + time::Duration::minutes(minute),
    }
}

async fn attempts_read_back_whole_by_job_and_outcome(store: Store, _clock: Arc<ManualClock>) {
    let entries = [
        attempt_entry("spark.collect", 1, 1),
        attempt_entry("spark.collect", 2, 2),
        attempt_entry("spark.acquire", 1, 3),
        attempt_entry("spark.acquire", 2, 4),
        attempt_entry("spark.collect", 4, 5),
    ];
    // Written out of time order: reads come back by time.
    for entry in entries.iter().rev() {
        store.add_attempt(entry).await.expect("add");
    }
    let all = store
        .attempts(&AttemptFilter::default())
        .await
        .expect("read");
    assert_eq!(all, entries);

    let succeeded = store
        .attempts(&AttemptFilter {
            job: Some("spark.collect".to_owned()),
            outcome: Some(RunOutcome::Succeeded),
            ..AttemptFilter::default()
        })
        .await
        .expect("read");
    assert_eq!(succeeded, [entries[1].clone(), entries[4].clone()]);
    let newest = store
        .attempts(&AttemptFilter {
            job: Some("spark.collect".to_owned()),
            limit: Some(1),
            ..AttemptFilter::default()
        })
        .await
        .expect("read");
    assert_eq!(newest, [entries[4].clone()]);
    let window = store
        .attempts(&AttemptFilter {
            since: Some(entries[1].at),
            until: Some(entries[3].at),
            ..AttemptFilter::default()
        })
        .await
        .expect("read");
    assert_eq!(window, entries[1..3]);

    // An invalid entry is refused with every problem, and nothing is stored.
    let mut bad = attempt_entry("", 0, 6);
    bad.decision = "maybe".to_owned();
    bad.cost_dollars = -1.0;
    match store.add_attempt(&bad).await {
        Err(StoreError::Invalid { what, problems }) => {
            assert_eq!(what, "attempt");
            assert_eq!(problems.len(), 4, "{problems:?}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        store
            .attempts(&AttemptFilter::default())
            .await
            .expect("read")
            .len(),
        5
    );
}

fn medics_patch(job: &str, memory: &str) -> NewPatch {
    NewPatch {
        provenance: Provenance {
            created_by: Some("medic".into()),
            ..Provenance::default()
        },
        ..new_patch(
            Scope::job(job),
            serde_json::json!({"spark.executor.memory": memory}),
        )
    }
}

async fn job_patches(store: &Store, job: &str) -> Vec<medic_core::patch::Patch> {
    store
        .list_patches(&PatchFilter {
            job: Some(job.into()),
            status: None,
        })
        .await
        .expect("list")
}

/// A write decided on a job's patches is made only if they are still as read: another writer's change in between
/// (a patch created, a status changed) makes it write nothing, and a write decided on what is there now goes in.
async fn a_write_decided_on_changed_patches_writes_nothing(store: Store, _clock: Arc<ManualClock>) {
    let decided = |read: &[medic_core::patch::Patch], memory: &str| PatchWrite {
        decided_on: Some(JobPatchesRead::of("rollup", read)),
        create: Some(medics_patch("rollup", memory)),
        supersede_same_origin: true,
        ..PatchWrite::default()
    };
    // Another job's patches do not matter.
    store
        .create_patch(
            new_patch(Scope::job("ingest"), serde_json::json!({"spark.a": "1"})),
            "t",
        )
        .await
        .expect("create");
    let empty = job_patches(&store, "rollup").await;
    store
        .write_patches(decided(&empty, "4g"), "medic")
        .await
        .expect("decided on what is there");
    let read = job_patches(&store, "rollup").await;
    assert_eq!(read.len(), 1);

    // A write decided on the empty job now is stale: it writes nothing.
    let stale = store.write_patches(decided(&empty, "8g"), "medic").await;
    assert!(
        matches!(stale, Err(StoreError::JobChanged { ref job, .. }) if job == "rollup"),
        "{stale:?}"
    );
    // So is one decided before a status change.
    store.revoke(&read[0].id, 1, "alice").await.expect("revoke");
    let stale = store.write_patches(decided(&read, "8g"), "medic").await;
    assert!(
        matches!(stale, Err(StoreError::JobChanged { .. })),
        "{stale:?}"
    );
    assert_eq!(
        job_patches(&store, "rollup").await.len(),
        1,
        "nothing written"
    );

    let now = job_patches(&store, "rollup").await;
    let written = store
        .write_patches(decided(&now, "8g"), "medic")
        .await
        .expect("decided on what is there now");
    assert!(written.created.is_some());
}

/// The database holds the invariant itself: a second active medic patch for a job is refused unless the older one
/// is superseded in the same write; other origins and other jobs are not limited.
async fn a_job_has_at_most_one_active_medic_patch(store: Store, _clock: Arc<ManualClock>) {
    let first = store
        .create_patch(medics_patch("rollup", "4g"), "medic")
        .await
        .expect("the first");
    let second = store
        .create_patch(medics_patch("rollup", "8g"), "medic")
        .await;
    assert!(
        matches!(second, Err(StoreError::JobChanged { ref job, ref why }) if job == "rollup" && why.contains("at most one")),
        "{second:?}"
    );
    store
        .create_patch(medics_patch("ingest", "8g"), "medic")
        .await
        .expect("another job");
    store
        .create_patch(
            new_patch(Scope::job("rollup"), serde_json::json!({"spark.a": "1"})),
            "alice",
        )
        .await
        .expect("another origin");
    let written = store
        .write_patches(
            PatchWrite {
                create: Some(medics_patch("rollup", "8g")),
                supersede_same_origin: true,
                ..PatchWrite::default()
            },
            "medic",
        )
        .await
        .expect("superseding the older one");
    assert_eq!(written.superseded, [first.id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_4_supersedes_duplicate_medic_patches_on_sqlite() {
    migration_4_supersedes_duplicate_medic_patches(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_4_supersedes_duplicate_medic_patches_on_postgres() {
    migration_4_supersedes_duplicate_medic_patches(TestBackend::Postgres).await;
}

/// A database an older medic left with two active medic patches for a job (its flow did not lock): opening it
/// supersedes all but the newest, audited, and leaves every other patch as it was.
async fn migration_4_supersedes_duplicate_medic_patches(backend: TestBackend) {
    let database = TestDatabase::create(backend).await;
    let rows: Vec<String> = [
        ("rollup", "medic", "4g"),
        ("rollup", "alice", "1g"),
        ("rollup", "medic", "8g"),
        ("ingest", "medic", "2g"),
    ]
    .iter()
    .map(|(job, created_by, memory)| {
        format!(
            "INSERT INTO patches (scope_job, body, lifetime, provenance, created_at, status, version) VALUES \
             ('{job}', '{{\"spark.executor.memory\":\"{memory}\"}}', 'until_success', \
             '{{\"created_by\":\"{created_by}\"}}', '2026-11-22T09:00:00Z', 'active', 1);"
        )
    })
    .collect();
    medic_store::testing::migrate_first(database.url(), 3).await;
    medic_store::testing::execute(database.url(), &rows.join("\n")).await;
    let clock = clock();
    let store = Store::open(database.url(), clock).await.expect("migrated");
    let statuses: Vec<(String, PatchStatus, u64)> = job_patches(&store, "rollup")
        .await
        .into_iter()
        .chain(job_patches(&store, "ingest").await)
        .map(|patch| (patch.id, patch.status, patch.version))
        .collect();
    assert_eq!(
        statuses,
        [
            ("p1".to_owned(), PatchStatus::Superseded, 2),
            ("p2".to_owned(), PatchStatus::Active, 1),
            ("p3".to_owned(), PatchStatus::Active, 1),
            ("p4".to_owned(), PatchStatus::Active, 1),
        ]
    );
    let newest = &store.audit(1).await.expect("audit")[0];
    assert_eq!(
        (
            newest.actor.as_str(),
            newest.action.as_str(),
            newest.patch_id.as_deref()
        ),
        ("medic-migration", "supersede", Some("p1"))
    );
    assert_eq!(newest.detail["from_version"], 1);
}

/// Each query of one job's rows is planned on an index, on both databases, so that the remediation flow's reads
/// do not grow with other jobs' history.
async fn every_query_of_one_job_reads_an_index(store: Store, _clock: Arc<ManualClock>) {
    let plans = medic_store::testing::per_job_query_plans(&store).await;
    assert_eq!(plans.len(), 6);
    for (name, plan) in plans {
        let reads_a_table_whole = ["SCAN patches", "SCAN attempts", "Seq Scan"]
            .iter()
            .any(|scan| plan.contains(scan));
        assert!(!reads_a_table_whole, "{name}: {plan}");
        assert!(
            plan.contains("INDEX") || plan.contains("Index"),
            "{name}: {plan}"
        );
    }
}

//! The remediation flow over a real store, on SQLite and on the PostgreSQL server: what it writes, and that a
//! failure before the write (the recommender's) leaves the job's patches and the audit trail as they were.

use std::sync::Arc;

use medic_api::{Guard, RemediateRequest};
use medic_core::clock::ManualClock;
use medic_core::history::AttemptEntry;
use medic_core::patch::{Lifetime, PatchBody, PatchStatus, Provenance, Scope};
use medic_core::recommendation::{FailedRun, Recommendation};
use medic_core::sizing::{RightsizeEvidence, SizedSetting};
use medic_core::{Category, JobIdentity, RunOutcome, SparkConf};
use medic_recommend::Options;
use medic_service::{BoxFuture, Error, MEDIC, Recommend, Service};
use medic_store::testing::{TestBackend, TestDatabase};
use medic_store::{NewPatch, PatchFilter, Store};
use time::macros::datetime;

const JOB: &str = "nightly.rollup";

/// A recommender that always fails, as a crashed model or an unreachable remote one would.
#[derive(Debug)]
struct FailingRecommender;

impl Recommend for FailingRecommender {
    fn recommend(
        &self,
        _run: FailedRun,
        _options: Options,
    ) -> BoxFuture<'_, medic_service::Result<Recommendation>> {
        Box::pin(async { Err(Error::Internal("the model crashed".to_owned())) })
    }
}

/// A recommender that answers "retry with `config`", as an older or remote recommender that knows nothing of the
/// run's earlier attempts might.
#[derive(Debug)]
struct FixedRecommender {
    config: SparkConf,
}

impl Recommend for FixedRecommender {
    fn recommend(
        &self,
        run: FailedRun,
        _options: Options,
    ) -> BoxFuture<'_, medic_service::Result<Recommendation>> {
        let config = self.config.clone();
        Box::pin(async move {
            Ok(Recommendation {
                retry: true,
                changes: medic_recommend::recommend::changes(&run.config, &config),
                config: Some(config),
                predicted: None,
                lambda: 0.1,
                optimizer: "heuristic".to_owned(),
                evaluations: 0,
                elapsed_ms: 0.0,
                model_version: None,
                heuristic: Some("fixed".to_owned()),
                alternatives: Vec::new(),
                reason: "a fixed answer".to_owned(),
                category: run.category,
                stopped_by: None,
                notes: Vec::new(),
            })
        })
    }
}

async fn service(backend: TestBackend) -> (Service, TestDatabase) {
    let database = TestDatabase::create(backend).await;
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-22 10:00 UTC)));
    let store = Store::open(database.url(), clock)
        .await
        .expect("store opens");
    (Service::new(store), database)
}

fn conf(pairs: &[(&str, &str)]) -> SparkConf {
    let mut conf = SparkConf::new();
    for (key, value) in pairs {
        conf.set(*key, *value);
    }
    conf
}

/// The job's right-size (a persistent patch with evidence) and an older patch of medic's, as the store would have
/// them before the job's next memory failure.
async fn right_sized_job(store: &Store) -> (String, String) {
    let evidence = RightsizeEvidence {
        estimator: "autopilot".to_owned(),
        window_days: 14,
        runs: 5,
        settings: vec![SizedSetting {
            key: "spark.executor.memory".to_owned(),
            original_bytes: 8 << 30,
            requested_bytes: 8 << 30,
            used_bytes: 2 << 30,
            estimate_bytes: 3 << 30,
            recommended_bytes: 4 << 30,
        }],
        saving_per_month: 1.0,
    };
    let merge = |key: &str, value: &str| {
        PatchBody::MergePatch(serde_json::Map::from_iter([(
            key.to_owned(),
            serde_json::Value::String(value.to_owned()),
        )]))
    };
    let rightsize = store
        .create_patch(
            NewPatch {
                scope: Scope::job(JOB),
                patch: merge("spark.executor.memory", "4g"),
                lifetime: Lifetime::Persistent,
                provenance: Provenance {
                    created_by: Some("medic-rightsize".to_owned()),
                    rightsize: Some(evidence),
                    ..Provenance::default()
                },
                expires_at: None,
            },
            "medic-rightsize",
        )
        .await
        .expect("right-size stored");
    let older = store
        .create_patch(
            NewPatch {
                scope: Scope::job(JOB),
                patch: merge("spark.executor.memoryOverhead", "1g"),
                lifetime: Lifetime::UntilSuccess,
                provenance: Provenance {
                    created_by: Some(MEDIC.to_owned()),
                    ..Provenance::default()
                },
                expires_at: None,
            },
            "medic",
        )
        .await
        .expect("older patch stored");
    (rightsize.id, older.id)
}

fn heap_oom() -> RemediateRequest {
    RemediateRequest {
        job: JobIdentity::new(JOB),
        attempt: 1,
        max_attempts: Some(3),
        config: conf(&[
            ("spark.executor.memory", "4g"),
            ("spark.executor.memoryOverhead", "1g"),
        ]),
        classification: None,
        category: Some(Category::ExecutorOom),
        rule: None,
        logs: Vec::new(),
        input_bytes: None,
        plan_operators: Vec::new(),
        cost_dollars: None,
        runtime_seconds: Some(120.0),
        metrics: None,
    }
}

async fn a_failing_recommender_leaves_everything_as_it_was(backend: TestBackend) {
    let (mut service, _database) = service(backend).await;
    let (rightsize, older) = right_sized_job(&service.store).await;
    let patches_before = service
        .store
        .list_patches(&PatchFilter::default())
        .await
        .expect("patches");
    let audit_before = service.store.audit(100).await.expect("audit");
    service.recommender = Arc::new(FailingRecommender);

    let error = service
        .remediate(heap_oom(), "scheduler")
        .await
        .expect_err("the recommender failed");
    assert!(
        matches!(&error, Error::Internal(detail) if detail.contains("the model crashed")),
        "{error:?}"
    );
    // Nothing half-done: the right-size is still active, medic's older patch too, and no new patch or audit row.
    assert_eq!(
        service
            .store
            .list_patches(&PatchFilter::default())
            .await
            .expect("patches"),
        patches_before
    );
    assert_eq!(service.store.audit(100).await.expect("audit"), audit_before);
    for id in [&rightsize, &older] {
        let patch = service.store.patch(id).await.expect("read").expect("there");
        assert_eq!(patch.status, PatchStatus::Active, "{id}");
    }
}

async fn a_memory_failure_revokes_stores_and_supersedes_in_one_write(backend: TestBackend) {
    let (service, _database) = service(backend).await;
    let (rightsize, older) = right_sized_job(&service.store).await;

    let answer = service
        .remediate(heap_oom(), "scheduler")
        .await
        .expect("answer");
    assert!(answer.retry, "{answer:?}");
    let stored = answer.patch_id.clone().expect("a patch was stored");
    assert_eq!(answer.revoked, vec![rightsize.clone()]);
    assert!(
        answer.reason.contains(&format!("it supersedes {older}"))
            && answer
                .reason
                .contains(&format!("right-size {rightsize} revoked")),
        "{}",
        answer.reason
    );
    let status = |id: String| {
        let store = service.store.clone();
        async move { store.patch(&id).await.expect("read").expect("there").status }
    };
    assert_eq!(status(rightsize.clone()).await, PatchStatus::Revoked);
    assert_eq!(status(older.clone()).await, PatchStatus::Superseded);
    assert_eq!(status(stored.clone()).await, PatchStatus::Active);
    // The new patch carries what the superseded one set.
    let new = service
        .store
        .patch(&stored)
        .await
        .expect("read")
        .expect("there");
    let PatchBody::MergePatch(body) = &new.patch else {
        panic!("medic writes merge patches: {:?}", new.patch);
    };
    assert_eq!(body["spark.executor.memoryOverhead"], "1g");
    // Audited in order: the revocation with its reason, what the new patch supersedes, the new patch.
    let audit = service.store.audit(3).await.expect("audit");
    let actions: Vec<(&str, Option<&str>)> = audit
        .iter()
        .rev()
        .map(|entry| (entry.action.as_str(), entry.patch_id.as_deref()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("revoke", Some(rightsize.as_str())),
            ("supersede", Some(older.as_str())),
            ("create", Some(stored.as_str())),
        ]
    );
    assert!(
        audit[2].detail["reason"]
            .as_str()
            .is_some_and(|r| r.contains("executor_oom"))
    );
}

/// The attempts-history row of a failed attempt, as the scheduler records it before the next attempt runs.
fn failed_attempt(number: u32, config: &SparkConf) -> AttemptEntry {
    AttemptEntry {
        job: JobIdentity::new(JOB),
        attempt: number,
        config: config.clone(),
        applied_patches: Vec::new(),
        outcome: RunOutcome::Failed,
        exit_code: Some(1),
        timed_out: false,
        failure_category: Some(Category::ExecutorOom),
        failure_rule: None,
        follows_category: None,
        decision: "retry".to_owned(),
        reason: String::new(),
        recommended_changes: Default::default(),
        patch_id: None,
        runtime_seconds: 60.0,
        cost_dollars: 0.01,
        peak_memory_bytes: None,
        metrics: None,
        at: datetime!(2026-11-22 09:00 UTC),
    }
}

async fn a_memory_failure_is_never_retried_with_a_configuration_that_already_failed(
    backend: TestBackend,
) {
    let (mut service, _database) = service(backend).await;
    // Attempt 1 failed with 4g, attempt 2 (the request) with 6g; a recommender that answers 4g again, or 6g
    // unchanged, is overruled.
    let first = conf(&[("spark.executor.memory", "4g")]);
    service
        .store
        .add_attempt(&failed_attempt(1, &first))
        .await
        .expect("attempt recorded");
    let mut request = heap_oom();
    request.attempt = 2;
    request.config = conf(&[("spark.executor.memory", "6g")]);
    for repeated in [first.clone(), request.config.clone()] {
        service.recommender = Arc::new(FixedRecommender { config: repeated });
        let answer = service
            .remediate(request.clone(), "scheduler")
            .await
            .expect("answer");
        assert_eq!(
            (answer.retry, answer.guard),
            (false, Some(Guard::Repeat)),
            "{answer:?}"
        );
        assert_eq!(answer.patch_id, None);
    }
    assert!(
        service
            .store
            .list_patches(&PatchFilter::default())
            .await
            .expect("patches")
            .is_empty(),
        "nothing stored"
    );
    // A configuration no attempt of this run failed with goes through.
    service.recommender = Arc::new(FixedRecommender {
        config: conf(&[("spark.executor.memory", "8g")]),
    });
    let answer = service
        .remediate(request, "scheduler")
        .await
        .expect("answer");
    assert!(answer.retry && answer.patch_id.is_some(), "{answer:?}");
}

async fn the_heuristics_escalate_when_the_first_fix_did_not_cure_the_failure(backend: TestBackend) {
    let (service, _database) = service(backend).await;
    // The broadcast failed with automatic broadcasts already off (a join hint forces it): medic raises the
    // driver's heap instead of retrying what just failed.
    let mut request = heap_oom();
    request.category = Some(Category::BroadcastTooLarge);
    request.rule = Some("broadcast-not-enough-driver-memory".to_owned());
    request.config = conf(&[
        ("spark.driver.memory", "512m"),
        ("spark.sql.autoBroadcastJoinThreshold", "-1"),
    ]);
    let answer = service
        .remediate(request, "scheduler")
        .await
        .expect("answer");
    assert!(answer.retry, "{answer:?}");
    let recommendation = answer.recommendation.expect("a recommendation");
    assert_eq!(
        recommendation
            .config
            .as_ref()
            .and_then(|c| c.get("spark.driver.memory")),
        Some("2048m"),
        "{}",
        recommendation.reason
    );
}

/// A successful run's report, with the patches its configuration came from.
fn succeeded(job: &JobIdentity, applied: &[String]) -> medic_api::RunReport {
    medic_api::RunReport {
        job: job.clone(),
        applied: applied.to_vec(),
        outcome: RunOutcome::Succeeded,
        attempt: None,
    }
}

/// A heap failure of `job` remediated, and the retry with medic's fix reported successful: the fix's id and what
/// the report recorded.
async fn fixed_on_retry(service: &Service, job: &JobIdentity) -> (String, medic_api::RunRecorded) {
    let mut request = heap_oom();
    request.job = job.clone();
    let fix = service
        .remediate(request, "scheduler")
        .await
        .expect("answer")
        .patch_id
        .expect("a patch");
    let recorded = service
        .report_run(succeeded(job, std::slice::from_ref(&fix)), "scheduler")
        .await
        .expect("recorded");
    (fix, recorded)
}

async fn a_memory_fix_that_worked_is_carried_forward_replaced_never_stacked_and_capped_per_cluster(
    backend: TestBackend,
) {
    let (mut service, _database) = service(backend).await;
    service.policy.carry_forward.max_per_cluster = 1;
    let job = JobIdentity {
        cluster: Some("etl".to_owned()),
        ..JobIdentity::new(JOB)
    };
    let own = heap_oom().config;

    // 1. The heap failure is remediated and the retry succeeds: its change is kept for the job's next runs.
    let (fix, recorded) = fixed_on_retry(&service, &job).await;
    assert_eq!(recorded.consumed.len(), 1);
    let carried = recorded.carried_fix.expect("a carried fix");
    assert_eq!(carried.lifetime, Lifetime::Persistent);
    assert_eq!(carried.scope, Scope::job(JOB));
    assert_eq!(
        carried
            .provenance
            .carried
            .as_ref()
            .map(|c| c.from_patch.as_str()),
        Some(fix.as_str())
    );
    assert!(carried.expires_at.is_some());
    let next = service.store.resolve(&job, &own).await.expect("resolve");
    assert_eq!(next.applied, vec![carried.id.clone()]);
    let heap = next
        .config
        .get("spark.executor.memory")
        .expect("a heap")
        .to_owned();
    assert_ne!(heap, "4g", "the next run starts with the fix");
    // Reporting the same run again carries nothing more.
    let again = service
        .report_run(succeeded(&job, std::slice::from_ref(&fix)), "scheduler")
        .await
        .expect("recorded");
    assert!(again.carried_fix.is_none() && again.consumed.is_empty());

    // 2. Later the driver runs out with the carried fix applied: its fix is merged into a new carried fix, which
    //    replaces the old one.
    let mut request = heap_oom();
    request.job = job.clone();
    request.config = next.config.clone();
    request.category = Some(Category::DriverOom);
    let driver_fix = service
        .remediate(request, "scheduler")
        .await
        .expect("answer")
        .patch_id
        .expect("a patch");
    let replaced = service
        .report_run(
            succeeded(&job, &[carried.id.clone(), driver_fix.clone()]),
            "scheduler",
        )
        .await
        .expect("recorded")
        .carried_fix
        .expect("a new carried fix");
    let old = service
        .store
        .patch(&carried.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(old.status, PatchStatus::Superseded);
    let PatchBody::MergePatch(body) = &replaced.patch else {
        panic!("a merge patch: {:?}", replaced.patch);
    };
    assert_eq!(body["spark.executor.memory"], heap.as_str(), "{body:?}");
    assert!(body.contains_key("spark.driver.memory"), "{body:?}");
    let carried_now = service
        .store
        .list_patches(&PatchFilter {
            job: Some(JOB.to_owned()),
            status: Some(PatchStatus::Active),
        })
        .await
        .expect("patches")
        .into_iter()
        .filter(|p| p.is_carried_fix())
        .count();
    assert_eq!(carried_now, 1, "one carried fix per job");

    // 3. Another job of the same cluster: the cap (1) is reached, so its fix lasts for its retry only.
    let other = JobIdentity {
        cluster: Some("etl".to_owned()),
        ..JobIdentity::new("nightly.other")
    };
    let (_, capped) = fixed_on_retry(&service, &other).await;
    assert!(capped.carried_fix.is_none());
    assert!(
        capped
            .note
            .as_deref()
            .is_some_and(|n| n.contains("max_per_cluster")),
        "{capped:?}"
    );

    // 4. Carrying off: a fix lasts for its retry only, as before.
    service.policy.carry_forward.enabled = false;
    let (_, off) = fixed_on_retry(&service, &JobIdentity::new("nightly.third")).await;
    assert!(off.carried_fix.is_none() && off.note.is_none(), "{off:?}");
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(medic_store::testing::TestBackend::Sqlite).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(medic_store::testing::TestBackend::Postgres).await;
                }
            )*
        }
    };
}

both_backends!(
    a_failing_recommender_leaves_everything_as_it_was,
    a_memory_failure_revokes_stores_and_supersedes_in_one_write,
    a_memory_failure_is_never_retried_with_a_configuration_that_already_failed,
    the_heuristics_escalate_when_the_first_fix_did_not_cure_the_failure,
    a_memory_fix_that_worked_is_carried_forward_replaced_never_stacked_and_capped_per_cluster,
);

//! Right-sizing a real store, on SQLite and on the PostgreSQL server: the dry run stores nothing, `apply` stores a
//! persistent patch with its evidence (audited), the job resolves to the smaller size, the next step supersedes the
//! first, and a memory failure revokes the right-size.

use std::sync::Arc;

use medic_core::clock::ManualClock;
use medic_core::history::{AttemptEntry, Prices, RunMetrics};
use medic_core::patch::{Lifetime, PatchStatus};
use medic_core::{Category, JobIdentity, RunOutcome, SparkConf};
use medic_rightsize::{Action, RightsizePolicy, Why};
use medic_store::testing::{TestBackend, TestDatabase};
use medic_store::{PatchFilter, Store};
use time::macros::datetime;

const GIB: u64 = 1 << 30;

fn job() -> JobIdentity {
    JobIdentity {
        id: "nightly-rollup".into(),
        workflow: Some("nightly".into()),
        owner: Some("data-eng".into()),
        cluster: Some("yarn-a".into()),
    }
}

fn owner_conf() -> SparkConf {
    let mut conf = SparkConf::new();
    conf.set("spark.executor.memory", "12g");
    conf.set("spark.executor.instances", "8");
    conf.set("spark.executor.cores", "4");
    conf
}

/// A successful first attempt at the store's clock, with `conf`, its executors peaking at `heap` bytes.
fn success(clock: &ManualClock, conf: &SparkConf, applied: &[String], heap: u64) -> AttemptEntry {
    use medic_core::clock::Clock;
    AttemptEntry {
        job: job(),
        attempt: 1,
        config: conf.clone(),
        applied_patches: applied.to_vec(),
        outcome: RunOutcome::Succeeded,
        exit_code: Some(0),
        timed_out: false,
        failure_category: None,
        failure_rule: None,
        follows_category: None,
        decision: "succeeded".into(),
        reason: String::new(),
        recommended_changes: Default::default(),
        patch_id: None,
        runtime_seconds: 3600.0,
        cost_dollars: 2.0,
        peak_memory_bytes: Some(heap),
        metrics: Some(RunMetrics {
            peak_executor_heap_bytes: Some(heap),
            peak_jvm_rss_bytes: Some(heap + GIB / 4),
            ..RunMetrics::default()
        }),
        at: clock.now(),
    }
}

async fn check(backend: TestBackend) {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-01 02:00 UTC)));
    let database = TestDatabase::create(backend).await;
    let store = Store::open(database.url(), clock.clone())
        .await
        .expect("store");
    let policy = RightsizePolicy {
        min_runs: 5,
        settle_runs: 1,
        ..RightsizePolicy::default()
    };
    let prices = Prices::default();
    let day = time::Duration::DAY;
    let conf = owner_conf();
    let history: Vec<AttemptEntry> = (0..6)
        .map(|i| {
            clock.advance(day);
            success(&clock, &conf, &[], (5 * GIB / 2) + i * (GIB / 16))
        })
        .collect();
    store.add_attempts(&history).await.expect("history");
    clock.advance(time::Duration::HOUR);

    // A dry run stores nothing.
    let dry = medic_rightsize::plan(&store, &policy, &prices)
        .await
        .expect("plan");
    assert_eq!(dry.jobs.len(), 1);
    assert_eq!(dry.jobs[0].action, Action::Resize, "{:?}", dry.jobs[0]);
    assert!(dry.total_saving_per_month > 0.0);
    assert!(
        store
            .list_patches(&PatchFilter::default())
            .await
            .expect("list")
            .is_empty()
    );

    // Applied: a persistent patch scoped to the job, with its evidence, audited.
    let mut report = dry.clone();
    medic_rightsize::apply(&store, &mut report, &policy)
        .await
        .expect("apply");
    let first_id = report.jobs[0].patch_id.clone().expect("a patch");
    let first = store.patch(&first_id).await.expect("read").expect("stored");
    assert_eq!(first.lifetime, Lifetime::Persistent);
    assert_eq!(
        first.provenance.created_by.as_deref(),
        Some(medic_rightsize::RIGHTSIZE)
    );
    let evidence = first.provenance.rightsize.as_ref().expect("evidence");
    assert_eq!(evidence.runs, 6);
    let audit = store.audit(5).await.expect("audit");
    assert_eq!(audit[0].action, "create");
    assert!(
        audit[0].detail["provenance"]["rightsize"]["settings"].is_array(),
        "{audit:?}"
    );
    // 12 GiB halves at most: the job now resolves to 6 GiB.
    let resolved = store.resolve(&job(), &conf).await.expect("resolve");
    assert_eq!(resolved.config.get("spark.executor.memory"), Some("6144m"));
    assert_eq!(resolved.applied, vec![first_id.clone()]);

    // A run with the patch settles it; the next step goes to the largest peak + the margin and supersedes the first.
    clock.advance(day);
    store
        .add_attempt(&success(
            &clock,
            &resolved.config,
            &resolved.applied,
            5 * GIB / 2,
        ))
        .await
        .expect("run");
    clock.advance(time::Duration::HOUR);
    let mut second = medic_rightsize::plan(&store, &policy, &prices)
        .await
        .expect("plan");
    assert_eq!(
        second.jobs[0].action,
        Action::Resize,
        "{:?}",
        second.jobs[0]
    );
    medic_rightsize::apply(&store, &mut second, &policy)
        .await
        .expect("apply");
    let second_id = second.jobs[0].patch_id.clone().expect("a patch");
    assert_eq!(
        store
            .patch(&first_id)
            .await
            .expect("read")
            .expect("kept")
            .status,
        PatchStatus::Superseded
    );
    let resolved = store.resolve(&job(), &conf).await.expect("resolve");
    let heap = medic_core::units::parse_size(
        resolved.config.get("spark.executor.memory").expect("heap"),
        medic_core::units::SizeUnit::Mib,
    )
    .expect("size");
    let largest = 5 * GIB / 2 + 5 * (GIB / 16);
    assert!(
        heap as f64 >= largest as f64 * (1.0 + policy.margin),
        "{heap} below the largest peak + the margin"
    );
    assert!(heap < 4 * GIB, "{heap}");
    // The evidence keeps the owner's size across steps.
    let evidence = store
        .patch(&second_id)
        .await
        .expect("read")
        .expect("stored")
        .provenance
        .rightsize
        .expect("evidence");
    assert!(
        evidence
            .settings
            .iter()
            .any(|s| s.key == "spark.executor.memory" && s.original_bytes == 12 * GIB)
    );

    // A memory failure after the right-size revokes it; the job goes back to its own configuration.
    clock.advance(day);
    let mut failed = success(&clock, &resolved.config, &resolved.applied, heap);
    failed.outcome = RunOutcome::Failed;
    failed.exit_code = Some(52);
    failed.failure_category = Some(Category::ExecutorOom);
    failed.decision = "retry".into();
    store.add_attempt(&failed).await.expect("failure");
    clock.advance(time::Duration::HOUR);
    let mut third = medic_rightsize::plan(&store, &policy, &prices)
        .await
        .expect("plan");
    assert_eq!(
        (third.jobs[0].action, third.jobs[0].why),
        (Action::Revoke, Why::MemoryFailure)
    );
    medic_rightsize::apply(&store, &mut third, &policy)
        .await
        .expect("apply");
    assert_eq!(
        store
            .patch(&second_id)
            .await
            .expect("read")
            .expect("kept")
            .status,
        PatchStatus::Revoked
    );
    let audit = store.audit(1).await.expect("audit");
    assert_eq!(audit[0].action, "revoke");
    assert!(
        audit[0].detail["reason"]
            .as_str()
            .is_some_and(|r| r.contains("executor_oom")),
        "{audit:?}"
    );
    assert_eq!(
        store
            .resolve(&job(), &conf)
            .await
            .expect("resolve")
            .config
            .get("spark.executor.memory"),
        Some("12g")
    );
    // And the job is left alone while the failure is in the window.
    let after = medic_rightsize::plan(&store, &policy, &prices)
        .await
        .expect("plan");
    assert_eq!(
        (after.jobs[0].action, after.jobs[0].why),
        (Action::Keep, Why::MemoryFailure)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_sizes_a_job_step_by_step_and_backs_off_on_sqlite() {
    check(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_sizes_a_job_step_by_step_and_backs_off_on_postgres() {
    check(TestBackend::Postgres).await;
}

//! The retry loop, end to end with real processes and with scripted attempts.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use medic_core::clock::ManualClock;
use medic_core::history::Prices;
use medic_core::{Category, LogSource, RunOutcome};
use medic_scheduler::{
    AttemptDecision, Error, Event, JobRunner, JobStatus, NoRemediation, ProcessRunner,
    RecordingSleeper, Remediator, Scheduler, Workflow, WorkflowReport,
};
use time::macros::datetime;

use crate::fakes::{DownMedic, FakeMedic, GoesDown, Script, ScriptedRunner};
use crate::{Flow, check_file, data};

const OOM: &str = "java.lang.OutOfMemoryError: Java heap space\n";

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(datetime!(2026-05-01 02:00 UTC)))
}

/// Runs `workflow` with these parts, returning the report and the events.
fn run(
    workflow: &Workflow,
    runner: impl JobRunner,
    medic: impl Remediator,
    sleeper: &RecordingSleeper,
    run_dir: &Path,
) -> (WorkflowReport, Vec<Event>) {
    let scheduler = Scheduler::new(runner, medic, sleeper, clock());
    let mut events = Vec::new();
    let report = scheduler
        .run(workflow, run_dir, |event| events.push(event))
        .unwrap_or_else(|e| panic!("{e}"));
    (report, events)
}

fn parse(yaml: &str) -> Workflow {
    Workflow::parse("test.yaml", yaml, Path::new("/flows")).unwrap_or_else(|e| panic!("{e}"))
}

fn decisions(report: &WorkflowReport, job: &str) -> Vec<AttemptDecision> {
    let job = report.job(job).expect("the job");
    job.attempts.iter().map(|a| a.decision).collect()
}

#[test]
fn an_oom_fixed_by_a_patch_succeeds_on_the_second_attempt() {
    let flow = Flow::new(
        "name: nightly\njobs:\n  - name: etl\n    command: ./spark-oom.sh app.py\n    conf: {spark.executor.memory: 2g}\n",
    );
    let medic = FakeMedic::default();
    let sleeper = RecordingSleeper::new();
    let (report, events) = run(
        &flow.workflow,
        ProcessRunner,
        &medic,
        &sleeper,
        &flow.run_dir(),
    );

    let job = report.job("etl").expect("etl");
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(
        decisions(&report, "etl"),
        [AttemptDecision::Retry, AttemptDecision::Succeeded]
    );
    let (first, second) = (&job.attempts[0], &job.attempts[1]);
    assert_eq!(first.exit_code, Some(1));
    assert_eq!(first.failure_category, Some(Category::ExecutorOom));
    assert_eq!(first.failure_rule.as_deref(), Some("executor-heap-oom"));
    assert_eq!(first.patch_id.as_deref(), Some("p1"));
    assert_eq!(
        first.config_changes,
        BTreeMap::from([("spark.executor.memory".to_owned(), Some("4g".to_owned()))])
    );
    assert_eq!(first.config.get("spark.executor.memory"), Some("2g"));
    assert_eq!(second.config.get("spark.executor.memory"), Some("4g"));
    assert_eq!(second.applied_patches, ["p1"]);
    assert_eq!(second.exit_code, Some(0));
    let attempt_1 = flow.run_dir().join("etl/attempt-1");
    assert_eq!(
        first.stderr.as_deref(),
        Some(attempt_1.join("stderr.log").as_path())
    );
    assert_eq!(sleeper.sleeps(), [Duration::from_secs(60)]);

    // medic saw the failure with its logs, and both attempts were recorded; the retry is history to learn from.
    let failed = medic.failed();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (
            failed[0].job.id.as_str(),
            failed[0].attempt,
            failed[0].max_attempts
        ),
        ("nightly.etl", 1, 3)
    );
    let records = medic.records();
    assert_eq!(
        records
            .iter()
            .map(|r| (r.attempt, r.outcome))
            .collect::<Vec<_>>(),
        [(1, RunOutcome::Failed), (2, RunOutcome::Succeeded)]
    );
    assert_eq!(records[1].applied_patches, ["p1"]);
    assert!(records[0].retry_record(&Prices::default()).is_none());
    let learned = records[1]
        .retry_record(&Prices::default())
        .expect("a retry after an OOM");
    assert_eq!(learned.failure_category, Category::ExecutorOom);
    assert_eq!(learned.config.get("spark.executor.memory"), Some("4g"));
    assert_eq!(learned.outcome, RunOutcome::Succeeded);

    let kinds: Vec<&str> = events.iter().map(event_kind).collect();
    assert_eq!(
        kinds,
        [
            "job_started",
            "attempt_started",
            "attempt_finished",
            "decided",
            "backoff",
            "attempt_started",
            "attempt_finished",
            "decided",
            "job_finished"
        ]
    );
}

fn event_kind(event: &Event) -> &'static str {
    match event {
        Event::JobStarted { .. } => "job_started",
        Event::JobSkipped { .. } => "job_skipped",
        Event::AttemptStarted { .. } => "attempt_started",
        Event::AttemptFinished { .. } => "attempt_finished",
        Event::Decided { .. } => "decided",
        Event::Backoff { .. } => "backoff",
        Event::Warning { .. } => "warning",
        Event::JobFinished { .. } => "job_finished",
    }
}

#[test]
fn without_remediation_a_failing_job_is_retried_blindly_up_to_max_attempts() {
    let workflow = parse(
        "name: w\njobs:\n  - name: flaky\n    command: [run]\n    conf: {spark.executor.memory: 2g}\n",
    );
    let runner = ScriptedRunner::new(&[(
        "flaky",
        &[Ok((1, OOM)), Ok((1, OOM)), Ok((1, OOM)), Ok((0, ""))],
    )]);
    let sleeper = RecordingSleeper::new();
    let dir = tempfile::tempdir().expect("temp");
    let (report, _) = run(&workflow, &runner, NoRemediation, &sleeper, dir.path());
    assert_eq!(
        report.job("flaky").expect("flaky").status,
        JobStatus::Failed
    );
    assert_eq!(
        decisions(&report, "flaky"),
        [
            AttemptDecision::Retry,
            AttemptDecision::Retry,
            AttemptDecision::AttemptsExhausted
        ]
    );
    let requests = runner.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|(_, _, conf)| conf.get("spark.executor.memory") == Some("2g"))
    );
    assert_eq!(
        sleeper.sleeps(),
        [Duration::from_secs(60), Duration::from_secs(120)]
    );
    assert!(!report.succeeded());
}

#[test]
fn a_decision_not_to_retry_stops_the_job_at_once() {
    let workflow = parse("name: w\njobs:\n  - name: query\n    command: [run]\n");
    let runner = ScriptedRunner::new(&[(
        "query",
        &[Ok((
            1,
            "org.apache.spark.sql.AnalysisException: Column 'x' does not exist\n",
        ))],
    )]);
    let sleeper = RecordingSleeper::new();
    let dir = tempfile::tempdir().expect("temp");
    let (report, _) = run(
        &workflow,
        &runner,
        FakeMedic::default(),
        &sleeper,
        dir.path(),
    );
    let job = report.job("query").expect("query");
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(decisions(&report, "query"), [AttemptDecision::DoNotRetry]);
    assert_eq!(
        job.attempts[0].failure_category,
        Some(Category::UserCodeError)
    );
    assert_eq!(
        job.attempts[0].reason,
        "the query is wrong: a retry fails the same way"
    );
    assert!(sleeper.sleeps().is_empty());
}

#[test]
fn what_the_runner_learned_about_a_run_reaches_the_remediator_and_the_history() {
    let workflow = parse(
        "name: w\njobs:\n  - name: etl\n    command: [run]\n    conf: {spark.executor.memory: 2g}\n",
    );
    // The scripted runner reports 3 GiB of input and a sort-merge join for every attempt.
    let runner = ScriptedRunner::new(&[("etl", &[Ok((1, OOM)), Ok((0, ""))])]);
    let medic = FakeMedic::default();
    let dir = tempfile::tempdir().expect("temp");
    run(
        &workflow,
        &runner,
        &medic,
        &RecordingSleeper::new(),
        dir.path(),
    );
    let failed = medic.failed();
    assert_eq!(failed[0].input_bytes, Some(3 << 30));
    assert_eq!(failed[0].plan_operators, ["SortMergeJoin"]);
    let learned = medic.records()[1]
        .retry_record(&Prices::default())
        .expect("a retry after an OOM");
    assert_eq!(learned.input_bytes, Some(3 << 30));
    assert_eq!(learned.plan_operators, ["SortMergeJoin"]);
}

#[test]
fn every_attempt_reaches_the_attempts_history_with_the_runners_logs_and_metrics() {
    let workflow = parse(
        "name: w\njobs:\n  - name: etl\n    command: [run]\n    conf: {spark.executor.memory: 2g}\n",
    );
    let runner = ScriptedRunner::new(&[("etl", &[Ok((1, OOM)), Ok((0, ""))])]);
    let medic = FakeMedic::default();
    let dir = tempfile::tempdir().expect("temp");
    run(
        &workflow,
        &runner,
        &medic,
        &RecordingSleeper::new(),
        dir.path(),
    );
    // The runner's own logs (a Spark runner's event-log findings) are classified with stdout and stderr.
    let failed = medic.failed();
    let sources: Vec<LogSource> = failed[0].logs.iter().map(|log| log.source).collect();
    assert_eq!(
        sources,
        [LogSource::Stdout, LogSource::Stderr, LogSource::Eventlog]
    );
    let entries: Vec<_> = medic
        .records()
        .iter()
        .map(|record| record.attempt_entry(&Prices::default()))
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let (first, second) = (&entries[0], &entries[1]);
    assert_eq!(first.decision, "retry");
    assert_eq!(first.outcome, RunOutcome::Failed);
    assert_eq!(first.failure_category, Some(Category::ExecutorOom));
    assert_eq!(first.patch_id.as_deref(), Some("p1"));
    assert_eq!(
        first.recommended_changes.get("spark.executor.memory"),
        Some(&Some("4g".to_owned()))
    );
    assert_eq!(first.cost_dollars, 0.25);
    assert_eq!(
        first.metrics.as_ref().and_then(|m| m.peak_jvm_heap_bytes),
        Some(3 << 29)
    );
    assert_eq!(second.decision, "succeeded");
    assert_eq!(second.outcome, RunOutcome::Succeeded);
    assert_eq!(second.follows_category, Some(Category::ExecutorOom));
    assert_eq!(second.config.get("spark.executor.memory"), Some("4g"));
    assert!(first.validate().is_empty() && second.validate().is_empty());
}

#[test]
fn when_medic_is_down_the_retry_policy_decides_with_the_configuration_unchanged() {
    let workflow = parse(
        "name: w\njobs:\n  - name: etl\n    command: [run]\n    conf: {spark.executor.memory: 2g}\n",
    );
    let runner = ScriptedRunner::new(&[("etl", &[Ok((1, OOM)), Ok((1, OOM)), Ok((0, ""))])]);
    let sleeper = RecordingSleeper::new();
    let dir = tempfile::tempdir().expect("temp");
    let (report, events) = run(&workflow, &runner, DownMedic, &sleeper, dir.path());
    let job = report.job("etl").expect("etl");
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(
        decisions(&report, "etl"),
        [
            AttemptDecision::Retry,
            AttemptDecision::Retry,
            AttemptDecision::Succeeded
        ]
    );
    let fallback = &job.attempts[0];
    assert!(
        fallback
            .reason
            .starts_with("no decision from medic (medic is unreachable: connection refused)"),
        "{}",
        fallback.reason
    );
    assert!(
        fallback
            .reason
            .ends_with("falling back to the retry policy with the configuration unchanged")
    );
    assert_eq!(fallback.failure_category, None);
    assert!(
        fallback.warnings[0].starts_with("cannot resolve the configuration"),
        "{:?}",
        fallback.warnings
    );
    assert!(
        fallback
            .warnings
            .iter()
            .any(|w| w.starts_with("medic did not record the attempt"))
    );
    assert!(
        runner
            .requests()
            .iter()
            .all(|(_, _, conf)| conf.get("spark.executor.memory") == Some("2g"))
    );
    assert!(events.iter().any(|e| matches!(e, Event::Warning { .. })));
    assert_eq!(sleeper.sleeps().len(), 2);
}

#[test]
fn when_medic_goes_down_mid_run_the_next_attempt_keeps_the_previous_configuration() {
    let workflow = parse(
        "name: w\njobs:\n  - name: etl\n    command: [run]\n    conf: {spark.executor.memory: 2g}\n",
    );
    let runner = ScriptedRunner::new(&[("etl", &[Ok((1, OOM)), Ok((1, OOM)), Ok((1, OOM))])]);
    let medic = GoesDown {
        medic: FakeMedic::default(),
        fail_from: 3,
        calls: Default::default(),
    };
    let sleeper = RecordingSleeper::new();
    let dir = tempfile::tempdir().expect("temp");
    let (report, _) = run(&workflow, &runner, &medic, &sleeper, dir.path());
    let attempts = &report.job("etl").expect("etl").attempts;
    let confs: Vec<(Option<&str>, &[String])> = attempts
        .iter()
        .map(|a| {
            (
                a.config.get("spark.executor.memory"),
                a.applied_patches.as_slice(),
            )
        })
        .collect();
    let p1 = ["p1".to_owned()];
    // Attempt 2 got the patch; attempt 3 could not resolve and kept attempt 2's configuration and patches.
    assert_eq!(
        confs,
        [
            (Some("2g"), &[][..]),
            (Some("4g"), &p1[..]),
            (Some("4g"), &p1[..])
        ]
    );
    assert_eq!(
        attempts[2].warnings,
        [
            "cannot resolve the configuration (medic is unreachable: connection reset); running with the previous attempt's configuration"
        ]
    );
}

#[test]
fn dependents_of_a_failed_job_are_skipped_and_independent_jobs_still_run() {
    let workflow = parse(
        "name: w\ndefaults: {retry: {max_attempts: 1}}\njobs:\n\
         \x20 - {name: report, command: [run], depends_on: [load]}\n\
         \x20 - {name: load, command: [run]}\n\
         \x20 - {name: publish, command: [run], depends_on: [report]}\n\
         \x20 - {name: other, command: [run]}\n",
    );
    let runner = ScriptedRunner::new(&[("load", &[Ok((1, ""))])]);
    let sleeper = RecordingSleeper::new();
    let dir = tempfile::tempdir().expect("temp");
    let (report, events) = run(&workflow, &runner, NoRemediation, &sleeper, dir.path());
    let statuses: Vec<(&str, JobStatus)> = report
        .jobs
        .iter()
        .map(|j| (j.name.as_str(), j.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("report", JobStatus::Skipped),
            ("load", JobStatus::Failed),
            ("publish", JobStatus::Skipped),
            ("other", JobStatus::Succeeded)
        ]
    );
    assert_eq!(
        report.job("report").expect("report").skipped_because,
        ["load"]
    );
    assert_eq!(
        report.job("publish").expect("publish").skipped_because,
        ["report"]
    );
    assert!(report.job("publish").expect("publish").attempts.is_empty());
    // A job runs after the jobs it depends on, whatever the file order; the rest in file order.
    let ran: Vec<String> = runner
        .requests()
        .into_iter()
        .map(|(job, _, _)| job)
        .collect();
    assert_eq!(ran, ["load", "other"]);
    assert!(events.contains(&Event::JobSkipped {
        job: "publish".to_owned(),
        because: vec!["report".to_owned()]
    }));
}

#[test]
fn backoff_starts_at_the_initial_wait_grows_by_the_multiplier_and_stops_at_the_cap() {
    let workflow = parse(
        "name: w\njobs:\n  - name: j\n    command: [run]\n    retry: {max_attempts: 5, initial_backoff_s: 10, backoff_multiplier: 3, max_backoff_s: 50}\n",
    );
    let runner = ScriptedRunner::new(&[(
        "j",
        &[
            Ok((1, "")),
            Ok((1, "")),
            Ok((1, "")),
            Ok((1, "")),
            Ok((1, "")),
        ],
    )]);
    let clock = clock();
    let sleeper = RecordingSleeper::with_clock(Arc::clone(&clock));
    let medic = FakeMedic::default();
    let dir = tempfile::tempdir().expect("temp");
    let scheduler = Scheduler::new(&runner, &medic, &sleeper, clock);
    let mut backoffs = Vec::new();
    let report = scheduler
        .run(&workflow, dir.path(), |event| {
            if let Event::Backoff {
                next_attempt,
                delay,
                ..
            } = event
            {
                backoffs.push((next_attempt, delay.as_secs()));
            }
        })
        .expect("runs");
    let secs = |s| Duration::from_secs(s);
    assert_eq!(sleeper.sleeps(), [secs(10), secs(30), secs(50), secs(50)]);
    assert_eq!(backoffs, [(2, 10), (3, 30), (4, 50), (5, 50)]);
    assert_eq!(report.job("j").expect("j").attempts.len(), 5);
    // The attempts' start times move with the (fake) waits.
    let starts: Vec<i64> = medic
        .records()
        .windows(2)
        .map(|w| (w[1].at - w[0].at).whole_seconds())
        .collect();
    assert_eq!(starts, [10, 30, 50, 50]);
}

#[test]
fn a_runner_that_cannot_run_an_attempt_fails_the_job_without_retrying() {
    let workflow = parse(
        "name: w\njobs:\n  - {name: a, command: [run]}\n  - {name: b, command: [run], depends_on: [a]}\n",
    );
    let broken: &[Script] = &[Err("disk full")];
    let runner = ScriptedRunner::new(&[("a", broken)]);
    let medic = FakeMedic::default();
    let sleeper = RecordingSleeper::new();
    let dir = tempfile::tempdir().expect("temp");
    let (report, _) = run(&workflow, &runner, &medic, &sleeper, dir.path());
    let a = report.job("a").expect("a");
    assert_eq!(a.status, JobStatus::Failed);
    assert_eq!(decisions(&report, "a"), [AttemptDecision::RunnerError]);
    assert_eq!(
        a.attempts[0].reason,
        "the runner could not run the attempt: disk full"
    );
    assert_eq!(report.job("b").expect("b").status, JobStatus::Skipped);
    assert!(medic.records().is_empty() && medic.failed().is_empty());
    assert!(sleeper.sleeps().is_empty());
}

#[test]
fn a_run_folder_that_cannot_be_created_stops_the_run() {
    let workflow = parse("name: w\njobs:\n  - {name: a, command: [run]}\n");
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let scheduler = Scheduler::new(
        ScriptedRunner::default(),
        NoRemediation,
        RecordingSleeper::new(),
        clock(),
    );
    let err = scheduler
        .run(&workflow, &file.join("run"), |_| {})
        .expect_err("not a folder");
    assert!(matches!(err, Error::RunFolder { .. }), "{err}");
}

/// The report's JSON is an interface: compared whole against `tests/data/reports/report.expected.json`.
#[test]
fn the_report_serialises_to_the_documented_json_shape() {
    let workflow = Workflow::load(&data("reports/workflow.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let runner = ScriptedRunner::new(&[
        ("etl", &[Ok((1, OOM)), Ok((0, ""))]),
        (
            "check",
            &[Ok((
                1,
                "org.apache.spark.sql.AnalysisException: Table not found\n",
            ))],
        ),
    ]);
    let sleeper = RecordingSleeper::new();
    let dir = tempfile::tempdir().expect("temp");
    let (report, _) = run(
        &workflow,
        &runner,
        FakeMedic::default(),
        &sleeper,
        dir.path(),
    );
    let json = serde_json::to_value(&report).expect("json");

    let attempt = &json["jobs"][0]["attempts"][0];
    for key in [
        "exit_code",
        "category",
        "rule",
        "decision",
        "config_changes",
        "runtime_s",
        "cost",
    ] {
        assert!(
            attempt.get(key).is_some(),
            "attempts carry `{key}`: {attempt}"
        );
    }
    for key in ["name", "status", "attempts"] {
        assert!(json["jobs"][0].get(key).is_some(), "jobs carry `{key}`");
    }

    let text = serde_json::to_string_pretty(&report).expect("json");
    let text = text.replace(&dir.path().display().to_string(), "<run>") + "\n";
    check_file(&data("reports/report.expected.json"), &text)
        .unwrap_or_else(|diff| panic!("{diff}"));
    let back: WorkflowReport = serde_json::from_str(&text).expect("reads back");
    assert_eq!(back.jobs.len(), report.jobs.len());
}

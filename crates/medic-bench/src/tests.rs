use super::*;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn bench() -> BenchFile {
    BenchFile::load(&data("bench.yaml")).expect("valid bench file")
}

fn report() -> WorkflowReport {
    let text = std::fs::read_to_string(data("report.json")).expect("report");
    serde_json::from_str(&text).expect("valid report")
}

#[test]
fn a_file_is_one_set_and_its_values_are_text() {
    let file = bench();
    assert_eq!(file.set, "bench");
    let collect = &file.jobs[0];
    assert_eq!(collect.args, ["1000", "--fast"]);
    assert_eq!(collect.fixed_by.get("spark.driver.memory"), Some("1g"));
    let slow = &file.jobs[1];
    assert_eq!(
        slow.fails_with.get("spark.sql.autoBroadcastJoinThreshold"),
        Some("-1")
    );
}

#[test]
fn every_problem_of_a_file_is_reported() {
    let text = "jobs:
  - {name: a, application: a.py, kind: memory, fails_with: {spark.driver.memory: 512m}, fixed_by: {}, knob: spark.driver.memory, ladder: [{value: 1g, outcome: succeeded, runs: 1}]}
  - {name: a, application: b.py, kind: other}
  - {name: c, application: c.py, kind: memory}
";
    let error =
        BenchFile::parse("f.yaml", "f", text, PathBuf::from(".")).expect_err("three problems");
    let Error::Invalid { problems, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains("does not set its knob"));
    assert!(problems[1].contains("at least two runs"));
    assert!(problems[2].contains("a second job"));
    assert!(problems[3].contains("`knob`"));
    let unknown = BenchFile::parse("f.yaml", "f", "jobs: []\nextra: 1\n", PathBuf::from("."));
    assert!(unknown.is_err(), "unknown fields are refused");
}

#[test]
fn the_workflow_starts_each_job_at_its_failing_configuration() {
    let files = [bench()];
    let jobs = select(&files, &[]).expect("all");
    let workflow = workflow(&jobs).expect("valid workflow");
    assert_eq!(workflow.jobs.len(), 4);
    let slow = workflow.job("slow-fix").expect("slow-fix");
    assert_eq!(slow.conf.get("spark.driver.memory"), Some("512m"));
    assert_eq!(slow.conf.get("spark.master"), Some("local[2]"));
    assert_eq!(slow.retry.max_attempts, MAX_ATTEMPTS);
    let app = slow.spark.as_ref().expect("a Spark application");
    assert!(
        app.application.ends_with("tests/data/jobs/slow.py"),
        "{}",
        app.application
    );
    let only = select(&files, &["typo".to_owned()]).expect("one");
    assert_eq!(only.len(), 1);
    assert!(matches!(
        select(&files, &["nope".to_owned()]),
        Err(Error::UnknownJobs { .. })
    ));
}

#[test]
fn each_kind_is_scored_against_its_own_bar() {
    let files = [bench()];
    let jobs = select(&files, &[]).expect("all");
    let score = score(&jobs, &report());
    let by_name = |name: &str| {
        score
            .jobs
            .iter()
            .find(|job| job.name == name)
            .expect("scored")
    };
    let collect = by_name("collect");
    assert!(collect.fixed_on_first_retry && collect.passed);
    assert_eq!(collect.knob_over_fixed, Some(2.0));
    assert_eq!(collect.wasted_retries, 0);
    assert!((collect.retry_cost_dollars - 0.03).abs() < 1e-9);

    // The second attempt reran the failed configuration: an identical retry, and a wasted one.
    let slow = by_name("slow-fix");
    assert!(!slow.fixed_on_first_retry && slow.fixed_within_two_retries && !slow.passed);
    assert_eq!(slow.identical_config_retries, 1);
    assert_eq!(slow.wasted_retries, 1);
    assert!((slow.wasted_cost_dollars - 0.02).abs() < 1e-9);
    assert_eq!(slow.knob_over_fixed, Some(1.5));

    // A bug retried with more memory: a changed configuration for a failure no configuration fixes.
    let typo = by_name("typo");
    assert_eq!(typo.changed_config_retries, 1);
    assert!(!typo.passed);
    assert!(by_name("fine").passed);

    let set = &score.sets[0];
    assert_eq!(
        (
            set.memory_jobs,
            set.fixed_on_first_retry,
            set.fixed_within_two_retries
        ),
        (2, 1, 2)
    );
    assert_eq!(
        (set.identical_config_retries, set.changed_config_retries),
        (1, 1)
    );
    assert_eq!((set.healthy_jobs, set.healthy_touched), (1, 0));
}

#[test]
fn a_job_the_run_did_not_reach_fails_its_bar() {
    let files = [bench()];
    let jobs = select(&files, &["collect".to_owned()]).expect("one");
    let empty = WorkflowReport {
        workflow: "spark-bench".to_owned(),
        jobs: Vec::new(),
    };
    let score = score(&jobs, &empty);
    assert!(!score.jobs[0].passed);
    assert_eq!(score.jobs[0].attempts, 0);
}

#[test]
fn the_shipped_benchmark_is_valid_and_big_enough() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/spark/bench");
    let files = [
        BenchFile::load(&folder.join("tuning.yaml")).expect("tuning set"),
        BenchFile::load(&folder.join("held_out.yaml")).expect("held-out set"),
        BenchFile::load(&folder.join("unseen.yaml")).expect("unseen set"),
        BenchFile::load(&folder.join("fresh.yaml")).expect("fresh set"),
    ];
    let jobs = select(&files, &[]).expect("all");
    let count = |kind: Kind| jobs.iter().filter(|job| job.kind == kind).count();
    assert!(count(Kind::Memory) >= 15, "{}", count(Kind::Memory));
    for file in &files {
        for kind in [Kind::Memory, Kind::Other, Kind::Healthy] {
            assert!(
                file.jobs.iter().any(|job| job.kind == kind),
                "{} has no {kind:?} job",
                file.set
            );
        }
        for job in &file.jobs {
            assert!(job.application.is_file(), "{}", job.application.display());
            // Every memory job's ladder brackets its need: what the prior is fitted on.
            if job.kind == Kind::Memory
                && job.knob.as_deref() != Some("spark.sql.autoBroadcastJoinThreshold")
            {
                assert!(job.need.is_some(), "{}: no need interval", job.name);
            }
        }
    }
    // One workflow holds them all: names are unique across the sets.
    assert_eq!(workflow(&jobs).expect("valid").jobs.len(), jobs.len());
}

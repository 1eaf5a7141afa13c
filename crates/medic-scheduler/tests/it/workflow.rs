//! Workflow files: good ones read as expected, bad ones refused with every problem.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use medic_core::SparkConf;
use medic_scheduler::{Job, RetryPolicy, Workflow};

use crate::{check_file, data, data_files};

/// Every `tests/data/bad/*.yaml` is refused, with exactly the problems in the `.expected` file beside it.
#[test]
fn bad_workflows_report_every_problem() {
    let mut failures = Vec::new();
    let files = data_files("bad", "yaml");
    assert!(files.len() >= 5, "the bad-workflow corpus is missing");
    for file in files {
        let name = file
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).expect("read the workflow");
        let actual = match Workflow::parse(&name, &text, Path::new("/flows")) {
            Ok(workflow) => format!("unexpectedly loaded {} jobs\n", workflow.jobs.len()),
            Err(e) => e.problems().iter().map(|p| format!("{p}\n")).collect(),
        };
        if let Err(diff) = check_file(&file.with_extension("expected"), &actual) {
            failures.push(diff);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every `tests/data/good/*.yaml` loads, and reads as the `.expected` summary beside it says.
#[test]
fn good_workflows_read_as_expected() {
    let mut failures = Vec::new();
    let files = data_files("good", "yaml");
    assert!(files.len() >= 2, "the good-workflow corpus is missing");
    for file in files {
        let actual = match Workflow::load(&file) {
            Ok(workflow) => summary(&workflow, file.parent().expect("a folder")),
            Err(e) => format!("{e}\n"),
        };
        if let Err(diff) = check_file(&file.with_extension("expected"), &actual) {
            failures.push(diff);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A stable text form of a workflow, with its folder shown as `<dir>`.
fn summary(workflow: &Workflow, dir: &Path) -> String {
    let mut text = format!(
        "workflow {}, jobs: {}\n",
        workflow.name,
        workflow.jobs.len()
    );
    for job in &workflow.jobs {
        let Job {
            name,
            identity,
            command,
            spark,
            conf,
            retry,
            timeout,
            depends_on,
            working_dir,
        } = job;
        let _ = writeln!(text, "job {name}");
        let _ = writeln!(
            text,
            "  identity: {}",
            serde_json::to_string(identity).expect("json")
        );
        let _ = writeln!(text, "  command: {command:?}");
        if let Some(spark) = spark {
            let _ = writeln!(
                text,
                "  spark: application {:?}, class {:?}, args {:?}",
                spark.application, spark.main_class, spark.args
            );
        }
        let _ = writeln!(
            text,
            "  conf: {}",
            serde_json::to_string(conf).expect("json")
        );
        let _ = writeln!(
            text,
            "  retry: max_attempts {}, backoff {:?} x{} up to {:?}",
            retry.max_attempts, retry.initial_backoff, retry.backoff_multiplier, retry.max_backoff
        );
        let _ = writeln!(text, "  timeout: {timeout:?}");
        let _ = writeln!(text, "  depends_on: {depends_on:?}");
        let shown = if working_dir == dir {
            "<dir>".to_owned()
        } else {
            working_dir.display().to_string()
        };
        let _ = writeln!(text, "  working_dir: {shown}");
    }
    text
}

#[test]
fn jobs_run_in_the_workflow_files_folder_whatever_the_current_one() {
    let workflow = Workflow::load(&data("good/minimal.yaml")).expect("valid");
    let folder = std::path::absolute(data("good")).expect("absolute");
    assert_eq!(workflow.jobs[0].working_dir, folder);
    assert!(workflow.jobs[0].working_dir.is_absolute());
}

#[test]
fn a_missing_file_is_a_problem_not_a_panic() {
    let err = Workflow::load(&data("no-such-workflow.yaml")).expect_err("missing");
    assert_eq!(err.problems().len(), 1);
    assert!(
        err.problems()[0].message.starts_with("cannot read"),
        "{err}"
    );
}

#[test]
fn without_retry_settings_a_job_gets_maestros_defaults() {
    let workflow = Workflow::load(&data("good/minimal.yaml")).expect("valid");
    let retry = workflow.jobs[0].retry;
    assert_eq!(retry, RetryPolicy::default());
    assert_eq!(
        (
            retry.max_attempts,
            retry.initial_backoff,
            retry.backoff_multiplier,
            retry.max_backoff
        ),
        (3, Duration::from_secs(60), 2.0, Duration::from_secs(600))
    );
}

fn job_with_command(command: &[&str]) -> Job {
    let yaml = format!(
        "name: w\njobs:\n  - name: j\n    command: {}\n",
        serde_json::to_string(command).expect("json")
    );
    let workflow = Workflow::parse("w.yaml", &yaml, Path::new("/flows")).expect("valid");
    workflow.jobs[0].clone()
}

#[test]
fn conf_flags_go_where_the_placeholder_is_or_right_after_the_program() {
    let mut conf = SparkConf::new();
    conf.set("spark.sql.shuffle.partitions", "400");
    conf.set("spark.executor.memory", "4g");
    let flags = [
        "--conf",
        "spark.executor.memory=4g",
        "--conf",
        "spark.sql.shuffle.partitions=400",
    ];

    let after_program =
        job_with_command(&["spark-submit", "--class", "Main", "app.jar", "--day", "1"]);
    let mut want = vec!["spark-submit"];
    want.extend(flags);
    want.extend(["--class", "Main", "app.jar", "--day", "1"]);
    assert_eq!(after_program.command_line(&conf), want);

    let placed = job_with_command(&["env", "X=1", "spark-submit", "{conf}", "app.py"]);
    let mut want = vec!["env", "X=1", "spark-submit"];
    want.extend(flags);
    want.push("app.py");
    assert_eq!(placed.command_line(&conf), want);

    // No configuration: no flags, and the placeholder disappears.
    assert_eq!(
        placed.command_line(&SparkConf::new()),
        ["env", "X=1", "spark-submit", "app.py"]
    );
    assert_eq!(
        after_program.command_line(&SparkConf::new()),
        after_program.command
    );
}

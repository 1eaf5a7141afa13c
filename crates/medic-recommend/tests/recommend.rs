//! The recommender end to end: heuristic decisions from a data file, the spaces file's checks, and, with a model
//! trained on a synthetic fleet whose hidden memory needs are known, whether its recommendations would succeed,
//! what the optimisers find against the exhaustive optimum, and the deadline.

#[path = "support/cases.rs"]
mod cases;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use medic_core::{Category, SparkConf};
use medic_recommend::{
    FailedRun, ModelHandle, OptimizerKind, Options, Recommendation, Recommender, SearchSpaces,
    StopReason,
};
use serde::Deserialize;

fn data(path: &str) -> String {
    let path = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionCase {
    name: String,
    run: FailedRun,
    retry: bool,
    #[serde(default)]
    heuristic: Option<String>,
    #[serde(default)]
    optimizer: Option<String>,
    #[serde(default)]
    changes: Option<BTreeMap<String, String>>,
}

#[test]
fn without_a_model_the_heuristics_decide_as_the_data_file_says() {
    let cases: Vec<DecisionCase> =
        serde_saphyr::from_str(&data("heuristic-decisions.yaml")).expect("cases");
    let recommender = Recommender::new(SearchSpaces::built_in(), None);
    for case in cases {
        let answer = recommender
            .recommend(&case.run, &Options::default())
            .expect("answer");
        assert_eq!(answer.retry, case.retry, "{}: {}", case.name, answer.reason);
        assert_eq!(answer.config.is_some(), case.retry, "{}", case.name);
        if let Some(heuristic) = &case.heuristic {
            assert_eq!(answer.heuristic.as_ref(), Some(heuristic), "{}", case.name);
            assert_eq!(answer.optimizer, "heuristic", "{}", case.name);
            assert_eq!(answer.model_version, None, "{}", case.name);
        }
        if let Some(optimizer) = &case.optimizer {
            assert_eq!(&answer.optimizer, optimizer, "{}", case.name);
        }
        if let Some(expected) = &case.changes {
            let actual: BTreeMap<String, String> = answer
                .changes
                .iter()
                .map(|(k, c)| (k.clone(), c.to.clone().unwrap_or_default()))
                .collect();
            assert_eq!(&actual, expected, "{}", case.name);
        }
        assert!(!answer.reason.is_empty(), "{}", case.name);
    }
}

#[test]
fn a_bad_spaces_file_reports_every_problem() {
    let error = SearchSpaces::from_yaml(&data("spaces/bad.yaml"), "bad.yaml").expect_err("invalid");
    let problems = match &error {
        medic_recommend::Error::InvalidSpaces { origin, problems } => {
            assert_eq!(origin, "bad.yaml");
            problems.clone()
        }
        other => panic!("unexpected error {other}"),
    };
    let expected: Vec<String> = data("spaces/bad.expected")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(problems, expected);
    // Unknown fields and wrong types are refused too.
    for text in [
        "policy: {lambda: 0.1, p_max: 0.2, max_cost_ratio: 3, unclassified_p_fail_threshold: 0.8, speed: 1}\nclusters: {}\ncategories: {}",
        "policy: {lambda: 0.1, p_max: 0.2, max_cost_ratio: 3, unclassified_p_fail_threshold: 0.8}\nclusters: {}\ncategories: {executor_omm: []}",
        "policy: {lambda: 0.1, p_max: 0.2, max_cost_ratio: 3, unclassified_p_fail_threshold: 0.8}\nclusters: {}\ncategories: {executor_oom: [{key: spark.x, type: integral, min: 1, max: 2, step: 1}]}",
    ] {
        assert!(SearchSpaces::from_yaml(text, "t").is_err(), "{text}");
    }
}

/// A model trained on the synthetic fleet's history, shared by the tests below.
fn model() -> ModelHandle {
    static MODEL: OnceLock<ModelHandle> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let mut model = cases::trained_model(20_000, 4);
            model.version = "test-model".to_owned();
            model
        })
        .clone()
}

fn recommender() -> Recommender {
    Recommender::new(SearchSpaces::built_in(), Some(model()))
}

/// A recommender over a wide grid (tests/data/spaces/wide.yaml), where searching takes real work.
fn wide_recommender() -> Recommender {
    let spaces =
        SearchSpaces::from_yaml(&data("spaces/wide.yaml"), "wide.yaml").expect("wide spaces");
    Recommender::new(spaces, Some(model()))
}

fn unhurried(optimizer: OptimizerKind) -> Options {
    Options {
        optimizer,
        deadline: Duration::from_secs(600),
        max_evaluations: usize::MAX,
        ..Options::default()
    }
}

#[test]
fn recommendations_for_out_of_memory_failures_would_succeed_and_cost_less_than_the_largest_heap() {
    let recommender = recommender();
    let cases = cases::failed_cases(7, 40);
    let mut fixed = 0;
    let mut cheaper_than_max = 0;
    for case in &cases {
        let answer = recommender
            .recommend(&case.run, &unhurried(OptimizerKind::Batched))
            .expect("answer");
        assert_eq!(answer.model_version.as_deref(), Some("test-model"));
        assert_eq!(answer.optimizer, "batched", "{}", answer.reason);
        let Some(config) = &answer.config else {
            continue;
        };
        let predicted = answer.predicted.expect("model numbers");
        let recommended = predicted.recommended.expect("recommended numbers");
        assert!(recommended.p_fail <= 0.2, "{}", answer.reason);
        assert!(
            recommended.objective <= predicted.original.objective + 1e-9
                || predicted.original.p_fail > 0.2
        );
        // Never less memory than the failed run had.
        let heap = |c: &SparkConf| {
            medic_core::units::parse_size(
                c.get("spark.executor.memory").unwrap_or("1g"),
                medic_core::units::SizeUnit::Mib,
            )
            .expect("size")
        };
        assert!(heap(config) >= heap(&case.run.config));
        if case.succeeds_with(config) {
            fixed += 1;
        }
        if heap(config) < 60 * 1024 * 1024 * 1024 {
            cheaper_than_max += 1;
        }
    }
    // Measured when written: 38 of 40 fixed (the model's P(fail) ≤ 0.2 is not a guarantee).
    assert!(
        fixed >= 34,
        "only {fixed} of {} recommendations would succeed",
        cases.len()
    );
    assert!(
        cheaper_than_max >= 34,
        "{cheaper_than_max}: the recommender reached for the largest heap"
    );
}

fn objective_of(answer: &Recommendation) -> Option<f64> {
    answer.predicted?.recommended.map(|r| r.objective)
}

#[test]
fn the_optimisers_come_close_to_the_exhaustive_optimum() {
    let recommender = wide_recommender();
    let cases = cases::failed_cases(11, 8);
    let exact: Vec<Recommendation> = cases
        .iter()
        .map(|case| {
            let exact = recommender
                .recommend(&case.run, &unhurried(OptimizerKind::Exhaustive))
                .expect("exhaustive");
            assert_eq!(exact.stopped_by, Some(StopReason::Exhausted));
            exact
        })
        .collect();
    // The batched search must match the optimum; Bayesian optimisation, with its 30 iterations, is only
    // expected to do clearly better than its initial design (its full measurement is the benchmark's). It is the
    // slow one, so it runs on half of the cases.
    for (optimizer, every, bound) in [
        (OptimizerKind::Batched, 1, 0.01),
        (OptimizerKind::Bayesian, 2, 0.5),
    ] {
        let mut regrets = Vec::new();
        for (case, exact) in cases.iter().zip(&exact).step_by(every) {
            let found = recommender
                .recommend(&case.run, &unhurried(optimizer))
                .expect("search");
            assert!(
                found.evaluations < exact.evaluations / 5,
                "{optimizer:?} evaluated {} of {}",
                found.evaluations,
                exact.evaluations
            );
            match (objective_of(exact), objective_of(&found)) {
                (Some(best), Some(value)) => {
                    // Batches of different sizes round differently in the matrix product: equal up to 1e-5.
                    assert!(
                        value >= best - 1e-5 * best.abs(),
                        "{optimizer:?} beat the exhaustive optimum: {value} < {best}"
                    );
                    regrets.push(((value - best) / best.abs().max(1e-9)).max(0.0));
                }
                (Some(_), None) => regrets.push(1.0),
                (None, found) => assert_eq!(
                    found, None,
                    "nothing feasible, yet {optimizer:?} found something"
                ),
            }
        }
        let mean = regrets.iter().sum::<f64>() / regrets.len().max(1) as f64;
        assert!(
            mean <= bound,
            "{optimizer:?}: mean regret {mean:.4} over {regrets:?}"
        );
    }
}

#[test]
fn the_same_request_and_seed_give_the_same_answer() {
    let recommender = recommender();
    let case = &cases::failed_cases(3, 1)[0];
    for optimizer in [OptimizerKind::Batched, OptimizerKind::Bayesian] {
        let a = recommender
            .recommend(&case.run, &unhurried(optimizer))
            .expect("a");
        let b = recommender
            .recommend(&case.run, &unhurried(optimizer))
            .expect("b");
        assert_eq!(
            (a.config, a.changes, a.predicted, a.evaluations),
            (b.config, b.changes, b.predicted, b.evaluations)
        );
    }
}

#[test]
fn a_passed_deadline_still_answers_with_the_best_so_far() {
    let recommender = wide_recommender();
    let case = &cases::failed_cases(5, 1)[0];
    for optimizer in [
        OptimizerKind::Batched,
        OptimizerKind::Bayesian,
        OptimizerKind::Exhaustive,
    ] {
        let options = Options {
            optimizer,
            deadline: Duration::ZERO,
            ..Options::default()
        };
        let answer = recommender.recommend(&case.run, &options).expect("answer");
        assert_eq!(
            answer.stopped_by,
            Some(StopReason::Deadline),
            "{optimizer:?}"
        );
        assert!(answer.evaluations > 1, "{optimizer:?} evaluated nothing");
        assert!(
            answer.notes.iter().any(|n| n.contains("deadline")),
            "{:?}",
            answer.notes
        );
    }
}

#[test]
fn cluster_limits_and_thresholds_decide_do_not_retry() {
    let case = &cases::failed_cases(9, 1)[0];
    // A cluster whose largest container is the failed run's own, and a space of the heap alone: no room to grow.
    let mut spaces = SearchSpaces::built_in();
    let heap_only = spaces.settings_for(Category::ExecutorOom)[..1].to_vec();
    spaces.categories.insert(Category::ExecutorOom, heap_only);
    let heap_mib = medic_core::units::parse_size(
        case.run.config.get("spark.executor.memory").expect("heap"),
        medic_core::units::SizeUnit::Mib,
    )
    .expect("size")
        >> 20;
    let mut run = case.run.clone();
    run.job.cluster = Some("tiny".to_owned());
    spaces.clusters.insert(
        "tiny".to_owned(),
        medic_recommend::space::Limits {
            max_container_mib: heap_mib + 384 + 100,
            max_executor_cores: 8,
        },
    );
    // The model finds nothing feasible; by default the heuristics answer. Their heap step does not fit, so each
    // task gets more of the same heap: fewer cores share it.
    let limited = Recommender::new(spaces.clone(), Some(model()));
    let answer = limited
        .recommend(&run, &unhurried(OptimizerKind::Batched))
        .expect("answer");
    assert!(answer.retry, "{}", answer.reason);
    assert!(
        answer
            .reason
            .contains("not given up on the model's word alone")
            && answer
                .reason
                .contains("heap_jump exceeds the cluster's limits"),
        "{}",
        answer.reason
    );
    assert_eq!(answer.heuristic.as_deref(), Some("fewer_tasks"));
    let cores = |config: &medic_core::SparkConf| {
        config
            .get("spark.executor.cores")
            .and_then(|cores| cores.parse::<u32>().ok())
    };
    let fewer = answer.config.as_ref().and_then(cores).expect("cores");
    assert!(
        fewer < cores(&run.config).expect("cores"),
        "{}",
        answer.reason
    );
    // With one task per executor already, nothing is left: do not retry.
    run.config.set("spark.executor.cores", "1");
    let answer = Recommender::new(spaces.clone(), None)
        .recommend(&run, &unhurried(OptimizerKind::Batched))
        .expect("answer");
    assert!(!answer.retry, "{}", answer.reason);
    assert!(
        answer.reason.contains("exceeds the cluster's limits"),
        "{}",
        answer.reason
    );
    assert_eq!(answer.config, None);
    run = case.run.clone();
    run.job.cluster = Some("tiny".to_owned());
    // A policy that lets the model refuse: its own "do not retry", naming the closest configuration.
    spaces.policy.model_may_refuse_memory_retries = true;
    let answer = Recommender::new(spaces, Some(model()))
        .recommend(&run, &unhurried(OptimizerKind::Batched))
        .expect("answer");
    assert!(!answer.retry, "{}", answer.reason);
    assert!(
        answer.reason.starts_with("do not retry"),
        "{}",
        answer.reason
    );
    assert_eq!(answer.config, None);

    // Unclassified: the unchanged configuration's P(fail) against the threshold.
    let recommender = recommender();
    let mut unclassified = case.run.clone();
    unclassified.category = Category::Unclassified;
    unclassified.rule = None;
    let answer = recommender
        .recommend(&unclassified, &Options::default())
        .expect("answer");
    let p = answer.predicted.expect("numbers").original.p_fail;
    assert_eq!(answer.retry, p < 0.8, "{}", answer.reason);
    assert_eq!(answer.evaluations, 1);
    // A generous run of the same job: retried unchanged.
    unclassified.config.set("spark.executor.memory", "60g");
    unclassified.config.set("spark.executor.cores", "1");
    let answer = recommender
        .recommend(&unclassified, &Options::default())
        .expect("answer");
    assert!(answer.retry, "{}", answer.reason);
    assert!(answer.changes.is_empty());

    // A λ below zero is refused.
    let options = Options {
        lambda: Some(-1.0),
        ..Options::default()
    };
    assert!(recommender.recommend(&case.run, &options).is_err());
}

#[test]
fn in_local_mode_the_heuristics_decide_even_with_a_model() {
    let mut run = cases::failed_cases(13, 1)[0].run.clone();
    run.category = Category::ExecutorOom;
    run.config.set("spark.master", "local[2]");
    run.config.set("spark.driver.memory", "1g");
    let answer = recommender()
        .recommend(&run, &unhurried(OptimizerKind::Batched))
        .expect("answer");
    assert_eq!(answer.optimizer, "heuristic", "{}", answer.reason);
    assert_eq!(answer.heuristic.as_deref(), Some("heap_jump_local"));
    assert!(answer.reason.contains("local mode"), "{}", answer.reason);
    assert_eq!(
        answer
            .changes
            .get("spark.driver.memory")
            .map(|c| c.to.as_deref()),
        Some(Some("4096m")),
        "{:?}",
        answer.changes
    );
}

#[test]
fn settings_the_model_cannot_see_take_the_heuristic_value() {
    // The synthetic history has no driver failures: its model is not trusted with them.
    let recommender = recommender();
    let mut run = cases::failed_cases(13, 1)[0].run.clone();
    run.category = Category::ResultSizeExceeded;
    run.rule = Some("driver-max-result-size-exceeded".to_owned());
    let answer = recommender
        .recommend(&run, &unhurried(OptimizerKind::Batched))
        .expect("answer");
    assert_eq!(
        answer.heuristic.as_deref(),
        Some("result_size_doubling"),
        "{}",
        answer.reason
    );
    assert!(
        answer.reason.contains("trained on 0 result_size_exceeded"),
        "{}",
        answer.reason
    );

    // A model that has seen them searches what it can see, and the heuristic sets what it cannot.
    let mut model = model();
    model
        .trained_on
        .insert(Category::ResultSizeExceeded, 10_000);
    // The model finds nothing feasible for this run; let it say so, to see what it searched.
    let mut spaces = SearchSpaces::built_in();
    spaces.policy.model_may_refuse_memory_retries = true;
    let trusting = Recommender::new(spaces.clone(), Some(model.clone()));
    let answer = trusting
        .recommend(&run, &unhurried(OptimizerKind::Batched))
        .expect("answer");
    assert_eq!(answer.optimizer, "batched", "{}", answer.reason);
    assert!(
        answer
            .notes
            .iter()
            .any(|n| n.contains("spark.driver.maxResultSize") && n.contains("heuristic")),
        "{:?}",
        answer.notes
    );

    assert!(
        answer
            .reason
            .contains("spark.driver.maxResultSize (unset) → 4096m"),
        "{}",
        answer.reason
    );
    // The driver heap keeps its own spelling when the search leaves it as it was.
    assert!(
        !answer.reason.contains("spark.driver.memory 2g → 2048m"),
        "{}",
        answer.reason
    );
    // By default that refusal is not the model's to make: the heuristic retries.
    spaces.policy.model_may_refuse_memory_retries = false;
    let answer = Recommender::new(spaces, Some(model))
        .recommend(&run, &unhurried(OptimizerKind::Batched))
        .expect("answer");
    assert!(answer.retry, "{}", answer.reason);
    assert_eq!(
        answer.heuristic.as_deref(),
        Some("result_size_doubling"),
        "{}",
        answer.reason
    );
}

#[test]
fn where_the_model_does_not_know_the_failure_the_heuristics_answer() {
    let recommender = recommender();
    // An input a thousand times any the model learned from: its answer would be a guess.
    let mut run = cases::failed_cases(13, 1)[0].run.clone();
    run.input_bytes = run.input_bytes.map(|bytes| bytes * 1000);
    let answer = recommender
        .recommend(&run, &unhurried(OptimizerKind::Batched))
        .expect("answer");
    assert_eq!(answer.optimizer, "heuristic", "{}", answer.reason);
    assert!(answer.retry, "{}", answer.reason);
    assert!(
        answer
            .reason
            .contains("outside the data the model learned from (input_bytes at +"),
        "{}",
        answer.reason
    );
    assert_eq!(answer.model_version, None);
    // A failed configuration the model expects to succeed: it does not see why the run failed. (The largest heap
    // of the space, with a small input, is one such: the synthetic jobs all fit in it.)
    let mut run = cases::failed_cases(13, 1)[0].run.clone();
    run.config.set("spark.executor.memory", "60g");
    run.config.set("spark.executor.cores", "1");
    let answer = recommender
        .recommend(&run, &unhurried(OptimizerKind::Batched))
        .expect("answer");
    assert_eq!(answer.optimizer, "heuristic", "{}", answer.reason);
    assert!(
        answer.reason.contains("does not see why this run failed"),
        "{}",
        answer.reason
    );
}

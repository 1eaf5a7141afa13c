//! The recommendation: from a failed run to "retry with this configuration, for these predicted numbers" or "do
//! not retry, because …".

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub use medic_core::recommendation::{
    Alternative, Change, Estimate, FailedRun, Predicted, Recommendation,
};
use medic_core::{Category, SparkConf};
use medic_model::{Predictor, RetryContext};

use crate::error::Error;
use crate::evaluate::ModelEvaluator;
use crate::heuristic::{self, Advice};
use crate::optimize::{
    Budget, Evaluated, Evaluator, Objective, OptimizerKind, Problem, Search, StopReason, optimize,
};
use crate::prior::MemoryPrior;
use crate::space::{ContainerCheck, Grid, SearchSpaces, Setting};

/// How to search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Which optimiser.
    pub optimizer: OptimizerKind,
    /// The answer is due this long after the call; the search stops and answers with its best so far.
    pub deadline: Duration,
    /// At most this many model evaluations.
    pub max_evaluations: usize,
    /// Seed of the search.
    pub seed: u64,
    /// λ for this request (else the policy's for the job).
    pub lambda: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            optimizer: OptimizerKind::Batched,
            deadline: Duration::from_millis(500),
            max_evaluations: 20_000,
            seed: 0x006d_6564_6963,
            lambda: None,
        }
    }
}

/// A promoted model and its version.
#[derive(Clone, Debug)]
pub struct ModelHandle {
    /// The model.
    pub predictor: Predictor,
    /// Its registry version.
    pub version: String,
    /// Training records per failure category (empty: not known, every category is trusted).
    pub trained_on: BTreeMap<Category, u64>,
}

/// Fewest training records of a category for the model to decide on it; below, the heuristics do.
pub const MIN_CATEGORY_RECORDS: u64 = 200;

/// Search spaces and, once one is promoted, the model.
#[derive(Clone, Debug)]
pub struct Recommender {
    spaces: SearchSpaces,
    model: Option<ModelHandle>,
}

/// Most alternatives listed.
const ALTERNATIVES: usize = 3;

impl Recommender {
    /// A recommender with `spaces`, and a model if one is promoted.
    pub fn new(spaces: SearchSpaces, model: Option<ModelHandle>) -> Self {
        Recommender { spaces, model }
    }

    /// The spaces.
    pub fn spaces(&self) -> &SearchSpaces {
        &self.spaces
    }

    /// The model's version, if there is a model.
    pub fn model_version(&self) -> Option<&str> {
        self.model.as_ref().map(|m| m.version.as_str())
    }

    /// The answer for `run`.
    pub fn recommend(&self, run: &FailedRun, options: &Options) -> Result<Recommendation, Error> {
        let start = Instant::now();
        if let Some(lambda) = options.lambda
            && !(lambda.is_finite() && lambda >= 0.0)
        {
            return Err(Error::InvalidRequest(format!(
                "lambda is {lambda}, expected a number ≥ 0"
            )));
        }
        if let Some(cost) = run.cost_dollars
            && !(cost.is_finite() && cost >= 0.0)
        {
            return Err(Error::InvalidRequest(format!(
                "failed_cost is {cost}, expected dollars ≥ 0"
            )));
        }
        let lambda = options
            .lambda
            .unwrap_or_else(|| self.spaces.policy.lambda_for(&run.job));
        let mut answer = Recommendation {
            retry: false,
            config: None,
            changes: BTreeMap::new(),
            predicted: None,
            lambda,
            optimizer: "none".to_owned(),
            evaluations: 0,
            elapsed_ms: 0.0,
            model_version: None,
            heuristic: None,
            alternatives: Vec::new(),
            reason: String::new(),
            category: run.category,
            stopped_by: None,
            notes: Vec::new(),
        };
        if !run.category.is_memory_config() && run.category != Category::Unclassified {
            answer.retry = run.restartable.unwrap_or(false);
            answer.config = answer.retry.then(|| run.config.clone());
            answer.reason = format!(
                "a {} error is not a configuration problem: {}",
                run.category,
                if answer.retry {
                    "its rule says a plain retry can help, so retry unchanged"
                } else {
                    "no Spark setting fixes it and its rule says a retry does not help"
                }
            );
            return Ok(finish(answer, start));
        }

        let limits = self.spaces.limits_for(run.job.cluster.as_deref());
        let prior = MemoryPrior {
            tail: self.spaces.policy.memory_need_tail,
        };
        let advice = heuristic::advise_run(run, limits, prior);
        // An error no rule knows, with a heap full when it came: the evidence is the heap's, not the model's
        // "retry as it was".
        if advice.name == heuristic::FULL_HEAP_JUMP {
            let why = "an unclassified failure whose event log shows a full heap";
            return Ok(finish(heuristic_answer(answer, run, advice, why), start));
        }
        let Some(model) = &self.model else {
            return Ok(finish(
                heuristic_answer(answer, run, advice, "no promoted model yet"),
                start,
            ));
        };
        if medic_core::spark::is_local_mode(&run.config) {
            // The spaces describe clusters of executors; in local mode the one JVM is the driver's.
            let why = "local mode, where the executors are threads of the driver's JVM, which the search spaces do not describe";
            return Ok(finish(heuristic_answer(answer, run, advice, why), start));
        }
        let seen = model.trained_on.get(&run.category).copied().unwrap_or(0);
        if !model.trained_on.is_empty() && seen < MIN_CATEGORY_RECORDS {
            let why = format!(
                "the model was trained on {seen} {} failure(s), fewer than {MIN_CATEGORY_RECORDS}",
                run.category
            );
            return Ok(finish(heuristic_answer(answer, run, advice, &why), start));
        }
        let settings = self.spaces.settings_for(run.category);
        let (visible, blind): (Vec<&Setting>, Vec<&Setting>) = settings.iter().partition(|s| {
            model
                .predictor
                .spec()
                .encode_setting(&s.key, None)
                .is_some()
        });
        if !settings.is_empty() && visible.is_empty() {
            return Ok(finish(
                heuristic_answer(
                    answer,
                    run,
                    advice,
                    "the model has no input for any setting of this category's space",
                ),
                start,
            ));
        }
        // Settings the model cannot see are not searched (it would answer the same for every value): they take
        // the heuristic's value when it changes them, else stay as they were.
        let mut base = run.config.clone();
        for setting in &blind {
            let heuristic_value = advice.config.as_ref().and_then(|c| c.get(&setting.key));
            if let Some(value) = heuristic_value
                && run.config.get(&setting.key) != Some(value)
            {
                base.set(setting.key.clone(), value.to_owned());
                answer.notes.push(format!(
                    "{} is not a model input: set by the {} heuristic",
                    setting.key, advice.name
                ));
            } else {
                answer.notes.push(format!(
                    "{} is not a model input: left unchanged",
                    setting.key
                ));
            }
        }
        let visible: Vec<Setting> = visible.into_iter().cloned().collect();
        let grid = Grid::new(&visible, &base, advice.config.as_ref());
        let context = RetryContext {
            job: run.job.clone(),
            failure_category: run.category,
            failure_rule: run.rule.clone(),
            input_bytes: run.input_bytes,
            plan_operators: run.plan_operators.clone(),
        };
        let mut evaluator = ModelEvaluator::new(&model.predictor, &context, &base, &grid)?;
        let original = evaluator.original()?;
        let policy = &self.spaces.policy;
        let objective = Objective {
            lambda,
            reference_cost: run
                .cost_dollars
                .filter(|cost| *cost > 0.0)
                .unwrap_or(f64::from(original.cost_dollars)),
            p_max: policy.p_max,
            max_cost: policy.max_cost_ratio * f64::from(original.cost_dollars),
        };
        let original_estimate = estimate(&objective, &original);
        answer.model_version = Some(model.version.clone());
        answer.predicted = Some(Predicted {
            original: original_estimate,
            recommended: None,
        });
        answer.evaluations = 1;

        // Where the model does not know this failure, its search is a guess: the heuristics answer.
        if run.category.is_memory_config()
            && let Some(why) = unsure(model, run, settings, original_estimate.p_fail)
        {
            answer.predicted = None;
            answer.model_version = None;
            return Ok(finish(heuristic_answer(answer, run, advice, &why), start));
        }

        if grid.dimensions.is_empty() && run.category == Category::Unclassified {
            let threshold = policy.unclassified_p_fail_threshold;
            answer.retry = original_estimate.p_fail < threshold;
            if answer.retry {
                answer.config = Some(base.clone());
                answer.changes = changes(&run.config, &base);
                if let Some(predicted) = &mut answer.predicted {
                    predicted.recommended = Some(original_estimate);
                }
            }
            answer.reason = format!(
                "unclassified error: the unchanged configuration fails again with P = {:.3} ({} the threshold {threshold}): {}",
                original_estimate.p_fail,
                if answer.retry { "below" } else { "at or above" },
                if answer.retry {
                    "retry unchanged"
                } else {
                    "do not retry"
                }
            );
            return Ok(finish(answer, start));
        }

        let check = ContainerCheck::new(&base, limits);
        let budget = Budget {
            deadline: Some(start + options.deadline),
            max_evaluations: options.max_evaluations.max(1),
            seed: options.seed,
        };
        let evaluator: &mut dyn Evaluator = &mut evaluator;
        let search = optimize(
            options.optimizer,
            Problem::new(&grid, &check, objective, budget, evaluator),
        )?;
        answer.optimizer = options.optimizer.as_str().to_owned();
        answer.evaluations += search.evaluated.len();
        answer.stopped_by = Some(search.stop);
        if search.stop == StopReason::Deadline {
            answer.notes.push(format!(
                "the deadline ({} ms) ended the search: this is the best configuration found by then",
                options.deadline.as_millis()
            ));
        }
        decide(&mut answer, run, &base, &grid, &objective, &search);
        if !answer.retry
            && run.category.is_memory_config()
            && !self.spaces.policy.model_may_refuse_memory_retries
        {
            let why = format!(
                "the model finds no configuration with P(fail) ≤ {} at a cost it allows ({}), and a memory failure \
                 is not given up on the model's word alone",
                objective.p_max, answer.reason
            );
            answer.alternatives.clear();
            return Ok(finish(heuristic_answer(answer, run, advice, &why), start));
        }
        // A memory failure is never retried with a configuration this run already failed with: the model's best
        // may be one (it cannot see the attempts before), the heuristics then escalate to another knob.
        if answer.retry
            && run.category.is_memory_config()
            && answer
                .config
                .as_ref()
                .is_some_and(|config| run.repeats(config))
        {
            let why = format!(
                "the model's best configuration ({}) already failed in this run",
                describe_changes(&answer.changes)
            );
            answer.alternatives.clear();
            if let Some(predicted) = &mut answer.predicted {
                predicted.recommended = None;
            }
            return Ok(finish(heuristic_answer(answer, run, advice, &why), start));
        }
        // The model sees the failure's space; what the event log says of the other memories is the heuristics'.
        if answer.retry
            && run.category.is_memory_config()
            && let Some(config) = &answer.config
        {
            let (config, notes) = heuristic::with_companions(run, config, limits, prior);
            if !notes.is_empty() && !run.repeats(&config) {
                answer.changes = changes(&run.config, &config);
                answer.config = Some(config);
                answer.notes.extend(notes);
            }
        }
        Ok(finish(answer, start))
    }
}

/// Farthest a failed run's memory settings or input may lie from the model's training data, in standard deviations
/// of their logarithm, for the model to decide.
pub const MAX_STANDARD_SCORE: f64 = 3.0;

/// Lowest P(fail) the model must give the configuration that just failed for a memory reason to be trusted with its
/// retry: a model that expects that configuration to succeed does not see why it failed.
pub const MIN_RECOGNISED_P_FAIL: f64 = 0.5;

/// Why `model` should not decide `run`'s retry, if it should not: the failure lies outside the data it learned from
/// (a setting of the category's space, or the input size, more than [`MAX_STANDARD_SCORE`] from its training
/// values), or it gives the configuration that failed (`p_fail_as_failed`) less than [`MIN_RECOGNISED_P_FAIL`].
fn unsure(
    model: &ModelHandle,
    run: &FailedRun,
    settings: &[Setting],
    p_fail_as_failed: f64,
) -> Option<String> {
    let mut names: Vec<&str> = settings.iter().map(|s| s.key.as_str()).collect();
    names.push("input_bytes");
    let outside: Vec<String> = model
        .predictor
        .spec()
        .standard_scores(&run.config, run.input_bytes, &names)
        .into_iter()
        .filter(|(_, score)| score.abs() > MAX_STANDARD_SCORE)
        .map(|(name, score)| format!("{name} at {score:+.1} standard deviations"))
        .collect();
    if !outside.is_empty() {
        return Some(format!(
            "the failed run lies outside the data the model learned from ({}), so its answer would be a guess",
            outside.join(", ")
        ));
    }
    (p_fail_as_failed < MIN_RECOGNISED_P_FAIL).then(|| {
        format!(
            "the model gives the configuration that just failed P(fail) {p_fail_as_failed:.3}, below \
             {MIN_RECOGNISED_P_FAIL}: it does not see why this run failed"
        )
    })
}

fn finish(mut answer: Recommendation, start: Instant) -> Recommendation {
    answer.elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    answer
}

fn estimate(objective: &Objective, prediction: &medic_model::Prediction) -> Estimate {
    Estimate {
        p_fail: f64::from(prediction.p_fail),
        cost: f64::from(prediction.cost_dollars),
        objective: objective.value(prediction),
    }
}

/// The answer `advice` gives, with the prior's numbers where it has them (they replace the model's): P(fail) of the
/// step, and its cost from the failed attempt's and the price of the new configuration (the same runtime assumed).
fn heuristic_answer(
    mut answer: Recommendation,
    run: &FailedRun,
    advice: Advice,
    why: &str,
) -> Recommendation {
    if let (Some(_), Some(p_fail), Some(failed)) =
        (advice.config.as_ref(), advice.p_fail, run.cost_dollars)
        && failed > 0.0
    {
        let cost = failed * advice.cost_ratio.unwrap_or(1.0);
        answer.predicted = Some(Predicted {
            // The configuration that failed fails again (the prior knows nothing else of it).
            original: Estimate {
                p_fail: 1.0,
                cost: failed,
                objective: 1.0 + answer.lambda,
            },
            recommended: Some(Estimate {
                p_fail,
                cost,
                objective: p_fail + answer.lambda * cost / failed,
            }),
        });
    }
    answer.optimizer = "heuristic".to_owned();
    answer.heuristic = Some(advice.name.to_owned());
    answer.retry = advice.config.is_some();
    answer.changes = advice
        .config
        .as_ref()
        .map(|config| changes(&run.config, config))
        .unwrap_or_default();
    answer.config = advice.config;
    answer.reason = format!("{why}; heuristic {}: {}", advice.name, advice.reason);
    answer
}

/// Fills in the decision from a finished search.
fn decide(
    answer: &mut Recommendation,
    run: &FailedRun,
    base: &SparkConf,
    grid: &Grid,
    objective: &Objective,
    search: &Search,
) {
    let describe =
        |evaluated: &Evaluated| changes(&run.config, &grid.config(base, &evaluated.point));
    match search.best() {
        Some(best) => {
            let config = grid.config(base, &best.point);
            let recommended = estimate(objective, &best.prediction);
            answer.retry = true;
            answer.changes = changes(&run.config, &config);
            answer.config = Some(config);
            if let Some(predicted) = &mut answer.predicted {
                predicted.recommended = Some(recommended);
            }
            answer.reason = format!(
                "retry with {}: predicted P(fail) {:.3} and cost ${:.4} (unchanged: {:.3} and ${:.4}), the lowest P(fail) + {} × cost / ${:.4} of {} configurations searched",
                describe_changes(&answer.changes),
                recommended.p_fail,
                recommended.cost,
                answer.predicted.map_or(f64::NAN, |p| p.original.p_fail),
                answer.predicted.map_or(f64::NAN, |p| p.original.cost),
                answer.lambda,
                objective.reference_cost,
                search.evaluated.len(),
            );
            answer.alternatives = pareto(search, best)
                .into_iter()
                .map(|e| Alternative {
                    changes: describe(e),
                    predicted: estimate(objective, &e.prediction),
                })
                .collect();
        }
        None => {
            answer.retry = false;
            let closest = search
                .closest()
                .map(|e| {
                    format!(
                        "; the closest, {}, has P(fail) {:.3} and cost ${:.4}",
                        describe_changes(&describe(e)),
                        e.prediction.p_fail,
                        e.prediction.cost_dollars
                    )
                })
                .unwrap_or_default();
            answer.reason = format!(
                "do not retry: no configuration within the space and the cluster's limits has P(fail) ≤ {} and cost ≤ ${:.4} ({} configurations searched){closest}",
                objective.p_max,
                objective.max_cost,
                search.evaluated.len(),
            );
        }
    }
}

/// Up to [`ALTERNATIVES`] feasible points of the Pareto front of (cost, P(fail)) other than `best`, spread along
/// it, cheapest first.
fn pareto<'s>(search: &'s Search, best: &Evaluated) -> Vec<&'s Evaluated> {
    let mut feasible: Vec<&Evaluated> = search.evaluated.iter().filter(|e| e.feasible).collect();
    feasible.sort_by(|a, b| {
        a.prediction
            .cost_dollars
            .total_cmp(&b.prediction.cost_dollars)
            .then(a.prediction.p_fail.total_cmp(&b.prediction.p_fail))
    });
    let mut front: Vec<&Evaluated> = Vec::new();
    for e in feasible {
        if front
            .last()
            .is_none_or(|last| e.prediction.p_fail < last.prediction.p_fail)
        {
            front.push(e);
        }
    }
    front.retain(|e| e.point != best.point);
    if front.len() <= ALTERNATIVES {
        return front;
    }
    // Evenly spaced picks, always including both ends.
    (0..ALTERNATIVES)
        .map(|i| front[i * (front.len() - 1) / (ALTERNATIVES - 1)])
        .collect()
}

/// The settings that differ between `from` and `to`.
pub fn changes(from: &SparkConf, to: &SparkConf) -> BTreeMap<String, Change> {
    let keys: std::collections::BTreeSet<&String> = from.0.keys().chain(to.0.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (a, b) = (from.get(key), to.get(key));
            (a != b).then(|| {
                (
                    key.clone(),
                    Change {
                        from: a.map(str::to_owned),
                        to: b.map(str::to_owned),
                    },
                )
            })
        })
        .collect()
}

fn describe_changes(changes: &BTreeMap<String, Change>) -> String {
    if changes.is_empty() {
        return "the configuration unchanged".to_owned();
    }
    changes
        .iter()
        .map(|(key, change)| {
            format!(
                "{key} {} → {}",
                change.from.as_deref().unwrap_or("(unset)"),
                change.to.as_deref().unwrap_or("(unset)")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

//! Optimisers over a [`Grid`]: they ask an [`Evaluator`] (the model) for P(fail) and cost of candidate points and
//! look for the feasible point of lowest objective. Each honours a [`Budget`]: a deadline and a cap on evaluations,
//! checked between batches, so that it always returns the best point found so far instead of timing out.
//!
//! * [`batched`]: the default. Thousands of random points in one batched forward pass, then local refinement on
//!   the grid of allowed steps around the best ones. It exploits how cheap a batch of the model is.
//! * [`bayesian`]: Gaussian-process surrogate + expected improvement (`egobox-ego`) with a fixed iteration budget,
//!   as the system medic re-creates does. One point per iteration.
//! * [`exhaustive`]: every point of the grid: the optimum the others are measured against (the benchmark's
//!   regret), and an answer for small spaces.

pub mod batched;
pub mod bayesian;
pub mod exhaustive;

use std::collections::HashSet;
use std::time::Instant;

pub use medic_core::recommendation::{OptimizerKind, StopReason};
use medic_model::Prediction;

use crate::error::Error;
use crate::space::{ContainerCheck, Grid, Point};

/// Scores points of the grid.
pub trait Evaluator {
    /// One prediction per point, in order.
    fn evaluate(&mut self, points: &[Point]) -> Result<Vec<Prediction>, Error>;
}

/// What is minimised, and what is acceptable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    /// Weight of the relative cost.
    pub lambda: f64,
    /// The cost the objective's cost is relative to (the failed attempt's).
    pub reference_cost: f64,
    /// Highest acceptable P(fail).
    pub p_max: f64,
    /// Highest acceptable cost, in dollars.
    pub max_cost: f64,
}

impl Objective {
    /// `P(fail) + λ · cost / reference_cost`.
    pub fn value(&self, prediction: &Prediction) -> f64 {
        f64::from(prediction.p_fail)
            + self.lambda * f64::from(prediction.cost_dollars) / self.reference_cost.max(1e-9)
    }

    /// Whether the prediction meets both thresholds.
    pub fn feasible(&self, prediction: &Prediction) -> bool {
        f64::from(prediction.p_fail) <= self.p_max
            && f64::from(prediction.cost_dollars) <= self.max_cost
    }

    /// The value the optimisers rank by: infeasible points rank after every feasible one (a feasible value is
    /// below `1 + λ · max_cost / reference`), ordered by how far they miss, so a search with nothing feasible
    /// still moves towards feasibility.
    pub fn penalised(&self, prediction: &Prediction) -> f64 {
        let value = self.value(prediction);
        if self.feasible(prediction) {
            value
        } else {
            let miss_p = (f64::from(prediction.p_fail) - self.p_max).max(0.0);
            let miss_cost = (f64::from(prediction.cost_dollars) - self.max_cost).max(0.0)
                / self.max_cost.max(1e-9);
            self.ceiling() + miss_p + miss_cost + value
        }
    }

    /// A value above every feasible one.
    pub fn ceiling(&self) -> f64 {
        2.0 + self.lambda * self.max_cost / self.reference_cost.max(1e-9)
    }
}

/// How long and how much a search may take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Stop starting new batches after this instant.
    pub deadline: Option<Instant>,
    /// Stop after this many model evaluations.
    pub max_evaluations: usize,
    /// Seed of the search's randomness: the same seed and inputs give the same search.
    pub seed: u64,
}

/// One evaluated point.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    /// The point.
    pub point: Point,
    /// The model's answer.
    pub prediction: Prediction,
    /// [`Objective::penalised`] of it.
    pub score: f64,
    /// Whether it meets the thresholds.
    pub feasible: bool,
}

/// Everything a search evaluated, and why it stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    /// Every evaluated point, in evaluation order.
    pub evaluated: Vec<Evaluated>,
    /// Why it stopped.
    pub stop: StopReason,
}

impl Search {
    /// The feasible point of lowest objective.
    pub fn best(&self) -> Option<&Evaluated> {
        self.evaluated
            .iter()
            .filter(|e| e.feasible)
            .min_by(|a, b| a.score.total_cmp(&b.score))
    }

    /// The point of lowest penalised objective, feasible or not (what a search with nothing feasible came
    /// closest to).
    pub fn closest(&self) -> Option<&Evaluated> {
        self.evaluated
            .iter()
            .min_by(|a, b| a.score.total_cmp(&b.score))
    }
}

/// Runs `kind` on `problem`.
pub fn optimize(kind: OptimizerKind, problem: Problem<'_>) -> Result<Search, Error> {
    match kind {
        OptimizerKind::Batched => batched::search(problem),
        OptimizerKind::Bayesian => bayesian::search(problem),
        OptimizerKind::Exhaustive => exhaustive::search(problem),
    }
}

/// One search's state: the grid, the limits, the objective, the model and the budget, and what has been
/// evaluated. Shared by the optimisers so that each point is evaluated at most once, points that do not fit the
/// cluster are never sent to the model, and the budget is checked the same way.
pub struct Problem<'a> {
    /// The space.
    pub grid: &'a Grid,
    /// The cluster limits.
    pub check: &'a ContainerCheck,
    /// The objective.
    pub objective: Objective,
    /// The budget.
    pub budget: Budget,
    evaluator: &'a mut dyn Evaluator,
    seen: HashSet<Point>,
    evaluated: Vec<Evaluated>,
}

impl<'a> Problem<'a> {
    /// A fresh search.
    pub fn new(
        grid: &'a Grid,
        check: &'a ContainerCheck,
        objective: Objective,
        budget: Budget,
        evaluator: &'a mut dyn Evaluator,
    ) -> Self {
        Problem {
            grid,
            check,
            objective,
            budget,
            evaluator,
            seen: HashSet::new(),
            evaluated: Vec::new(),
        }
    }

    /// Why the search must stop now, if it must.
    pub fn out_of_budget(&self) -> Option<StopReason> {
        if self.evaluated.len() >= self.budget.max_evaluations {
            Some(StopReason::EvaluationCap)
        } else if self
            .budget
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            Some(StopReason::Deadline)
        } else {
            None
        }
    }

    /// Evaluates the points not seen before that fit the cluster (at most what the evaluation cap leaves) in one
    /// batch; returns how many were evaluated.
    pub fn evaluate(&mut self, points: impl IntoIterator<Item = Point>) -> Result<usize, Error> {
        let room = self
            .budget
            .max_evaluations
            .saturating_sub(self.evaluated.len());
        let mut batch = Vec::new();
        for point in points {
            if batch.len() >= room {
                break;
            }
            if self.seen.insert(point.clone()) && self.check.fits(self.grid, &point) {
                batch.push(point);
            }
        }
        if batch.is_empty() {
            return Ok(0);
        }
        let predictions = self.evaluator.evaluate(&batch)?;
        let count = batch.len();
        for (point, prediction) in batch.into_iter().zip(predictions) {
            self.evaluated.push(Evaluated {
                point,
                score: self.objective.penalised(&prediction),
                feasible: self.objective.feasible(&prediction),
                prediction,
            });
        }
        Ok(count)
    }

    /// Whether `point` was already considered (evaluated, or refused for the limits).
    pub fn seen(&self, point: &[u16]) -> bool {
        self.seen.contains(point)
    }

    /// Points evaluated so far.
    pub fn evaluated(&self) -> &[Evaluated] {
        &self.evaluated
    }

    /// The search's result.
    pub fn finish(self, stop: StopReason) -> Search {
        Search {
            evaluated: self.evaluated,
            stop,
        }
    }
}

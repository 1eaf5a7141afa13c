//! Bayesian optimisation, as the system medic re-creates does it: a Gaussian-process surrogate of the objective
//! and expected improvement (egobox-ego's `EgorService`), one new point per iteration, a fixed iteration budget.
//!
//! egobox's ask-and-tell service keeps no state, so the loop is ours: a seeded initial design evaluated in one
//! batch, then per iteration one `suggest` (the GP is refitted on everything evaluated) and one model evaluation,
//! until [`ITERATIONS`], a repeated suggestion, or the deadline. A `suggest` cannot be interrupted, so the loop
//! stops early when twice the slowest one so far would pass the deadline.
//!
//! Every setting is searched by the index of its value (`XType::Int`), or as an unordered choice (`XType::Enum`)
//! when its values are not numbers. Measured on this machine (helper probe, release build): about 13 ms per
//! `suggest` with the settings below, against about 25 ms with egobox's defaults.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use egobox_ego::{EgorServiceBuilder, XType};
use ndarray::{Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Problem, Search, StopReason};
use crate::error::Error;
use crate::space::Point;

/// Iterations after the initial design (the budget of the system medic re-creates).
pub const ITERATIONS: usize = 30;

/// Runs the search.
pub fn search(mut problem: Problem<'_>) -> Result<Search, Error> {
    let grid = problem.grid;
    let sizes: Vec<usize> = grid.dimensions.iter().map(|d| d.texts.len()).collect();
    if sizes.is_empty() {
        problem.evaluate([Vec::new()])?;
        return Ok(problem.finish(StopReason::Exhausted));
    }
    let xtypes: Vec<XType> = grid
        .dimensions
        .iter()
        .map(|d| {
            let last = d.texts.len().saturating_sub(1) as i32;
            if d.numbers.iter().all(Option::is_some) {
                XType::Int(0, last)
            } else {
                XType::Enum(d.texts.len())
            }
        })
        .collect();

    // The initial design: the grid's lowest corner (the failed run's own values after the floors) and seeded
    // random points. The GP needs at least 5 distinct points to fit.
    let mut rng = ChaCha8Rng::seed_from_u64(problem.budget.seed);
    let initial = (2 * sizes.len() + 2).max(6);
    let mut design: Vec<Point> = vec![vec![0; sizes.len()]];
    let mut tries = 0;
    while design.len() < initial && tries < 100 * initial {
        tries += 1;
        let point: Point = sizes
            .iter()
            .map(|&n| rng.random_range(0..n) as u16)
            .collect();
        if !design.contains(&point) {
            design.push(point);
        }
    }
    let mut xs: Vec<Point> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    observe(&mut problem, design, &mut xs, &mut ys)?;
    if xs.len() < 5 {
        // A space this small is cheaper to enumerate than to model.
        return super::exhaustive::search(problem);
    }

    let service = EgorServiceBuilder::optimize()
        .configure(|config| {
            config
                .seed(problem.budget.seed)
                // Fewer multistarts of the infill optimisation, and none of the GP's hyperparameters (0, not 1:
                // egobox seeds a single start from system entropy), halve the time per iteration.
                .n_start(5)
                .configure_gp(|gp| gp.n_start(0))
        })
        .min_within_mixint_space(&xtypes)
        .map_err(|error| Error::Optimizer(error.to_string()))?;

    let mut slowest = Duration::ZERO;
    for _ in 0..ITERATIONS {
        if let Some(stop) = problem.out_of_budget() {
            return Ok(problem.finish(stop));
        }
        if let Some(deadline) = problem.budget.deadline
            && Instant::now() + 2 * slowest >= deadline
        {
            return Ok(problem.finish(StopReason::Deadline));
        }
        let started = Instant::now();
        let x = to_array(&xs);
        let y = Array2::from_shape_vec((ys.len(), 1), ys.clone())
            .map_err(|error| Error::Optimizer(error.to_string()))?;
        // egobox panics rather than returning errors on degenerate data (a GP it cannot fit); a panic ends the
        // search with the best point so far instead of taking the request down. It also runs on rayon's global
        // pool: a private one-thread pool keeps it off the server's other work (and gives the same answer).
        let suggest = || catch_unwind(AssertUnwindSafe(|| service.suggest(&x, &y)));
        let suggested = match pool() {
            Some(pool) => pool.install(suggest),
            None => suggest(),
        };
        slowest = slowest.max(started.elapsed());
        let Ok(suggested) = suggested else {
            return Ok(problem.finish(StopReason::SurrogateFailed));
        };
        let fresh: Vec<Point> = suggested
            .axis_iter(Axis(0))
            .map(|row| {
                row.iter()
                    .zip(&sizes)
                    .map(|(&v, &n)| v.round().clamp(0.0, (n - 1) as f64) as u16)
                    .collect::<Point>()
            })
            .filter(|point| !problem.seen(point))
            .collect();
        if fresh.is_empty() {
            return Ok(problem.finish(StopReason::Converged));
        }
        observe(&mut problem, fresh, &mut xs, &mut ys)?;
    }
    Ok(problem.finish(StopReason::Converged))
}

/// Evaluates `points` and appends them with their objective to the GP's data. A point outside the cluster's
/// limits is not sent to the model; the GP learns it as worse than anything evaluated, so it avoids the region.
fn observe(
    problem: &mut Problem<'_>,
    points: Vec<Point>,
    xs: &mut Vec<Point>,
    ys: &mut Vec<f64>,
) -> Result<(), Error> {
    let before = problem.evaluated().len();
    problem.evaluate(points.clone())?;
    let evaluated = &problem.evaluated()[before..];
    let worst = problem
        .evaluated()
        .iter()
        .map(|e| e.score)
        .fold(problem.objective.ceiling(), f64::max);
    for point in points {
        if xs.contains(&point) {
            continue;
        }
        let y = evaluated
            .iter()
            .find(|e| e.point == point)
            .map_or(worst + 1.0, |e| e.score);
        xs.push(point);
        ys.push(y);
    }
    Ok(())
}

fn to_array(points: &[Point]) -> Array2<f64> {
    let width = points.first().map_or(0, Vec::len);
    Array2::from_shape_fn((points.len(), width), |(i, j)| f64::from(points[i][j]))
}

/// A one-thread pool for egobox (`None` if no thread could be started: egobox then runs on the global pool).
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "medic-bayesian".to_owned())
            .build()
            .ok()
    })
    .as_ref()
}

//! The default optimiser: batched random search, then local refinement on the grid.
//!
//! The model scores a thousand candidates in about the time Bayesian optimisation spends choosing one, so this
//! spends evaluations freely instead of modelling the objective: one batch of random points (plus the failed run's
//! own point and the grid's lowest corner), then rounds in which the best few points try every move of 1, 2, 4,
//! 8, … steps along each setting and of one step along each pair of settings, all in one batch per round. It stops
//! when a round leaves the best points unchanged, or at the budget.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Problem, Search, StopReason};
use crate::error::Error;
use crate::space::Point;

/// Random points in the first batch.
const INITIAL_POINTS: usize = 768;
/// Points refined each round.
const ELITES: usize = 6;

/// Runs the search.
pub fn search(mut problem: Problem<'_>) -> Result<Search, Error> {
    let grid = problem.grid;
    let sizes: Vec<u16> = grid
        .dimensions
        .iter()
        .map(|d| d.texts.len().min(usize::from(u16::MAX)) as u16)
        .collect();
    if sizes.is_empty() {
        problem.evaluate([Vec::new()])?;
        return Ok(problem.finish(StopReason::Exhausted));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(problem.budget.seed);
    let mut first: Vec<Point> = vec![vec![0; sizes.len()]];
    first.extend(
        (0..INITIAL_POINTS).map(|_| sizes.iter().map(|&n| rng.random_range(0..n)).collect()),
    );
    problem.evaluate(first)?;

    let mut elites = elites_of(&problem);
    loop {
        if let Some(stop) = problem.out_of_budget() {
            return Ok(problem.finish(stop));
        }
        let mut moves = Vec::new();
        for (rank, elite) in elites.iter().enumerate() {
            for (d, &size) in sizes.iter().enumerate() {
                let mut step = 1i32;
                while step < i32::from(size) {
                    for delta in [-step, step] {
                        if let Some(point) = moved(elite, &sizes, &[(d, delta)]) {
                            moves.push(point);
                        }
                    }
                    step *= 2;
                }
            }
            // Diagonal steps let the best point trade one setting against another (more memory, fewer cores)
            // where a single-setting move would have to pass through a worse point.
            if rank == 0 {
                for a in 0..sizes.len() {
                    for b in a + 1..sizes.len() {
                        for (da, db) in [(-1, -1), (-1, 1), (1, -1), (1, 1)] {
                            if let Some(point) = moved(elite, &sizes, &[(a, da), (b, db)]) {
                                moves.push(point);
                            }
                        }
                    }
                }
            }
        }
        moves.retain(|point| !problem.seen(point));
        if moves.is_empty() || problem.evaluate(moves)? == 0 {
            return Ok(problem.finish(StopReason::Converged));
        }
        let next = elites_of(&problem);
        if next == elites {
            return Ok(problem.finish(StopReason::Converged));
        }
        elites = next;
    }
}

/// The points of the [`ELITES`] lowest scores.
fn elites_of(problem: &Problem<'_>) -> Vec<Point> {
    let mut ranked: Vec<&super::Evaluated> = problem.evaluated().iter().collect();
    ranked.sort_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then_with(|| a.point.cmp(&b.point))
    });
    ranked
        .into_iter()
        .take(ELITES)
        .map(|e| e.point.clone())
        .collect()
}

/// `point` moved by `deltas` (dimension, steps), or `None` when a move leaves the grid.
fn moved(point: &[u16], sizes: &[u16], deltas: &[(usize, i32)]) -> Option<Point> {
    let mut out = point.to_vec();
    for &(d, delta) in deltas {
        let value = i32::from(*out.get(d)?) + delta;
        if value < 0 || value >= i32::from(*sizes.get(d)?) {
            return None;
        }
        out[d] = value as u16;
    }
    Some(out)
}

//! Every point of the grid, in batches: the exact optimum of the model's objective over the space.

use super::{Problem, Search, StopReason};
use crate::error::Error;
use crate::space::Point;

/// Points per batch.
const BATCH: usize = 4096;

/// Runs the search (the budget still applies: a deadline leaves it incomplete, and says so).
pub fn search(mut problem: Problem<'_>) -> Result<Search, Error> {
    let sizes: Vec<usize> = problem
        .grid
        .dimensions
        .iter()
        .map(|d| d.texts.len())
        .collect();
    let mut next: Option<Point> = Some(vec![0; sizes.len()]);
    // The first batch is evaluated whatever the budget: an answer needs at least one point.
    while next.is_some() {
        let mut batch = Vec::with_capacity(BATCH);
        while batch.len() < BATCH {
            let Some(point) = next.take() else { break };
            next = successor(&point, &sizes);
            batch.push(point);
        }
        problem.evaluate(batch)?;
        if next.is_some()
            && let Some(stop) = problem.out_of_budget()
        {
            return Ok(problem.finish(stop));
        }
    }
    Ok(problem.finish(StopReason::Exhausted))
}

/// The next point in mixed-radix order, or `None` after the last.
fn successor(point: &[u16], sizes: &[usize]) -> Option<Point> {
    let mut out = point.to_vec();
    for (d, &size) in sizes.iter().enumerate().rev() {
        if usize::from(out[d]) + 1 < size {
            out[d] += 1;
            return Some(out);
        }
        out[d] = 0;
    }
    None
}

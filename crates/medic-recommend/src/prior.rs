//! The heuristics' prior: how far above a failed memory setting the need lies, calibrated on real failures.
//!
//! A failure at a setting says only that the need was above it. The heuristics model the ratio `r` of need to
//! failed setting with a Pareto tail, `P(r > k) = k^-α` for `k ≥ 1`, and use it twice: to choose the step that has
//! the lowest expected cost (a step that falls short costs another run, [`crate::heuristic::jump_factor`]), and to
//! say what a heuristic retry's chance of failing is (`P(r > k)` for a step of `k`), the number a model would
//! predict. `α` is fitted by maximum likelihood on failures whose need is known to lie between two settings (the
//! real-job benchmark's verified ladders: failed at `a`, succeeded at `b`), and is part of the search spaces'
//! policy (`memory_need_tail`) so that an operator can refit it on their own failures: `medic bench prior FILE...`.
//! With enough history of its own failures a platform's model replaces the heuristics altogether
//! ([`crate::recommend::MIN_CATEGORY_RECORDS`]).

/// The Pareto tail of need over failed setting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryPrior {
    /// `α` of `P(need / failed setting > k) = k^-α`.
    pub tail: f64,
}

/// `α` fitted on the real-job benchmark's tuning set (examples/spark/bench/tuning.yaml, 16 memory jobs:
/// `medic bench prior examples/spark/bench/tuning.yaml`): half the failures need more than 1.7× the setting that
/// failed, one in six more than 4×. Its held-out set (held_out.yaml, 8 jobs) alone gives 1.54.
pub const DEFAULT_TAIL: f64 = 1.37;

impl Default for MemoryPrior {
    fn default() -> Self {
        MemoryPrior { tail: DEFAULT_TAIL }
    }
}

/// A fitted tail and how well it fits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TailFit {
    /// The maximum-likelihood `α`.
    pub tail: f64,
    /// The log-likelihood of the intervals at it.
    pub log_likelihood: f64,
    /// How many intervals it was fitted on.
    pub intervals: usize,
}

/// Smallest and largest `α` a fit may give: outside them one interval dominates the data.
const TAIL_RANGE: (f64, f64) = (0.2, 8.0);

impl MemoryPrior {
    /// The chance that a retry at `factor` times the failed setting still falls short.
    pub fn p_above(&self, factor: f64) -> f64 {
        if factor <= 1.0 {
            1.0
        } else {
            factor.powf(-self.tail)
        }
    }

    /// The maximum-likelihood tail for needs known to lie in `(low, high]` times the failed setting (`high`
    /// infinite: never fixed), or `None` without a usable interval. Intervals must have `1 ≤ low < high`.
    pub fn fit(intervals: &[(f64, f64)]) -> Option<TailFit> {
        let usable: Vec<(f64, f64)> = intervals
            .iter()
            .copied()
            .filter(|(low, high)| low.is_finite() && *low >= 1.0 && high > low)
            .collect();
        if usable.is_empty() {
            return None;
        }
        let log_likelihood = |tail: f64| -> f64 {
            let prior = MemoryPrior { tail };
            usable
                .iter()
                .map(|&(low, high)| {
                    let p = prior.p_above(low)
                        - if high.is_finite() {
                            prior.p_above(high)
                        } else {
                            0.0
                        };
                    p.max(f64::MIN_POSITIVE).ln()
                })
                .sum()
        };
        // The log-likelihood of interval-censored Pareto data is concave in α: a golden-section search finds
        // its maximum.
        let (mut low, mut high) = TAIL_RANGE;
        let ratio = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..100 {
            let a = high - ratio * (high - low);
            let b = low + ratio * (high - low);
            if log_likelihood(a) < log_likelihood(b) {
                low = a;
            } else {
                high = b;
            }
        }
        let tail = (low + high) / 2.0;
        Some(TailFit {
            tail,
            log_likelihood: log_likelihood(tail),
            intervals: usable.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fit_recovers_the_tail_that_made_the_intervals() {
        // Needs at the quantiles of a Pareto tail of 1.5, each known to lie in the ladder step around it.
        let tail = 1.5;
        let ladder = [
            1.0,
            1.25,
            1.5,
            2.0,
            3.0,
            4.0,
            6.0,
            8.0,
            12.0,
            16.0,
            f64::INFINITY,
        ];
        let intervals: Vec<(f64, f64)> = (1..400)
            .map(|i| {
                let u = f64::from(i) / 400.0;
                let need = u.powf(-1.0 / tail);
                let high = ladder
                    .iter()
                    .copied()
                    .find(|&l| l >= need)
                    .unwrap_or(f64::INFINITY);
                let low = ladder
                    .iter()
                    .copied()
                    .rev()
                    .find(|&l| l < need)
                    .unwrap_or(1.0);
                (low, high)
            })
            .collect();
        let fit = MemoryPrior::fit(&intervals).expect("a fit");
        assert!((fit.tail - tail).abs() < 0.1, "{fit:?}");
        assert_eq!(fit.intervals, 399);
        assert_eq!(MemoryPrior::fit(&[(2.0, 2.0), (0.5, 3.0)]), None);
    }

    #[test]
    fn a_step_of_k_falls_short_with_k_to_the_minus_tail() {
        let prior = MemoryPrior { tail: 1.0 };
        assert_eq!(prior.p_above(0.5), 1.0);
        assert_eq!(prior.p_above(4.0), 0.25);
        assert!((MemoryPrior::default().p_above(2.0) - 2f64.powf(-DEFAULT_TAIL)).abs() < 1e-12);
    }
}

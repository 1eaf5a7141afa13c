//! Regret and latency of the optimisers against the exhaustive optimum, on many failed jobs of a synthetic fleet.
//!
//! `cargo bench -p medic-recommend --bench optimizers` (set `MEDIC_BENCH_CASES` for more or fewer cases). Each
//! case is a whole recommendation (model evaluations included) with the production deadline; the regret is the
//! objective gap to the exhaustive search's optimum, relative to it. Prints one Markdown table.

#[path = "../tests/support/cases.rs"]
mod cases;

use std::time::{Duration, Instant};

use medic_recommend::{OptimizerKind, Options, Recommender, SearchSpaces};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument of `cargo test --benches` would skip the run.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("MEDIC_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let started = Instant::now();
    let model = cases::trained_model(100_000, 5);
    eprintln!("model trained in {:.1} s", started.elapsed().as_secs_f64());
    // The wide test grid (about 79 000 points): the built-in spaces are narrower, and the optimisers are what is
    // measured here.
    let spaces =
        SearchSpaces::from_yaml(include_str!("../tests/data/spaces/wide.yaml"), "wide.yaml")
            .expect("wide spaces");
    let recommender = Recommender::new(spaces, Some(model));
    let cases = cases::failed_cases(2026, n);
    let exact: Vec<_> = cases
        .iter()
        .map(|case| {
            let options = Options {
                optimizer: OptimizerKind::Exhaustive,
                deadline: Duration::from_secs(3600),
                max_evaluations: usize::MAX,
                ..Options::default()
            };
            recommender
                .recommend(&case.run, &options)
                .expect("exhaustive")
        })
        .collect();
    let grid_points: Vec<f64> = exact.iter().map(|a| a.evaluations as f64).collect();
    println!(
        "{} failed jobs (executor OOM), exhaustive search: median {:.0} points, median {:.1} ms",
        n,
        percentile(&sorted(grid_points), 0.5),
        percentile(&sorted(exact.iter().map(|a| a.elapsed_ms).collect()), 0.5)
    );
    println!();
    println!(
        "| optimizer | deadline | mean regret | p95 regret | same decision | evaluations (median) | p50 latency | p99 latency |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (optimizer, deadline) in [
        (OptimizerKind::Batched, Duration::from_millis(500)),
        (OptimizerKind::Bayesian, Duration::from_millis(500)),
        (OptimizerKind::Bayesian, Duration::from_secs(60)),
    ] {
        let options = Options {
            optimizer,
            deadline,
            ..Options::default()
        };
        let mut regrets = Vec::new();
        let mut latencies = Vec::new();
        let mut evaluations = Vec::new();
        let mut same_decision = 0;
        for (case, exact) in cases.iter().zip(&exact) {
            let answer = recommender
                .recommend(&case.run, &options)
                .expect("recommend");
            latencies.push(answer.elapsed_ms);
            evaluations.push(answer.evaluations as f64);
            if answer.retry == exact.retry {
                same_decision += 1;
            }
            let value = |a: &medic_recommend::Recommendation| {
                a.predicted.and_then(|p| p.recommended).map(|r| r.objective)
            };
            if let (Some(best), found) = (value(exact), value(&answer)) {
                // Missing a feasible answer counts as a regret of 100 %.
                regrets.push(found.map_or(1.0, |v| (v - best) / best.abs().max(1e-9)));
            }
        }
        let regrets = sorted(regrets);
        let latencies = sorted(latencies);
        println!(
            "| {} | {} ms | {:.3} % | {:.3} % | {}/{} | {:.0} | {:.2} ms | {:.2} ms |",
            optimizer.as_str(),
            deadline.as_millis(),
            100.0 * regrets.iter().sum::<f64>() / regrets.len().max(1) as f64,
            100.0 * percentile(&regrets, 0.95),
            same_decision,
            n,
            percentile(&sorted(evaluations), 0.5),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
        );
    }
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

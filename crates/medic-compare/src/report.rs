//! The report `medic demo` writes: a Markdown page with the comparison table and SVG plots (fix rate and cost per
//! policy, calibration of medic's model).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use medic_sim::FleetSpec;
use plotters::prelude::*;

use crate::Comparison;
use crate::error::{Error, Result};

/// Writes `report.md` and its plots into `dir`; returns the page's path.
pub fn write(
    dir: &Path,
    comparison: &Comparison,
    order: &[&str],
    spec: &FleetSpec,
    took: Duration,
) -> Result<PathBuf> {
    let policies: Vec<(&str, &medic_sim::PolicyStats)> = order
        .iter()
        .filter_map(|name| comparison.policies.get(*name).map(|s| (*name, s)))
        .collect();
    let series = |pick: fn(&medic_sim::PolicyStats) -> f64| -> Vec<(String, f64)> {
        policies
            .iter()
            .map(|(name, stats)| ((*name).to_owned(), pick(stats)))
            .collect()
    };
    bars(
        &dir.join("fix-rate.svg"),
        "memory failures fixed on the first retry",
        "share of memory failures",
        &series(|s| s.memory_fixed_first_retry),
        |v| format!("{:.0}%", 100.0 * v),
    )?;
    bars(
        &dir.join("failure-cost.svg"),
        "cost of failures (failed attempts + extra cost of retries)",
        "dollars",
        &series(|s| s.failure_cost),
        |v| format!("${v:.0}"),
    )?;
    let calibration = comparison.model.calibration();
    if let Some(metrics) = calibration {
        medic_training::plots::reliability(&dir.join("calibration.svg"), metrics)?;
    }

    let fleet = &comparison.fleet;
    let mut page = String::new();
    let _ = writeln!(page, "# medic demo: a simulated fleet\n");
    let _ = writeln!(
        page,
        "{} Spark jobs running daily; {} days of history (engineers retrying by hand: {} retry records medic \
         learned from), then {} days run once per policy, with the same inputs and the same bad luck. Seed {}, \
         start {}. The whole run took {:.0} s.\n",
        fleet.jobs,
        fleet.history_days,
        fleet.history_records,
        fleet.days,
        fleet.seed,
        spec.start,
        took.as_secs_f64()
    );
    let _ = writeln!(
        page,
        "| policy | failures | memory failures | memory fixed on 1st retry | all failures fixed | failure cost (compute) | left to people | failure cost with people | time to recovery | retries | wasted retries | correctly disabled | wrongly disabled |"
    );
    let _ = writeln!(
        page,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (name, s) in &policies {
        let _ = writeln!(
            page,
            "| {name} | {} | {} | {:.1} % | {:.1} % | ${:.2} | {} | ${:.0} | {:.1} min | {} | {} | {} | {} |",
            s.failures,
            s.memory_failures,
            100.0 * s.memory_fixed_first_retry,
            100.0 * s.failures_fixed,
            s.failure_cost,
            s.unfixed,
            s.failure_cost_with_humans,
            s.mean_minutes_to_recovery,
            s.retries,
            s.wasted_retries,
            s.retries_correctly_disabled,
            s.retries_wrongly_disabled
        );
    }
    let shares: Vec<String> = comparison
        .failure_cost_against_blind_retry()
        .into_iter()
        .map(|(name, share)| format!("`{name}` **{:.0} %**", 100.0 * share))
        .collect();
    if !shares.is_empty() {
        let _ = writeln!(
            page,
            "\nFailure cost (compute) against blind retry's: {}.",
            shares.join(", ")
        );
    }
    let _ = writeln!(
        page,
        "\n*Failure cost* is what every failed attempt cost, plus what successful retries cost beyond a clean run \
         of the job's own configuration (extra memory, or a slower run; the work itself would have been paid anyway). \
         *Left to people* are the runs no retry fixed; each costs ${:.0} of an engineer's time (`prices.human_fix` in \
         the fleet file), which *failure cost with people* adds. *Time to recovery* is the mean, over the runs a retry \
         fixed, from the end of the failed first attempt to the end of the successful retry, backoff included. A \
         *wrongly disabled* retry is one a policy refused although a retry, or more memory, would have succeeded.\n",
        spec.prices.human_fix
    );
    let _ = writeln!(
        page,
        "![memory failures fixed on the first retry](fix-rate.svg)\n"
    );
    let _ = writeln!(page, "![cost of failures](failure-cost.svg)\n");
    if let Some(r) = &comparison.rightsizing {
        let s = &r.summary;
        let _ = writeln!(page, "## Right-sizing\n");
        let _ = writeln!(
            page,
            "`medic_rightsizing` is medic with `medic rightsize --apply` every morning ({} estimator): each job's \
             memory from the peaks of its recent successful runs, in bounded steps, never below the largest peak \
             plus a margin, backing off after a memory failure. Measured against `medic` alone on the same last {} \
             days ({} runs each), once the steps have arrived:\n",
            r.estimator, r.days_measured, s.runs
        );
        let _ = writeln!(page, "| | without right-sizing | with right-sizing |");
        let _ = writeln!(page, "|---|---:|---:|");
        for (what, before, after, percent) in [
            (
                "executor heap requested / used",
                s.requested_over_used_before,
                s.requested_over_used_after,
                false,
            ),
            (
                "executor container requested / used",
                s.container_over_used_before,
                s.container_over_used_after,
                false,
            ),
            (
                "driver heap requested / used",
                s.driver_over_used_before,
                s.driver_over_used_after,
                false,
            ),
            (
                "first attempts failing for memory",
                s.memory_failure_rate_before,
                s.memory_failure_rate_after,
                true,
            ),
        ] {
            if percent {
                let _ = writeln!(
                    page,
                    "| {what} | {:.2} % | {:.2} % |",
                    100.0 * before,
                    100.0 * after
                );
            } else {
                let _ = writeln!(page, "| {what} | {before:.2}× | {after:.2}× |");
            }
        }
        let _ = writeln!(
            page,
            "\nCompute cost **{:.1} % lower**. {} right-size patches stored over the compared days (every step of \
             every job), {} revoked. {:.0} % of the successful runs carried a right-size, asking for {:.2}× what they \
             used; the others were left alone by the guard-rails (too young, a memory failure in the window, a \
             revoked right-size).\n",
            100.0 * s.cost_saved_fraction,
            r.patches_stored,
            r.patches_revoked,
            100.0 * s.right_sized_share_after,
            s.requested_over_used_right_sized
        );
    }
    if let Some(p) = &comparison.prevention {
        let _ = writeln!(page, "## Prevention\n");
        let _ = writeln!(
            page,
            "`medic_prevention` is the full medic: remediation, each memory fix that worked carried forward to the \
             job's next runs (a persistent patch, replaced after another memory failure, expiring after 30 days), and \
             right-sizing that sizes up as well as down. Measured against `medic` (remediation alone) on the same \
             last {} days; a *recurring* memory failure is one of a job that had one before in the compared days:\n",
            p.days_measured
        );
        let _ = writeln!(page, "| | remediation alone | full medic |");
        let _ = writeln!(page, "|---|---:|---:|");
        let _ = writeln!(
            page,
            "| first attempts failing for memory | {:.2} % | {:.2} % |",
            100.0 * p.first_attempt_memory_failure_rate_without,
            100.0 * p.first_attempt_memory_failure_rate_with
        );
        let _ = writeln!(
            page,
            "| recurring memory failures | {} | {} |",
            p.recurring_memory_failures_without, p.recurring_memory_failures_with
        );
        let _ = writeln!(
            page,
            "| executor heap requested / used | {:.2}x | {:.2}x |",
            p.sizing.requested_over_used_before, p.sizing.requested_over_used_after
        );
        let _ = writeln!(
            page,
            "| compute cost (every attempt) | | {:.1} % lower |",
            100.0 * p.sizing.cost_saved_fraction
        );
        let _ = writeln!(
            page,
            "\n{} carried fixes stored over the compared days, {} of them revoked or replaced.\n",
            p.carried_fixes, p.carried_fixes_revoked
        );
    }
    let model = &comparison.model;
    let _ = writeln!(page, "## medic's model\n");
    let _ = writeln!(
        page,
        "Trained {} time(s) (after the history, then every night on the history so far), {} promoted by the gate.",
        model.trainings, model.promoted
    );
    if calibration.is_some() {
        let _ = writeln!(
            page,
            "\nCalibration of the last promoted model on its hold-out records (the latest fifth of the history):\n\n![calibration](calibration.svg)"
        );
    }
    if !model.notes.is_empty() {
        let _ = writeln!(page, "\nTrainings the gate turned down, and why:\n");
    }
    for note in &model.notes {
        let _ = writeln!(page, "- {note}");
    }
    let path = dir.join("report.md");
    std::fs::write(&path, page).map_err(|error| Error::Io {
        what: format!("cannot write {}", path.display()),
        error,
    })?;
    Ok(path)
}

/// A bar chart of the demo report: one bar per named value, with the value written above it (`format` turns a value into its label).
fn bars(
    path: &Path,
    caption: &str,
    y_desc: &str,
    items: &[(String, f64)],
    format: impl Fn(f64) -> String,
) -> Result<()> {
    let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error(path))?;
    let top = items
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        .max(1e-9)
        * 1.15;
    let n = items.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..n, 0.0..top)
        .map_err(plot_error(path))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(items.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let slot = x - x.floor();
            if (slot - 0.5).abs() < 1e-6 {
                items
                    .get(x.floor() as usize)
                    .map_or(String::new(), |(name, _)| name.clone())
            } else {
                String::new()
            }
        })
        .y_desc(y_desc)
        .draw()
        .map_err(plot_error(path))?;
    let palette = [
        BLUE,
        RED,
        GREEN,
        MAGENTA,
        CYAN,
        BLACK,
        RGBColor(230, 120, 0),
    ];
    for (i, (_, value)) in items.iter().enumerate() {
        let x = i as f64;
        let color = palette[i % palette.len()];
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x + 0.15, 0.0), (x + 0.85, *value)],
                color.mix(0.7).filled(),
            )))
            .map_err(plot_error(path))?;
        chart
            .draw_series(std::iter::once(Text::new(
                format(*value),
                (x + 0.3, *value + top * 0.02),
                ("sans-serif", 14),
            )))
            .map_err(plot_error(path))?;
    }
    root.present().map_err(plot_error(path))
}

/// A plotters error as this crate's, naming the file.
fn plot_error<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |error| Error::Plot {
        path: path.to_path_buf(),
        message: format!("cannot draw {}: {error}", path.display()),
    }
}

//! `medic bench spark`: each job's outcome, then each set's totals; `medic bench prior`: the heuristics' prior
//! fitted on the benchmark's verified needs.

use std::fmt;

use medic_bench::{BenchScore, Kind, SetScore};
use medic_recommend::prior::{MemoryPrior, TailFit};

/// Each job (set, kind, attempts, what medic made of the first failure, the verdict) and each set's totals.
pub fn bench(out: &mut impl fmt::Write, score: &BenchScore) -> fmt::Result {
    writeln!(
        out,
        "{:<22} {:<9} {:<8} {:>3} {:<28} {:>6} {:>6} {:>8}  outcome",
        "job", "set", "kind", "att", "first failure", "wasted", "same", "knob/fix"
    )?;
    for job in &score.jobs {
        let kind = match job.kind {
            Kind::Memory => "memory",
            Kind::Other => "other",
            Kind::Healthy => "healthy",
        };
        let outcome = match job.kind {
            Kind::Memory if job.fixed_on_first_retry => "fixed on the first retry".to_owned(),
            Kind::Memory if job.fixed_within_two_retries => "fixed on the second retry".to_owned(),
            Kind::Memory => format!("not fixed: {}", job.last_reason),
            Kind::Other if job.changed_config_retries > 0 => format!(
                "retried with a changed configuration {} time(s)",
                job.changed_config_retries
            ),
            Kind::Other => format!("not fixed, as expected: {}", job.last_reason),
            Kind::Healthy if job.healthy_touched => "touched".to_owned(),
            Kind::Healthy => "untouched".to_owned(),
        };
        writeln!(
            out,
            "{:<22} {:<9} {:<8} {:>3} {:<28} {:>6} {:>6} {:>8}  {}{outcome}",
            job.name,
            job.set,
            kind,
            job.attempts,
            job.first_rule.as_deref().unwrap_or("-"),
            job.wasted_retries,
            job.identical_config_retries,
            job.knob_over_fixed
                .map_or("-".to_owned(), |ratio| format!("{ratio:.2}x")),
            if job.passed { "" } else { "MISSED: " },
        )?;
    }
    for set in &score.sets {
        writeln!(out)?;
        set_totals(out, set)?;
    }
    Ok(())
}

fn set_totals(out: &mut impl fmt::Write, set: &SetScore) -> fmt::Result {
    let share = |n: u32| {
        if set.memory_jobs == 0 {
            "-".to_owned()
        } else {
            format!("{:.0} %", 100.0 * f64::from(n) / f64::from(set.memory_jobs))
        }
    };
    writeln!(out, "set {}:", set.set)?;
    writeln!(
        out,
        "  memory failures fixed on the first retry  {}/{} ({})",
        set.fixed_on_first_retry,
        set.memory_jobs,
        share(set.fixed_on_first_retry)
    )?;
    writeln!(
        out,
        "  memory failures fixed within two retries  {}/{} ({})",
        set.fixed_within_two_retries,
        set.memory_jobs,
        share(set.fixed_within_two_retries)
    )?;
    writeln!(
        out,
        "  identical-configuration retries           {}",
        set.identical_config_retries
    )?;
    writeln!(
        out,
        "  other failures retried with a change      {} (of {} jobs)",
        set.changed_config_retries, set.other_jobs
    )?;
    writeln!(
        out,
        "  healthy jobs touched                      {} (of {})",
        set.healthy_touched, set.healthy_jobs
    )?;
    writeln!(
        out,
        "  wasted retries                            {} (${:.4} of ${:.4} spent on retries)",
        set.wasted_retries, set.wasted_cost_dollars, set.retry_cost_dollars
    )
}

/// `medic bench prior`: each memory job's verified need over its failing value, then the tail fitted on them and
/// what it says of the steps the heuristics take.
pub fn prior_fit(
    out: &mut impl fmt::Write,
    jobs: &[&medic_bench::BenchJob],
    fit: Option<&TailFit>,
) -> fmt::Result {
    writeln!(out, "{:<26} {:<10} {:<32} need", "job", "set", "knob")?;
    for job in jobs {
        if let Some((low, high)) = job.need {
            writeln!(
                out,
                "{:<26} {:<10} {:<32} ({low:.2}×, {high:.2}×]",
                job.name,
                job.set,
                job.knob.as_deref().unwrap_or("-")
            )?;
        }
    }
    let Some(fit) = fit else {
        return writeln!(out, "no memory job with a verified ladder: nothing to fit");
    };
    let prior = MemoryPrior { tail: fit.tail };
    writeln!(
        out,
        "memory_need_tail {:.2} (maximum likelihood over {} jobs, log-likelihood {:.2}): P(need > k × failed) = \
         {:.2} at k = 2, {:.2} at 3, {:.2} at 4",
        fit.tail,
        fit.intervals,
        fit.log_likelihood,
        prior.p_above(2.0),
        prior.p_above(3.0),
        prior.p_above(4.0)
    )
}

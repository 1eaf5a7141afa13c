//! A workflow run, as `medic run` prints it: a line per event while it runs, a table at the end.

use std::fmt;

use medic_scheduler::{Event, JobStatus, WorkflowReport};

/// The live display: the line(s) of one event (nothing for the events it does not show).
pub fn event(out: &mut impl fmt::Write, event: Event) -> fmt::Result {
    match event {
        Event::AttemptStarted {
            job,
            attempt,
            applied_patches,
            ..
        } => {
            let patches = if applied_patches.is_empty() {
                String::new()
            } else {
                format!(" with patches {}", applied_patches.join(", "))
            };
            writeln!(out, "▶ {job}: attempt {attempt}{patches}")?;
        }
        Event::AttemptFinished {
            job,
            attempt,
            succeeded,
            exit_code,
            timed_out,
            runtime_seconds,
        } => {
            let how = if succeeded {
                "succeeded".to_owned()
            } else if timed_out {
                "timed out".to_owned()
            } else {
                format!(
                    "failed (exit {})",
                    exit_code.map_or("-".to_owned(), |c| c.to_string())
                )
            };
            writeln!(
                out,
                "  {job}: attempt {attempt} {how} in {runtime_seconds:.1} s"
            )?;
        }
        Event::Decided {
            job,
            decision,
            reason,
            category,
            config_changes,
            ..
        } => {
            if decision.as_str() == "succeeded" {
                return Ok(());
            }
            let category = category.map_or("?".to_owned(), |c| c.to_string());
            let changes: Vec<String> = config_changes
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(unset)")))
                .collect();
            let changes = if changes.is_empty() {
                String::new()
            } else {
                format!(" [{}]", changes.join(", "))
            };
            writeln!(
                out,
                "  {job}: {category} → {}{changes}: {}",
                decision.as_str(),
                crate::shown(&reason)
            )?;
        }
        Event::Backoff { job, delay, .. } => {
            writeln!(
                out,
                "  {job}: waiting {:.0} s before the next attempt",
                delay.as_secs_f64()
            )?;
        }
        Event::JobSkipped { job, because } => {
            writeln!(
                out,
                "⏭ {job}: skipped ({} did not succeed)",
                because.join(", ")
            )?;
        }
        Event::Warning { message, .. } => writeln!(out, "  warning: {message}")?,
        _ => {}
    }
    Ok(())
}

/// One row per job (status, attempts, cost, what medic did), then the totals.
pub fn workflow_summary(out: &mut impl fmt::Write, report: &WorkflowReport) -> fmt::Result {
    writeln!(
        out,
        "{:<24} {:<10} {:>8} {:>9}  what medic did",
        "job", "status", "attempts", "cost"
    )?;
    let mut total = 0.0;
    for job in &report.jobs {
        let cost = job
            .attempts
            .iter()
            .filter_map(|a| a.cost_dollars)
            .fold(0.0, |sum, c| sum + c);
        total += cost;
        let did: Vec<String> = job
            .attempts
            .iter()
            .filter(|a| a.decision.as_str() != "succeeded")
            .map(|a| {
                let category = a.failure_category.map_or("?".to_owned(), |c| c.to_string());
                let changes: Vec<String> = a
                    .config_changes
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(unset)")))
                    .collect();
                if changes.is_empty() {
                    format!("{category}: {}", a.decision.as_str())
                } else {
                    format!(
                        "{category}: {} with {}",
                        a.decision.as_str(),
                        changes.join(" ")
                    )
                }
            })
            .collect();
        writeln!(
            out,
            "{:<24} {:<10} {:>8} {:>9}  {}",
            job.name,
            job.status.as_str(),
            job.attempts.len(),
            format!("${cost:.4}"),
            if did.is_empty() {
                "-".to_owned()
            } else {
                did.join("; ")
            }
        )?;
    }
    let failed = report
        .jobs
        .iter()
        .filter(|j| j.status != JobStatus::Succeeded)
        .count();
    writeln!(
        out,
        "{} job(s), {failed} not succeeded, total cost ${total:.4}",
        report.jobs.len()
    )?;
    Ok(())
}

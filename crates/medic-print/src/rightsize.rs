//! A right-sizing plan, as `medic rightsize` prints it.

use std::fmt;

use medic_core::sizing::SizedSetting;
use medic_rightsize::{Action, JobPlan, Report};

/// Per job the action and, per setting, requested, used and recommended memory; then the totals.
pub fn rightsize_plan(out: &mut impl fmt::Write, report: &Report, all: bool) -> fmt::Result {
    let shown = |job: &&JobPlan| all || job.action != Action::Keep;
    let width = report
        .jobs
        .iter()
        .filter(shown)
        .map(|job| crate::shown(&job.job.id).chars().count())
        .max()
        .unwrap_or(0)
        .max("job".len());
    writeln!(
        out,
        "{:<width$} {:<7} {:<31} {:>10} {:>10} {:>12} {:>10}",
        "job", "action", "setting", "requested", "used", "recommended", "$/month"
    )?;
    let mut counts = [0u32; 3];
    for job in &report.jobs {
        let (index, action) = match job.action {
            Action::Resize => (0, "resize"),
            Action::Revoke => (1, "revoke"),
            Action::Keep => (2, "keep"),
        };
        counts[index] += 1;
        if !shown(&job) {
            continue;
        }
        let row = |s: &SizedSetting| {
            (
                s.key.clone(),
                size(s.requested_bytes),
                size(s.used_bytes),
                size(s.recommended_bytes),
            )
        };
        let mut settings = job.settings.iter().map(row);
        let first = settings.next().unwrap_or_default();
        let saving = if job.action == Action::Resize {
            dollars(job.saving_per_month)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{:<width$} {:<7} {:<31} {:>10} {:>10} {:>12} {:>10}",
            crate::shown(&job.job.id),
            action,
            first.0,
            first.1,
            first.2,
            first.3,
            saving
        )?;
        for (key, requested, used, recommended) in settings {
            writeln!(
                out,
                "{:<width$} {:<7} {:<31} {:>10} {:>10} {:>12}",
                "", "", key, requested, used, recommended
            )?;
        }
        if job.action != Action::Resize {
            writeln!(out, "{:<width$} {}", "", crate::shown(&job.reason))?;
        }
        if let Some(patch) = job.patch_id.as_deref().filter(|_| report.applied) {
            writeln!(out, "{:<width$} patch {patch}", "")?;
        }
    }
    let kept: Vec<String> = report
        .kept
        .iter()
        .map(|(why, n)| {
            let why = serde_json::to_value(why)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{n} {why}")
        })
        .collect();
    writeln!(
        out,
        "\n{} to resize, {} to revoke, {} left alone{}; the resizes save ${} a month ({} estimator, {}-day window)",
        counts[0],
        counts[1],
        counts[2],
        if kept.is_empty() {
            String::new()
        } else {
            format!(" ({})", kept.join(", "))
        },
        dollars(report.total_saving_per_month),
        report.estimator,
        report.window_days
    )?;
    if report.applied {
        writeln!(
            out,
            "applied: every resize is a persistent patch (`medic patch list`)"
        )?;
    } else {
        writeln!(out, "dry run: nothing stored (`--apply` stores it)")?;
    }
    Ok(())
}

/// `12.0 GiB`, `640 MiB`.
fn size(bytes: u64) -> String {
    let mib = bytes as f64 / (1u64 << 20) as f64;
    if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

/// Dollars with the precision a figure needs: a small local job saves fractions of a cent.
fn dollars(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    }
}

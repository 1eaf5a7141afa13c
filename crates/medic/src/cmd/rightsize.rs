//! `medic rightsize`: each job's memory from the peaks of its recent successful runs, as persistent patches.
//! A dry run by default; `--apply` stores the right-sizes and revokes what must go. `medic serve
//! --rightsize-every` runs the same thing on a schedule.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use medic_core::history::Prices;
use medic_core::sizing::SizedSetting;
use medic_rightsize::{Action, Report, RightsizePolicy};

use super::DEFAULT_DB;
use crate::client::Target;

/// Arguments of `medic rightsize`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The database whose attempts history is read and where the patches go (`sqlite://PATH` or
    /// `postgres://...`).
    #[arg(long, env = "MEDIC_DB", default_value = DEFAULT_DB, value_name = "URL")]
    db: String,
    /// Store the right-sizes (persistent patches scoped to each job, superseding its previous one) and revoke the
    /// right-sizes that must go. Without it nothing is stored: a dry run of what would change and save.
    #[arg(long)]
    apply: bool,
    /// Print the plan as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// The right-sizing policy (YAML: window_days, min_runs, margin, max_step, settle_runs, estimator,
    /// min_heap_mib, round_mib, min_change, include, exclude); the defaults when absent.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// List the jobs left alone too, with their reasons (by default only how many, by reason).
    #[arg(long)]
    all: bool,
}

/// The policy in `path`, or the default one.
pub fn load_policy(path: Option<&Path>) -> anyhow::Result<RightsizePolicy> {
    Ok(match path {
        Some(path) => {
            RightsizePolicy::from_yaml(&super::read_text(path)?, &path.display().to_string())?
        }
        None => RightsizePolicy::default(),
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let policy = load_policy(args.policy.as_deref())?;
    let Target::Store { store, runtime } = Target::store(&args.db)? else {
        unreachable!("a database target");
    };
    let report = runtime.block_on(async {
        let mut report = medic_rightsize::plan(&store, &policy, &Prices::default()).await?;
        if args.apply {
            medic_rightsize::apply(&store, &mut report, &policy).await?;
        }
        anyhow::Ok(report)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_table(&mut out, &report, args.all)?;
    }
    Ok(ExitCode::SUCCESS)
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

fn print_table(out: &mut impl Write, report: &Report, all: bool) -> anyhow::Result<()> {
    let shown = |job: &&medic_rightsize::JobPlan| all || job.action != Action::Keep;
    let width = report
        .jobs
        .iter()
        .filter(shown)
        .map(|job| job.job.id.len())
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
            job.job.id, action, first.0, first.1, first.2, first.3, saving
        )?;
        for (key, requested, used, recommended) in settings {
            writeln!(
                out,
                "{:<width$} {:<7} {:<31} {:>10} {:>10} {:>12}",
                "", "", key, requested, used, recommended
            )?;
        }
        if job.action != Action::Resize {
            writeln!(out, "{:<width$} {}", "", job.reason)?;
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

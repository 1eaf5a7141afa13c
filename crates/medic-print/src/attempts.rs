//! The attempts history, as `medic history attempts` prints it.

use std::fmt;

use medic_core::RunOutcome;
use medic_core::history::AttemptEntry;

/// One row per attempt: when, which job, its number, outcome, decision, failure, runtime, cost, peak memory and
/// what medic recommended.
pub fn attempts(out: &mut impl fmt::Write, entries: &[AttemptEntry]) -> fmt::Result {
    let width = entries
        .iter()
        .map(|entry| crate::shown(&entry.job.id).chars().count())
        .max()
        .unwrap_or(0)
        .max(3);
    writeln!(
        out,
        "{:<20} {:<width$} {:>2} {:<9} {:<18} {:<24} {:>7} {:>9} {:>9}  recommended",
        "started (UTC)",
        "job",
        "#",
        "outcome",
        "decision",
        "failure",
        "runtime",
        "cost",
        "peak MiB"
    )?;
    for entry in entries {
        let at = entry.at.to_offset(time::UtcOffset::UTC);
        let changes: Vec<String> = entry
            .recommended_changes
            .iter()
            .map(|(key, value)| {
                let value = value.as_deref().unwrap_or("(unset)");
                format!("{}={}", crate::shown(key), crate::shown(value))
            })
            .collect();
        writeln!(
            out,
            "{:<20} {:<width$} {:>2} {:<9} {:<18} {:<24} {:>6.1}s {:>9} {:>9}  {}",
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            ),
            crate::shown(&entry.job.id),
            entry.attempt,
            match entry.outcome {
                RunOutcome::Succeeded => "succeeded",
                RunOutcome::Failed => "failed",
            },
            crate::shown(&entry.decision),
            entry
                .failure_category
                .map_or("-".to_owned(), |c| c.to_string()),
            entry.runtime_seconds,
            format!("${:.5}", entry.cost_dollars),
            entry
                .peak_memory_bytes
                .map_or("-".to_owned(), |b| (b >> 20).to_string()),
            if changes.is_empty() {
                "-".to_owned()
            } else {
                changes.join(" ")
            }
        )?;
    }
    Ok(())
}

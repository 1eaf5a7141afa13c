//! The policy comparison, as `medic simulate` and `medic demo` print it.

use std::fmt;

use medic_compare::Comparison;

/// One row per policy of `order`, then medic against blind retry, right-sizing and the model.
pub fn comparison(
    out: &mut impl fmt::Write,
    comparison: &Comparison,
    order: &[&str],
) -> fmt::Result {
    let fleet = &comparison.fleet;
    writeln!(
        out,
        "{} jobs, {} days compared after {} days of history ({} retry records), seed {}",
        fleet.jobs, fleet.days, fleet.history_days, fleet.history_records, fleet.seed
    )?;
    writeln!(
        out,
        "{:<18} {:>9} {:>9} {:>10} {:>9} {:>10} {:>7} {:>11} {:>9} {:>8} {:>7} {:>9} {:>9}",
        "policy",
        "failures",
        "memory",
        "mem fixed",
        "all",
        "failure $",
        "left to",
        "failure $",
        "recovery",
        "retries",
        "wasted",
        "disabled",
        "wrongly"
    )?;
    writeln!(
        out,
        "{:<18} {:>9} {:>9} {:>10} {:>9} {:>10} {:>7} {:>11} {:>9} {:>8} {:>7} {:>9} {:>9}",
        "",
        "",
        "failures",
        "1st retry",
        "fixed",
        "compute",
        "people",
        "w/ people",
        "minutes",
        "",
        "",
        "ok",
        "disabled"
    )?;
    for name in order {
        let Some(s) = comparison.policies.get(*name) else {
            continue;
        };
        writeln!(
            out,
            "{:<18} {:>9} {:>9} {:>9.1}% {:>8.1}% {:>10.2} {:>7} {:>11.2} {:>9.1} {:>8} {:>7} {:>9} {:>9}",
            name,
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
        )?;
    }
    let shares: Vec<String> = comparison
        .failure_cost_against_blind_retry()
        .into_iter()
        .map(|(name, share)| format!("{name} {:.0}%", 100.0 * share))
        .collect();
    if !shares.is_empty() {
        writeln!(
            out,
            "failure cost (compute) against blind retry's: {}",
            shares.join(", ")
        )?;
    }
    if let Some(r) = &comparison.rightsizing {
        let s = &r.summary;
        writeln!(
            out,
            "right-sizing (medic_rightsizing against medic, last {} days): requested/used executor memory {:.2}x -> {:.2}x, \
             memory failure rate {:.2}% -> {:.2}%, compute cost {:.1}% lower; {} right-size patches, {} revoked; \
             {:.0}% of successful runs carried a right-size, at {:.2}x",
            r.days_measured,
            s.requested_over_used_before,
            s.requested_over_used_after,
            100.0 * s.memory_failure_rate_before,
            100.0 * s.memory_failure_rate_after,
            100.0 * s.cost_saved_fraction,
            r.patches_stored,
            r.patches_revoked,
            100.0 * s.right_sized_share_after,
            s.requested_over_used_right_sized
        )?;
    }
    if let Some(p) = &comparison.prevention {
        writeln!(
            out,
            "prevention (medic_prevention against medic, last {} days): first attempts failing for memory {:.2}% -> {:.2}%, \
             recurring memory failures {} -> {}; requested/used executor memory {:.2}x -> {:.2}x, compute cost {:.1}% \
             lower; {} carried fixes, {} revoked or replaced",
            p.days_measured,
            100.0 * p.first_attempt_memory_failure_rate_without,
            100.0 * p.first_attempt_memory_failure_rate_with,
            p.recurring_memory_failures_without,
            p.recurring_memory_failures_with,
            p.sizing.requested_over_used_before,
            p.sizing.requested_over_used_after,
            100.0 * p.sizing.cost_saved_fraction,
            p.carried_fixes,
            p.carried_fixes_revoked
        )?;
    }
    let model = &comparison.model;
    writeln!(
        out,
        "model: {} training(s), {} promoted{}",
        model.trainings,
        model.promoted,
        model
            .last_promoted
            .as_ref()
            .and_then(|m| m.get("auc"))
            .and_then(serde_json::Value::as_f64)
            .map_or(String::new(), |auc| format!(", last promoted AUC {auc:.3}"))
    )?;
    Ok(())
}

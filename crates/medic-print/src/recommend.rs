//! A recommendation, as `medic recommend` prints it.

use std::fmt;

use medic_core::recommendation::{Estimate, Recommendation};

/// The decision, the changes, the model's numbers before and after, who decided and the alternatives.
pub fn recommendation(out: &mut impl fmt::Write, answer: &Recommendation) -> fmt::Result {
    writeln!(
        out,
        "{}: {}",
        answer.category,
        if answer.retry {
            "RETRY"
        } else {
            "DO NOT RETRY"
        }
    )?;
    let width = answer.changes.keys().map(String::len).max().unwrap_or(0);
    for (key, change) in &answer.changes {
        writeln!(
            out,
            "  {key:width$}  {} → {}",
            change.from.as_deref().unwrap_or("(unset)"),
            change.to.as_deref().unwrap_or("(unset)")
        )?;
    }
    if answer.retry && answer.changes.is_empty() {
        writeln!(out, "  (configuration unchanged)")?;
    }
    if let Some(predicted) = &answer.predicted {
        writeln!(out, "predicted        P(fail)   cost      objective")?;
        let row = |name: &str, e: &Estimate| {
            format!(
                "  {name:<13} {:>7.3}   ${:<8.4} {:.4}",
                e.p_fail, e.cost, e.objective
            )
        };
        writeln!(out, "{}", row("unchanged", &predicted.original))?;
        if let Some(recommended) = &predicted.recommended {
            writeln!(out, "{}", row("recommended", recommended))?;
        }
    }
    let decided_by = match (&answer.model_version, &answer.heuristic) {
        (Some(version), _) => format!("model {version}"),
        (None, Some(heuristic)) if answer.predicted.is_some() => {
            format!("heuristic {heuristic} (no model: the numbers are the calibrated prior's)")
        }
        (None, Some(heuristic)) => format!("heuristic {heuristic} (no model)"),
        (None, None) => "the category alone".to_owned(),
    };
    writeln!(
        out,
        "decided by {decided_by}; optimizer {}, {} evaluation(s) in {:.1} ms{}; λ = {}",
        answer.optimizer,
        answer.evaluations,
        answer.elapsed_ms,
        answer
            .stopped_by
            .map(|s| format!(
                " ({})",
                serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ))
            .unwrap_or_default(),
        answer.lambda
    )?;
    writeln!(out, "why: {}", answer.reason)?;
    if !answer.alternatives.is_empty() {
        writeln!(out, "alternatives:")?;
        for alternative in &answer.alternatives {
            let changes: Vec<String> = alternative
                .changes
                .iter()
                .map(|(k, c)| format!("{k}={}", c.to.as_deref().unwrap_or("(unset)")))
                .collect();
            writeln!(
                out,
                "  P(fail) {:.3}, ${:.4}: {}",
                alternative.predicted.p_fail,
                alternative.predicted.cost,
                if changes.is_empty() {
                    "unchanged".to_owned()
                } else {
                    changes.join(", ")
                }
            )?;
        }
    }
    for note in &answer.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

//! A classification, as `medic classify` prints it.

use std::fmt;

use medic_core::Classification;

/// What `input` failed of, why, and the evidence.
pub fn classification(out: &mut impl fmt::Write, input: &str, c: &Classification) -> fmt::Result {
    let retry = match (c.memory_config, c.restartable) {
        (true, _) => {
            "memory configuration error: a changed configuration can help, a plain retry will not"
        }
        (false, true) => "a plain retry can help",
        (false, false) => "a plain retry will not help",
    };
    match &c.rule {
        Some(rule) => {
            writeln!(out, "{input}: {} ({retry})", c.category)?;
            writeln!(out, "  rule:      {rule}")?;
        }
        None => writeln!(out, "{input}: unclassified")?,
    }
    writeln!(out, "  summary:   {}", c.summary)?;
    if let Some(evidence) = &c.evidence {
        writeln!(
            out,
            "  evidence:  {}:{} [{}]",
            evidence.input, evidence.line, evidence.source
        )?;
        writeln!(out, "             {}", crate::shown(&evidence.text))?;
    }
    if !c.captures.is_empty() {
        let captures: Vec<String> = c.captures.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(out, "  captures:  {}", captures.join(", "))?;
    }
    for other in &c.also_matched {
        writeln!(
            out,
            "  also:      {} ({}) at {}:{}",
            other.rule, other.category, other.evidence.input, other.evidence.line
        )?;
    }
    for warning in &c.warnings {
        writeln!(out, "  warning:   {warning}")?;
    }
    writeln!(
        out,
        "  scanned:   {} bytes, {} lines",
        c.scanned.bytes, c.scanned.lines
    )
}

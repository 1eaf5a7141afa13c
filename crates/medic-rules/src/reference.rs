//! The obvious implementation: every rule tried on every line. Far too slow for real logs, but plainly correct, so
//! tests check the fast engine against it and the benchmark reports the speed-up over it.

use medic_core::{Classification, JobIdentity, LogSource};

use crate::classify::MAX_LINE_BYTES;
use crate::ruleset::RuleSet;

/// Classifies `log` by splitting it into lines and trying each applicable rule on each line, in order.
/// Gives the same [`Classification`] as [`RuleSet::classify_bytes`] (for uncompressed input).
pub fn classify_line_by_line(
    set: &RuleSet,
    source: LogSource,
    input: &str,
    log: &[u8],
    job: Option<&JobIdentity>,
) -> Classification {
    let mut classifier = set.classifier(job);
    let applicable: Vec<usize> = (0..set.rules().len())
        .filter(|&i| set.rules()[i].reads(source) && set.rules()[i].applies_to(job))
        .collect();
    let mut lines = 0u64;
    for line in log.split_inclusive(|&b| b == b'\n') {
        lines += 1;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = &line[..line.len().min(MAX_LINE_BYTES)];
        for &index in &applicable {
            if set.rules()[index].regex.is_match(line) {
                classifier.record(index, source, input, lines, line);
            }
        }
    }
    classifier.finish_with_stats(log.len() as u64, lines)
}

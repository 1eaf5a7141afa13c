//! How rule patterns are compiled: one place, so that a rule's own regex, the combined buffer finder and the
//! per-line set agree on syntax (multi-line anchors, CRLF line ends, bytes that need not be UTF-8).

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_automata::meta;
use regex_automata::util::syntax;

/// Compiled-size limit for one rule's pattern. Generous: rule authors write real messages, not adversarial
/// regexes, but a runaway repetition must still be refused at load time rather than exhaust memory.
const RULE_SIZE_LIMIT: usize = 8 << 20;
/// Compiled-size limit for the matchers that hold every rule at once.
const COMBINED_SIZE_LIMIT: usize = 512 << 20;

/// Compiles one rule's pattern, or says why it cannot be used.
pub(crate) fn compile_one(pattern: &str) -> Result<Regex, String> {
    // Parse first for a precise message (what is wrong, at which column); the builder then adds the size check.
    let hir = parse(pattern)?;
    if hir.properties().minimum_len() == Some(0) {
        return Err("the pattern can match empty text, so it would match every line".to_owned());
    }
    RegexBuilder::new(pattern)
        .multi_line(true)
        .crlf(true)
        .size_limit(RULE_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("bad regex: {}", flatten_error(&e.to_string())))
}

/// Parses `pattern` with the syntax options every matcher uses.
pub(crate) fn parse(pattern: &str) -> Result<regex_syntax::hir::Hir, String> {
    regex_syntax::ParserBuilder::new()
        .multi_line(true)
        .crlf(true)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| match e {
            regex_syntax::Error::Parse(e) => format!(
                "bad regex at column {}: {}",
                e.span().start.column,
                e.kind()
            ),
            regex_syntax::Error::Translate(e) => format!(
                "bad regex at column {}: {}",
                e.span().start.column,
                e.kind()
            ),
            other => format!("bad regex: {other}"),
        })
}

/// A combined matcher that searches a whole buffer for the earliest line any of `patterns` could match.
pub(crate) fn buffer_finder(patterns: &[&str]) -> Result<meta::Regex, String> {
    meta::Regex::builder()
        .syntax(
            syntax::Config::new()
                .multi_line(true)
                .crlf(true)
                .utf8(false),
        )
        .configure(
            meta::Config::new()
                .match_kind(regex_automata::MatchKind::LeftmostFirst)
                .utf8_empty(false)
                .nfa_size_limit(Some(COMBINED_SIZE_LIMIT))
                .onepass_size_limit(Some(COMBINED_SIZE_LIMIT))
                .dfa_size_limit(Some(COMBINED_SIZE_LIMIT))
                .hybrid_cache_capacity(64 << 20),
        )
        .build_many(patterns)
        .map_err(|e| flatten_error(&e.to_string()))
}

/// The matcher that tells every rule matching one line.
pub(crate) fn line_set(patterns: &[&str]) -> Result<RegexSet, String> {
    RegexSetBuilder::new(patterns)
        .multi_line(true)
        .crlf(true)
        .size_limit(COMBINED_SIZE_LIMIT)
        .dfa_size_limit(64 << 20)
        .build()
        .map_err(|e| flatten_error(&e.to_string()))
}

/// Regex errors span several lines with a caret under the problem; a diagnostic is one line.
fn flatten_error(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

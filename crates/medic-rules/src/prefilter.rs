//! Finding the lines worth checking, fast.
//!
//! Almost every line of a failed run's log is ordinary INFO noise. Rather than run a regex of hundreds of
//! alternatives over all of it (which defeats the regex engine's own literal optimisations: one pattern without a
//! literal prefix, or too many prefixes, and it falls back to an automaton that reads every byte, which is what
//! `rg -f` does: see docs/BENCHMARKS.md), each rule contributes a set of *required literals*, strings at least one of which
//! every match of the rule must contain, taken from anywhere in the pattern (prefix, suffix or an inner part, as
//! ripgrep does). Those are boiled down to *fingerprints*: short substrings, as few as possible and absent from
//! ordinary Spark output, searched with SIMD (Teddy) in groups small enough for it to stay fast. Only lines holding
//! a fingerprint meet the regexes. Rules with no usable literal are searched by a combined regex instead, and
//! `medic rules check` names them as slow.
//!
//! What is chosen here changes speed only, never which lines are found: a substring of a required literal is
//! itself required.

use std::collections::{HashMap, HashSet};

use aho_corasick::packed;
use regex_automata::{Input, meta};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Hir, HirKind};

use crate::pattern;

/// Literals shorter than this match too much ordinary text to be worth a prefilter.
const MIN_LITERAL_BYTES: usize = 4;
/// The lengths fingerprints may have: short enough to be shared by many literals, long enough to be rare.
const FINGERPRINT_BYTES: std::ops::RangeInclusive<usize> = 5..=12;
/// Fingerprints per SIMD searcher. In development probes, Teddy slowed down sharply beyond about 48 literals, so a
/// larger set is split into several searchers, each a pass over the text.
const SIMD_GROUP: usize = 48;
/// Ordinary output of healthy Spark runs: fingerprints are chosen to be absent from it.
const ORDINARY_LOG: &str = include_str!("ordinary.log");

/// Finds the next place in a buffer where some rule may match.
#[derive(Clone, Debug)]
pub(crate) struct CandidateFinder {
    fingerprints: Fingerprints,
    /// Combined regex of the rules that have no required literal.
    unfiltered: Option<meta::Regex>,
    /// Indices of those rules.
    pub(crate) unfiltered_rules: Vec<usize>,
}

/// The fingerprint searchers: SIMD groups, or one automaton on a CPU without the SIMD searcher.
#[derive(Clone, Debug)]
enum Fingerprints {
    Simd(Vec<packed::Searcher>),
    Automaton(aho_corasick::AhoCorasick),
}

/// Per-search scratch space of a [`CandidateFinder`]: the last answer of each searcher, as (searched from, found
/// end), so that a searcher whose next match lies far ahead is not run again after every candidate line before it.
pub(crate) struct FinderCache {
    regex: Option<meta::Cache>,
    searchers: Vec<Option<(usize, Option<usize>)>>,
    unfiltered: Option<(usize, Option<usize>)>,
}

impl CandidateFinder {
    /// Builds the finder for `patterns` (already known to be valid).
    pub(crate) fn new(patterns: &[&str]) -> Result<CandidateFinder, String> {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut unfiltered_rules = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            match pattern::parse(pattern)
                .ok()
                .as_ref()
                .and_then(required_literals)
            {
                Some(required) => literals.extend(required),
                None => unfiltered_rules.push(index),
            }
        }
        let fingerprints = Fingerprints::new(&fingerprints(&minimal_cover(literals)))?;
        let unfiltered = if unfiltered_rules.is_empty() {
            None
        } else {
            let slow: Vec<&str> = unfiltered_rules.iter().map(|&i| patterns[i]).collect();
            Some(pattern::buffer_finder(&slow)?)
        };
        Ok(CandidateFinder {
            fingerprints,
            unfiltered,
            unfiltered_rules,
        })
    }

    pub(crate) fn create_cache(&self) -> FinderCache {
        let searchers = match &self.fingerprints {
            Fingerprints::Simd(groups) => groups.len(),
            Fingerprints::Automaton(_) => 1,
        };
        FinderCache {
            regex: self.unfiltered.as_ref().map(meta::Regex::create_cache),
            searchers: vec![None; searchers],
            unfiltered: None,
        }
    }

    /// Forgets what the cache knows about the previous region.
    pub(crate) fn start_region(cache: &mut FinderCache) {
        cache.searchers.iter_mut().for_each(|memo| *memo = None);
        cache.unfiltered = None;
    }

    /// The end offset of a candidate match in `region[from..]` (`from` being a line start) such that no line before
    /// the one holding the byte before that offset can match any rule; `None` when no line after `from` can.
    pub(crate) fn next(
        &self,
        cache: &mut FinderCache,
        region: &[u8],
        from: usize,
    ) -> Option<usize> {
        let span = aho_corasick::Span::from(from..region.len());
        let by_fingerprint = match &self.fingerprints {
            Fingerprints::Simd(groups) => groups
                .iter()
                .zip(cache.searchers.iter_mut())
                .filter_map(|(group, memo)| {
                    remembered(memo, from, || group.find_in(region, span).map(|m| m.end()))
                })
                .min(),
            Fingerprints::Automaton(automaton) => cache.searchers.first_mut().and_then(|memo| {
                remembered(memo, from, || {
                    automaton
                        .find(aho_corasick::Input::new(region).span(span))
                        .map(|m| m.end())
                })
            }),
        };
        let by_regex = match (&self.unfiltered, cache.regex.as_mut()) {
            (Some(regex), Some(regex_cache)) => remembered(&mut cache.unfiltered, from, || {
                let input = Input::new(region).range(from..).earliest(true);
                regex.search_with(regex_cache, &input).map(|m| m.end())
            }),
            _ => None,
        };
        [by_fingerprint, by_regex].into_iter().flatten().min()
    }
}

impl Fingerprints {
    fn new(fingerprints: &[Vec<u8>]) -> Result<Fingerprints, String> {
        if fingerprints.is_empty() {
            return Ok(Fingerprints::Simd(Vec::new()));
        }
        // Fingerprints that open alike share a group: Teddy's masks then stay narrow and it verifies less.
        let mut fingerprints = fingerprints.to_vec();
        fingerprints.sort();
        let group_size = fingerprints
            .len()
            .div_ceil(fingerprints.len().div_ceil(SIMD_GROUP));
        let groups: Option<Vec<packed::Searcher>> = fingerprints
            .chunks(group_size)
            .map(|group| {
                packed::Config::new()
                    .match_kind(packed::MatchKind::LeftmostFirst)
                    .heuristic_pattern_limits(false)
                    .builder()
                    .extend(group)
                    .build()
            })
            .collect();
        match groups {
            Some(groups) => Ok(Fingerprints::Simd(groups)),
            None => aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::Standard)
                .build(&fingerprints)
                .map(Fingerprints::Automaton)
                .map_err(|e| e.to_string()),
        }
    }
}

/// `search()` from `from`, unless an earlier search already found that nothing, or something after `from`, lies
/// ahead. (A match found from an earlier line that ends after `from` lies on or after `from`'s line: a literal holds
/// no newline, and a regex match is only a candidate, checked again on its line.)
fn remembered(
    memo: &mut Option<(usize, Option<usize>)>,
    from: usize,
    search: impl FnOnce() -> Option<usize>,
) -> Option<usize> {
    if let Some((searched_from, found)) = *memo
        && searched_from <= from
        && found.is_none_or(|end| end > from)
    {
        return found;
    }
    let found = search();
    *memo = Some((from, found));
    found
}

/// A set of literals one of which every match of `hir` contains, or `None` when there is no set whose every
/// literal has at least [`MIN_LITERAL_BYTES`] bytes (and no newline, which a line never holds). Of the sets found
/// (prefixes, suffixes, or recursively those of a part every match must go through), the one whose shortest
/// literal is longest wins.
fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let mut best: Option<Vec<Vec<u8>>> = None;
    let mut consider = |candidate: Option<Vec<Vec<u8>>>| {
        if let Some(candidate) = candidate
            && best.as_ref().is_none_or(|b| better(&candidate, b))
        {
            best = Some(candidate);
        }
    };
    consider(usable(
        Extractor::new().kind(ExtractKind::Prefix).extract(hir),
    ));
    consider(usable(
        Extractor::new().kind(ExtractKind::Suffix).extract(hir),
    ));
    match hir.kind() {
        HirKind::Capture(capture) => consider(required_literals(&capture.sub)),
        HirKind::Repetition(repetition) if repetition.min >= 1 => {
            consider(required_literals(&repetition.sub))
        }
        HirKind::Concat(parts) => {
            for part in parts {
                consider(required_literals(part));
            }
        }
        HirKind::Alternation(branches) => {
            let union: Option<Vec<Vec<u8>>> = branches
                .iter()
                .map(required_literals)
                .collect::<Option<Vec<_>>>()
                .map(|sets| sets.concat());
            consider(union);
        }
        _ => {}
    }
    best
}

fn usable(seq: Seq) -> Option<Vec<Vec<u8>>> {
    let literals = seq.literals()?;
    let shortest = literals.iter().map(|l| l.as_bytes().len()).min()?;
    let usable =
        shortest >= MIN_LITERAL_BYTES && literals.iter().all(|l| !l.as_bytes().contains(&b'\n'));
    usable.then(|| literals.iter().map(|l| l.as_bytes().to_vec()).collect())
}

/// Longer shortest literal first (rarer in ordinary text), then fewer literals.
fn better(a: &[Vec<u8>], b: &[Vec<u8>]) -> bool {
    let shortest = |set: &[Vec<u8>]| set.iter().map(Vec::len).min().unwrap_or(0);
    (shortest(a).min(24), std::cmp::Reverse(a.len()))
        > (shortest(b).min(24), std::cmp::Reverse(b.len()))
}

/// Drops every literal that contains another one: the shorter literal already finds its lines.
fn minimal_cover(mut literals: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    literals.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    literals.dedup();
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(literals.len());
    for literal in literals {
        if !kept
            .iter()
            .any(|k| memchr::memmem::find(&literal, k).is_some())
        {
            kept.push(literal);
        }
    }
    kept
}

/// Chooses fingerprints for `literals`: substrings with [`FINGERPRINT_BYTES`] lengths, absent from
/// [`ORDINARY_LOG`], such that every literal contains one. Greedy set cover: repeatedly take the substring shared by
/// the most literals not yet covered (ties to the longer, rarer one). A literal with no such substring is its own
/// fingerprint.
fn fingerprints(literals: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut ordinary: HashSet<&[u8]> = HashSet::new();
    let mut trigrams: HashMap<&[u8], usize> = HashMap::new();
    for line in ORDINARY_LOG.as_bytes().split(|&b| b == b'\n') {
        for len in FINGERPRINT_BYTES {
            ordinary.extend(line.windows(len));
        }
        for trigram in line.windows(3) {
            *trigrams.entry(trigram).or_default() += 1;
        }
    }
    let mut holders: HashMap<&[u8], Vec<usize>> = HashMap::new();
    let mut chosen = Vec::new();
    let mut covered = vec![false; literals.len()];
    for (id, literal) in literals.iter().enumerate() {
        let mut any = false;
        for len in FINGERPRINT_BYTES {
            for window in literal.windows(len).filter(|w| !ordinary.contains(w)) {
                let ids = holders.entry(window).or_default();
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
                any = true;
            }
        }
        if !any {
            chosen.push(literal.clone());
            covered[id] = true;
        }
    }
    let mut candidates: Vec<(&[u8], Vec<usize>)> = holders.into_iter().collect();
    // A fixed order, so that equal scores are broken the same way on every run.
    candidates.sort_unstable_by(|a, b| a.0.cmp(b.0));
    loop {
        let best = candidates
            .iter()
            .filter_map(|(window, ids)| {
                let gain = ids.iter().filter(|&&id| !covered[id]).count();
                // Ties go to the window whose first three bytes are rarest in ordinary output: those are what the
                // SIMD searcher tests first, so rare ones let it skip ahead without verifying.
                let opening = std::cmp::Reverse(trigrams.get(&window[..3]).copied().unwrap_or(0));
                (gain > 0).then_some(((gain, opening, window.len()), *window, ids))
            })
            .max_by(|a, b| a.0.cmp(&b.0));
        let Some((_, window, ids)) = best else { break };
        for &id in ids {
            covered[id] = true;
        }
        chosen.push(window.to_vec());
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required(pattern: &str) -> Option<Vec<String>> {
        let hir = crate::pattern::parse(pattern).expect("valid");
        required_literals(&hir).map(|set| {
            set.into_iter()
                .map(|l| String::from_utf8(l).expect("utf8"))
                .collect()
        })
    }

    #[test]
    fn finds_literals_in_the_middle_and_in_every_branch() {
        assert_eq!(
            required(r"(?m:^)\s*(?:builtins\.)?MemoryError\b"),
            Some(vec!["MemoryError".to_owned()])
        );
        assert_eq!(
            required(r"\bOOMKilled\b"),
            Some(vec!["OOMKilled".to_owned()])
        );
        let branches = required(
            r"(?:(?m:^)\s*|An error occurred while calling \w+: )java\.lang\.OutOfMemoryError",
        );
        assert_eq!(
            branches,
            Some(vec!["java.lang.OutOfMemoryError".to_owned()])
        );
        let mut both = required(r"(?:Exit status: |exitCode: )(?P<code>-10[34])\b").expect("set");
        both.sort();
        assert_eq!(
            both,
            [
                "Exit status: -103",
                "Exit status: -104",
                "exitCode: -103",
                "exitCode: -104"
            ]
        );
    }

    #[test]
    fn refuses_patterns_without_a_long_enough_literal() {
        assert_eq!(required(r"[A-Z]\w+ \d+"), None);
        assert_eq!(required(r"(?:ab|cd)\d+"), None);
    }

    #[test]
    fn every_literal_contains_a_fingerprint() {
        let literals: Vec<Vec<u8>> = [
            "OutOfMemoryError",
            "GC overhead limit exceeded",
            "FetchFailedException",
            "OOMKilled",
        ]
        .iter()
        .map(|l| l.as_bytes().to_vec())
        .collect();
        let chosen = fingerprints(&literals);
        assert!(chosen.iter().all(|f| FINGERPRINT_BYTES.contains(&f.len())));
        for literal in &literals {
            assert!(
                chosen
                    .iter()
                    .any(|f| memchr::memmem::find(literal, f).is_some()),
                "{literal:?} uncovered"
            );
        }
    }

    #[test]
    fn keeps_only_the_shortest_of_nested_literals() {
        let cover = minimal_cover(vec![
            b"OutOfMemoryError".to_vec(),
            b"java.lang.OutOfMemoryError".to_vec(),
            b"Exit".to_vec(),
        ]);
        assert_eq!(cover, [b"Exit".to_vec(), b"OutOfMemoryError".to_vec()]);
    }
}

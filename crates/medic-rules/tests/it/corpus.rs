//! The corpus: real-shaped failure logs, each named `<expected category>--<what>.log`, checked by one function
//! against the built-in pack.

use std::path::Path;

use medic_core::{Category, Classification, LogSource};
use medic_rules::RuleSet;

use crate::data_files;

/// Classifies a labelled log (named `<expected category>--<what>.log`) as untagged input: its name, its expected
/// category, and the classification.
fn classify_labelled(set: &RuleSet, file: &Path) -> (String, Category, Classification) {
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let expected: Category = name
        .split("--")
        .next()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{name}: labelled logs are named <category>--<description>.log"));
    let mut classifier = set.classifier(None);
    classifier.scan_path(file, Some(LogSource::Unknown));
    (name, expected, classifier.finish())
}

#[test]
fn every_corpus_log_gets_its_expected_category() {
    let set = RuleSet::builtin().expect("builtin pack");
    let files = data_files("corpus", "log");
    assert!(
        files.len() >= 40,
        "the corpus is missing ({} logs)",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let (name, expected, c) = classify_labelled(&set, file);
        if c.category != expected {
            let evidence = c
                .evidence
                .map(|e| format!("line {}: {}", e.line, e.text))
                .unwrap_or_default();
            failures.push(format!(
                "{name}: expected {expected}, got {} by {:?} ({evidence})",
                c.category, c.rule
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus logs misclassified:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// A healthy run's output (INFO/WARN lines of Spark startup, YARN and Kubernetes allocation, tasks, shuffle, SQL,
/// shutdown) must not look like a failure to any built-in rule.
#[test]
fn a_healthy_run_matches_no_builtin_rule() {
    let set = RuleSet::builtin().expect("builtin pack");
    let healthy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ordinary.log");
    let mut classifier = set.classifier(None);
    classifier.scan_path(&healthy, None);
    let c = classifier.finish();
    assert_eq!(
        c.category,
        Category::Unclassified,
        "{:?} matched {:?}",
        c.rule,
        c.evidence
    );
    assert!(c.scanned.lines > 100);
}

/// The held-out logs (real posts, labelled from their threads, never used to write rules) are not checked one by
/// one: they measure the pack. This fails when the measure falls below what the pack reached when they were
/// collected (docs/research/holdout-eval.md), and prints the figures with `--nocapture`.
#[test]
fn holdout_metrics_do_not_regress() {
    let set = RuleSet::builtin().expect("builtin pack");
    let files = data_files("holdout", "log");
    assert!(
        files.len() >= 40,
        "the held-out set is missing ({} logs)",
        files.len()
    );
    let (mut correct, mut unclassified, mut memory_true, mut memory_predicted, mut memory_hit) =
        (0, 0, 0, 0, 0);
    for file in &files {
        let (_, expected, c) = classify_labelled(&set, file);
        let got = c.category;
        correct += usize::from(got == expected);
        unclassified += usize::from(got == Category::Unclassified);
        memory_true += usize::from(expected.is_memory_config());
        memory_predicted += usize::from(got.is_memory_config());
        memory_hit += usize::from(got.is_memory_config() && expected.is_memory_config());
    }
    let ratio = |a: usize, b: usize| a as f64 / b.max(1) as f64;
    let (precision, recall) = (
        ratio(memory_hit, memory_predicted),
        ratio(memory_hit, memory_true),
    );
    let (accuracy, unclassified) = (
        ratio(correct, files.len()),
        ratio(unclassified, files.len()),
    );
    println!(
        "held-out: {} logs; memory precision {precision:.3}, recall {recall:.3}; accuracy {accuracy:.3}; unclassified {unclassified:.3}",
        files.len()
    );
    assert!(
        precision >= 0.93 && recall >= 0.87,
        "memory precision {precision:.3}, recall {recall:.3}"
    );
    assert!(
        accuracy >= 0.83 && unclassified <= 0.10,
        "accuracy {accuracy:.3}, unclassified {unclassified:.3}"
    );
}

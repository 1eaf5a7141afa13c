//! The corpus: real-shaped failure logs, each named `<expected category>--<what>.log`, checked by one function
//! against the built-in pack.

use medic_core::{Category, LogSource};
use medic_rules::RuleSet;

use crate::data;

#[test]
fn every_corpus_log_gets_its_expected_category() {
    let set = RuleSet::builtin().expect("builtin pack");
    let mut files: Vec<_> = std::fs::read_dir(data("corpus"))
        .expect("corpus folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "the corpus is missing ({} logs)",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let expected: Category = name
            .split("--")
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| {
                panic!("{name}: corpus files are named <category>--<description>.log")
            });
        let mut classifier = set.classifier(None);
        classifier.scan_path(file, Some(LogSource::Unknown));
        let c = classifier.finish();
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

//! What the collector's tests share.

/// The built-in pack's classification of `pieces`, each scanned with its source, as a deployment classifies them.
pub fn classify(pieces: &[medic_collect::Piece]) -> medic_core::Classification {
    let rules = medic_rules::RuleSet::builtin().expect("the built-in pack");
    let mut classifier = rules.classifier(None);
    for piece in pieces {
        classifier.scan_reader(piece.source, &piece.name, piece.text.as_bytes());
    }
    classifier.finish()
}

//! Rule packs that must be refused, each with every problem reported.

use medic_rules::{RulePack, RuleSet};

use crate::{check_file, data, data_files};

/// Every `tests/data/bad-packs/*.yaml` is refused, with exactly the diagnostics in the `.expected` file beside it.
#[test]
fn bad_packs_report_every_problem() {
    let mut failures = Vec::new();
    let files = data_files("bad-packs", "yaml");
    assert!(files.len() >= 3, "the bad-pack corpus is missing");
    for file in files {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).expect("read pack");
        let actual = match RulePack::parse(&name, &text) {
            Ok(pack) => format!("unexpectedly loaded {} rules\n", pack.rules.len()),
            Err(e) => e.diagnostics().iter().map(|d| format!("{d}\n")).collect(),
        };
        if let Err(diff) = check_file(&file.with_extension("expected"), &actual) {
            failures.push(diff);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn duplicate_names_across_packs_are_refused_with_both_places() {
    let pack = |origin: &str| {
        RulePack::parse(
            origin,
            "rules:\n  - name: shared\n    category: disk_space\n    restartable: true\n    summary: s\n    pattern: 'No space left on device'\n",
        )
        .expect("valid pack")
    };
    let err = RuleSet::compile(vec![pack("team.yaml"), pack("other.yaml")])
        .expect_err("duplicate across packs");
    let text = err.to_string();
    assert!(
        text.contains(
            "other.yaml:2: rule shared: duplicate rule name (also defined at team.yaml:2)"
        ),
        "{text}"
    );
}

#[test]
fn missing_pack_file_is_a_diagnostic_not_a_panic() {
    let err = RuleSet::load(&[data("no-such-pack.yaml")], true).expect_err("missing file");
    assert_eq!(err.diagnostics().len(), 1);
    assert!(
        err.diagnostics()[0].message.starts_with("cannot read"),
        "{err}"
    );
}

#[test]
fn user_packs_come_before_the_builtin_pack() {
    let user = data("packs/team-overrides.yaml");
    let set = RuleSet::load(&[user], true).expect("loads");
    let first_builtin = set
        .rules()
        .iter()
        .position(|r| r.origin.file == medic_rules::BUILTIN_ORIGIN)
        .expect("builtin");
    assert!(first_builtin > 0);
    assert!(
        set.rules()[..first_builtin]
            .iter()
            .all(|r| r.origin.file.ends_with("team-overrides.yaml"))
    );
    assert_eq!(set.packs().len(), 2);
}

#[test]
fn the_builtin_pack_loads_and_every_example_matches() {
    let pack = RulePack::builtin().expect("the built-in pack is valid");
    assert!(pack.rules.len() >= 60, "only {} rules", pack.rules.len());
}

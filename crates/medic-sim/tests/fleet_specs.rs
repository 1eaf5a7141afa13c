//! Fleet specs from data files: each `tests/data/fleets/NAME.yaml` must be refused with exactly the problems in
//! `NAME.expected` (one per line, in order); the built-in fleet and every file in `fleets/` and `fleets/stress/`
//! must load.

use std::path::Path;

use medic_sim::{DEFAULT_FLEET, Error, FleetSpec};

#[test]
fn the_built_in_fleet_loads() {
    let spec = FleetSpec::from_yaml(DEFAULT_FLEET, "default.yaml").expect("the built-in fleet");
    assert_eq!(spec.max_attempts, 3);
    assert!(spec.problems().is_empty());
}

#[test]
fn every_fleet_file_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fleets");
    let mut names = Vec::new();
    let files = std::fs::read_dir(&dir)
        .expect("the fleets folder")
        .chain(std::fs::read_dir(dir.join("stress")).expect("the stress fleets"));
    for entry in files {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let spec = FleetSpec::from_yaml(&text, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(spec.problems().is_empty(), "{}", path.display());
        names.push(
            path.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned(),
        );
    }
    for expected in ["default.yaml", "lean.yaml", "noisy.yaml", "under.yaml"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
}

#[test]
fn fleet_files_written_before_spill_headroom_still_load() {
    // Copies of the old default.yaml have no `spill_headroom`.
    let old: String = DEFAULT_FLEET
        .lines()
        .filter(|line| !line.trim_start().starts_with("spill_headroom:"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(old, DEFAULT_FLEET);
    let spec = FleetSpec::from_yaml(&old, "old default.yaml").expect("an old fleet file");
    assert_eq!(spec.runtime.spill_headroom, 1.1);
    assert_eq!(spec, FleetSpec::default_fleet());
}

#[test]
fn bad_specs_report_every_problem() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fleets");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("the data folder") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let expected = std::fs::read_to_string(path.with_extension("expected"))
            .unwrap_or_else(|_| panic!("{} has no .expected file", path.display()));
        let problems = match FleetSpec::from_yaml(&text, "spec") {
            Ok(_) => panic!("{} was accepted", path.display()),
            Err(Error::InvalidFleet { problems, .. }) => problems,
            Err(other) => panic!("{}: {other}", path.display()),
        };
        let expected: Vec<&str> = expected.lines().filter(|l| !l.is_empty()).collect();
        let got: Vec<String> = problems
            .iter()
            .map(|p| p.lines().next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(got, expected, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 2);
}

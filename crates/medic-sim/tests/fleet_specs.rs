//! Fleet specs from data files: each `tests/data/fleets/NAME.yaml` must be refused with exactly the problems in
//! `NAME.expected` (one per line, in order); the built-in fleet must load.

use std::path::Path;

use medic_sim::{DEFAULT_FLEET, Error, FleetSpec};

#[test]
fn the_built_in_fleet_loads() {
    let spec = FleetSpec::from_yaml(DEFAULT_FLEET, "default.yaml").expect("the built-in fleet");
    assert_eq!(spec.max_attempts, 3);
    assert!(spec.problems().is_empty());
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

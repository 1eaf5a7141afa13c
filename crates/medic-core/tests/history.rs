//! History files: JSON Lines and CSV read and write the same records, and every bad line is reported.

use std::io::BufReader;

use medic_core::history::{Prices, RetryRecord, read_csv, read_jsonl, write_csv, write_jsonl};

fn data(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/history")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn good() -> Vec<RetryRecord> {
    let read = read_jsonl(BufReader::new(&data("good.jsonl")[..]), &Prices::default());
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    read.records
}

#[test]
fn json_lines_and_csv_round_trip_the_same_records() {
    let records = good();
    assert_eq!(records.len(), 3);
    let mut jsonl = Vec::new();
    write_jsonl(&mut jsonl, &records).expect("write jsonl");
    let again = read_jsonl(BufReader::new(&jsonl[..]), &Prices::default());
    assert!(again.problems.is_empty());
    assert_eq!(again.records, records);

    let mut csv = Vec::new();
    write_csv(&mut csv, &records).expect("write csv");
    let from_csv = read_csv(&csv[..], &Prices::default());
    assert!(from_csv.problems.is_empty(), "{:?}", from_csv.problems);
    assert_eq!(from_csv.records, records);
}

#[test]
fn a_missing_cost_is_computed_from_resources_and_runtime() {
    let records = good();
    assert_eq!(records[0].cost_dollars, 1.25, "a given cost is kept");
    let prices = Prices::default();
    let expected = prices.cost(&records[1].config, 600.5);
    assert!(expected > 0.0);
    assert_eq!(records[1].cost_dollars, expected);
}

#[test]
fn every_bad_line_is_reported_with_its_reason() {
    let read = read_jsonl(BufReader::new(&data("bad.jsonl")[..]), &Prices::default());
    assert_eq!(read.records.len(), 1, "only line 1 is usable");
    let expected = String::from_utf8(data("bad.expected")).expect("utf-8");
    let expected: Vec<(&str, &str)> = expected
        .lines()
        .map(|line| line.split_once(": ").expect("`line N: text`"))
        .collect();
    assert_eq!(read.problems.len(), expected.len(), "{:#?}", read.problems);
    for (problem, (line, needle)) in read.problems.iter().zip(expected) {
        let shown = problem.to_string();
        assert!(
            shown.starts_with(&format!("{line}:")) && shown.contains(needle),
            "expected `{line}: ...{needle}...`, got `{shown}`"
        );
    }
}

#[test]
fn csv_refuses_unknown_columns_and_reports_bad_cells() {
    let read = read_csv(&b"job,colour\na,red\n"[..], &Prices::default());
    assert!(read.records.is_empty());
    assert!(read.problems[0].reason.contains("colour"));
    let text = "job,config,failure_category,outcome,runtime_seconds,at,input_bytes\n\
                a,{},executor_oom,failed,10,2026-11-01T00:00:00Z,lots\n\
                b,{},executor_oom,failed,10,2026-11-01T00:00:00Z,\n";
    let read = read_csv(text.as_bytes(), &Prices::default());
    assert_eq!(read.records.len(), 1);
    assert_eq!(read.problems.len(), 1);
    assert_eq!(read.problems[0].line, 2);
    assert!(read.problems[0].reason.contains("lots"));
}

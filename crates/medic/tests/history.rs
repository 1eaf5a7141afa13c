//! `medic history import|export` through the real binary, on SQLite and the real PostgreSQL server.

use std::path::Path;
use std::process::{Command, Output};

use medic_store::testing::{TestBackend, TestDatabase};

fn medic(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medic"))
        .args(args)
        .env_remove("MEDIC_DB")
        .output()
        .expect("medic runs")
}

fn history_file(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../medic-core/tests/data/history")
        .join(name)
        .display()
        .to_string()
}

async fn import_then_export_round_trips(backend: TestBackend) {
    let database = TestDatabase::create(backend).await;
    let db = database.url();
    let good = history_file("good.jsonl");
    let imported = medic(&["history", "import", &good, "--db", db]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    // A file with bad lines imports nothing and names every bad line.
    let refused = medic(&["history", "import", &history_file("bad.jsonl"), "--db", db]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    for line in 2..=9 {
        assert!(
            stderr.contains(&format!("bad.jsonl: line {line}: ")),
            "{stderr}"
        );
    }

    let dir =
        std::env::temp_dir().join(format!("medic-history-{}-{backend:?}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let csv = dir.join("history.csv");
    let csv = csv.to_str().expect("utf-8");
    assert!(
        medic(&["history", "export", "--db", db, "--out", csv])
            .status
            .success()
    );
    // Importing the CSV export doubles the history with identical records.
    assert!(
        medic(&["history", "import", csv, "--db", db])
            .status
            .success()
    );
    let exported = medic(&["history", "export", "--db", db]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&exported.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 6);
    // Sorted by time, each record appears twice, identically.
    for pair in lines.chunks(2) {
        assert_eq!(pair[0], pair[1]);
    }
    assert_eq!(lines[0]["job"]["id"], "nightly-rollup");
    assert_eq!(lines[0]["cost_dollars"], 1.25);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn history_round_trips_on_sqlite() {
    import_then_export_round_trips(TestBackend::Sqlite).await;
}

#[tokio::test]
async fn history_round_trips_on_postgres() {
    import_then_export_round_trips(TestBackend::Postgres).await;
}

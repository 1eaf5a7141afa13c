//! `medic train` and `medic model` through the real binary: a synthetic history with a known failure rule is
//! imported, trained on, audited, saved with its plots, registered and promoted; a second, worse model is not.

use std::process::{Command, Output};

use medic_model::synthetic::{SyntheticConfig, generate};
use medic_store::testing::{TestBackend, TestDatabase};

fn medic(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medic"))
        .args(args)
        .env_remove("MEDIC_DB")
        .output()
        .expect("medic runs")
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn train_audits_saves_registers_and_promotes_only_a_model_that_passes() {
    let database = TestDatabase::create(TestBackend::Sqlite).await;
    let db = database.url();
    let dir = std::env::temp_dir().join(format!("medic-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let history = dir.join("history.jsonl");
    let mut text = Vec::new();
    medic_core::history::write_jsonl(&mut text, &generate(&SyntheticConfig::default(), 6_000))
        .expect("jsonl");
    std::fs::write(&history, text).expect("write");
    ok(medic(&[
        "history",
        "import",
        history.to_str().expect("utf-8"),
        "--db",
        db,
    ]));

    let models = dir.join("models");
    let models = models.to_str().expect("utf-8");
    let stdout = ok(medic(&[
        "train", "--db", db, "--out", models, "--epochs", "30",
    ]));
    assert!(stdout.contains("failure AUC"), "{stdout}");
    assert!(stdout.contains("promoted m"), "{stdout}");
    let version = stdout
        .lines()
        .find_map(|line| line.strip_prefix("promoted "))
        .expect("a promoted version")
        .to_owned();
    let artifact = std::path::Path::new(models).join(&version);
    for file in [
        "weights.safetensors",
        "model.json",
        "loss.svg",
        "calibration.svg",
    ] {
        assert!(artifact.join(file).is_file(), "{file} missing");
    }
    let svg = std::fs::read_to_string(artifact.join("calibration.svg")).expect("svg");
    assert!(
        svg.starts_with("<svg") && svg.contains("<circle"),
        "a reliability diagram with points"
    );

    let shown: serde_json::Value =
        serde_json::from_str(&ok(medic(&["model", "show", &version, "--db", db]))).expect("json");
    let auc = shown["description"]["description"]["metrics"]["auc"]
        .as_f64()
        .expect("auc");
    assert!(auc >= 0.9, "hold-out AUC {auc}");
    assert_eq!(shown["status"], "promoted");

    // A model trained for one epoch with a different seed is worse on the same hold-out: registered, not promoted.
    let stdout = ok(medic(&[
        "train",
        "--db",
        db,
        "--out",
        models,
        "--epochs",
        "1",
        "--seed",
        "7",
        "--min-auc",
        "0.5",
        "--max-ece",
        "0.5",
    ]));
    assert!(stdout.contains("not promoted"), "{stdout}");
    let listed = ok(medic(&["model", "list", "--db", db]));
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(
        listed
            .lines()
            .any(|line| line.starts_with(&version) && line.contains("promoted"))
    );
    std::fs::remove_dir_all(dir).ok();
}

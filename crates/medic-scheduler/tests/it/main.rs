//! Integration tests of the scheduler, driven by the workflow files and scripts under `tests/data/`. One binary,
//! so the crate links once.

mod engine;
mod fakes;
mod runner;
mod workflow;

use std::path::{Path, PathBuf};

use medic_scheduler::Workflow;

/// The test data folder.
pub fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

/// The files of a test data folder with this extension, in name order.
pub fn data_files(folder: &str, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(data(folder))
        .unwrap_or_else(|e| panic!("test data folder {folder}: {e}"))
        .map(|e| e.expect("a readable folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// Compares `actual` with the file `expected`; with `UPDATE_EXPECT=1` in the environment, rewrites the file instead.
pub fn check_file(expected: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(expected, actual).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let want = std::fs::read_to_string(expected).unwrap_or_default();
    if want == actual {
        Ok(())
    } else {
        Err(format!(
            "{} differs (rerun with UPDATE_EXPECT=1 to accept):\n--- expected\n{want}\n--- actual\n{actual}",
            expected.display()
        ))
    }
}

/// A temporary folder holding the test scripts and a workflow file, as a user's workflow folder would.
pub struct Flow {
    /// The folder (removed on drop).
    pub dir: tempfile::TempDir,
    /// The loaded workflow.
    pub workflow: Workflow,
}

impl Flow {
    /// Copies every `tests/data/scripts/*.sh` into a new folder (executable), writes `yaml` there as
    /// `workflow.yaml` and loads it.
    pub fn new(yaml: &str) -> Flow {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temporary folder");
        for script in data_files("scripts", "sh") {
            let copy = dir.path().join(script.file_name().expect("a file name"));
            std::fs::copy(&script, &copy).expect("copy a script");
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let file = dir.path().join("workflow.yaml");
        std::fs::write(&file, yaml).expect("write the workflow");
        let workflow = Workflow::load(&file).unwrap_or_else(|e| panic!("{e}"));
        Flow { dir, workflow }
    }

    /// The folder for the run's files.
    pub fn run_dir(&self) -> PathBuf {
        self.dir.path().join("runs/1")
    }
}

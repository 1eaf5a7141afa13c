//! Integration tests of rule loading and classification, driven by the files under `tests/data/` and by the
//! built-in pack. One binary, so the crate links once.

mod corpus;
mod engine;
mod loader;

use std::path::{Path, PathBuf};

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
        .map(|e| e.expect("entry").path())
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

//! Finding a Spark to submit to: `$MEDIC_SPARK_HOME`, the repository's `.cache/spark/venv` (what
//! `scripts/install-spark.sh` installs), or `spark-submit` on `PATH`, in that order.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The command that installs the Spark medic finds by itself, run from the repository's root.
pub const INSTALL_COMMAND: &str = "scripts/install-spark.sh";

/// Where that command installs Spark, relative to the repository's root.
pub const REPO_SPARK_HOME: &str = ".cache/spark/venv";

/// A Spark installation: the `spark-submit` to run and the environment it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparkInstall {
    /// The `spark-submit` script.
    pub spark_submit: PathBuf,
    /// Variables to set for it: `PATH` with the installation's `bin` first (PySpark's `spark-submit` finds its
    /// Spark through the `python` on `PATH`), `SPARK_HOME`, and `PYSPARK_PYTHON` for a Python environment.
    pub env: Vec<(String, String)>,
    /// How it was found, for messages (`MEDIC_SPARK_HOME=...`, `PATH`).
    pub found_by: String,
}

impl SparkInstall {
    /// The Spark that `workflow`'s Spark applications go to, found from this process's environment
    /// (`$MEDIC_SPARK_HOME`, the jobs' working folders and the current one, `$PATH`, as [`SparkInstall::locate`]
    /// says); `None` when the workflow has no Spark application. Called before anything runs, so that a missing
    /// Spark stops the run with the command that installs one.
    pub fn for_workflow(workflow: &medic_scheduler::Workflow) -> Result<Option<SparkInstall>> {
        if workflow.jobs.iter().all(|job| job.spark.is_none()) {
            return Ok(None);
        }
        let home = std::env::var_os("MEDIC_SPARK_HOME")
            .filter(|home| !home.is_empty())
            .map(std::path::PathBuf::from);
        let current = std::env::current_dir().unwrap_or_default();
        let mut search: Vec<&Path> = workflow
            .jobs
            .iter()
            .map(|job| job.working_dir.as_path())
            .collect();
        search.push(&current);
        SparkInstall::locate(home.as_deref(), &search, std::env::var_os("PATH").as_ref()).map(Some)
    }

    /// Finds Spark. `medic_spark_home` is `$MEDIC_SPARK_HOME`: a Spark distribution, or a Python environment with
    /// PySpark (as the install script makes); when it is set, it must hold `bin/spark-submit`. Otherwise the first
    /// of `search_from` (and each one's parents) that has [`REPO_SPARK_HOME`] wins, then `spark-submit` on `path`
    /// (`$PATH`). Finding none is an error that names [`INSTALL_COMMAND`].
    pub fn locate(
        medic_spark_home: Option<&Path>,
        search_from: &[&Path],
        path: Option<&OsString>,
    ) -> Result<SparkInstall> {
        if let Some(home) = medic_spark_home {
            return SparkInstall::at(home, path, format!("MEDIC_SPARK_HOME={}", home.display()))
                .ok_or_else(|| {
                    Error::SparkNotFound(format!(
                        "MEDIC_SPARK_HOME is {}, which has no bin/spark-submit; point it at a Spark distribution or \
                         a Python environment with PySpark, or unset it and run `{INSTALL_COMMAND}` from medic's \
                         repository",
                        home.display()
                    ))
                });
        }
        for start in search_from {
            for folder in start.ancestors() {
                let home = folder.join(REPO_SPARK_HOME);
                if let Some(install) = SparkInstall::at(&home, path, format!("{}", home.display()))
                {
                    return Ok(install);
                }
            }
        }
        if let Some(path_var) = path {
            for dir in std::env::split_paths(path_var) {
                let candidate = dir.join("spark-submit");
                if candidate.is_file() {
                    // A `bin` folder of a distribution or an environment gets the same variables as one named.
                    let found_by = format!("{} on PATH", candidate.display());
                    return Ok(dir
                        .parent()
                        .and_then(|home| SparkInstall::at(home, Some(path_var), found_by.clone()))
                        .unwrap_or(SparkInstall {
                            spark_submit: candidate,
                            env: Vec::new(),
                            found_by,
                        }));
                }
            }
        }
        Err(Error::SparkNotFound(format!(
            "cannot find spark-submit: run `{INSTALL_COMMAND}` from medic's repository (it installs PySpark, a \
             complete Spark, into {REPO_SPARK_HOME}), set MEDIC_SPARK_HOME to a Spark installation, or put \
             spark-submit on PATH"
        )))
    }

    /// The installation at `home`, if it has `bin/spark-submit`: a distribution (with `jars/`) or a Python
    /// environment with PySpark (`lib/python3.*/site-packages/pyspark`).
    pub fn at(home: &Path, path: Option<&OsString>, found_by: String) -> Option<SparkInstall> {
        let bin = home.join("bin");
        let spark_submit = bin.join("spark-submit");
        if !spark_submit.is_file() {
            return None;
        }
        let home = std::path::absolute(home).unwrap_or_else(|_| home.to_path_buf());
        let bin = home.join("bin");
        let mut env = Vec::new();
        let mut search_path = vec![bin.clone()];
        search_path.extend(path.map(std::env::split_paths).into_iter().flatten());
        if let Ok(joined) = std::env::join_paths(search_path) {
            env.push(("PATH".to_owned(), joined.to_string_lossy().into_owned()));
        }
        if home.join("jars").is_dir() {
            env.push(("SPARK_HOME".to_owned(), home.display().to_string()));
        } else if let Some(pyspark) = pyspark_in(&home) {
            env.push(("SPARK_HOME".to_owned(), pyspark.display().to_string()));
            let python = bin.join("python");
            if python.is_file() {
                env.push(("PYSPARK_PYTHON".to_owned(), python.display().to_string()));
            }
        }
        Some(SparkInstall {
            spark_submit: bin.join("spark-submit"),
            env,
            found_by,
        })
    }
}

/// PySpark's own folder (which holds Spark's jars) in the Python environment at `home`.
fn pyspark_in(home: &Path) -> Option<PathBuf> {
    let lib = home.join("lib");
    let mut pythons: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python"))
        })
        .collect();
    pythons.sort();
    pythons
        .into_iter()
        .map(|python| python.join("site-packages").join("pyspark"))
        .find(|pyspark| pyspark.join("jars").is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(path, "").expect("write");
    }

    #[test]
    fn a_python_environment_gets_its_pyspark_as_spark_home() {
        let dir = tempfile::tempdir().expect("temp");
        let repo = dir.path().join("repo");
        let venv = repo.join(REPO_SPARK_HOME);
        touch(&venv.join("bin/spark-submit"));
        touch(&venv.join("bin/python"));
        std::fs::create_dir_all(venv.join("lib/python3.11/site-packages/pyspark/jars"))
            .expect("mkdir");
        let workflows = repo.join("examples/spark");
        std::fs::create_dir_all(&workflows).expect("mkdir");
        let path = OsString::from("/usr/bin");
        let install = SparkInstall::locate(None, &[&workflows], Some(&path)).expect("found");
        assert_eq!(install.spark_submit, venv.join("bin/spark-submit"));
        let env: std::collections::HashMap<_, _> = install.env.into_iter().collect();
        assert_eq!(
            env["SPARK_HOME"],
            venv.join("lib/python3.11/site-packages/pyspark")
                .display()
                .to_string()
        );
        assert_eq!(
            env["PATH"],
            format!("{}:/usr/bin", venv.join("bin").display())
        );
        assert_eq!(
            env["PYSPARK_PYTHON"],
            venv.join("bin/python").display().to_string()
        );
    }

    #[test]
    fn nothing_found_names_the_install_command() {
        let dir = tempfile::tempdir().expect("temp");
        let empty = OsString::from(dir.path().join("bin"));
        let err = SparkInstall::locate(None, &[dir.path()], Some(&empty)).expect_err("none");
        assert!(err.to_string().contains(INSTALL_COMMAND), "{err}");
        let err = SparkInstall::locate(Some(dir.path()), &[], None).expect_err("not a Spark");
        assert!(err.to_string().contains("MEDIC_SPARK_HOME"), "{err}");
    }

    #[test]
    fn a_distribution_is_its_own_spark_home() {
        let dir = tempfile::tempdir().expect("temp");
        touch(&dir.path().join("bin/spark-submit"));
        std::fs::create_dir_all(dir.path().join("jars")).expect("mkdir");
        let install = SparkInstall::locate(Some(dir.path()), &[], None).expect("found");
        assert!(
            install
                .env
                .contains(&("SPARK_HOME".to_owned(), dir.path().display().to_string()))
        );
    }
}

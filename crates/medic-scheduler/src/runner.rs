//! Running one attempt of a job: the [`JobRunner`] trait, and [`ProcessRunner`], which runs the job's command as
//! a local process.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use medic_core::SparkConf;
use medic_core::history::RunMetrics;

use crate::error::RunnerError;
use crate::remediate::LogFile;
use crate::workflow::Job;

/// The file an attempt's standard output goes to, in its folder.
pub const STDOUT_FILE: &str = "stdout.log";
/// The file an attempt's standard error goes to, in its folder; the scheduler's own notes about the attempt (a
/// command that cannot start, a timeout) are appended to it, where a reader of the logs will look.
pub const STDERR_FILE: &str = "stderr.log";

/// One attempt to run.
#[derive(Clone, Copy, Debug)]
pub struct AttemptRequest<'a> {
    /// The job.
    pub job: &'a Job,
    /// Which attempt (1-based).
    pub attempt: u32,
    /// The configuration to run with, patches applied.
    pub config: &'a SparkConf,
    /// The folder where this attempt's files go. It need not exist yet.
    pub dir: &'a Path,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptOutcome {
    /// The exit code; `None` when the process was killed by a signal or never started.
    pub exit_code: Option<i32>,
    /// The signal that ended the process, if one did.
    pub signal: Option<i32>,
    /// Whether the runner killed the attempt for running past the job's timeout.
    pub timed_out: bool,
    /// Wall time, in seconds.
    pub runtime_seconds: f64,
    /// The captured standard output.
    pub stdout: PathBuf,
    /// The captured standard error.
    pub stderr: PathBuf,
    /// The highest memory use in bytes, when the runner can measure it (a process runner cannot).
    pub peak_memory_bytes: Option<u64>,
    /// What the attempt cost in dollars, when the runner knows (a process runner does not).
    pub cost_dollars: Option<f64>,
    /// Bytes the run read, when the runner can tell (from Spark's event log, say). The recommender and the model
    /// use it: memory needs grow with input.
    pub input_bytes: Option<u64>,
    /// The operators of the run's Spark plan, when the runner can tell.
    pub plan_operators: Vec<String>,
    /// What Spark measured, when the runner read its event log.
    pub metrics: Option<RunMetrics>,
    /// The attempt's logs besides standard output and standard error, tagged by source (a Spark runner adds what
    /// the event log says failed); the remediator classifies them all.
    pub logs: Vec<LogFile>,
    /// Why the attempt ended other than by exiting by itself (it could not start, or it was killed at its
    /// timeout), in a sentence.
    pub note: Option<String>,
}

impl AttemptOutcome {
    /// An attempt succeeded when it exited with 0 by itself.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }
}

/// Runs attempts. An attempt that runs and fails is an `Ok` outcome; `Err` is for a runner that could not run it
/// at all.
pub trait JobRunner {
    /// Runs one attempt and waits for it to end.
    fn run(&self, attempt: &AttemptRequest<'_>) -> Result<AttemptOutcome, RunnerError>;
}

impl<T: JobRunner + ?Sized> JobRunner for &T {
    fn run(&self, attempt: &AttemptRequest<'_>) -> Result<AttemptOutcome, RunnerError> {
        (**self).run(attempt)
    }
}

impl<T: JobRunner + ?Sized> JobRunner for Box<T> {
    fn run(&self, attempt: &AttemptRequest<'_>) -> Result<AttemptOutcome, RunnerError> {
        (**self).run(attempt)
    }
}

/// Runs the job's command as a child process.
///
/// * The command line is [`Job::command_line`]: the configuration as `--conf key=value` flags where the command
///   says `{conf}`, or right after the program.
/// * It runs in the job's working directory (the workflow file's folder). A program given as a relative path
///   with a `/` (`./bin/job.sh`) is taken from that folder too; a bare name (`spark-submit`) is looked up in
///   `PATH`.
/// * Its environment is the scheduler's plus `MEDIC_JOB` (the job's id), `MEDIC_WORKFLOW` and `MEDIC_ATTEMPT`
///   (1-based); standard input is empty.
/// * Standard output and standard error are written straight to [`STDOUT_FILE`] and [`STDERR_FILE`] in the
///   attempt's folder, never held in memory.
/// * Past the job's timeout the process is killed (`SIGKILL`). Only that process is: `spark-submit` `exec`s the
///   JVM, so that is the driver, but a wrapper script's own children live on.
/// * A command that cannot start is a failed attempt (no exit code, the reason written to standard error), not
///   an error of the runner.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessRunner;

/// How often a process with a timeout is checked on at most. Spark jobs run for minutes, so a tenth of a second
/// late is nothing, and short test commands are seen to end within milliseconds.
const MAX_POLL: Duration = Duration::from_millis(100);

impl JobRunner for ProcessRunner {
    fn run(&self, request: &AttemptRequest<'_>) -> Result<AttemptOutcome, RunnerError> {
        let argv = request.job.command_line(request.config);
        self.run_command(request, &argv, &[])
    }
}

impl ProcessRunner {
    /// Runs `argv` (the program, then its arguments) for `request`'s attempt as [`ProcessRunner`] runs a job's
    /// command: in the job's folder, logs to the attempt's folder, the job's timeout, the `MEDIC_*` variables,
    /// plus the variables of `env` (which win over the scheduler's own). For runners that build their own command
    /// line, such as a Spark runner.
    pub fn run_command(
        &self,
        request: &AttemptRequest<'_>,
        argv: &[String],
        env: &[(String, String)],
    ) -> Result<AttemptOutcome, RunnerError> {
        let job = request.job;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RunnerError::Io { path, source }
        };
        std::fs::create_dir_all(request.dir).map_err(io(request.dir))?;
        let stdout_path = request.dir.join(STDOUT_FILE);
        let stderr_path = request.dir.join(STDERR_FILE);
        let stdout = File::create(&stdout_path).map_err(io(&stdout_path))?;
        let mut stderr = File::create(&stderr_path).map_err(io(&stderr_path))?;
        // The child writes through a duplicate; the scheduler keeps this one for its own notes after the child.
        let child_stderr = stderr.try_clone().map_err(io(&stderr_path))?;

        let mut outcome = AttemptOutcome {
            exit_code: None,
            signal: None,
            timed_out: false,
            runtime_seconds: 0.0,
            stdout: stdout_path,
            stderr: stderr_path.clone(),
            peak_memory_bytes: None,
            cost_dollars: None,
            input_bytes: None,
            plan_operators: Vec::new(),
            metrics: None,
            logs: Vec::new(),
            note: None,
        };
        let Some((program, args)) = argv.split_first() else {
            let note = "the job has no command".to_owned();
            writeln!(stderr, "medic: {note}").map_err(io(&stderr_path))?;
            outcome.note = Some(note);
            return Ok(outcome);
        };
        let program = program_path(program, &job.working_dir);
        let mut command = Command::new(&program);
        command
            .args(args)
            .current_dir(&job.working_dir)
            .env("MEDIC_JOB", &job.identity.id)
            .env(
                "MEDIC_WORKFLOW",
                job.identity.workflow.as_deref().unwrap_or_default(),
            )
            .env("MEDIC_ATTEMPT", request.attempt.to_string())
            .envs(env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(child_stderr);

        let started = Instant::now();
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let note = format!(
                    "cannot start `{}` in {}: {e}",
                    program.display(),
                    job.working_dir.display()
                );
                writeln!(stderr, "medic: {note}").map_err(io(&stderr_path))?;
                outcome.runtime_seconds = started.elapsed().as_secs_f64();
                outcome.note = Some(note);
                return Ok(outcome);
            }
        };
        // The command still holds the parent's copies of the log files; close them while the job runs.
        drop(command);
        let (status, timed_out) = wait(&mut child, job.timeout, started)?;
        outcome.runtime_seconds = started.elapsed().as_secs_f64();
        outcome.exit_code = status.code();
        outcome.signal = signal(&status);
        if timed_out {
            let limit = job.timeout.unwrap_or_default().as_secs_f64();
            let note = format!(
                "killed after {:.1} s: the job's timeout is {limit} s",
                outcome.runtime_seconds
            );
            writeln!(stderr, "medic: {note}").map_err(io(&stderr_path))?;
            outcome.timed_out = true;
            outcome.note = Some(note);
        }
        Ok(outcome)
    }
}

/// Waits for `child`, killing it once `timeout` has passed since `started`. Returns its status and whether it
/// was killed for the timeout.
fn wait(
    child: &mut Child,
    timeout: Option<Duration>,
    started: Instant,
) -> Result<(ExitStatus, bool), RunnerError> {
    let Some(limit) = timeout else {
        return Ok((child.wait().map_err(RunnerError::Wait)?, false));
    };
    // std has no wait with a timeout, so the child is polled, first often (short commands end quickly), then at
    // most every MAX_POLL.
    let mut poll = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait().map_err(RunnerError::Wait)? {
            return Ok((status, false));
        }
        let elapsed = started.elapsed();
        if elapsed >= limit {
            // The child may exit on its own between the check and the kill; then the kill fails harmlessly and
            // wait() still reaps it.
            let _ = child.kill();
            return Ok((child.wait().map_err(RunnerError::Wait)?, true));
        }
        std::thread::sleep(poll.min(limit - elapsed));
        poll = (poll * 2).min(MAX_POLL);
    }
}

/// A relative program path with a directory part is resolved against the working directory: `Command` leaves
/// it unspecified whether such a path is taken from the parent's or the child's directory.
fn program_path(program: &str, working_dir: &Path) -> PathBuf {
    let path = Path::new(program);
    if path.is_relative() && path.components().count() > 1 {
        working_dir.join(path)
    } else {
        path.to_path_buf()
    }
}

#[cfg(unix)]
fn signal(status: &ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal(_status: &ExitStatus) -> Option<i32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_relative_paths_with_a_folder_are_taken_from_the_working_directory() {
        let dir = Path::new("/flows");
        assert_eq!(program_path("spark-submit", dir), Path::new("spark-submit"));
        assert_eq!(program_path("./job.sh", dir), Path::new("/flows/./job.sh"));
        assert_eq!(
            program_path("bin/job.sh", dir),
            Path::new("/flows/bin/job.sh")
        );
        assert_eq!(program_path("/usr/bin/env", dir), Path::new("/usr/bin/env"));
    }
}

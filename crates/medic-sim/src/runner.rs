//! [`SimulatedRunner`]: the scheduler's [`JobRunner`] for simulated jobs. It asks the [`World`] what happens,
//! writes the attempt's logs where a real runner would, and reports what a real runner can measure (exit code,
//! runtime, cost, peak heap, input size, plan operators): never the hidden needs.

use medic_core::history::RunMetrics;
use medic_scheduler::{
    AttemptOutcome, AttemptRequest, JobRunner, RunnerError, STDERR_FILE, STDOUT_FILE,
};

use crate::logs::attempt_logs;
use crate::world::{FailureKind, World, rng_for};

/// Runs simulated attempts of one day.
pub struct SimulatedRunner<'a> {
    world: &'a World,
    day: u32,
}

impl<'a> SimulatedRunner<'a> {
    /// A runner for `day` (0 is the first history day) of `world`.
    pub fn new(world: &'a World, day: u32) -> Self {
        SimulatedRunner { world, day }
    }
}

/// The exit code a failure ends with (52 for an executor's JVM out of memory, as Spark's local mode does; 1
/// otherwise).
fn exit_code(kind: FailureKind) -> i32 {
    match kind {
        FailureKind::ExecutorHeap => 52,
        _ => 1,
    }
}

impl JobRunner for SimulatedRunner<'_> {
    fn run(&self, request: &AttemptRequest<'_>) -> Result<AttemptOutcome, RunnerError> {
        let id = &request.job.identity.id;
        let job = self
            .world
            .job(id)
            .ok_or_else(|| RunnerError::Other(format!("no simulated job `{id}`")))?;
        let attempt = self
            .world
            .attempt(job, self.day, request.attempt, request.conf);
        let (slot_key, day, number) = (
            xxhash_rust::xxh3::xxh3_64(id.as_bytes()),
            u64::from(self.day),
            u64::from(request.attempt),
        );
        let mut rng = rng_for(self.world.spec().seed, "logs", &[slot_key, day, number]);
        let logs = attempt_logs(job, &attempt, request.attempt, &mut rng);
        let io = |path: &std::path::Path| {
            let path = path.to_path_buf();
            move |source| RunnerError::Io { path, source }
        };
        std::fs::create_dir_all(request.dir).map_err(io(request.dir))?;
        let stdout = request.dir.join(STDOUT_FILE);
        let stderr = request.dir.join(STDERR_FILE);
        std::fs::write(&stdout, &logs.stdout).map_err(io(&stdout))?;
        std::fs::write(&stderr, &logs.stderr).map_err(io(&stderr))?;
        Ok(AttemptOutcome {
            exit_code: Some(attempt.failure.map_or(0, exit_code)),
            signal: None,
            timed_out: false,
            runtime_s: attempt.runtime_s,
            stdout,
            stderr,
            peak_memory_bytes: Some(attempt.peak_heap_bytes),
            cost: Some(attempt.cost),
            input_bytes: Some(attempt.input_bytes),
            plan_operators: job.plan_operators.clone(),
            // What an event log would say: the executors' peak heap, and how much the run spilled.
            metrics: Some(RunMetrics {
                peak_jvm_heap_bytes: Some(attempt.peak_heap_bytes),
                disk_spilled_bytes: attempt.spilled_bytes,
                ..RunMetrics::default()
            }),
            logs: Vec::new(),
            note: None,
        })
    }
}

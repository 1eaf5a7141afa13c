//! [`SimulatedRunner`]: the scheduler's [`JobRunner`] for simulated jobs. It asks the [`World`] what happens,
//! writes the attempt's logs where a real runner would, and reports what a real runner can measure (exit code,
//! runtime, cost, peak heap of executors and driver, the executors' resident set, spill, input size, plan
//! operators): never the hidden needs.

use medic_core::history::RunMetrics;
use medic_scheduler::{
    AttemptOutcome, AttemptRequest, JobRunner, RunnerError, STDERR_FILE, STDOUT_FILE,
};

use crate::logs::attempt_logs;
use crate::world::{Attempt, FailureKind, World, rng_for};

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

fn bytes(mib: f64) -> u64 {
    (mib * (1u64 << 20) as f64) as u64
}

/// What an event log would say: peak heap per kind of JVM, the executors' resident set, how much the run spilled.
/// A failed attempt's peaks stop at what was granted: a JVM cannot use more heap than it has, and a killed
/// container's last sample is at most its limit.
fn event_log_metrics(attempt: &Attempt) -> RunMetrics {
    let executor = attempt.peak_heap_bytes;
    let driver = bytes(attempt.driver_mib.1);
    let (container_granted, container_used) = attempt.container_mib;
    RunMetrics {
        peak_jvm_heap_bytes: Some(executor.max(driver)),
        peak_executor_heap_bytes: Some(executor),
        peak_driver_heap_bytes: Some(driver),
        peak_jvm_rss_bytes: Some(bytes(container_used.min(container_granted))),
        disk_spilled_bytes: attempt.spilled_bytes,
        ..RunMetrics::default()
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
            .attempt(job, self.day, request.attempt, request.config);
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
            runtime_seconds: attempt.runtime_seconds,
            stdout,
            stderr,
            peak_memory_bytes: Some(attempt.peak_heap_bytes),
            cost_dollars: Some(attempt.cost_dollars),
            input_bytes: Some(attempt.input_bytes),
            plan_operators: job.plan_operators.clone(),
            metrics: Some(event_log_metrics(&attempt)),
            logs: Vec::new(),
            note: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::FleetSpec;

    #[test]
    fn metrics_report_each_jvm_peak_capped_at_its_grant() {
        let world = World::new(&FleetSpec::default_fleet());
        let (mut succeeded, mut failed) = (0, 0);
        for job in world.jobs_on(1) {
            let attempt = world.attempt(job, 1, 1, &job.conf);
            let metrics = event_log_metrics(&attempt);
            let executor = attempt.peak_heap_bytes;
            let driver = bytes(attempt.driver_mib.1);
            assert_eq!(metrics.peak_executor_heap_bytes, Some(executor));
            assert_eq!(metrics.peak_driver_heap_bytes, Some(driver));
            assert_eq!(metrics.peak_jvm_heap_bytes, Some(executor.max(driver)));
            assert_eq!(metrics.disk_spilled_bytes, attempt.spilled_bytes);
            let rss = metrics.peak_jvm_rss_bytes.expect("an RSS");
            match attempt.failure {
                None => {
                    assert_eq!(rss, bytes(attempt.container_mib.1));
                    succeeded += 1;
                }
                Some(_) => {
                    let (granted, used) = attempt.container_mib;
                    assert_eq!(rss, bytes(used.min(granted)));
                    assert!(executor <= bytes(attempt.heap_mib.0));
                    assert!(driver <= bytes(attempt.driver_mib.0));
                    failed += 1;
                }
            }
        }
        assert!(succeeded > 0 && failed > 0, "{succeeded} {failed}");
    }
}

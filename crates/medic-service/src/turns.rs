//! One remediation at a time per job in this process: the job's turn. Across processes the store's check does the
//! same ([`medic_store::PatchWrite::decided_on`]); the turn spares this process's concurrent flows of one job from
//! each deciding, losing the race and deciding again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// A lock per job id, made on first use and forgotten once nobody holds or waits for it.
#[derive(Debug, Default)]
pub(crate) struct JobTurns {
    locks: Mutex<Locks>,
}

#[derive(Debug, Default)]
struct Locks {
    by_job: HashMap<String, Weak<AsyncMutex<()>>>,
    /// The map is swept of forgotten jobs when it grows to this size, then set to twice what is left (at least
    /// 1 024), so that sweeping costs a constant per lock taken.
    sweep_at: usize,
}

impl JobTurns {
    /// Waits for `job`'s turn; it ends when the guard is dropped.
    pub(crate) async fn take(&self, job: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            match locks.by_job.get(job).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    if locks.by_job.len() >= locks.sweep_at {
                        locks.by_job.retain(|_, lock| lock.strong_count() > 0);
                        locks.sweep_at = (2 * locks.by_job.len()).max(1024);
                    }
                    let lock = Arc::new(AsyncMutex::new(()));
                    locks.by_job.insert(job.to_owned(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_job
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_job_waits_for_its_own_turn_only() {
        let turns = Arc::new(JobTurns::default());
        let first = turns.take("rollup").await;
        // Another job is not held up.
        let other = tokio::time::timeout(Duration::from_secs(5), turns.take("ingest")).await;
        assert!(other.is_ok());
        // The same job waits until the first turn ends.
        let waiting = tokio::spawn({
            let turns = turns.clone();
            async move { turns.take("rollup").await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the second turn comes")
            .expect("the task");
    }

    #[tokio::test]
    async fn forgotten_jobs_are_swept() {
        let turns = JobTurns::default();
        for job in 0..5_000 {
            drop(turns.take(&format!("job-{job}")).await);
        }
        assert!(turns.remembered() <= 1024, "{}", turns.remembered());
    }
}

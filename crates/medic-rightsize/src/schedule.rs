//! Right-sizing as a round (plan every job, then store the result) and as a task that runs rounds on a period
//! inside a server (`medic serve --rightsize-every`).

use std::time::Duration;

use medic_core::history::Prices;
use medic_store::Store;

use crate::{Action, Report, Result, RightsizePolicy, apply, plan};

/// Plans every job of `store` and, when `store_result` is set, stores the right-sizes and revokes what must go
/// (otherwise a dry run). What `medic rightsize [--apply]` and every scheduled round do.
pub async fn round(
    store: &Store,
    policy: &RightsizePolicy,
    prices: &Prices,
    store_result: bool,
) -> Result<Report> {
    let mut report = plan(store, policy, prices).await?;
    if store_result {
        apply(store, &mut report, policy).await?;
    }
    Ok(report)
}

/// Spawns a task on the current tokio runtime that right-sizes `store` every `period`, from one period after the
/// start: each round is logged, a failed one too, and the next comes anyway. It runs until the runtime stops.
pub fn schedule(store: Store, policy: RightsizePolicy, period: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            ticks.tick().await;
            match round(&store, &policy, &Prices::default(), true).await {
                Ok(report) => {
                    let count = |action| report.jobs.iter().filter(|j| j.action == action).count();
                    tracing::info!(
                        resized = count(Action::Resize),
                        revoked = count(Action::Revoke),
                        saving_per_month = report.total_saving_per_month,
                        "right-sizing round done"
                    );
                }
                Err(error) => tracing::error!(%error, "right-sizing round failed"),
            }
        }
    });
}

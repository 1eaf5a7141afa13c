//! Right-sizing: stop over-provisioning memory, from the history of each job's successful runs.
//!
//! Most scheduled Spark jobs ask for several times the memory they use. For each job, [`plan_job`] looks at the
//! attempts of a window (default 14 days), takes the peak heap (executors and driver apart; in local mode the one
//! JVM's) and off-heap use each successful run measured, and proposes sizes with an [`Estimator`] (Autopilot's
//! moving-window maximum by default; VPA's decaying percentile and Dr. Elephant's rule are there to be measured
//! against it). Guard-rails then decide: never below the window's largest peak plus a margin, at most a bounded
//! step down at a time and only after the previous step has run, above what the job asks for itself only for a job
//! whose peaks near its grant, by bounded steps (`max_step_up`), before it fails; jobs
//! outside the policy's scopes, with too little history, or with a memory failure in the window are left alone,
//! and a memory failure after a right-size revokes it.
//!
//! [`plan`] does that for every job of a store and [`apply`] stores the result as `persistent` patches scoped to
//! the job, with the evidence in their provenance, so that `medic patch list` and the audit trail show every
//! right-size and why; [`round`] does both (or a dry run), and [`schedule`] runs rounds on a period inside a server.
//! Planning has no I/O and no clock of its own: the store's clock says what "now" is.

mod apply;
mod error;
mod estimate;
mod plan;
mod policy;
mod schedule;

pub use apply::{RIGHTSIZE, Report, apply, plan};
pub use error::{Error, Result};
pub use estimate::{Sample, decayed_percentile, estimate};
pub use plan::{Action, DRIVER_MEMORY, EXECUTOR_MEMORY, EXECUTOR_OVERHEAD, JobPlan, Why, plan_job};
pub use policy::{Estimator, RightsizePolicy};
pub use schedule::{round, schedule};

//! A fleet simulator: how much would medic help on *this* fleet, against the retry policies teams use today?
//!
//! * [`FleetSpec`] describes a fleet in YAML (`fleets/default.yaml` documents every field): how many jobs, how
//!   their hidden memory needs are spread and grow, how their owners size memory (about 4× too much, with a tail
//!   of too little), which other failures strike and how often, runtimes, prices, days, seed.
//! * [`World`] is the hidden truth drawn from the spec. Every draw is keyed by what it is for (job, day,
//!   attempt), so every policy meets the same inputs and the same bad luck.
//! * [`SimulatedRunner`] is the scheduler's `JobRunner` for it: an attempt's outcome comes from the world, its
//!   logs are the real error texts a cluster prints (inside ordinary INFO noise), and it reports only what a real
//!   runner measures. Policies therefore classify real-looking logs with the real rule pack.
//! * [`Policy`] is a scheduler `Remediator` told when days start and end. [`Baseline`] implements the compared
//!   policies (`blind_retry`, `rules_only`, `vpa_bump`, `double_memory`) and the engineers who made the history;
//!   medic itself is implemented above this crate (the binary runs its real remediation flow and store).
//! * [`Simulation`] runs a day through the real `medic-scheduler` engine; [`PolicyStats`] scores a policy's days
//!   against the truth; [`SizingStats`] measures what right-sizing changes (memory granted over used on first
//!   attempts, memory failures, cost), and [`compare`] sets a period without it against one with it.
//!
//! Nothing here reads the wall clock or a global random generator.

mod error;
mod fleet;
mod logs;
mod policy;
mod runner;
mod simulate;
mod world;

pub use error::{Error, Result};
pub use fleet::{
    DEFAULT_FLEET, FailureSpec, FleetSpec, LogNormal, MemorySpec, Normal, PriceSpec,
    ProvisioningSpec, Range, RuntimeSpec,
};
pub use logs::{Logs, attempt_logs};
pub use policy::{Baseline, BaselineKind, MAX_CONTAINER_MIB, Policy, bump};
pub use runner::SimulatedRunner;
pub use simulate::{
    CauseStats, PolicyStats, RecurrenceStats, RightsizingSummary, Simulation, SizingStats, compare,
};
pub use world::{Attempt, FailureKind, SimJob, World, format_mib, granted_mib};

//! How much would medic help on a fleet, against the retry policies teams use today? This crate runs the
//! comparison behind `medic simulate` and `medic demo`:
//!
//! 1. History: the fleet's first days run the way platforms work without medic (engineers retry by hand); their
//!    retries and attempts go into medic's database as the history it learns from, and a first model is trained.
//! 2. The compared days run once per policy. `medic` is the real thing: the scheduler asks the remediation flow
//!    (`medic_service::LocalMedic` behind `medic_client::MedicRemediator`, exactly as `medic run --db` does), every
//!    retry lands in the history, and the model is retrained and re-judged by the promotion gate every night
//!    (`medic_training::run_round`, as `medic train`). `medic_rightsizing` adds a right-sizing round every morning
//!    (`medic_rightsize::round`, as `medic rightsize --apply`). `medic_prevention` is the full medic: it also
//!    carries fixes forward (`medic_service`'s `carry_forward`) and lets right-sizing size up; plain `medic` and
//!    `medic_rightsizing` run without carrying, to measure what it adds.
//! 3. Each policy's days are scored against the fleet's hidden truth (`medic_sim::PolicyStats`), and right-sizing
//!    and prevention are measured against plain medic.
//!
//! [`compare`] returns a [`Comparison`] (the JSON of `medic simulate --json`); [`report::write`] turns it into the
//! demo's Markdown page with plots. `medic-sim` knows nothing of medic's store, model or recommender; this crate is
//! where the two meet, so that the simulator stays a fair test bench.

mod compare;
mod error;
pub mod report;

pub use compare::{
    CompareOptions, Comparison, FleetSummary, ModelSummary, PolicyName, PreventionOutcome,
    Progress, RightsizingOutcome, compare, scratch_folder,
};
pub use error::{Error, Result};

//! What a right-size patch was based on: the evidence `medic rightsize` keeps in the patch's provenance, so that
//! `medic patch list` and the audit trail show why every right-size was made.

use serde::{Deserialize, Serialize};

/// The evidence of one right-size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RightsizeEvidence {
    /// The estimator that proposed the sizes (`autopilot`, `vpa`, `elephant`).
    pub estimator: String,
    /// Days of history looked at.
    pub window_days: u32,
    /// Successful runs in that window.
    pub runs: u32,
    /// The sizes, one per setting changed or carried.
    pub settings: Vec<SizedSetting>,
    /// What the change saves in a month at the window's rate of runs, in dollars.
    pub saving_per_month: f64,
}

/// One memory setting, as right-sizing saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SizedSetting {
    /// The Spark setting (`spark.executor.memory`, `spark.executor.memoryOverhead`, `spark.driver.memory`).
    pub key: String,
    /// What the job asked for before any right-size (the owner's size, never exceeded), in bytes.
    pub original_bytes: u64,
    /// What its latest run had, in bytes.
    pub requested_bytes: u64,
    /// The largest peak use in the window, in bytes.
    pub used_bytes: u64,
    /// What the estimator proposed from the window's peaks, before the guard-rails, in bytes.
    pub estimate_bytes: u64,
    /// What right-sizing sets, in bytes.
    pub recommended_bytes: u64,
}

//! medic as its callers see it: the [`Medic`] trait, one method per operation (classify a failure, remediate a
//! failed attempt, recommend a retry's configuration, resolve a job's configuration, report a run, add to the
//! history, read the attempts, manage patches), and the request and answer types those operations exchange.
//!
//! This is the seam between medic and whatever drives it, in the manner of ripgrep's `grep-matcher`: the trait
//! crate knows no implementation. `medic-remediate` implements it in process (over the store and the remediation
//! flow), `medic-client` over HTTP against a running `medic serve`, and `medic-server` deserialises the same types
//! from its requests and serialises the same answers, so that a caller gets the same typed answer whichever medic it
//! talks to, with no JSON of its own in between.
//!
//! The JSON field names of these types are the HTTP API's (documented in the OpenAPI document the server
//! generates from them). No I/O happens here.

mod error;
mod types;

pub use error::{MedicError, Result};
pub use types::{
    AttemptsQuery, ClassifyRequest, CreatePatch, Guard, HistoryImport, HistoryStored, LogText,
    Mode, PatchesQuery, RecommendRequest, RemediateRequest, Remediation, ResolveRequest,
    RunRecorded, RunReport,
};

use medic_core::Classification;
use medic_core::history::AttemptEntry;
use medic_core::patch::{Patch, Resolution};
use medic_core::recommendation::Recommendation;

/// One medic: in this process or behind a server. Every method is a blocking call; an implementation over async
/// parts (the store, HTTP) runs them to completion.
///
/// An error says whether medic refused the request ([`MedicError::Invalid`], [`MedicError::NotFound`], ...) or
/// could not answer ([`MedicError::Unavailable`], [`MedicError::Internal`]): a scheduler falls back to its own
/// retry policy on the latter.
pub trait Medic {
    /// The classification of a run's logs with medic's rule packs.
    fn classify(&self, request: ClassifyRequest) -> Result<Classification>;

    /// The remediation flow for one failed attempt: classify it, check the guard-rails, recommend a
    /// configuration when one can fix it, store it as a patch for the next attempt, and decide whether to retry.
    fn remediate(&self, request: RemediateRequest) -> Result<Remediation>;

    /// The configuration of a failed run's retry, or "do not retry", without storing anything.
    fn recommend(&self, request: RecommendRequest) -> Result<Recommendation>;

    /// The configuration a job should run with: its own with every applicable patch applied.
    fn resolve(&self, request: ResolveRequest) -> Result<Resolution>;

    /// How a run that used resolved patches ended (consuming one-shot and until-success patches), with the
    /// attempt for the attempts history.
    fn report_run(&self, report: RunReport) -> Result<RunRecorded>;

    /// Adds retry records to the history the model learns from, all or none.
    fn add_history(&self, import: HistoryImport) -> Result<HistoryStored>;

    /// The attempts history, oldest first.
    fn attempts(&self, query: AttemptsQuery) -> Result<Vec<AttemptEntry>>;

    /// Stores a scoped patch.
    fn create_patch(&self, request: CreatePatch) -> Result<Patch>;

    /// Patches, oldest first.
    fn patches(&self, query: PatchesQuery) -> Result<Vec<Patch>>;

    /// The patch with this id.
    fn patch(&self, id: &str) -> Result<Patch>;

    /// Revokes a patch if it is still at `version`.
    fn revoke_patch(&self, id: &str, version: u64) -> Result<Patch>;
}

/// Forwards every call, so that `&M` and `Box<dyn Medic>` are medics too.
macro_rules! forward {
    ($($target:ty),*) => {$(
        impl<M: Medic + ?Sized> Medic for $target {
            fn classify(&self, request: ClassifyRequest) -> Result<Classification> {
                (**self).classify(request)
            }
            fn remediate(&self, request: RemediateRequest) -> Result<Remediation> {
                (**self).remediate(request)
            }
            fn recommend(&self, request: RecommendRequest) -> Result<Recommendation> {
                (**self).recommend(request)
            }
            fn resolve(&self, request: ResolveRequest) -> Result<Resolution> {
                (**self).resolve(request)
            }
            fn report_run(&self, report: RunReport) -> Result<RunRecorded> {
                (**self).report_run(report)
            }
            fn add_history(&self, import: HistoryImport) -> Result<HistoryStored> {
                (**self).add_history(import)
            }
            fn attempts(&self, query: AttemptsQuery) -> Result<Vec<AttemptEntry>> {
                (**self).attempts(query)
            }
            fn create_patch(&self, request: CreatePatch) -> Result<Patch> {
                (**self).create_patch(request)
            }
            fn patches(&self, query: PatchesQuery) -> Result<Vec<Patch>> {
                (**self).patches(query)
            }
            fn patch(&self, id: &str) -> Result<Patch> {
                (**self).patch(id)
            }
            fn revoke_patch(&self, id: &str, version: u64) -> Result<Patch> {
                (**self).revoke_patch(id, version)
            }
        }
    )*};
}

forward!(&M, Box<M>, std::sync::Arc<M>);

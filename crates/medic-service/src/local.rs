//! [`LocalMedic`]: medic in this process, over a database, behind the same [`Medic`] trait as a server.

use std::future::Future;
use std::sync::Arc;

use medic_api::{
    AttemptsQuery, ClassifyRequest, CreatePatch, HistoryImport, HistoryStored, Medic, MedicError,
    PatchesQuery, RecommendRequest, RemediateRequest, Remediation, ResolveRequest, RunRecorded,
    RunReport,
};
use medic_core::Classification;
use medic_core::clock::Clock;
use medic_core::history::AttemptEntry;
use medic_core::patch::{Patch, Resolution};
use medic_core::recommendation::Recommendation;
use medic_store::Store;

use crate::Service;
use crate::error::Error;

/// The actor audited for changes made in process, unless told otherwise.
pub const LOCAL_ACTOR: &str = "local";

/// A [`Service`] and the runtime that runs its operations to completion: [`Medic`] without a server. What it
/// writes is audited under its actor's name, as a server audits a token's.
pub struct LocalMedic {
    service: Service,
    runtime: tokio::runtime::Runtime,
    actor: String,
}

impl std::fmt::Debug for LocalMedic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMedic")
            .field("store", &self.service.store)
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl LocalMedic {
    /// medic over the database at `url` (`sqlite://PATH` or `postgres://...`), stamping changes with `clock`
    /// (the system's, or a simulation's), with [`Service::new`]'s defaults and actor `local`.
    pub fn open(url: &str, clock: Arc<dyn Clock>) -> Result<LocalMedic, Error> {
        // Two workers: this machine's size, and enough for the store's pool while a search runs.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|error| Error::Internal(format!("cannot start a runtime: {error}")))?;
        let store = runtime.block_on(Store::open(url, clock)).map_err(|error| {
            Error::Internal(format!(
                "cannot open the store {}: {error}",
                medic_store::redact_url(url)
            ))
        })?;
        Ok(LocalMedic {
            service: Service::new(store),
            runtime,
            actor: LOCAL_ACTOR.to_owned(),
        })
    }

    /// This medic, auditing its changes as `actor`.
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = actor.into();
        self
    }

    /// The service (to read its store or configure it).
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// The service, to change its rules, recommender, policy or mode.
    pub fn service_mut(&mut self) -> &mut Service {
        &mut self.service
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.service.store
    }

    /// Runs `future` (work on the store, say) to completion on this medic's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn run<T>(&self, future: impl Future<Output = crate::Result<T>>) -> medic_api::Result<T> {
        self.runtime.block_on(future).map_err(MedicError::from)
    }
}

impl Medic for LocalMedic {
    fn classify(&self, request: ClassifyRequest) -> medic_api::Result<Classification> {
        self.service.classify(&request).map_err(MedicError::from)
    }

    fn remediate(&self, request: RemediateRequest) -> medic_api::Result<Remediation> {
        self.run(self.service.remediate(request, &self.actor))
    }

    fn recommend(&self, request: RecommendRequest) -> medic_api::Result<Recommendation> {
        self.run(self.service.recommend(request))
    }

    fn resolve(&self, request: ResolveRequest) -> medic_api::Result<Resolution> {
        self.run(self.service.resolve(&request))
    }

    fn report_run(&self, report: RunReport) -> medic_api::Result<RunRecorded> {
        self.run(self.service.report_run(report, &self.actor))
    }

    fn add_history(&self, import: HistoryImport) -> medic_api::Result<HistoryStored> {
        self.run(self.service.add_history(import, &self.actor))
    }

    fn attempts(&self, query: AttemptsQuery) -> medic_api::Result<Vec<AttemptEntry>> {
        self.run(self.service.attempts(&query))
    }

    fn create_patch(&self, request: CreatePatch) -> medic_api::Result<Patch> {
        self.run(self.service.create_patch(request, &self.actor))
    }

    fn patches(&self, query: PatchesQuery) -> medic_api::Result<Vec<Patch>> {
        self.run(self.service.patches(&query))
    }

    fn patch(&self, id: &str) -> medic_api::Result<Patch> {
        self.run(self.service.patch(id))
    }

    fn revoke_patch(&self, id: &str, version: u64) -> medic_api::Result<Patch> {
        self.run(self.service.revoke_patch(id, version, &self.actor))
    }
}

//! The ConfigService's operations over the store, and classification and the mode: everything a front end does
//! besides remediating and recommending, with the checks that must hold whichever front end calls (HTTP or in
//! process), so that nothing invalid reaches the store.

use std::sync::atomic::Ordering;

use medic_api::{
    AttemptsQuery, ClassifyRequest, CreatePatch, HistoryImport, HistoryStored, Mode, PatchesQuery,
    ResolveRequest, RunRecorded, RunReport,
};
use medic_core::Classification;
use medic_core::history::AttemptEntry;
use medic_core::patch::{Patch, PatchBody, Resolution};
use medic_store::{AttemptFilter, AuditEntry, NewPatch, PatchFilter};

use crate::Service;
use crate::error::{Error, Result};
use crate::failure::classify_logs;

impl Service {
    /// The classification of a run's logs with the service's rule packs.
    pub fn classify(&self, request: &ClassifyRequest) -> Result<Classification> {
        if request.logs.is_empty() {
            return Err(Error::invalid_request(
                "give exactly one of `classification`, `category` (with `rule`) or `logs`",
            ));
        }
        Ok(classify_logs(self.rules.get(), &request.job, &request.logs))
    }

    /// The configuration the job should run with.
    pub async fn resolve(&self, request: &ResolveRequest) -> Result<Resolution> {
        Ok(self.store.resolve(&request.job, &request.config).await?)
    }

    /// Records how a run ended, as `actor`: the attempt (checked before anything is stored) goes to the attempts
    /// history, then one-shot and until-success patches are consumed, and a memory fix among them that worked is
    /// carried forward (`carry.rs`). Repeating a report consumes and carries nothing more, but adds its attempt
    /// again.
    pub async fn report_run(&self, report: RunReport, actor: &str) -> Result<RunRecorded> {
        if let Some(attempt) = &report.attempt {
            let mut problems = attempt.validate();
            if attempt.job != report.job {
                problems.push("the attempt's job is not the report's".to_owned());
            }
            if attempt.outcome != report.outcome {
                problems.push("the attempt's outcome is not the report's".to_owned());
            }
            if !problems.is_empty() {
                return Err(Error::Invalid {
                    code: "invalid_attempt",
                    what: "attempt",
                    problems,
                });
            }
            self.store.add_attempt(attempt).await?;
        }
        let consumed = self
            .store
            .record_run(&report.job, &report.applied, report.outcome, actor)
            .await?;
        // The run is recorded by now: a carried fix that cannot be written is said in the answer, never turned
        // into an error that would have the scheduler report the run again (a repeated report carries nothing).
        let carried = match self.carry_forward(&report, &consumed, actor).await {
            Ok(carried) => carried,
            Err(error) => {
                tracing::warn!(job = %report.job.id, "the fix that worked was not carried forward: {error}");
                crate::carry::Carried {
                    patch: None,
                    note: Some(format!("not carried: {error}")),
                }
            }
        };
        Ok(RunRecorded {
            consumed,
            attempt_recorded: report.attempt.is_some(),
            carried_fix: carried.patch,
            note: carried.note,
        })
    }

    /// Adds retry records to the history, all or none, audited as `actor`.
    pub async fn add_history(&self, import: HistoryImport, actor: &str) -> Result<HistoryStored> {
        // Checked here too (the store checks again), so that nothing invalid reaches the store whatever it checks.
        let problems: Vec<String> = import
            .records
            .iter()
            .enumerate()
            .flat_map(|(index, record)| {
                record
                    .validate()
                    .into_iter()
                    .map(move |problem| format!("record {}: {problem}", index + 1))
            })
            .collect();
        if !problems.is_empty() {
            return Err(Error::Invalid {
                code: "invalid_history",
                what: "history",
                problems,
            });
        }
        let stored = self.store.import_records(&import.records, actor).await?;
        Ok(HistoryStored { stored })
    }

    /// The attempts history matching `query`, oldest first.
    pub async fn attempts(&self, query: &AttemptsQuery) -> Result<Vec<AttemptEntry>> {
        let filter = AttemptFilter {
            job: query.job.clone(),
            outcome: query.outcome,
            limit: query.limit,
            ..AttemptFilter::default()
        };
        Ok(self.store.attempts(&filter).await?)
    }

    /// Stores a patch created by `actor`, who is also its `created_by`: a request may not name who created it.
    pub async fn create_patch(&self, request: CreatePatch, actor: &str) -> Result<Patch> {
        let mut provenance = request.provenance.unwrap_or_default();
        if provenance.created_by.is_some() {
            return Err(Error::Invalid {
                code: "invalid_request",
                what: "provenance",
                problems: vec!["`created_by` is set by medic from the caller".to_owned()],
            });
        }
        provenance.created_by = Some(actor.to_owned());
        if request.reason.is_some() {
            provenance.reason = request.reason;
        }
        let new = NewPatch {
            scope: request.scope,
            patch: request.patch,
            lifetime: request.lifetime,
            provenance,
            expires_at: request.expires_at,
        };
        Ok(self.store.create_patch(new, actor).await?)
    }

    /// Patches matching `query`, oldest first, their secrets' values redacted ([`Patch::redacted`]; resolution
    /// applies them as stored).
    pub async fn patches(&self, query: &PatchesQuery) -> Result<Vec<Patch>> {
        let filter = PatchFilter {
            job: query.job.clone(),
            status: query.status,
        };
        Ok(self
            .store
            .list_patches(&filter)
            .await?
            .into_iter()
            .map(Patch::redacted)
            .collect())
    }

    /// The patch with this id, its secrets' values redacted.
    pub async fn patch(&self, id: &str) -> Result<Patch> {
        self.store
            .patch(id)
            .await?
            .map(Patch::redacted)
            .ok_or_else(|| Error::NotFound(format!("no patch `{id}`")))
    }

    /// The newest `limit` changes, newest first, with the secrets' values in the patches they record redacted.
    pub async fn audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let mut entries = self.store.audit(limit).await?;
        for entry in &mut entries {
            let recorded = entry
                .detail
                .get("patch")
                .and_then(|body| serde_json::from_value::<PatchBody>(body.clone()).ok());
            if let Some(body) = recorded {
                entry.detail["patch"] = serde_json::to_value(body.redacted())
                    .map_err(|error| Error::Internal(error.to_string()))?;
            }
        }
        Ok(entries)
    }

    /// Revokes a patch as `actor` if it is still at `version`.
    pub async fn revoke_patch(&self, id: &str, version: u64, actor: &str) -> Result<Patch> {
        Ok(self.store.revoke(id, version, actor).await?)
    }

    /// Whether remediation runs in shadow mode.
    pub fn mode(&self) -> Mode {
        Mode {
            shadow: self.shadow.load(Ordering::SeqCst),
        }
    }

    /// Switches shadow mode as `actor`. The switch is audited (`set_mode`, with the mode before and after) before
    /// it takes effect, so that no switch goes unrecorded.
    pub async fn set_mode(&self, mode: Mode, actor: &str) -> Result<Mode> {
        let before = self.mode();
        let detail = serde_json::json!({"shadow": mode.shadow, "was_shadow": before.shadow});
        self.store.audit_event(actor, "set_mode", &detail).await?;
        self.shadow.store(mode.shadow, Ordering::SeqCst);
        Ok(mode)
    }
}

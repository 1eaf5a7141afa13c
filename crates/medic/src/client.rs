//! Where `medic patch` and `medic config` send their work: a running `medic serve` over HTTP, or the database
//! directly. Both give the same answers; the server adds tokens and roles, the database path acts as `local`.

use std::time::Duration;

use anyhow::{Context, bail};
use medic_core::clock::SystemClock;
use medic_core::patch::{Patch, Resolution};
use medic_core::{JobIdentity, SparkConf};
use medic_store::{NewPatch, PatchFilter, Store};
use serde_json::{Value, json};

/// The actor recorded in the audit trail for changes made straight to the database.
const LOCAL_ACTOR: &str = "local";

/// A server (with an optional token) or a store.
pub enum Target {
    Server {
        base: String,
        token: Option<String>,
        agent: ureq::Agent,
    },
    Store {
        store: Store,
        runtime: tokio::runtime::Runtime,
    },
}

impl Target {
    pub fn server(base: &str, token: Option<String>) -> Target {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Target::Server {
            base: base.trim_end_matches('/').to_owned(),
            token,
            agent,
        }
    }

    pub fn store(url: &str) -> anyhow::Result<Target> {
        Target::store_with_clock(url, std::sync::Arc::new(SystemClock))
    }

    /// The database at `url`, stamping changes with `clock` (the simulator's).
    pub fn store_with_clock(
        url: &str,
        clock: std::sync::Arc<dyn medic_core::clock::Clock>,
    ) -> anyhow::Result<Target> {
        let runtime = crate::cmd::runtime()?;
        let store = runtime
            .block_on(Store::open(url, clock))
            .with_context(|| format!("cannot open the store {url}"))?;
        Ok(Target::Store { store, runtime })
    }

    pub fn create_patch(&self, new: NewPatch) -> anyhow::Result<Patch> {
        match self {
            Target::Server { .. } => {
                let mut provenance = serde_json::to_value(&new.provenance)?;
                let reason = provenance
                    .as_object_mut()
                    .and_then(|fields| fields.remove("reason"));
                let mut body = json!({
                    "scope": new.scope,
                    "patch": new.patch,
                    "lifetime": new.lifetime,
                    "provenance": provenance,
                });
                if let Some(reason) = reason {
                    body["reason"] = reason;
                }
                if let Some(expires_at) = new.expires_at {
                    body["expires_at"] =
                        json!(expires_at.format(&time::format_description::well_known::Rfc3339)?);
                }
                self.request("POST", "/v1/patches", &[], Some(body))
            }
            Target::Store { store, runtime } => {
                Ok(runtime.block_on(store.create_patch(new, LOCAL_ACTOR))?)
            }
        }
    }

    pub fn list_patches(&self, filter: &PatchFilter) -> anyhow::Result<Vec<Patch>> {
        match self {
            Target::Server { .. } => {
                let mut query = Vec::new();
                if let Some(job) = &filter.job {
                    query.push(("job", job.clone()));
                }
                if let Some(status) = &filter.status {
                    let name = serde_json::to_value(status)?;
                    query.push(("status", name.as_str().unwrap_or_default().to_owned()));
                }
                self.request("GET", "/v1/patches", &query, None)
            }
            Target::Store { store, runtime } => Ok(runtime.block_on(store.list_patches(filter))?),
        }
    }

    pub fn patch(&self, id: &str) -> anyhow::Result<Patch> {
        match self {
            Target::Server { .. } => self.request(
                "GET",
                &format!("/v1/patches/{}", id_segment(id)?),
                &[],
                None,
            ),
            Target::Store { store, runtime } => runtime
                .block_on(store.patch(id))?
                .with_context(|| format!("no patch `{id}`")),
        }
    }

    pub fn revoke(&self, id: &str, version: u64) -> anyhow::Result<Patch> {
        match self {
            Target::Server { .. } => self.request(
                "DELETE",
                &format!("/v1/patches/{}", id_segment(id)?),
                &[("version", version.to_string())],
                None,
            ),
            Target::Store { store, runtime } => {
                Ok(runtime.block_on(store.revoke(id, version, LOCAL_ACTOR))?)
            }
        }
    }

    pub fn resolve(&self, job: &JobIdentity, config: &SparkConf) -> anyhow::Result<Resolution> {
        match self {
            Target::Server { .. } => self.request(
                "POST",
                "/v1/config/resolve",
                &[],
                Some(json!({"job": job, "config": config})),
            ),
            Target::Store { store, runtime } => Ok(runtime.block_on(store.resolve(job, config))?),
        }
    }

    /// The recommendation for the failed run in `body` (the JSON of `POST /v1/recommend`). Against the database,
    /// the promoted model is loaded here and `spaces` apply.
    pub fn recommend(
        &self,
        body: Value,
        spaces: medic_recommend::SearchSpaces,
    ) -> anyhow::Result<medic_recommend::Recommendation> {
        match self {
            Target::Server { .. } => self.request("POST", "/v1/recommend", &[], Some(body)),
            Target::Store { runtime, .. } => {
                // The same handler as the server's, over the database, so both paths answer alike.
                let Some(mut state) = self.local_state() else {
                    bail!("not a database");
                };
                state.recommender =
                    std::sync::Arc::new(medic_server::RecommendService::new(spaces));
                runtime
                    .block_on(medic_server::routes::recommend::answer(&state, body))
                    .map_err(local_error)
            }
        }
    }

    /// The server's state over this target's database, for running the server's handlers in this process
    /// (`None` for a server).
    pub fn local_state(&self) -> Option<medic_server::AppState> {
        match self {
            Target::Store { store, .. } => Some(medic_server::AppState::new(
                store.clone(),
                medic_server::Tokens::new(),
                store.clock(),
            )),
            Target::Server { .. } => None,
        }
    }

    /// Reports how a run that used `applied` ended, so that one-shot and until-success patches are consumed, and
    /// adds `attempt` to the attempts history (before the patches are consumed, as the server does).
    pub fn report_run(
        &self,
        job: &JobIdentity,
        applied: &[String],
        outcome: medic_core::RunOutcome,
        attempt: Option<&medic_core::history::AttemptEntry>,
    ) -> anyhow::Result<()> {
        match self {
            Target::Server { .. } => {
                let mut body = json!({"job": job, "applied": applied, "outcome": outcome});
                if let Some(attempt) = attempt {
                    body["attempt"] = serde_json::to_value(attempt)?;
                }
                let _: Value = self.request("POST", "/v1/runs", &[], Some(body))?;
                Ok(())
            }
            Target::Store { store, runtime } => {
                if let Some(attempt) = attempt {
                    runtime.block_on(store.add_attempt(attempt))?;
                }
                runtime.block_on(store.record_run(job, applied, outcome, LOCAL_ACTOR))?;
                Ok(())
            }
        }
    }

    /// The attempts history matching `filter`, oldest first.
    pub fn attempts(
        &self,
        filter: &medic_store::AttemptFilter,
    ) -> anyhow::Result<Vec<medic_core::history::AttemptEntry>> {
        match self {
            Target::Server { .. } => {
                let mut query = Vec::new();
                if let Some(job) = &filter.job {
                    query.push(("job", job.clone()));
                }
                if let Some(outcome) = filter.outcome {
                    let name = serde_json::to_value(outcome)?;
                    query.push(("outcome", name.as_str().unwrap_or_default().to_owned()));
                }
                if let Some(limit) = filter.limit {
                    query.push(("limit", limit.to_string()));
                }
                self.request("GET", "/v1/attempts", &query, None)
            }
            Target::Store { store, runtime } => Ok(runtime.block_on(store.attempts(filter))?),
        }
    }

    /// Adds records to the retry history (all or none).
    pub fn add_history(&self, records: &[medic_core::history::RetryRecord]) -> anyhow::Result<()> {
        match self {
            Target::Server { .. } => {
                let _: Value = self.request(
                    "POST",
                    "/v1/history",
                    &[],
                    Some(json!({"records": records})),
                )?;
                Ok(())
            }
            Target::Store { store, runtime } => {
                runtime.block_on(store.add_records(records))?;
                Ok(())
            }
        }
    }

    /// Sends a request to the server and reads the answer as `T`; a refusal becomes an error with the server's
    /// code and message.
    pub fn request<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> anyhow::Result<T> {
        let Target::Server { base, token, agent } = self else {
            bail!("not a server");
        };
        let url = format!("{base}{path}");
        let authorization = token.as_ref().map(|token| format!("Bearer {token}"));
        let authorization = authorization.as_deref();
        let pairs = query.iter().map(|(key, value)| (*key, value.as_str()));
        let response = match method {
            "GET" => with_token(agent.get(&url), authorization)
                .query_pairs(pairs)
                .call(),
            "DELETE" => with_token(agent.delete(&url), authorization)
                .query_pairs(pairs)
                .call(),
            _ => with_token(agent.post(&url), authorization)
                .query_pairs(pairs)
                .send_json(body.unwrap_or(Value::Null)),
        };
        let mut response = response.with_context(|| format!("cannot reach {base}"))?;
        let status = response.status();
        let value: Value = response
            .body_mut()
            .read_json()
            .with_context(|| format!("{method} {path}: the answer ({status}) is not JSON"))?;
        if !status.is_success() {
            let code = value
                .pointer("/error/code")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let message = value
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            bail!("the server refused ({} {code}): {message}", status.as_u16());
        }
        serde_json::from_value(value).with_context(|| format!("{method} {path}: unexpected answer"))
    }
}

/// A handler's error, run in process: the server hides internal details from its clients, but here the user is
/// the operator.
pub fn local_error(error: medic_server::ApiError) -> anyhow::Error {
    match error {
        medic_server::ApiError::Internal(detail) => anyhow::anyhow!(detail),
        other => anyhow::anyhow!(other),
    }
}

fn with_token<B>(
    request: ureq::RequestBuilder<B>,
    authorization: Option<&str>,
) -> ureq::RequestBuilder<B> {
    match authorization {
        Some(value) => request.header("Authorization", value),
        None => request,
    }
}

/// A patch id as a path segment; ids are `p<number>`, so anything else cannot name a patch.
fn id_segment(id: &str) -> anyhow::Result<&str> {
    if !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        bail!("`{id}` is not a patch id")
    }
}

//! [`HttpMedic`]: a running `medic serve`, as a [`Medic`].

use std::time::Duration;

use medic_api::{
    AttemptsQuery, ClassifyRequest, CreatePatch, HistoryImport, HistoryStored, Medic, MedicError,
    PatchesQuery, RecommendRequest, RemediateRequest, Remediation, ResolveRequest, Result,
    RunRecorded, RunReport,
};
use medic_core::Classification;
use medic_core::history::AttemptEntry;
use medic_core::patch::{Patch, Resolution};
use medic_core::recommendation::Recommendation;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How long a call may take unless told otherwise: a remediation's search is due in half a second, a store write
/// in milliseconds; the rest is a slow network's share.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A `medic serve` at a base URL (`http://HOST:PORT`), called with an optional bearer token. Blocking: each call
/// waits for the server's answer, at most the timeout.
#[derive(Clone, Debug)]
pub struct HttpMedic {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl HttpMedic {
    /// The server at `base`, with `token` (a writer's, for calls that change something), and the default timeout.
    pub fn new(base: &str, token: Option<String>) -> Self {
        HttpMedic::with_timeout(base, token, DEFAULT_TIMEOUT)
    }

    /// [`HttpMedic::new`] with its own timeout for a whole call.
    pub fn with_timeout(base: &str, token: Option<String>, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        HttpMedic {
            base: base.trim_end_matches('/').to_owned(),
            token,
            agent,
        }
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn get<T: DeserializeOwned>(&self, path: &str, query: &[(String, String)]) -> Result<T> {
        let request = self.agent.get(&self.url(path)).query_pairs(pairs(query));
        self.answer("GET", path, self.authorized(request).call())
    }

    fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        let request = self.authorized(self.agent.post(&self.url(path)));
        self.answer("POST", path, request.send_json(body))
    }

    fn delete<T: DeserializeOwned>(&self, path: &str, query: &[(String, String)]) -> Result<T> {
        let request = self.agent.delete(&self.url(path)).query_pairs(pairs(query));
        self.answer("DELETE", path, self.authorized(request).call())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authorized<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(token) => request.header("Authorization", format!("Bearer {token}")),
            None => request,
        }
    }

    /// The answer read as `T`; a refusal becomes the error of its kind, with the server's status, code and
    /// message.
    fn answer<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        response: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T> {
        let mut response = response.map_err(|error| {
            MedicError::Unavailable(format!("cannot reach {}: {error}", self.base))
        })?;
        let status = response.status().as_u16();
        let value: serde_json::Value = response.body_mut().read_json().map_err(|error| {
            MedicError::Unavailable(format!(
                "{method} {path}: the answer ({status}) is not JSON: {error}"
            ))
        })?;
        if (200..300).contains(&status) {
            return serde_json::from_value(value).map_err(|error| {
                MedicError::Unavailable(format!("{method} {path}: unexpected answer: {error}"))
            });
        }
        let text = |pointer: &str, default: &str| {
            value
                .pointer(pointer)
                .and_then(serde_json::Value::as_str)
                .unwrap_or(default)
                .to_owned()
        };
        let code = text("/error/code", "?");
        let message = format!(
            "the server refused ({status} {code}): {}",
            text("/error/message", "no message")
        );
        Err(match status {
            401 | 403 => MedicError::Unauthorized(message),
            404 => MedicError::NotFound(message),
            409 => MedicError::Conflict(message),
            400..=499 => MedicError::Invalid { code, message },
            _ => MedicError::Internal(message),
        })
    }
}

fn pairs(query: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    query
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
}

/// A query type's fields as a query string's pairs, with the names and values its JSON has (`outcome=succeeded`);
/// fields left out of the JSON (unset) are left out of the query.
fn query_pairs(query: &impl Serialize) -> Result<Vec<(String, String)>> {
    let unexpected =
        |what: String| MedicError::Internal(format!("a query that is not flat: {what}"));
    let serde_json::Value::Object(fields) =
        serde_json::to_value(query).map_err(|error| unexpected(error.to_string()))?
    else {
        return Err(unexpected("not an object".to_owned()));
    };
    fields
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(text) => text,
                serde_json::Value::Number(number) => number.to_string(),
                other => return Err(unexpected(other.to_string())),
            };
            Ok((key, text))
        })
        .collect()
}

/// A patch id as a path segment; ids are `p<number>`, so anything else cannot name a patch.
fn id_segment(id: &str) -> Result<&str> {
    if !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        Err(MedicError::NotFound(format!("`{id}` is not a patch id")))
    }
}

impl Medic for HttpMedic {
    fn classify(&self, request: ClassifyRequest) -> Result<Classification> {
        self.post("/v1/classify", &request)
    }

    fn remediate(&self, request: RemediateRequest) -> Result<Remediation> {
        self.post("/v1/remediate", &request)
    }

    fn recommend(&self, request: RecommendRequest) -> Result<Recommendation> {
        self.post("/v1/recommend", &request)
    }

    fn resolve(&self, request: ResolveRequest) -> Result<Resolution> {
        self.post("/v1/config/resolve", &request)
    }

    fn report_run(&self, report: RunReport) -> Result<RunRecorded> {
        self.post("/v1/runs", &report)
    }

    fn add_history(&self, import: HistoryImport) -> Result<HistoryStored> {
        self.post("/v1/history", &import)
    }

    fn attempts(&self, query: AttemptsQuery) -> Result<Vec<AttemptEntry>> {
        self.get("/v1/attempts", &query_pairs(&query)?)
    }

    fn create_patch(&self, request: CreatePatch) -> Result<Patch> {
        self.post("/v1/patches", &request)
    }

    fn patches(&self, query: PatchesQuery) -> Result<Vec<Patch>> {
        self.get("/v1/patches", &query_pairs(&query)?)
    }

    fn patch(&self, id: &str) -> Result<Patch> {
        self.get(&format!("/v1/patches/{}", id_segment(id)?), &[])
    }

    fn revoke_patch(&self, id: &str, version: u64) -> Result<Patch> {
        self.delete(
            &format!("/v1/patches/{}", id_segment(id)?),
            &[("version".to_owned(), version.to_string())],
        )
    }
}

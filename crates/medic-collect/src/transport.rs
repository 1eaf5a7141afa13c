//! How the collector reaches a cluster's services: one `GET` at a time, behind [`Transport`], so that a recorded
//! cluster (the tests' fixtures: real answers saved from real services) and a live one differ only in where the
//! answers come from.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

/// Why a `GET` gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Nothing answered (refused, timed out, no such host).
    #[error("{url} did not answer: {reason}")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// It answered with an error status.
    #[error("{url} answered {status}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
}

/// One `GET`: the body at `url`, at most `max_bytes` of it (the rest is not read).
pub trait Transport: Send + Sync {
    /// The first `max_bytes` of the body at `url`.
    fn get(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError>;
}

/// The JSON answer at `url` as `T`, at most `max_bytes` of it, counting the bytes into `read`; an error says what
/// was asked and, for an answer that is not what `service` sends, why.
pub fn get_json<T: serde::de::DeserializeOwned>(
    transport: &dyn Transport,
    url: &str,
    max_bytes: u64,
    service: &str,
    read: &mut u64,
) -> Result<T, String> {
    let body = transport
        .get(url, max_bytes)
        .map_err(|error| error.to_string())?;
    *read += body.len() as u64;
    serde_json::from_slice(&body)
        .map_err(|error| format!("{url}: the answer is not what {service} sends: {error}"))
}

/// A credential sent with every request, as `Authorization: Bearer …`: read from an environment variable or a
/// file when the transport is made, and never shown (its `Debug` says where it came from, not what it is).
#[derive(Clone)]
pub struct Credential {
    token: String,
    from: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credential(from {}, redacted)", self.from)
    }
}

impl Credential {
    /// The token in environment variable `name`.
    pub fn from_env(name: &str) -> Result<Credential, String> {
        let token = std::env::var(name)
            .map_err(|_| format!("the environment variable {name} (a credential) is not set"))?;
        Credential::new(token, format!("${name}"))
    }

    /// The token in the file at `path` (its first line).
    pub fn from_file(path: &std::path::Path) -> Result<Credential, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the credential file {}: {e}", path.display()))?;
        Credential::new(
            text.lines().next().unwrap_or("").to_owned(),
            path.display().to_string(),
        )
    }

    fn new(token: String, from: String) -> Result<Credential, String> {
        let token = token.trim().to_owned();
        if token.is_empty() || token.chars().any(char::is_control) {
            return Err(format!(
                "the credential from {from} is empty or not one line"
            ));
        }
        Ok(Credential { token, from })
    }
}

/// The live transport: HTTP with a whole-request timeout and an optional bearer credential.
#[derive(Debug)]
pub struct Http {
    agent: ureq::Agent,
    credential: Option<Credential>,
}

impl Http {
    /// A transport whose every request gives up after `timeout`.
    pub fn new(timeout: Duration, credential: Option<Credential>) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Http { agent, credential }
    }
}

impl Transport for Http {
    fn get(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
        let mut request = self.agent.get(url);
        if let Some(credential) = &self.credential {
            request = request.header("Authorization", format!("Bearer {}", credential.token));
        }
        let mut response = request.call().map_err(|error| FetchError::Unreachable {
            url: url.to_owned(),
            reason: error.to_string(),
        })?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status,
            });
        }
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(max_bytes)
            .read_to_end(&mut body)
            .map_err(|error| FetchError::Unreachable {
                url: url.to_owned(),
                reason: format!("the answer was cut off: {error}"),
            })?;
        Ok(body)
    }
}

/// A recorded cluster: each URL's answer is a file (real answers saved from real services); a URL without one is
/// unreachable, as a service that is down.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    answers: BTreeMap<String, PathBuf>,
}

impl Recorded {
    /// A recording with no answer yet.
    pub fn new() -> Self {
        Recorded::default()
    }

    /// The recording with `url` answered by the file at `path`.
    pub fn with(mut self, url: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.answers.insert(url.into(), path.into());
        self
    }
}

impl Transport for Recorded {
    fn get(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
        let unreachable = |reason: String| FetchError::Unreachable {
            url: url.to_owned(),
            reason,
        };
        let path = self
            .answers
            .get(url)
            .ok_or_else(|| unreachable("no recorded answer".to_owned()))?;
        let mut body = Vec::new();
        std::fs::File::open(path)
            .and_then(|file| file.take(max_bytes).read_to_end(&mut body))
            .map_err(|error| unreachable(format!("{}: {error}", path.display())))?;
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_is_never_shown() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cr3t-token\n").expect("write");
        let credential = Credential::from_file(&path).expect("credential");
        let shown = format!(
            "{credential:?} {:?}",
            Http::new(Duration::from_secs(1), Some(credential.clone()))
        );
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
        std::fs::write(&path, "\n").expect("write");
        assert!(Credential::from_file(&path).is_err());
    }

    #[test]
    fn a_recorded_cluster_answers_what_was_recorded_and_nothing_else() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("answer.json");
        std::fs::write(&path, "0123456789").expect("write");
        let recorded = Recorded::new().with("http://h/a", &path);
        assert_eq!(recorded.get("http://h/a", 4).expect("answer"), b"0123");
        assert!(matches!(
            recorded.get("http://h/b", 4),
            Err(FetchError::Unreachable { .. })
        ));
    }
}

//! Bearer tokens and their roles.
//!
//! Tokens come from a YAML file (`tokens: [{name, role, token}]`) and from `MEDIC_ADMIN_TOKEN`. Only their SHA-256
//! digests are kept, so a token never sits in memory dumps or `Debug` output, and lookups by digest do not leak a
//! token's prefix through timing. Requests are identified by the token's *name*, which is what the audit trail
//! records and what logs may show.

use std::collections::HashMap;
use std::path::Path;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// What a token may do. Each role includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read patches, configurations, attempts and the audit trail (health, metrics, the mode and the API's
    /// description are readable without a token).
    Reader,
    /// Also create and revoke patches and report runs.
    Writer,
    /// Everything.
    Admin,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }
}

/// Who made a request: a known token's name and role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The token's name; recorded as the actor of changes.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// The known tokens, by digest.
#[derive(Default)]
pub struct Tokens {
    by_digest: HashMap<[u8; 32], Principal>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.by_digest.values().map(|p| p.name.as_str()).collect();
        f.debug_struct("Tokens").field("names", &names).finish()
    }
}

/// A token file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid token list; every problem is listed.
    #[error("{path}: {}", problems.join("; "))]
    Invalid {
        /// The file.
        path: String,
        /// Every problem found.
        problems: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    tokens: Vec<TokenEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: String,
    role: Role,
    token: String,
}

/// Tokens shorter than this are refused: they could be guessed.
const MIN_TOKEN_LEN: usize = 16;

impl Tokens {
    /// No tokens: every change is refused.
    pub fn new() -> Self {
        Tokens::default()
    }

    /// Adds a token. Refuses short tokens, names with control characters and names used twice.
    pub fn add(&mut self, name: &str, role: Role, token: &str) -> Result<(), String> {
        if token.len() < MIN_TOKEN_LEN {
            return Err(format!(
                "token `{name}` is shorter than {MIN_TOKEN_LEN} characters"
            ));
        }
        if name.trim().is_empty() {
            return Err("a token has an empty name".to_owned());
        }
        // The name is the actor of every change the token makes, kept in the audit trail.
        if name.chars().any(char::is_control) {
            return Err(format!(
                "the token name `{}` contains a control character",
                name.escape_debug()
            ));
        }
        if self.by_digest.values().any(|p| p.name == name) {
            return Err(format!("two tokens are named `{name}`"));
        }
        let principal = Principal {
            name: name.to_owned(),
            role,
        };
        if self.by_digest.insert(digest(token), principal).is_some() {
            return Err(format!("token `{name}` repeats another token"));
        }
        Ok(())
    }

    /// Adds every token of a YAML file `tokens: [{name, role, token}]`, or reports every problem in it.
    pub fn add_file(&mut self, path: &Path) -> Result<(), TokenFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Io {
            path: shown.clone(),
            source,
        })?;
        // The parser's own message quotes the line it stopped at, which may hold a token: only where it stopped
        // is reported.
        let file: TokenFile = serde_saphyr::from_str(&text).map_err(|e| TokenFileError::Invalid {
            path: shown.clone(),
            problems: vec![format!(
                "not a token list `tokens: [{{name, role, token}}]`{} (the parser's message is left out: it may \
                 quote a token)",
                e.location().map_or(String::new(), |at| format!(
                    " at line {}, column {}",
                    at.line(),
                    at.column()
                ))
            )],
        })?;
        let problems: Vec<String> = file
            .tokens
            .iter()
            .filter_map(|entry| self.add(&entry.name, entry.role, &entry.token).err())
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(TokenFileError::Invalid {
                path: shown,
                problems,
            })
        }
    }

    /// How many tokens are known.
    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// Whether no token is known (the API is then read-only).
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }

    fn lookup(&self, token: &str) -> Option<&Principal> {
        self.by_digest.get(&digest(token))
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The caller of a request: `None` when no `Authorization` header was sent. A header that is not a known bearer
/// token is refused (401) here, before the handler runs.
pub struct Caller(pub Option<Principal>);

impl Caller {
    /// The caller, if its role is at least `needed`: 401 without a token, 403 with too weak a one.
    pub fn require(self, needed: Role) -> Result<Principal, ApiError> {
        let principal = self.0.ok_or(ApiError::Unauthorized(match needed {
            Role::Reader => "this request needs a token: `Authorization: Bearer <token>`",
            Role::Writer | Role::Admin => {
                "this request changes state and needs `Authorization: Bearer <token>`"
            }
        }))?;
        if principal.role >= needed {
            Ok(principal)
        } else {
            Err(ApiError::Forbidden {
                needed: needed.name(),
                name: principal.name,
                has: principal.role.name(),
            })
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized(
                "the Authorization header must be `Bearer <token>`",
            ))?;
        state
            .tokens
            .lookup(token)
            .cloned()
            .map(|principal| Caller(Some(principal)))
            .ok_or(ApiError::Unauthorized("unknown token"))
    }
}

/// A caller with at least the role its type names, checked from the request's headers before its path, query or
/// body is read: a request without a good enough token gets 401 or 403, whatever else is wrong with it (an
/// invalid body would otherwise answer 400 or 422 and tell an unauthenticated caller how the API parses).
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        pub struct $name(pub Principal);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
                Caller::from_request_parts(parts, state).await?.require($role).map($name)
            }
        }
    };
}

role_extractor!(
    /// A caller with the reader role or more.
    AsReader,
    Role::Reader
);
role_extractor!(
    /// A caller with the writer role or more.
    AsWriter,
    Role::Writer
);
role_extractor!(
    /// A caller with the admin role.
    AsAdmin,
    Role::Admin
);

/// A caller that may resolve configurations: a reader or more, or anyone when the server opens resolution to
/// anonymous callers (`AppState::anonymous_resolve`, for schedulers that cannot send a token). An unknown or
/// malformed token is refused either way.
pub struct AsResolver;

impl FromRequestParts<AppState> for AsResolver {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.0.is_none() && state.anonymous_resolve {
            return Ok(AsResolver);
        }
        caller.require(Role::Reader).map(|_| AsResolver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("medic-tokens-{}-{name}.yaml", std::process::id()));
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn a_token_file_reports_every_problem_and_never_shows_a_token() {
        let path = write(
            "bad",
            "tokens:\n  - {name: ci, role: writer, token: short}\n  - {name: ops, role: admin, token: a-long-enough-token-1}\n  - {name: ops, role: reader, token: a-long-enough-token-2}\n  - {name: \"ops\\nadmin\", role: reader, token: a-long-enough-token-3}\n",
        );
        let error = Tokens::new().add_file(&path).expect_err("refused");
        let message = error.to_string();
        assert!(message.contains("`ci` is shorter"), "{message}");
        assert!(message.contains("two tokens are named `ops`"), "{message}");
        assert!(
            message.contains("the token name `ops\\nadmin` contains a control character"),
            "{message}"
        );
        assert!(!message.contains("a-long-enough-token"), "{message}");
        std::fs::remove_file(path).ok();
    }

    #[test]
    fn a_token_file_grants_roles_by_name() {
        let path = write(
            "good",
            "tokens:\n  - {name: scheduler, role: writer, token: scheduler-secret-0001}\n",
        );
        let mut tokens = Tokens::new();
        tokens.add_file(&path).expect("valid");
        let principal = tokens.lookup("scheduler-secret-0001").expect("known");
        assert_eq!(
            (principal.name.as_str(), principal.role),
            ("scheduler", Role::Writer)
        );
        assert!(tokens.lookup("scheduler-secret-0002").is_none());
        assert!(!format!("{tokens:?}").contains("secret"));
        let unknown_field = write(
            "unknown",
            "tokens:\n  - {name: a, role: writer, token: xxxxxxxxxxxxxxxxxxxx, team: x}\n",
        );
        assert!(Tokens::new().add_file(&unknown_field).is_err());
        // A line the parser cannot read is placed, not quoted: it may hold a token.
        let malformed = write(
            "malformed",
            "tokens:\n  - {name: a, role: boss, token: do-not-print-this-secret-1}\n  - [name: b\n",
        );
        let message = Tokens::new()
            .add_file(&malformed)
            .expect_err("refused")
            .to_string();
        assert!(message.contains("line"), "{message}");
        assert!(!message.contains("do-not-print"), "{message}");
        std::fs::remove_file(malformed).ok();
        std::fs::remove_file(path).ok();
        std::fs::remove_file(unknown_field).ok();
    }
}

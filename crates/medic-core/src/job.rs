//! Which job a run belongs to.

use serde::{Deserialize, Serialize};

/// The identity of a scheduled job. Rule scopes and patch scopes match against it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JobIdentity {
    /// The job's id, unique within the scheduler.
    pub id: String,
    /// The workflow (DAG) the job belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The user or team that owns the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The cluster the job runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

impl JobIdentity {
    /// A job known only by its id.
    pub fn new(id: impl Into<String>) -> Self {
        JobIdentity {
            id: id.into(),
            ..JobIdentity::default()
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RunOutcome {
    /// The run finished successfully.
    Succeeded,
    /// The run failed.
    Failed,
}

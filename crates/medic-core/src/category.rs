//! The failure taxonomy.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What kind of failure a run had. The names (snake_case) are part of medic's interface: rule packs, JSON output,
/// the HTTP API and the history all use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Category {
    /// An executor JVM ran out of heap or execution memory.
    ExecutorOom,
    /// The resource manager (YARN, Kubernetes) killed a container for using more memory than it was granted.
    ContainerMemoryExceeded,
    /// The driver ran out of memory (collect, broadcast, result size).
    DriverOom,
    /// A Python worker (a UDF, a pandas UDF, an RDD function) ran out of memory: its own limit
    /// (`spark.executor.pyspark.memory`) or, without one, the container's overhead. Not the JVM's heap.
    PythonWorkerOom,
    /// Shuffle blocks could not be fetched.
    ShuffleFetchFailure,
    /// Network, node, preemption or service trouble that a later attempt may not meet.
    TransientInfra,
    /// A bug or a mistake in the job's own code or query.
    UserCodeError,
    /// The job lacks a permission or a credential.
    PermissionOrAuth,
    /// The input data is missing, malformed or does not fit the schema.
    DataError,
    /// A disk or a storage quota is full.
    DiskSpace,
    /// No rule matched.
    Unclassified,
}

impl Category {
    /// Every category, in taxonomy order.
    pub const ALL: [Category; 11] = [
        Category::ExecutorOom,
        Category::ContainerMemoryExceeded,
        Category::DriverOom,
        Category::PythonWorkerOom,
        Category::ShuffleFetchFailure,
        Category::TransientInfra,
        Category::UserCodeError,
        Category::PermissionOrAuth,
        Category::DataError,
        Category::DiskSpace,
        Category::Unclassified,
    ];

    /// The name used in rule packs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::ExecutorOom => "executor_oom",
            Category::ContainerMemoryExceeded => "container_memory_exceeded",
            Category::DriverOom => "driver_oom",
            Category::PythonWorkerOom => "python_worker_oom",
            Category::ShuffleFetchFailure => "shuffle_fetch_failure",
            Category::TransientInfra => "transient_infra",
            Category::UserCodeError => "user_code_error",
            Category::PermissionOrAuth => "permission_or_auth",
            Category::DataError => "data_error",
            Category::DiskSpace => "disk_space",
            Category::Unclassified => "unclassified",
        }
    }

    /// Memory-configuration errors are the ones a different Spark configuration can fix, so they (with
    /// unclassified errors) go to the recommender.
    pub fn is_memory_config(self) -> bool {
        matches!(
            self,
            Category::ExecutorOom
                | Category::ContainerMemoryExceeded
                | Category::DriverOom
                | Category::PythonWorkerOom
        )
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A category name outside the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category `{0}` (expected one of: {names})", names = category_names())]
pub struct UnknownCategory(pub String);

fn category_names() -> String {
    Category::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Category {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCategory(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_str_and_serde() {
        for category in Category::ALL {
            assert_eq!(category.as_str().parse::<Category>(), Ok(category));
            let json = serde_json::to_string(&category).expect("serialize");
            assert_eq!(json, format!("\"{}\"", category.as_str()));
        }
        assert!("oom".parse::<Category>().is_err());
    }

    #[test]
    fn exactly_the_four_memory_categories_are_memory_configuration_errors() {
        let memory: Vec<_> = Category::ALL
            .into_iter()
            .filter(|c| c.is_memory_config())
            .collect();
        assert_eq!(
            memory,
            [
                Category::ExecutorOom,
                Category::ContainerMemoryExceeded,
                Category::DriverOom,
                Category::PythonWorkerOom
            ]
        );
    }
}

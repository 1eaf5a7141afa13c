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
    /// An executor's JVM heap ran out (`java.lang.OutOfMemoryError`, exit code 52); in local mode, the driver's JVM,
    /// where the executors run. Knob: the heap (or fewer tasks sharing it).
    ExecutorOom,
    /// Spark's memory manager could not grant a task the execution memory it asked for (`SparkOutOfMemoryError`,
    /// `Unable to acquire X bytes of memory, got Y`): the task's share of the unified pool, which is the heap's
    /// execution part over the tasks running beside it. Knob: heap per running task (more heap, fewer concurrent
    /// tasks, more partitions).
    ExecutionMemoryOom,
    /// The resource manager (YARN, Kubernetes) killed a container for using more memory than it was granted.
    ContainerMemoryExceeded,
    /// The driver's JVM heap ran out (a `collect()`, building a large plan or table). Knob: `spark.driver.memory`.
    DriverOom,
    /// The results sent to the driver exceeded `spark.driver.maxResultSize`. Knob: that cap, with the driver's heap
    /// to hold what it lets through.
    ResultSizeExceeded,
    /// A table to broadcast was over Spark's limit or more than the driver could build. Knob: automatic
    /// broadcasts (`spark.sql.autoBroadcastJoinThreshold`), then the driver's heap when a hint forces them.
    BroadcastTooLarge,
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
    pub const ALL: [Category; 14] = [
        Category::ExecutorOom,
        Category::ExecutionMemoryOom,
        Category::ContainerMemoryExceeded,
        Category::DriverOom,
        Category::ResultSizeExceeded,
        Category::BroadcastTooLarge,
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
            Category::ExecutionMemoryOom => "execution_memory_oom",
            Category::ContainerMemoryExceeded => "container_memory_exceeded",
            Category::DriverOom => "driver_oom",
            Category::ResultSizeExceeded => "result_size_exceeded",
            Category::BroadcastTooLarge => "broadcast_too_large",
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
    /// unclassified errors) go to the recommender. Each names the memory that ran out, because each has its own
    /// knob.
    pub fn is_memory_config(self) -> bool {
        self.memory().is_some()
    }

    /// The memory a memory-configuration error ran out of; `None` for every other category.
    pub fn memory(self) -> Option<Memory> {
        Some(match self {
            Category::ExecutorOom | Category::ExecutionMemoryOom => Memory::ExecutorHeap,
            Category::ContainerMemoryExceeded => Memory::Container,
            Category::DriverOom | Category::ResultSizeExceeded | Category::BroadcastTooLarge => {
                Memory::Driver
            }
            Category::PythonWorkerOom => Memory::PythonWorkers,
            _ => return None,
        })
    }
}

/// Where a memory-configuration error ran out: what a plain "more memory" policy raises (the simulator's baselines,
/// the carried fixes' accounting). The categories tell finer: an execution-memory failure and a heap error both
/// need more executor heap per task, a result-size failure and a broadcast are the driver's, each with its own
/// first knob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Memory {
    /// The executors' JVM heap (in local mode, the driver's JVM, where they run).
    ExecutorHeap,
    /// The executor's container: heap plus overhead.
    Container,
    /// The driver's JVM heap.
    Driver,
    /// The Python workers' memory.
    PythonWorkers,
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
    fn exactly_the_seven_memory_categories_are_memory_configuration_errors() {
        let memory: Vec<_> = Category::ALL
            .into_iter()
            .filter(|c| c.is_memory_config())
            .collect();
        assert_eq!(
            memory,
            [
                Category::ExecutorOom,
                Category::ExecutionMemoryOom,
                Category::ContainerMemoryExceeded,
                Category::DriverOom,
                Category::ResultSizeExceeded,
                Category::BroadcastTooLarge,
                Category::PythonWorkerOom
            ]
        );
    }
}

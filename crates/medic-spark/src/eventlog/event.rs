//! The parts of Spark's listener events that medic reads. Spark writes one JSON object per line with an `Event`
//! name and fields named as in `JsonProtocol.scala` ("Task End Reason", "Executor Metrics"); every field here is
//! optional and everything else is skipped unparsed, so events of other Spark versions read as far as they match.

use serde::Deserialize;

/// One line of an event log.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Event {
    #[serde(rename = "Event")]
    pub event: String,
    #[serde(rename = "Spark Version")]
    pub spark_version: Option<String>,
    #[serde(rename = "App Name")]
    pub app_name: Option<String>,
    #[serde(rename = "App ID")]
    pub app_id: Option<String>,
    #[serde(rename = "Timestamp")]
    pub timestamp: Option<i64>,
    /// `SparkListenerApplicationEnd` (Spark 4): the driver's exit code.
    #[serde(rename = "ExitCode")]
    pub exit_code: Option<i32>,
    #[serde(rename = "Executor ID")]
    pub executor_id: Option<String>,
    #[serde(rename = "Executor Info")]
    pub executor_info: Option<ExecutorInfo>,
    #[serde(rename = "Task Info")]
    pub task_info: Option<TaskInfo>,
    #[serde(rename = "Task End Reason")]
    pub task_end_reason: Option<TaskEndReason>,
    #[serde(rename = "Task Metrics")]
    pub task_metrics: Option<TaskMetrics>,
    /// `SparkListenerTaskEnd`: the executor's metrics when the task ended.
    #[serde(rename = "Task Executor Metrics")]
    pub task_executor_metrics: Option<ExecutorMetrics>,
    /// `SparkListenerStageExecutorMetrics`: an executor's peaks during a stage.
    #[serde(rename = "Executor Metrics")]
    pub executor_metrics: Option<ExecutorMetrics>,
    /// `SparkListenerExecutorMetricsUpdate`: peaks per stage, sent with heartbeats.
    #[serde(rename = "Executor Metrics Updated")]
    pub executor_metrics_updated: Option<Vec<StageMetrics>>,
    #[serde(rename = "Job ID")]
    pub job_id: Option<i64>,
    #[serde(rename = "Job Result")]
    pub job_result: Option<JobResult>,
    /// `SparkListenerSQLExecutionEnd`: the query's error, when it failed (driver-side failures are only here).
    #[serde(rename = "errorMessage")]
    pub error_message: Option<String>,
    /// `SparkListenerSQLExecutionStart`: the physical plan as a tree of nodes.
    #[serde(rename = "sparkPlanInfo")]
    pub spark_plan_info: Option<PlanNode>,
    /// `SparkListenerStageCompleted`: the stage, its tasks and why it failed.
    #[serde(rename = "Stage Info")]
    pub stage_info: Option<StageInfo>,
}

/// A stage as `SparkListenerStageCompleted` reports it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StageInfo {
    #[serde(rename = "Number of Tasks")]
    pub number_of_tasks: Option<u64>,
    #[serde(rename = "Failure Reason")]
    pub failure_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExecutorInfo {
    #[serde(rename = "Total Cores")]
    pub total_cores: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TaskInfo {
    #[serde(rename = "Executor ID")]
    pub executor_id: Option<String>,
}

/// Why a task ended (`"Reason": "Success"` when it did not fail).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TaskEndReason {
    #[serde(rename = "Reason")]
    pub reason: Option<String>,
    #[serde(rename = "Class Name")]
    pub class_name: Option<String>,
    #[serde(rename = "Description")]
    pub description: Option<String>,
    #[serde(rename = "Full Stack Trace")]
    pub full_stack_trace: Option<String>,
    #[serde(rename = "Loss Reason")]
    pub loss_reason: Option<String>,
    #[serde(rename = "Message")]
    pub message: Option<String>,
    #[serde(rename = "Kill Reason")]
    pub kill_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TaskMetrics {
    #[serde(rename = "Executor Run Time")]
    pub executor_run_time: Option<i64>,
    /// Nanoseconds.
    #[serde(rename = "Executor CPU Time")]
    pub executor_cpu_time: Option<i64>,
    #[serde(rename = "Peak Execution Memory")]
    pub peak_execution_memory: Option<i64>,
    /// Spark 4.
    #[serde(rename = "Peak On Heap Execution Memory")]
    pub peak_on_heap_execution_memory: Option<i64>,
    #[serde(rename = "JVM GC Time")]
    pub jvm_gc_time: Option<i64>,
    #[serde(rename = "Memory Bytes Spilled")]
    pub memory_bytes_spilled: Option<i64>,
    #[serde(rename = "Disk Bytes Spilled")]
    pub disk_bytes_spilled: Option<i64>,
    #[serde(rename = "Input Metrics")]
    pub input_metrics: Option<InputMetrics>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct InputMetrics {
    #[serde(rename = "Bytes Read")]
    pub bytes_read: Option<i64>,
}

/// An executor's memory and GC figures (all zero unless `spark.executor.metrics.pollingInterval` is set, except
/// at stage ends).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExecutorMetrics {
    #[serde(rename = "JVMHeapMemory")]
    pub jvm_heap_memory: Option<i64>,
    #[serde(rename = "OnHeapExecutionMemory")]
    pub on_heap_execution_memory: Option<i64>,
    #[serde(rename = "ProcessTreeJVMRSSMemory")]
    pub process_tree_jvm_rss_memory: Option<i64>,
    #[serde(rename = "TotalGCTime")]
    pub total_gc_time: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct StageMetrics {
    #[serde(rename = "Executor Metrics")]
    pub executor_metrics: Option<ExecutorMetrics>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct JobResult {
    #[serde(rename = "Result")]
    pub result: Option<String>,
    #[serde(rename = "Exception")]
    pub exception: Option<JobException>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct JobException {
    #[serde(rename = "Message")]
    pub message: Option<String>,
}

/// A node of a physical plan.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PlanNode {
    #[serde(rename = "nodeName")]
    pub node_name: Option<String>,
    #[serde(default)]
    pub children: Vec<PlanNode>,
}

//! The YARN and Kubernetes collectors on what public sources recorded of those cluster managers
//! (tests/data/SOURCES.md: the Hadoop documentation's ResourceManager answers, a Spark driver pod's log with six
//! executors OOM-killed, a pod whose container was OOM-killed). No such cluster runs here; the transport is the only
//! part a real cluster changes.

mod support;

use std::path::{Path, PathBuf};

use medic_collect::kubernetes::KubernetesSources;
use medic_collect::transport::Recorded;
use medic_collect::yarn::YarnSources;
use medic_collect::{ClusterSources, collect};
use medic_core::{Category, LogSource};
use support::classify;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

const RM: &str = "http://host.domain.com:8088";

#[test]
fn a_yarn_application_s_report_and_attempts_are_read_as_the_resource_manager_sends_them() {
    let app = "application_1476912658570_0002";
    let report = format!("{RM}/ws/v1/cluster/apps/{app}");
    let recorded = Recorded::new()
        .with(report.clone(), data("yarn/rm-app-doc-example-hadoop.json"))
        .with(
            format!("{report}/appattempts"),
            data("yarn/rm-appattempts-doc-example-hadoop.json"),
        );
    let sources = ClusterSources {
        yarn: Some(YarnSources {
            resource_manager: Some(format!("{RM}/")),
            ..YarnSources::default()
        }),
        ..ClusterSources::default()
    };
    let collection = collect(app, &sources, &recorded);
    assert!(
        collection.unreachable.is_empty(),
        "{:?}",
        collection.unreachable
    );
    assert_eq!(collection.pieces.len(), 1);
    let piece = &collection.pieces[0];
    assert_eq!(piece.source, LogSource::Scheduler);
    assert_eq!(
        piece.text,
        "YARN: application application_1476912658570_0002 (YARN, queue default) ended SUCCEEDED (state FINISHED)\n\
         YARN diagnostics:\n...\n\
         YARN: attempt 1: ApplicationMaster container container_1326821518301_0005_01_000001 on host.domain.com:8041\n"
    );
    assert!(collection.bytes_read > 1500);
}

#[test]
fn a_yarn_cluster_that_does_not_answer_is_reported_not_failed_on() {
    let sources = ClusterSources {
        yarn: Some(YarnSources {
            resource_manager: Some(RM.to_owned()),
            logs_command: vec![
                "sh".to_owned(),
                "-c".to_owned(),
                "echo \"$0: Log aggregation has not completed or is not enabled.\" >&2; exit 255"
                    .to_owned(),
                "{app_id}".to_owned(),
            ],
            logs_timeout_seconds: Some(30),
        }),
        ..ClusterSources::default()
    };
    let collection = collect("application_1_0001", &sources, &Recorded::new());
    assert!(collection.pieces.is_empty());
    assert_eq!(
        collection.unreachable.len(),
        2,
        "{:?}",
        collection.unreachable
    );
    assert!(collection.unreachable[0].contains("did not answer"));
    assert!(
        collection.unreachable[1].contains("application_1_0001: Log aggregation has not completed"),
        "{:?}",
        collection.unreachable
    );
}

const API: &str = "https://kubernetes.default.svc.cluster.local:443";

/// A pod list answer holding `pods`, written where the recording can answer with it. The API server wraps the
/// pods it lists in a `PodList`; the recordings are single pods, so the list is made here.
fn pod_list(dir: &Path, pods: &[serde_json::Value]) -> PathBuf {
    let path = dir.join("pods.json");
    let list = serde_json::json!({"kind": "PodList", "apiVersion": "v1", "items": pods});
    std::fs::write(&path, list.to_string()).expect("write the pod list");
    path
}

#[test]
fn a_pod_s_container_killed_for_memory_is_read_from_its_status() {
    let dir = tempfile::tempdir().expect("dir");
    let pod: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data(
            "kubernetes/pod-oomkilled-kubeshark-worker.converted.json",
        ))
        .expect("the recorded pod"),
    )
    .expect("JSON");
    let app = "spark-0123";
    let namespace = "kubeshark";
    let recorded = Recorded::new().with(
        format!(
            "{API}/api/v1/namespaces/{namespace}/pods?labelSelector=spark-app-selector%3D{app}"
        ),
        pod_list(dir.path(), &[pod]),
    );
    let sources = ClusterSources {
        kubernetes: Some(KubernetesSources {
            api_server: API.to_owned(),
            namespace: namespace.to_owned(),
            pod_logs: true,
            log_tail_lines: None,
        }),
        ..ClusterSources::default()
    };
    let collection = collect(app, &sources, &recorded);
    let status = &collection.pieces[0];
    assert_eq!(status.source, LogSource::Scheduler);
    assert_eq!(
        status.text,
        "Kubernetes: pod kubeshark-worker-daemon-set-hvn25: Running, container kubeshark-worker terminated: OOMKilled, exit code 137\n"
    );
    // Its events and its log were asked for; the recording has neither, as a cluster that has dropped them.
    assert_eq!(
        collection.unreachable.len(),
        2,
        "{:?}",
        collection.unreachable
    );
    assert!(
        collection.unreachable[0].contains(
            "events?fieldSelector=involvedObject.name%3Dkubeshark-worker-daemon-set-hvn25"
        )
    );
    assert_eq!(
        classify(&collection.pieces).category,
        Category::ContainerMemoryExceeded
    );
}

#[test]
fn a_driver_pod_s_log_is_read_bounded_and_says_its_executors_were_oom_killed() {
    let dir = tempfile::tempdir().expect("dir");
    // The driver pod, as the recorded log names it (`kubectl logs spark-sql-job-…-driver -n spark-operator`,
    // `Application Id: spark-c68a…`) and labelled as Spark labels a driver pod.
    let app = "spark-c68a2df6a52e450588d61ab5154b1c38";
    let driver = "spark-sql-job-test-manual-10-q9-6603be85ec8b484f-driver";
    let pod = serde_json::json!({
        "metadata": {"name": driver, "labels": {"spark-app-selector": app, "spark-role": "driver"}},
    });
    let pods = format!("{API}/api/v1/namespaces/spark-operator/pods");
    let log = data("kubernetes/driver-executors-oomkilled.log");
    let log_bytes = std::fs::metadata(&log).expect("the log").len();
    // The log's last 40 lines, as `tailLines=40` answers.
    let text = std::fs::read_to_string(&log).expect("the log");
    let lines: Vec<&str> = text.lines().collect();
    let tail = dir.path().join("tail.log");
    std::fs::write(&tail, lines[lines.len() - 40..].join("\n") + "\n").expect("write the tail");
    let recorded = |max: u64| {
        Recorded::new()
            .with(
                format!("{pods}?labelSelector=spark-app-selector%3D{app}"),
                pod_list(dir.path(), std::slice::from_ref(&pod)),
            )
            .with(format!("{pods}/{driver}/log?limitBytes={max}"), &log)
            .with(format!("{pods}/{driver}/log?tailLines=40"), &tail)
    };
    let sources = |max: u64| ClusterSources {
        kubernetes: Some(KubernetesSources {
            api_server: format!("{API}/"),
            namespace: "spark-operator".to_owned(),
            pod_logs: true,
            log_tail_lines: Some(40),
        }),
        max_log_bytes: Some(max),
        ..ClusterSources::default()
    };
    let whole = 64 << 20;
    let collection = collect(app, &sources(whole), &recorded(whole));
    assert!(
        collection.unreachable.is_empty(),
        "{:?}",
        collection.unreachable
    );
    let names: Vec<&str> = collection.pieces.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, [format!("{driver}.log")]);
    let driver_log = &collection.pieces[0];
    assert_eq!(driver_log.source, LogSource::Driver);
    assert!(driver_log.text.contains(
        "The executor with id 13 exited with exit code 137(SIGKILL, possible container OOM)."
    ));
    assert!(collection.bytes_kept < collection.bytes_read);
    let list_bytes = std::fs::metadata(dir.path().join("pods.json"))
        .expect("the list")
        .len();
    assert_eq!(collection.bytes_read, list_bytes + log_bytes);
    let classification = classify(&collection.pieces);
    assert_eq!(classification.category, Category::ContainerMemoryExceeded);

    // A log longer than the bytes read of it: its start and its last lines are read, not its middle, and the
    // kills are still seen in its last lines.
    let collection = collect(app, &sources(1024), &recorded(1024));
    let driver_log = &collection.pieces[0].text;
    assert!(driver_log.contains("the middle of the log not read"));
    assert!(!driver_log.contains("The executor with id 13 exited"));
    assert_eq!(
        classify(&collection.pieces).category,
        Category::ContainerMemoryExceeded
    );
}

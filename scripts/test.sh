#!/usr/bin/env bash
# The whole test suite: formatting, lints, architecture invariants, then every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build outside the clone unless told otherwise, so that CI's fresh clones reuse what earlier runs compiled (a new
# machine simply starts with an empty cache).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/medic/target}"

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
scripts/check-invariants.sh
scripts/ensure-postgres.sh
# The real-Spark end-to-end tests (crates/medic/tests/spark.rs) need a Spark: installed once into .cache/spark, then
# found there in no time.
scripts/install-spark.sh >/dev/null
# The standalone cluster the cluster end-to-end test (crates/medic/tests/spark_cluster.rs) submits to. One this
# script starts is stopped when the suite ends, so that its ports are free for the next run; one that was already
# running is left running.
master_pid=${MEDIC_SPARK_CLUSTER_DIR:-.cache/spark/cluster}/pids/master.pid
if ! { [ -f "$master_pid" ] && kill -0 "$(cat "$master_pid")" 2>/dev/null; }; then
  trap scripts/stop-spark-cluster.sh EXIT
fi
scripts/start-spark-cluster.sh >/dev/null
cargo test --workspace --locked

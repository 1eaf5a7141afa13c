#!/usr/bin/env bash
# Stops the standalone cluster scripts/start-spark-cluster.sh started: every daemon with a pid file under
# .cache/spark/cluster/pids (or $MEDIC_SPARK_CLUSTER_DIR/pids). Idempotent: nothing running is not an error. The
# event logs and the executors' work folders stay.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${MEDIC_SPARK_CLUSTER_DIR:-$PWD/.cache/spark/cluster}
shopt -s nullglob
pids=()
for pid_file in "$dir"/pids/*.pid; do
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    pids+=("$pid")
  fi
  rm -f "$pid_file"
done
# Give them a few seconds to stop, then make sure.
for _ in $(seq 1 20); do
  alive=()
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && alive+=("$pid")
  done
  [ ${#alive[@]} -eq 0 ] && exit 0
  sleep 0.5
done
kill -9 "${alive[@]}" 2>/dev/null || true

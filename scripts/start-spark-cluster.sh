#!/usr/bin/env bash
# Starts a Spark standalone cluster on loopback from the installed PySpark (scripts/install-spark.sh): a Master, one
# or more Workers and a History Server, sharing one event-log folder. Idempotent: daemons already running (their pid
# files under .cache/spark/cluster/ name live processes) are kept, the missing ones started, and the script returns
# once the Master sees every Worker and the History Server answers. scripts/stop-spark-cluster.sh stops them.
#
# The pip package has no start-master.sh: the daemons are started with `spark-class` directly. On standard output
# the script prints what a job needs, as shell assignments:
#   MEDIC_SPARK_MASTER=spark://127.0.0.1:7077
#   MEDIC_SPARK_HISTORY=http://127.0.0.1:18080
#   MEDIC_SPARK_EVENT_LOG_DIR=/.../.cache/spark/cluster/events
#   MEDIC_SPARK_WORK_DIR=/.../.cache/spark/cluster/work        (each executor's stdout and stderr, by application)
#
# Settings (environment): SPARK_CLUSTER_WORKERS (1), SPARK_WORKER_CORES (2), SPARK_WORKER_MEMORY (6g: what the
# Worker may give its executors), SPARK_MASTER_PORT (7077), SPARK_MASTER_WEBUI_PORT (8080), SPARK_WORKER_WEBUI_PORT
# (8081, then the next ones), SPARK_HISTORY_PORT (18080), MEDIC_SPARK_CLUSTER_DIR (.cache/spark/cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(scripts/install-spark.sh)
venv=$(dirname "$bin")
spark_home=$("$venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
dir=${MEDIC_SPARK_CLUSTER_DIR:-$PWD/.cache/spark/cluster}
workers=${SPARK_CLUSTER_WORKERS:-1}
cores=${SPARK_WORKER_CORES:-2}
memory=${SPARK_WORKER_MEMORY:-6g}
master_port=${SPARK_MASTER_PORT:-7077}
master_ui=${SPARK_MASTER_WEBUI_PORT:-8080}
worker_ui=${SPARK_WORKER_WEBUI_PORT:-8081}
history_port=${SPARK_HISTORY_PORT:-18080}
master="spark://127.0.0.1:$master_port"
mkdir -p "$dir/events" "$dir/work" "$dir/logs" "$dir/pids"

export SPARK_HOME="$spark_home" PYSPARK_PYTHON="$venv/bin/python" PATH="$bin:$PATH"
# Daemons bind to loopback only, and say so in their URLs.
export SPARK_LOCAL_IP=127.0.0.1 SPARK_PUBLIC_DNS=127.0.0.1

running() {
  local pid_file="$dir/pids/$1.pid"
  [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

start() {
  local name=$1
  shift
  if running "$name"; then
    return
  fi
  nohup "$bin/spark-class" "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name.pid"
  echo "start-spark-cluster: started $name (pid $!, log $dir/logs/$name.log)" >&2
}

start master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$master_port" \
  --webui-port "$master_ui"
for i in $(seq 1 "$workers"); do
  start "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores "$cores" --memory "$memory" \
    --webui-port $((worker_ui + i - 1)) --work-dir "$dir/work" "$master"
done
SPARK_HISTORY_OPTS="-Dspark.history.fs.logDirectory=file://$dir/events -Dspark.history.ui.port=$history_port \
-Dspark.history.fs.update.interval=1s" start history org.apache.spark.deploy.history.HistoryServer

# Ready when the Master lists every Worker as alive and the History Server answers its REST API.
for _ in $(seq 1 120); do
  alive=$(curl -fsS "http://127.0.0.1:$master_ui/json/" 2>/dev/null |
    "$venv/bin/python" -c 'import json, sys; print(sum(w["state"] == "ALIVE" for w in json.load(sys.stdin)["workers"]))' \
    2>/dev/null || echo 0)
  if [ "$alive" -ge "$workers" ] &&
    curl -fsS "http://127.0.0.1:$history_port/api/v1/applications?limit=1" >/dev/null 2>&1; then
    echo "MEDIC_SPARK_MASTER=$master"
    echo "MEDIC_SPARK_HISTORY=http://127.0.0.1:$history_port"
    echo "MEDIC_SPARK_EVENT_LOG_DIR=$dir/events"
    echo "MEDIC_SPARK_WORK_DIR=$dir/work"
    exit 0
  fi
  for name in master history $(seq -f 'worker-%g' 1 "$workers"); do
    if ! running "$name"; then
      echo "start-spark-cluster: $name is not running; its log, $dir/logs/$name.log, ends with:" >&2
      tail -n 20 "$dir/logs/$name.log" >&2 || true
      exit 1
    fi
  done
  sleep 1
done
echo "start-spark-cluster: the cluster did not come up within 120 s (logs in $dir/logs)" >&2
exit 1

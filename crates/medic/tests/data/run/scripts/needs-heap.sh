#!/bin/sh
# Usage: needs-heap.sh MIB [--conf k=v ...]. Succeeds when spark.executor.memory is at least MIB MiB; otherwise
# fails as a Spark job whose executors run out of heap (the messages are Spark's own).
need=$1
shift
heap=1024
while [ $# -gt 0 ]; do
  case "$2" in
    spark.executor.memory=*)
      value=${2#spark.executor.memory=}
      case "$value" in
        *g) heap=$(( ${value%g} * 1024 )) ;;
        *m) heap=${value%m} ;;
        *) heap=$value ;;
      esac ;;
  esac
  shift 2 2>/dev/null || shift
done
echo "26/11/22 10:01:42 INFO DAGScheduler: Submitting 200 missing tasks from ResultStage 3 (heap ${heap} MiB)"
if [ "$heap" -ge "$need" ]; then
  echo "26/11/22 10:02:11 INFO SparkContext: Successfully stopped SparkContext"
  exit 0
fi
cat >&2 <<'LOG'
26/11/22 10:01:57 ERROR Executor: Exception in task 17.0 in stage 3.0 (TID 412)
java.lang.OutOfMemoryError: Java heap space
	at java.base/java.util.Arrays.copyOf(Arrays.java:3537)
	at org.apache.spark.sql.execution.UnsafeRowSerializer.serialize(UnsafeRowSerializer.scala:80)
LOG
exit 1

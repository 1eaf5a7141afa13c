#!/bin/sh
# Fails like a Spark job whose executors run out of heap, unless it is given --conf spark.executor.memory=4g.
for arg in "$@"; do
  if [ "$arg" = "spark.executor.memory=4g" ]; then
    echo "26/05/01 10:02:11 INFO SparkContext: Successfully stopped SparkContext"
    exit 0
  fi
done
echo "26/05/01 10:01:42 INFO DAGScheduler: Submitting 200 missing tasks from ResultStage 3"
cat >&2 <<'LOG'
26/05/01 10:01:57 ERROR Executor: Exception in task 17.0 in stage 3.0 (TID 412)
java.lang.OutOfMemoryError: Java heap space
	at java.base/java.util.Arrays.copyOf(Arrays.java:3537)
	at org.apache.spark.sql.execution.UnsafeRowSerializer.serialize(UnsafeRowSerializer.scala:80)
LOG
exit 1

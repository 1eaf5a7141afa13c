"""Gathers 600 000 digests per key into one list (collect_list over two keys) inside a task.

The task runs out of JVM heap; in local mode the executor is a thread of the driver's JVM, so the whole JVM exits
with code 52 (Spark's exit code for an uncaught OutOfMemoryError) and the log shows `Executor task launch worker ...
java.lang.OutOfMemoryError: Java heap space` (an executor_oom). `spark.driver.memory` is the heap there: 512 MiB
fails, 1 GiB succeeds. Usage: executor_heap.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("executor-heap").getOrCreate()
frame = spark.range(0, rows, 1, 2).selectExpr("id % 2 as k", "sha2(cast(id as string), 512) as digest")
lists = frame.groupBy("k").agg({"digest": "collect_list"})
print(lists.selectExpr("k", "size(`collect_list(digest)`) as n").collect())
spark.stop()

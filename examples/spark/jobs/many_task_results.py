"""Collects the latest state of ROWS devices from PARTITIONS small tasks, each returning a modest result.

Every task sends its rows (an id and a 128-character state digest, hard to compress) back to the driver; no task is
large, but together they exceed the cap on the total size of serialized task results (spark.driver.maxResultSize).
At ROWS=420000 and PARTITIONS=160 (about 52 MiB in all) Spark aborts the job once the results pass the cap (`Total
size of serialized results of 50 tasks (16.2 MiB) is bigger than spark.driver.maxResultSize (16.0 MiB)`, exit code
1); 32m and 48m fail the same way, 64m succeeds. Usage: many_task_results.py ROWS PARTITIONS
"""
import sys

from pyspark.sql import SparkSession

rows, partitions = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("many-task-results").getOrCreate()
states = spark.range(0, rows, 1, partitions).selectExpr("id as device", "sha2(cast(id as string), 512) as state")
print("collected", len(states.collect()), "device states from", partitions, "tasks")
spark.stop()

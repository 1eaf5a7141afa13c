"""Caches a table of sessions, reports on it twice, then collects most of it into the driver.

The ROWS sessions (each with a 1 280-character payload) are cached, counted and counted per bucket from the cache,
then the sessions of 80 of the 100 buckets are collected to the driver, whose heap also holds the cached blocks.
At ROWS=400000 (320 000 sessions, about 420 MB, collected) the driver runs out of heap in collect() (`Py4JJavaError
... : java.lang.OutOfMemoryError: Java heap space`, exit code 1, a driver_oom) with 512 MiB and 768 MiB; 1 GiB
succeeds. Usage: cache_collect.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("cache-collect").getOrCreate()
sessions = spark.range(0, rows, 1, 4).selectExpr(
    "id", "id % 100 as bucket", "repeat(sha2(cast(id as string), 256), 20) as payload"
).cache()
print("sessions", sessions.count())
print("buckets", len(sessions.groupBy("bucket").count().collect()))
print("collected", len(sessions.where("bucket < 80").collect()), "sessions")
spark.stop()

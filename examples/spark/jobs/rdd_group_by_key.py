"""Groups click events by user with RDD groupByKey, where one user (the anonymous one) is hot, and sorts each group.

90% of the ROWS events belong to user 0; groupByKey hands the Python worker each user's events as one iterable, and
sorting them materialises the hot user's events (64-character strings) as one Python list. PySpark's groupByKey
groups in the Python workers, so `spark.executor.pyspark.memory` (the workers' RLIMIT_AS, applied in local mode too)
is the knob: at ROWS=3000000 128m, 256m and 512m fail with a Python `MemoryError` (a `PythonException`, exit code 1);
768m succeeds. Usage: rdd_group_by_key.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])


def event(row):
    user = 0 if row.id % 10 else row.id % 1000
    return user, format(row.id * 2654435761 % 2**64, "016x") * 4


spark = SparkSession.builder.appName("rdd-group-by-key").getOrCreate()
events = spark.range(0, rows, 1, 2).rdd.map(event)
sessions = events.groupByKey(numPartitions=4).mapValues(lambda clicks: len(sorted(clicks)))
print(sorted(sessions.collect(), key=lambda kv: -kv[1])[:3])
spark.stop()

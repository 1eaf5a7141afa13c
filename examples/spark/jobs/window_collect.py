"""Attaches to every event the list of all events of its session: `collect_list(payload) OVER (PARTITION BY session)`.

There are only two sessions, so each window partition gathers EVENTS/2 payloads of KB kilobytes into one array, and
Spark copies that array into every output row of the partition. At EVENTS=128 and KB=4096 (64 payloads of 4 MiB
per session, a 256 MiB array) the task runs out of heap (`java.lang.OutOfMemoryError: Java heap space`, exit code 52,
an executor_oom) with every driver up to 2 GiB: in collect_list itself up to 1536 MiB, while copying the array into
an output row at 2 GiB; 3 GiB succeeds. Usage: window_collect.py EVENTS KB
"""
import sys

from pyspark.sql import SparkSession

events, kilobytes = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("window-collect").getOrCreate()
spark.range(0, events, 1, 2).selectExpr(
    "id", "id % 2 as session", f"repeat(sha2(cast(id as string), 256), {kilobytes} * 16) as payload"
).createOrReplaceTempView("events")
print(spark.sql(
    "SELECT session, count(*) AS events, max(size(history)) AS history FROM ("
    "  SELECT id, session, collect_list(payload) OVER (PARTITION BY session) AS history FROM events"
    ") GROUP BY session"
).collect())
spark.stop()

"""Sessionizes ROWS click events with window functions: a new session starts after 30 idle minutes.

lag() over each user's events ordered by time marks session starts, a running sum numbers the sessions, and the
sessions are summarised per day part of their start. An ordinary job that succeeds with a 512 MiB driver.
Usage: healthy_sessionize.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("healthy-sessionize").getOrCreate()
spark.range(0, rows, 1, 2).selectExpr(
    "id % 20000 as user_id",
    "(id div 20000) * 1200 + (id * 2654435761 % 1200) as ts",
    "concat('/page/', id % 500) as page",
).createOrReplaceTempView("clicks")
sessions = spark.sql("""
    WITH marked AS (
      SELECT *, IF(ts - LAG(ts) OVER (PARTITION BY user_id ORDER BY ts) > 1800, 1, 0) AS new_session FROM clicks),
    numbered AS (
      SELECT *, SUM(new_session) OVER (PARTITION BY user_id ORDER BY ts) AS session FROM marked)
    SELECT user_id, session, MIN(ts) AS started, MAX(ts) - MIN(ts) AS seconds, COUNT(*) AS clicks
    FROM numbered GROUP BY user_id, session""")
summary = sessions.selectExpr("cast(started div 21600 % 4 as int) as day_part", "seconds", "clicks") \
    .groupBy("day_part").agg({"seconds": "avg", "clicks": "sum", "*": "count"})
print(sorted(summary.collect()))
spark.stop()

"""Reports the exact median and 99th-percentile latency of each API endpoint over a day of requests.

`percentile_cont(...) WITHIN GROUP` (like `median`) is an exact aggregate: it keeps a map from every distinct value
to its count in the task's heap, and the latencies (microseconds, nearly all distinct) are spread over only ENDPOINTS
endpoints, so each group's map grows with the data and is then serialized for the shuffle and merged again.
Usage: endpoint_median_latency.py ROWS ENDPOINTS
"""
import sys

from pyspark.sql import SparkSession

rows, endpoints = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("endpoint-median-latency").getOrCreate()
spark.range(0, rows, 1, 4).selectExpr(
    f"concat('/api/v1/resource-', id % {endpoints}) as endpoint",
    "cast(rand(7) * 1e9 as double) / 1e3 as latency_ms",
).createOrReplaceTempView("requests")
print(spark.sql(
    "SELECT endpoint, count(*) AS requests,"
    "  percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,"
    "  percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99"
    " FROM requests GROUP BY endpoint ORDER BY endpoint"
).collect())
spark.stop()

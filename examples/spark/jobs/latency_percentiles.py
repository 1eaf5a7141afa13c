"""Reports exact-ish latency percentiles (p50, p99, p999) per API endpoint with `percentile_approx` at a huge accuracy.

`percentile_approx(latency, ..., ACCURACY)` keeps a quantile summary per group whose error is 1/ACCURACY; at an
accuracy of 1 000 000 000 the summary cannot merge any samples, so every latency of an endpoint is kept as an object
(value, rank bounds) in the aggregation buffer in the task's heap, and the final aggregation merges the partial
summaries of one endpoint into a single buffer. There are ROWS requests over ENDPOINTS endpoints.
Usage: latency_percentiles.py ROWS ENDPOINTS [ACCURACY]
"""
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

rows, endpoints = int(sys.argv[1]), int(sys.argv[2])
accuracy = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000000
spark = SparkSession.builder.appName("latency-percentiles").getOrCreate()
requests = spark.range(0, rows, 1, 4).selectExpr(
    f"id % {endpoints} as endpoint",
    "round(exp(rand(42) * 8), 3) as latency_ms",
)
report = requests.groupBy("endpoint").agg(
    F.count("*").alias("requests"),
    F.expr(f"percentile_approx(latency_ms, array(0.5, 0.99, 0.999), {accuracy})").alias("p50_p99_p999"),
)
print(report.orderBy("endpoint").collect())
spark.stop()

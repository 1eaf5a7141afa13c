"""Collects about 50 MB of hard-to-compress results from 4 tasks.

With `spark.driver.maxResultSize` at 32m Spark aborts the job (`Total size of serialized results of 3 tasks (37.0
MiB) is bigger than spark.driver.maxResultSize (32.0 MiB)`, a result_size_exceeded); with the cap raised it succeeds.
Usage: result_size.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("result-size").getOrCreate()
frame = spark.range(0, rows, 1, 4).selectExpr("id", "sha2(cast(id as string), 512) as digest")
print("collected", len(frame.collect()), "rows")
spark.stop()

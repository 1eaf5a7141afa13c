"""Sums and counts ROWS generated rows by 50 000 keys (a group-by with a shuffle), and prints a small summary.

A modest but real job: a few seconds of work on two cores, whose heap needs are far below the 4 GiB its workflow
asks for (see workflow.yaml for what was measured). Usage: aggregate.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("rightsize-aggregate").getOrCreate()
frame = spark.range(0, rows, 1, 4).selectExpr(
    "id % 50000 as k", "id as v", "sha2(cast(id as string), 256) as digest"
)
groups = frame.groupBy("k").agg({"v": "sum", "digest": "max", "*": "count"})
print(groups.selectExpr("count(*) as groups", "sum(`count(1)`) as rows").collect())
spark.stop()

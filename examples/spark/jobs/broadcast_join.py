"""Joins a fact table with a dimension table that Spark decides to broadcast.

The automatic broadcast threshold is set high (1g), so Spark broadcasts the dimension table, about 800 MB of
256-character digests for ROWS=3000000; a 512 MiB driver cannot build it (`Not enough memory to build and broadcast
the table to all worker nodes`, a broadcast_too_large). With `spark.sql.autoBroadcastJoinThreshold=-1` the same driver runs
the join as a sort-merge join, which spills instead. Usage: broadcast_join.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("broadcast-join").getOrCreate()
facts = spark.range(0, 2 * rows, 1, 2).selectExpr("id % 100000 as k", "id as v")
dims = spark.range(0, rows, 1, 2).selectExpr(
    "id as k", "concat(sha2(cast(id as string), 512), sha2(cast(id + 1 as string), 512)) as digest"
)
print(facts.join(dims, "k").selectExpr("sum(length(digest)) as characters").collect())
spark.stop()

"""Joins orders with a customer table that the query forces Spark to broadcast (`/*+ BROADCAST(c) */`).

The hint overrides `spark.sql.autoBroadcastJoinThreshold`, so even with the threshold at -1 the driver collects the
whole customer table (ROWS rows carrying a 256-character profile) and builds the broadcast hash relation in its own
heap. At ROWS=300000 (about 80 MB of profiles) a 512 MiB driver fails even with the threshold at -1
(`SparkException: Not enough memory to build and broadcast the table to all worker nodes`, after `OutOfMemoryError:
Java heap space` while growing the hash relation, exit code 1, a broadcast_too_large); 768 MiB succeeds. Setting the threshold
does not help here: the hint, not the size estimate, picks the broadcast. Usage: broadcast_hint.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("broadcast-hint").getOrCreate()
spark.range(0, 4 * rows, 1, 2).selectExpr("id as order_id", f"id % {rows} as customer_id").createOrReplaceTempView("o")
spark.range(0, rows, 1, 2).selectExpr(
    "id as customer_id", "concat(sha2(cast(id as string), 512), sha2(cast(-id as string), 512)) as profile"
).createOrReplaceTempView("c")
print(spark.sql(
    "SELECT /*+ BROADCAST(c) */ count(*) AS orders, sum(length(c.profile)) AS characters "
    "FROM o JOIN c ON o.customer_id = c.customer_id"
).collect())
spark.stop()

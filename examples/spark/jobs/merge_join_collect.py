"""Joins orders to their shipment records with a sort-merge join and collects the wide joined rows to the driver.

Both sides carry a 1 024-character payload per order; the MERGE hint makes the join a sort-merge join (a shuffle and
a sort of both sides), and the reconciliation then collect()s all ROWS joined rows (about 2 KB each) into the
driver. At ROWS=400000 (about 820 MB of payload) a 512 MiB driver loses the task results (`TaskResultLost (result
lost from block manager)`, exit code 1) and 768 MiB and 1 GiB run out of heap while fetching them
(`java.lang.OutOfMemoryError: Java heap space`, exit code 1); 1536 MiB succeeds. Usage: merge_join_collect.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("merge-join-collect").getOrCreate()
orders = spark.range(0, rows, 1, 2).selectExpr(
    "id as order_id", "repeat(sha2(cast(id as string), 512), 8) as order_payload"
)
shipments = spark.range(0, rows, 1, 2).selectExpr(
    "id as order_id", "repeat(sha2(cast(-id as string), 512), 8) as shipment_payload"
)
joined = orders.hint("merge").join(shipments, "order_id")
reconciled = joined.collect()
print("reconciled", len(reconciled), "orders;", sum(len(r.order_payload) + len(r.shipment_payload) for r in reconciled))
spark.stop()

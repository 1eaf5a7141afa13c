"""Exports each partition of an order table through `foreachPartition` with a Python function that buffers it.

The export function mimics a bulk-API client: it turns every row of its partition into a dict, appends it to one
in-memory list and formats the whole list as a single JSON payload before "sending" it (it only measures the
payload). ROWS orders in PARTITIONS partitions, so each Python worker holds one partition's rows as dicts plus the
JSON text at once, which spark.executor.pyspark.memory caps.
Usage: partition_buffer_export.py ROWS PARTITIONS
"""
import json
import sys

from pyspark.sql import SparkSession

rows, partitions = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("partition-buffer-export").getOrCreate()
orders = spark.range(0, rows, 1, partitions).selectExpr(
    "id as order_id",
    "concat('CUST-', lpad(cast(id % 250000 as string), 7, '0')) as customer",
    "round(rand(3) * 400, 2) as total",
    "concat('SKU-', id % 9973, ',SKU-', id % 7919, ',SKU-', id % 104729) as skus",
)
sent = spark.sparkContext.accumulator(0)


def export(partition):
    buffer = [row.asDict() for row in partition]
    payload = json.dumps({"orders": buffer})
    sent.add(len(payload))


orders.foreachPartition(export)
print("exported", rows, "orders,", sent.value, "payload bytes")
spark.stop()

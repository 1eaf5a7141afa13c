"""Reads yesterday's orders from a parquet directory that was never written: `[PATH_NOT_FOUND] Path does not exist`.

No setting creates the missing input and a retry fails the same way. Usage: missing_input.py [PATH]
"""
import sys

from pyspark.sql import SparkSession

path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/medic-spark-examples/no-such-orders/date=1970-01-01"
spark = SparkSession.builder.appName("missing-input").getOrCreate()
orders = spark.read.parquet(path)
print(orders.groupBy("customer_id").count().collect())
spark.stop()

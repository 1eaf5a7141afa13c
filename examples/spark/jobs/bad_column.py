"""Selects a column that does not exist: `[UNRESOLVED_COLUMN.WITH_SUGGESTION]`, a user_code_error.

No setting fixes it and a retry fails the same way, so medic does not retry.
"""
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("bad-column").getOrCreate()
frame = spark.range(10).selectExpr("id as order_id")
print(frame.select("customer_id").collect())
spark.stop()

"""Computes a per-order unit price in a Python UDF that divides by the quantity, which is zero on some orders.

The Python worker raises ZeroDivisionError on the first such row and the task fails (a PythonException); no setting
fixes the arithmetic and a retry fails the same way. Usage: udf_bug.py ROWS
"""
import sys

from pyspark.sql import SparkSession
from pyspark.sql.functions import udf

rows = int(sys.argv[1])


def unit_price(total, quantity):
    return total / quantity


spark = SparkSession.builder.appName("udf-bug").getOrCreate()
unit_price = udf(unit_price, "double")
orders = spark.range(0, rows, 1, 2).selectExpr("id", "cast(id % 997 as double) as total", "id % 50 as quantity")
print(orders.select(unit_price("total", "quantity").alias("price")).agg({"price": "avg"}).collect())
spark.stop()

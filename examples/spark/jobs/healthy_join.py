"""An ordinary enrichment join that succeeds with a 512 MiB driver: ROWS orders joined to 10 000 customers.

The customer table is small, so Spark broadcasts it; the result is aggregated per region. Usage: healthy_join.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("healthy-join").getOrCreate()
orders = spark.range(0, rows, 1, 2).selectExpr("id as order_id", "id % 10000 as customer_id", "id % 97 as amount")
customers = spark.range(0, 10000, 1, 1).selectExpr("id as customer_id", "concat('region-', id % 12) as region")
joined = orders.join(customers, "customer_id").groupBy("region").agg({"amount": "sum", "order_id": "count"})
print(sorted(joined.collect())[:3])
spark.stop()

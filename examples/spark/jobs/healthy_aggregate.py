"""An ordinary daily rollup that succeeds with a 512 MiB driver: ROWS orders summed per customer and per day.

Usage: healthy_aggregate.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("healthy-aggregate").getOrCreate()
spark.range(0, rows, 1, 2).selectExpr(
    "id % 5000 as customer_id", "id % 30 as day", "(id * 7919 % 10000) / 100.0 as amount"
).createOrReplaceTempView("orders")
rollup = spark.sql(
    "SELECT day, count(DISTINCT customer_id) AS customers, sum(amount) AS revenue, avg(amount) AS basket "
    "FROM orders GROUP BY day ORDER BY day"
)
print(rollup.collect()[:3])
spark.stop()

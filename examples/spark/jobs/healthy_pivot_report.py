"""An ordinary monthly revenue report that succeeds with a 512 MiB driver: ROWS orders pivoted by month per region.

The 12 month values are listed explicitly, so the pivot is one aggregation of 40 regions x 12 months; the small
result is collected. Usage: healthy_pivot_report.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("healthy-pivot-report").getOrCreate()
orders = spark.range(0, rows, 1, 4).selectExpr(
    "concat('region-', id % 40) as region", "cast(1 + abs(hash(id, 5)) % 12 as int) as month",
    "round(rand(5) * 250, 2) as amount",
)
report = orders.groupBy("region").pivot("month", list(range(1, 13))).sum("amount").orderBy("region")
rows_out = report.collect()
print(len(rows_out), "regions;", rows_out[0])
spark.stop()

"""Ranks each category's top 5 sellers by revenue with a window (`row_number` over revenue per category).

ROWS sales over 200 categories and 20 000 sellers are summed per (category, seller) and ranked within their category;
only the top five of each category (1 000 rows) are collected. Aggregation and window both spill or stream, and the
collected result is small, so this runs in a 512 MiB driver.
Usage: healthy_top_sellers.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("healthy-top-sellers").getOrCreate()
spark.range(0, rows, 1, 4).selectExpr(
    "id % 200 as category",
    "id * 7919 % 20000 as seller",
    "round(rand(9) * 250, 2) as amount",
).createOrReplaceTempView("sales")
top = spark.sql(
    "SELECT category, seller, revenue FROM ("
    "  SELECT category, seller, revenue,"
    "         row_number() OVER (PARTITION BY category ORDER BY revenue DESC, seller) AS rank"
    "  FROM (SELECT category, seller, sum(amount) AS revenue FROM sales GROUP BY category, seller)"
    ") WHERE rank <= 5"
).collect()
print(len(top), "rows;", sorted(top)[:3])
spark.stop()

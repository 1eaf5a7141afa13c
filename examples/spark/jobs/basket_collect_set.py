"""Collects the distinct shopping baskets (arrays of WIDTH product ids) seen in each of 4 store regions.

collect_set of an array column keeps every distinct basket of a region as a copied array in a hash set in the task's
heap (object hash aggregation cannot spill one key's buffer), so 4 keys hold all ROWS baskets at once. At
ROWS=1000000 and WIDTH=50 a 512 MiB and a 768 MiB driver fail (`java.lang.OutOfMemoryError: Java heap space`, exit
code 52); 1 GiB is on the edge (two runs failed, one passed); 1536 MiB succeeds. Usage: basket_collect_set.py ROWS WIDTH
"""
import sys

from pyspark.sql import SparkSession

rows, width = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("basket-collect-set").getOrCreate()
baskets = spark.range(0, rows, 1, 2).selectExpr(
    "id % 4 as region",
    f"transform(sequence(0, {width} - 1), i -> (id * 2654435761 + i * 7919) % 1000003) as basket",
)
distinct_baskets = baskets.groupBy("region").agg({"basket": "collect_set"})
print(sorted(distinct_baskets.selectExpr("region", "size(`collect_set(basket)`) as baskets").collect()))
spark.stop()

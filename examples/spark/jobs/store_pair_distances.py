"""Collects the distance between every pair of stores and warehouses (a `crossJoin`) to the driver.

STORES stores and WAREHOUSES warehouses, each with a latitude and longitude, are cross-joined and the great-circle
distance of every pair is computed; the job then collects every (store, warehouse, distance) row to the driver to
pick the nearest warehouse of each store in Python. Every task's rows come back as a serialized (compressed) task
result, about 15 bytes a row, and the driver adds up their sizes against spark.driver.maxResultSize before it keeps
them, so the collected cross product (4000 x 1500 = 6 000 000 rows, about 84 MiB) must fit under that limit.
Usage: store_pair_distances.py STORES WAREHOUSES
"""
import sys

from pyspark.sql import SparkSession

stores, warehouses = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("store-pair-distances").getOrCreate()
store = spark.range(0, stores, 1, 8).selectExpr(
    "id as store", "40 + rand(1) * 8 as s_lat", "-120 + rand(2) * 40 as s_lon"
)
warehouse = spark.range(0, warehouses, 1, 1).selectExpr(
    "id as warehouse", "40 + rand(3) * 8 as w_lat", "-120 + rand(4) * 40 as w_lon"
)
pairs = store.crossJoin(warehouse).selectExpr(
    "store",
    "warehouse",
    "6371 * 2 * asin(sqrt(pow(sin(radians(w_lat - s_lat) / 2), 2)"
    " + cos(radians(s_lat)) * cos(radians(w_lat)) * pow(sin(radians(w_lon - s_lon) / 2), 2))) as km",
)
rows = pairs.collect()
nearest = {}
for r in rows:
    if r.store not in nearest or r.km < nearest[r.store][1]:
        nearest[r.store] = (r.warehouse, r.km)
print(len(rows), "pairs;", sorted(nearest.items())[:3])
spark.stop()

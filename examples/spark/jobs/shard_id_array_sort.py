"""Sorts each shard's full list of customer ids, held as one array column, with `array_sort`.

Each of SHARDS shards carries its customers as a single unordered array of IDS bigint ids (built here with
`shuffle(sequence(...))`), and the job sorts every array with `array_sort` to read off its smallest, median and
largest id. `array_sort` on a bigint array boxes every element into a Java object array, sorts it with TimSort
(whose merge buffer is up to half the array again) and then copies the sorted result into a new array, so each
shard's array exists in the task's heap as primitive longs (the sequence, the shuffled copy, the row holding it) and
as millions of boxed Longs at once; 8 000 000 ids are 64 MB as longs and several times that boxed.
Usage: shard_id_array_sort.py SHARDS IDS
"""
import sys

from pyspark.sql import SparkSession

shards, ids = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("shard-id-array-sort").getOrCreate()
arrays = spark.range(0, shards, 1, shards).selectExpr(
    "id as shard", f"shuffle(sequence(id * {ids}, (id + 1) * {ids} - 1), 17) as customers"
)
sorted_ids = arrays.selectExpr("shard", "array_sort(customers) as customers")
print(sorted_ids.selectExpr(
    "shard", "customers[0] as smallest", f"customers[{ids // 2}] as median", "element_at(customers, -1) as largest"
).orderBy("shard").collect())
spark.stop()

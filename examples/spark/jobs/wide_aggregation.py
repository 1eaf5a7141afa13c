"""Profiles 100 merchants at once: one groupBy with many heavy aggregates per merchant.

For each of 100 merchants (fewer than the 128 keys at which Spark's object hash aggregate falls back to sorting) the
aggregation keeps a set of distinct 512-character card tokens, the list of 256-character order codes, an exact
percentile map of the amounts, an approximate-percentile sketch and an HLL sketch. Every merchant's buffers live in
the heap of the task at once. At ROWS=800000 (about 600 MB of strings) a 512 MiB driver fails in the partial
aggregation (`java.lang.OutOfMemoryError: Java heap space`, exit code 52, an executor_oom; 768 MiB fails the same way
after almost a minute of garbage collection); 1 GiB succeeds. Usage: wide_aggregation.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("wide-aggregation").getOrCreate()
spark.range(0, rows, 1, 2).selectExpr(
    "id % 100 as merchant",
    "repeat(sha2(cast(id as string), 512), 4) as card",
    "repeat(sha2(cast(-id as string), 256), 4) as code",
    "(id * 2654435761 % 1000000007) / 100.0 as amount",
).createOrReplaceTempView("orders")
profiles = spark.sql(
    "SELECT merchant, size(collect_set(card)) AS cards, size(collect_list(code)) AS codes,"
    " percentile(amount, array(0.5, 0.9, 0.99)) AS exact, percentile_approx(amount, array(0.5, 0.9, 0.99)) AS approx,"
    " approx_count_distinct(card) AS distinct_cards, avg(amount) AS mean, stddev(amount) AS sd"
    " FROM orders GROUP BY merchant"
)
print(sorted(profiles.collect())[:3])
spark.stop()

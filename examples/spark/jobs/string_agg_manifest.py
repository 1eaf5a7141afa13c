"""Builds one comma-separated manifest of every object path per storage bucket with `string_agg`.

`string_agg` (LISTAGG) gathers all of a group's strings in the task's heap and then concatenates them into a single
string value, so with only BUCKETS buckets each group's manifest is one giant string (plus the list it was built
from, and the copies made while it is shuffled and merged).
Usage: string_agg_manifest.py ROWS BUCKETS
"""
import sys

from pyspark.sql import SparkSession

rows, buckets = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("string-agg-manifest").getOrCreate()
spark.range(0, rows, 1, 4).selectExpr(
    f"concat('bucket-', id % {buckets}) as bucket",
    "concat('s3://data-lake/raw/events/date=2026-12-0', id % 7 + 1, '/part-', lpad(cast(id as string), 9, '0'),"
    " '-', substr(sha2(cast(id as string), 256), 1, 16), '.parquet') as path",
).createOrReplaceTempView("objects")
print(spark.sql(
    "SELECT bucket, length(manifest) AS manifest_chars, substr(manifest, 1, 60) AS head FROM ("
    "  SELECT bucket, string_agg(path, ',') AS manifest FROM objects GROUP BY bucket"
    ") ORDER BY bucket"
).collect())
spark.stop()

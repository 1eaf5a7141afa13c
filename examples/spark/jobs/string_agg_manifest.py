"""Builds one comma-separated manifest of every object path per storage bucket with `string_agg`.

`string_agg` (LISTAGG) gathers all of a group's strings in the task's heap and then concatenates them into a single
string value, so with only BUCKETS buckets each group's manifest is one giant string (plus the list it was built
from, and the copies made while the partial lists are shuffled and merged). At ROWS=3000000 and BUCKETS=2 (two
manifests of 123 million characters) the task runs out of heap (`java.lang.OutOfMemoryError: Java heap space`, exit
code 52, an executor_oom: in local mode the executor is a thread of the driver's JVM) with 512 MiB, 768 MiB, 1 GiB
and 1536 MiB drivers, in the partial or the final aggregation; 2 GiB succeeds. Usage: string_agg_manifest.py ROWS
BUCKETS
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

"""Extracts every error code from whole-day log blobs, one blob per host, with `regexp_extract_all`.

Each of HOSTS hosts uploads one day of logs as a single string column of LINES lines (`repeat` of a four-line
pattern, about 20 bytes a line, one line in four an `ERROR <code>` line, so 6 000 000 lines make a 120 MB blob).
`regexp_extract_all` converts the blob to a Java string for the regex engine, runs the regex over the whole of it and
returns every match as an element of one array, and the job then counts the errors and distinct codes per host. Each
host's blob, its Java string copy and the array of millions of matched strings are all in the task's heap at once.
Usage: log_blob_errors.py HOSTS LINES
"""
import sys

from pyspark.sql import SparkSession

hosts, lines = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("log-blob-errors").getOrCreate()
blobs = spark.range(0, hosts, 1, hosts).selectExpr(
    "concat('host-', id) as host",
    f"repeat(concat('INFO request ok id=', id, '\\n', 'INFO cache hit\\n', 'WARN slow disk\\n',"
    f" 'ERROR E', lpad(cast(id * 31 % 1000 as string), 4, '0'), ' upstream timeout\\n'), {lines // 4}) as blob",
)
errors = blobs.selectExpr("host", "regexp_extract_all(blob, 'ERROR (E[0-9]{4})', 1) as codes")
print(errors.selectExpr("host", "size(codes) as errors", "size(array_distinct(codes)) as distinct_codes")
      .orderBy("host").collect())
spark.stop()

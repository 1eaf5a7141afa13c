"""Counts how often each search term occurs with RDD countByValue over PARTITIONS partitions of a query log.

countByValue counts inside each partition (a Python dict per task) and sends every partition's whole dict to the
driver, which merges them. The terms are nearly all distinct (a session id is part of each logged query), so every
task returns a dict about as large as its input and the serialized results add up to the query log itself. At
ROWS=2000000 and PARTITIONS=64 (about 70 MiB of results, 1.1 MiB per task) Spark aborts the job once the results
pass the cap (`Total size of serialized results of 15 tasks (16.6 MiB) is bigger than spark.driver.maxResultSize
(16.0 MiB)`, exit code 1); 32m and 64m fail the same way, 128m succeeds. Usage: count_by_value_terms.py ROWS PARTITIONS
"""
import sys

from pyspark.sql import SparkSession

rows, partitions = int(sys.argv[1]), int(sys.argv[2])


def query(i):
    return f"q={(i * 2654435761) % 100003}&session={(i * 40503) % rows:08d}&lang=en"


spark = SparkSession.builder.appName("count-by-value-terms").getOrCreate()
counts = spark.sparkContext.range(0, rows, numSlices=partitions).map(query).countByValue()
top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]
print("distinct terms", len(counts), "top", top)
spark.stop()

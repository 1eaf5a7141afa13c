"""Indexes each partition in a Python dictionary (mapPartitions): ROWS ids, each mapped to a 64-character key.

Each of the 2 partitions builds a dictionary of ROWS/2 entries inside its Python worker.
`spark.executor.pyspark.memory` limits each Python worker's address space (PySpark sets RLIMIT_AS in the worker, in
local mode too; an idle worker already maps about 65 MB). At ROWS=2000000 a 128m limit fails the task with a Python
`MemoryError` (a `PythonException`, exit code 1); at 256m the worker runs out while reporting it and dies (`Python
worker exited unexpectedly (crashed)`); 512m succeeds. The JVM heap plays no part. Usage: python_udf_memory.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])


def index_partition(partition):
    index = {}
    for row in partition:
        index[row.id] = format(row.id * 2654435761 % 2**64, "016x") * 4
    yield len(index), sum(len(digest) for digest in index.values())


spark = SparkSession.builder.appName("python-udf-memory").getOrCreate()
print(spark.range(0, rows, 1, 2).rdd.mapPartitions(index_partition).collect())
spark.stop()

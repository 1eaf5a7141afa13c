"""Ranks rows within groups (a window function, so Spark sorts each group), one row holding a string of MB megabytes.

The sorter needs one memory page as large as that record. With `spark.memory.fraction` at 0.2, a 512 MiB driver has
about 42 MiB of execution memory, so Spark fails the task (`SparkOutOfMemoryError: [UNABLE_TO_ACQUIRE_MEMORY] Unable
to acquire 50331684 bytes of memory, got 44325533`, an execution_memory_oom); with a 1 GiB driver it has about 145 MiB and
the sort succeeds. Usage: execution_memory.py MB
"""
import sys

from pyspark.sql import SparkSession

megabytes = int(sys.argv[1])
spark = SparkSession.builder.appName("execution-memory").getOrCreate()
frame = spark.range(0, 4, 1, 2).selectExpr(
    "id", "id % 2 as k", f"repeat('x', if(id = 0, {megabytes} * 1024 * 1024, 16)) as payload"
)
ranked = frame.selectExpr(
    "id", "length(payload) as length", "row_number() over (partition by k order by payload) as rank"
)
print(ranked.collect())
spark.stop()

"""Converts a whole DataFrame to pandas with Arrow (`df.toPandas()`, spark.sql.execution.arrow.pyspark.enabled=true).

The frame has ROWS rows of an id, a 128-character digest and a 64-character code; toPandas gathers every Arrow batch
in the driver's JVM before handing them to Python. At ROWS=2000000 (about 400 MB of Arrow data) a 512 MiB driver
runs out of heap while the tasks serialize their Arrow batches (`java.lang.OutOfMemoryError: Java heap space`, exit
code 52); 768 MiB and 1 GiB lose the results while fetching them into the driver (`TaskResultLost (result lost from
block manager)`, an OutOfMemoryError in the log, exit code 1); 1536 MiB succeeds. Usage: to_pandas.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("to-pandas").getOrCreate()
frame = spark.range(0, rows, 1, 4).selectExpr(
    "id", "sha2(cast(id as string), 512) as digest", "sha2(cast(-id as string), 256) as code"
)
pandas_frame = frame.toPandas()
print("rows", len(pandas_frame), "bytes", int(pandas_frame.memory_usage(deep=True).sum()))
spark.stop()

"""Converts a customer table to pandas without Arrow (spark.sql.execution.arrow.pyspark.enabled=false, set by the job).

Without Arrow, toPandas() is a collect(): every row (an id, a 64-character e-mail hash, a segment, a value and a
256-character preferences string) is gathered in the driver's JVM and then pickled to Python row by row. At
ROWS=1000000 (about 350 MB of strings) a 512 MiB driver runs out of heap (`java.lang.OutOfMemoryError: Java heap
space`, exit code 52); 768 MiB and 1 GiB lose the results while fetching them (`TaskResultLost (result lost from
block manager)`, exit code 1); 1536 MiB succeeds. Usage: to_pandas_rows.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("to-pandas-rows").getOrCreate()
spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "false")
customers = spark.range(0, rows, 1, 4).selectExpr(
    "id as customer", "sha2(cast(id as string), 256) as email_hash", "concat('segment-', id % 17) as segment",
    "cast((id * 2654435761 % 1000003) / 100 as double) as lifetime_value",
    "concat(sha2(cast(id as string), 512), sha2(cast(-id as string), 512)) as preferences",
)
frame = customers.toPandas()
print(frame.groupby("segment")["lifetime_value"].sum().head(3), len(frame))
spark.stop()

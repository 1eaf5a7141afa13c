"""Collects about 480 MB of rows (ROWS rows of about 2 700 characters) into the driver.

With a 512 MiB driver the JVM runs out of heap in collect() (`Py4JJavaError ... : java.lang.OutOfMemoryError: Java
heap space`, a driver_oom); with 1 GiB it fits. Usage: collect_to_driver.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("collect-to-driver").getOrCreate()
frame = spark.range(rows).selectExpr("id", "repeat(cast(id as string), 500) as pad")
print("collected", len(frame.collect()), "rows")
spark.stop()

"""Builds a weekly load profile per meter (one column per 15-minute slot of the week) and converts it to pandas.

The readings are pivoted on the slot with the 672 slot values listed explicitly, so the result has one row per meter
and 673 columns (mostly null: each meter reports in only a few slots); `toPandas()` with Arrow (Spark 4's default)
gathers every Arrow batch of that wide frame in the driver, where a null float64 cell costs as much as a filled one.
At ROWS=2000000 and METERS=40000 (about 215 MB of Arrow data) a 512 MiB driver runs out of heap while the tasks
serialize their Arrow batches (`java.lang.OutOfMemoryError: Java heap space`, exit code 52); 768 MiB fails with exit
52 or loses the results (`TaskResultLost (result lost from block manager)`, exit code 1); 1 GiB is on the edge (one
run failed with TaskResultLost, one passed, one ran out of heap in the task-result-getter thread and hung until it
was killed); 1536 MiB succeeds. Usage: pivot_week_profile.py ROWS METERS
"""
import sys

from pyspark.sql import SparkSession

rows, meters = int(sys.argv[1]), int(sys.argv[2])
slots = 7 * 24 * 4
spark = SparkSession.builder.appName("pivot-week-profile").getOrCreate()
readings = spark.range(0, rows, 1, 4).selectExpr(
    f"id % {meters} as meter", f"cast(abs(hash(id, 17)) % {slots} as int) as slot", "rand(11) * 3.5 as kwh"
)
profile = readings.groupBy("meter").pivot("slot", list(range(slots))).avg("kwh")
frame = profile.toPandas()
print(frame.shape, float(frame.drop(columns="meter").mean().mean()))
spark.stop()

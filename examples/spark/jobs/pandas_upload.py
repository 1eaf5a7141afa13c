"""Uploads a pandas DataFrame built in the driver (a day of sensor readings) to Spark and aggregates it per sensor.

`spark.createDataFrame(pandas_frame)` with Arrow (Spark 4's default) slices the frame into Arrow record batches and
hands them to the driver's JVM, which reads every batch into its heap as the partitions of the new DataFrame. The
frame has ROWS readings of a sensor id, a timestamp, 4 float64 measurements and a STATUS_CHARS-character status
text; the job turns off the silent fallback to the (much slower) pickled upload. At ROWS=3000000 and
STATUS_CHARS=128 (about 540 MB of Arrow data) a 512 MiB driver fails in the upload itself (`Py4JJavaError: An error
occurred while calling z:org.apache.spark.sql.api.python.PythonSQLUtils.readArrowStreamFromFile. / :
java.lang.OutOfMemoryError: Java heap space`, exit code 1, a driver_oom); 768 MiB succeeds.
Usage: pandas_upload.py ROWS STATUS_CHARS
"""
import sys

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession

rows, status_chars = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(42)
readings = pd.DataFrame({
    "sensor": rng.integers(0, 5000, rows),
    "ts": pd.Timestamp("2026-12-01") + pd.to_timedelta(rng.integers(0, 86400, rows), unit="s"),
    "temperature": rng.normal(20, 5, rows),
    "humidity": rng.uniform(0, 100, rows),
    "pressure": rng.normal(1013, 10, rows),
    "voltage": rng.normal(3.3, 0.1, rows),
})
codes = np.array([(format(i * 2654435761 % 2**64, "016x") * (status_chars // 16 + 1))[:status_chars]
                  for i in range(997)], dtype=object)
readings["status"] = codes[rng.integers(0, 997, rows)]
spark = SparkSession.builder.appName("pandas-upload").getOrCreate()
# No silent fallback to the (much slower) pickled path if the Arrow upload fails.
spark.conf.set("spark.sql.execution.arrow.pyspark.fallback.enabled", "false")
frame = spark.createDataFrame(readings)
print(frame.groupBy("sensor").agg({"temperature": "avg", "voltage": "min"}).orderBy("sensor").limit(3).collect())
spark.stop()

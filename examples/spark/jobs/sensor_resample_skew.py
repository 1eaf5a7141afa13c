"""Resamples each sensor's readings to one-second buckets with `groupBy(...).applyInPandas`, where one sensor is hot.

SENSORS sensors report ROWS readings in all, but sensor 0 reports HOT_SHARE of them. `applyInPandas` hands each
group to the Python worker as one pandas DataFrame (all of the group's Arrow batches are concatenated first), and
the function then sorts it, builds a timestamp index and resamples it, making several more copies of the group. The
hot sensor's frame and its copies must fit in the Python worker's memory at once, which
spark.executor.pyspark.memory caps.
Usage: sensor_resample_skew.py ROWS SENSORS HOT_SHARE
"""
import sys

import pandas as pd
from pyspark.sql import SparkSession

rows, sensors, hot_share = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
spark = SparkSession.builder.appName("sensor-resample-skew").getOrCreate()
readings = spark.range(0, rows, 1, 4).selectExpr(
    f"if(rand(5) < {hot_share}, 0, 1 + cast(rand(6) * {sensors - 1} as int)) as sensor",
    "id * 37 % 86400000 as ts_ms",
    "rand(7) * 100 as value",
    "rand(8) * 10 as noise",
)


def resample(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values("ts_ms")
    frame.index = pd.to_datetime(frame["ts_ms"], unit="ms")
    per_second = frame[["value", "noise"]].resample("1s").mean().dropna()
    return pd.DataFrame({
        "sensor": [int(frame["sensor"].iloc[0])],
        "seconds": [len(per_second)],
        "mean": [float(per_second["value"].mean())],
    })


result = readings.groupBy("sensor").applyInPandas(resample, "sensor long, seconds long, mean double")
print(result.orderBy("sensor").limit(3).collect())
spark.stop()

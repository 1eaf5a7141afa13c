"""Expands every subscription into one row per day of its billing horizon with mapInPandas.

Each input batch of subscriptions becomes one pandas frame of (subscriptions x DAYS) accrual rows, which pandas
consolidates and filters (more copies) and PySpark converts to Arrow; the result is summed per plan. With ROWS=20000
and DAYS=730 each of the two Python workers builds one frame of 7.3 million rows. `spark.executor.pyspark.memory`
(each worker's RLIMIT_AS, applied in local mode too; pandas and pyarrow alone map about 350 MB) is the knob: 512m,
768m and 1g fail with a numpy `MemoryError` (`_ArrayMemoryError: Unable to allocate ...`, a `PythonException`, exit
code 1); 1536m succeeds. (With ROWS=100000 and DAYS=365, ten smaller frames per worker, the outcome was not monotonic:
1536m and 3g passed but 2g failed twice; do not use that size.) Usage: map_in_pandas_calendar.py ROWS DAYS
"""
import sys

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession

rows, days = int(sys.argv[1]), int(sys.argv[2])


def daily_accruals(batches):
    for subs in batches:
        # Repeat each subscription DAYS times: one row per (subscription, day) with its accrued revenue that day.
        n = len(subs)
        day = np.tile(np.arange(days, dtype=np.int64), n)
        sub = np.repeat(subs["subscription"].to_numpy(), days)
        daily = np.repeat(subs["monthly_fee"].to_numpy() / 30.0, days)
        plan = np.repeat(subs["plan"].to_numpy(), days)
        frame = pd.DataFrame({"subscription": sub, "day": day, "plan": plan, "accrued": daily * (day + 1)})
        yield frame[frame["accrued"] > 0]


spark = SparkSession.builder.appName("map-in-pandas-calendar").getOrCreate()
subscriptions = spark.range(0, rows, 1, 2).selectExpr(
    "id as subscription", "cast(5 + (id * 2654435761 % 9973) / 100 as double) as monthly_fee", "id % 7 as plan"
)
accruals = subscriptions.mapInPandas(daily_accruals, "subscription long, day long, plan long, accrued double")
print(sorted(accruals.groupBy("plan").agg({"accrued": "sum", "day": "count"}).collect()))
spark.stop()

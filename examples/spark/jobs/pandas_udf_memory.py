"""Builds lag features per store with applyInPandas: each store's group becomes one pandas frame of LAGS columns.

There are two stores, so each Python worker receives ROWS/2 sales as one pandas DataFrame and builds a frame of
ROWS/2 x LAGS float64 lag columns (plus the copies pandas makes while assembling it) before reducing it to one row.
`spark.executor.pyspark.memory` limits each Python worker's address space (RLIMIT_AS, applied in local mode too);
importing pandas and pyarrow alone maps about 350 MB, so limits below about 400m fail before any work is done. At
ROWS=2000000 and LAGS=32 (about 250 MB of lag columns per store) 512m and 768m fail with a numpy `MemoryError`
(`_ArrayMemoryError: Unable to allocate ...`, a `PythonException`, exit code 1); 1g succeeds.
Usage: pandas_udf_memory.py ROWS LAGS
"""
import sys

import pandas as pd
from pyspark.sql import SparkSession

rows, lags = int(sys.argv[1]), int(sys.argv[2])


def lag_features(sales: pd.DataFrame) -> pd.DataFrame:
    sales = sales.sort_values("day")
    features = pd.DataFrame({f"lag_{i}": sales["amount"].shift(i) for i in range(1, lags + 1)})
    features["target"] = sales["amount"].to_numpy()
    correlation = features.corr()["target"].drop("target")
    return pd.DataFrame({"store": [int(sales["store"].iloc[0])], "best_lag": [correlation.abs().idxmax()],
                         "rows": [len(features)]})


spark = SparkSession.builder.appName("pandas-udf-memory").getOrCreate()
sales = spark.range(0, rows, 1, 2).selectExpr(
    "id % 2 as store", "id div 2 as day", "cast((id * 2654435761 % 1000003) as double) as amount"
)
result = sales.groupBy("store").applyInPandas(lag_features, "store long, best_lag string, rows long")
print(sorted(result.collect()))
spark.stop()

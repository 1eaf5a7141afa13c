"""Estimates a 5% value-at-risk per position with a scalar pandas UDF that simulates PATHS price paths per row.

The UDF (Series -> Series) receives Arrow batches of 10 000 positions and builds several (batch x PATHS) float64
matrices (shocks, simulated prices, losses, and the copy np.quantile sorts) before reducing each row to one number.
`spark.executor.pyspark.memory` limits each Python worker's address space (RLIMIT_AS, applied in local mode too), and
importing pandas and pyarrow alone maps about 350 MB. At ROWS=200000 and PATHS=1000 (76 MiB per matrix) 512m fails
with a numpy `MemoryError` (`_ArrayMemoryError: Unable to allocate 76.3 MiB for an array with shape (10000, 1000)`,
a `PythonException`, exit code 1); 768m succeeds. Usage: scalar_pandas_udf.py ROWS PATHS
"""
import sys

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql.functions import pandas_udf

rows, paths = int(sys.argv[1]), int(sys.argv[2])


def value_at_risk(price: pd.Series, volatility: pd.Series) -> pd.Series:
    # One (batch x PATHS) matrix of simulated one-day returns, then the simulated prices and their losses.
    rng = np.random.default_rng(int(price.iloc[0] * 1000) % 2**32)
    shocks = rng.standard_normal((len(price), paths))
    prices = price.to_numpy()[:, None] * np.exp(volatility.to_numpy()[:, None] * shocks)
    losses = price.to_numpy()[:, None] - prices
    return pd.Series(np.quantile(losses, 0.95, axis=1))


spark = SparkSession.builder.appName("scalar-pandas-udf").getOrCreate()
value_at_risk = pandas_udf(value_at_risk, "double")
positions = spark.range(0, rows, 1, 2).selectExpr(
    "id as position", "cast(10 + (id * 2654435761 % 100003) / 100 as double) as price",
    "cast(0.01 + (id % 40) / 1000 as double) as volatility"
)
risk = positions.select("position", value_at_risk("price", "volatility").alias("var95"))
print(risk.agg({"var95": "sum", "position": "count"}).collect())
spark.stop()

"""Scores meter readings with a scalar pandas UDF that z-normalises each batch after dropping outliers.

The UDF filters the outliers out of the batch before normalising, so it returns fewer values than it was given (a
bug: a scalar pandas UDF must return exactly one value per input row). Spark rejects the first batch that contains
an outlier, in the Python worker (`PySparkRuntimeError: [RESULT_ROWS_MISMATCH] The number of output rows (9999) must
match the number of input rows (10000).`, a `PythonException`, exit code 1); no memory setting or retry changes that.
Usage: pandas_udf_outliers.py ROWS
"""
import sys

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql.functions import pandas_udf

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("pandas-udf-outliers").getOrCreate()


@pandas_udf("double")
def zscore(kwh: pd.Series) -> pd.Series:
    kept = kwh[kwh < 1000.0]  # readings of 1000 kWh or more are meter faults
    return (kept - kept.mean()) / kept.std()


readings = spark.range(0, rows, 1, 2).selectExpr(
    "id as meter", "if(id % 99991 = 12345, 5000.0, rand(3) * 40.0) as kwh"
)
print(readings.select("meter", zscore("kwh").alias("score")).where("abs(score) > 1.5").count())
spark.stop()

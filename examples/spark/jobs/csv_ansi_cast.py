"""Loads a day's payments CSV export and casts the amount column to a decimal, where one row holds "N/A".

The job writes the export itself (ROWS payments, read as text with a header) to a temporary folder. With ANSI mode
(Spark 4's default) the cast of the hand-entered "N/A" fails the task (`[CAST_INVALID_INPUT] The value 'N/A' of the
type "STRING" cannot be cast to "DECIMAL(12,2)" because it is malformed ... SQLSTATE: 22018`, a
NumberFormatException, exit code 1); it is a data error, and no memory setting or retry changes it.
Usage: csv_ansi_cast.py ROWS
"""
import os
import shutil
import sys
import tempfile

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("csv-ansi-cast").getOrCreate()
folder = tempfile.mkdtemp(prefix="csv-ansi-cast-")
try:
    # The export, as the upstream system writes it: every amount is text, and one row was entered by hand.
    with open(os.path.join(folder, "payments.csv"), "w") as export:
        export.write("payment_id,merchant,amount\n")
        for i in range(rows):
            amount = "N/A" if i == rows // 2 else f"{(i * 2654435761 % 1000003) / 100:.2f}"
            export.write(f"{i},merchant-{i % 250},{amount}\n")
    payments = spark.read.option("header", "true").csv(folder)
    amounts = payments.selectExpr("merchant", "cast(amount as decimal(12, 2)) as amount")
    totals = amounts.groupBy("merchant").sum("amount")
    print(sorted(totals.collect())[:3])
finally:
    shutil.rmtree(folder, ignore_errors=True)
spark.stop()

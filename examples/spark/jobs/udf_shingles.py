"""Estimates near-duplicate documents by counting the distinct character shingles of each document in a Python UDF.

The UDF (a plain Python UDF, Arrow-optimized by Spark 4.3's default) builds the list of every K-character shingle of
the document and then the set of them; a document of LENGTH characters gives LENGTH - K + 1 small Python strings
held at once in the Python worker. There are DOCS documents of LENGTH characters each, generated from a fixed seed.
`spark.executor.pyspark.memory` limits each Python worker's address space (RLIMIT_AS, applied in local mode too). At
DOCS=4 and LENGTH=2000000 256m and 512m fail while the list is built (`MemoryError`, a `PythonException`, exit code
1); 1g succeeds. Usage: udf_shingles.py DOCS LENGTH
"""
import sys

from pyspark.sql import SparkSession
from pyspark.sql.functions import udf

docs, length = int(sys.argv[1]), int(sys.argv[2])
K = 9


def distinct_shingles(text):
    shingles = [text[i:i + K] for i in range(len(text) - K + 1)]
    return len(set(shingles))


spark = SparkSession.builder.appName("udf-shingles").getOrCreate()
shingle_count = udf(distinct_shingles, "long")
documents = spark.range(0, docs, 1, 2).selectExpr(
    "id", f"substr(repeat(concat_ws(' ', transform(sequence(1, 4096), i -> sha2(cast(i * (id + 1) as string), 224))),"
    f" cast(ceil({length} / (4096 * 57.0)) as int)), 1, {length}) as text"
)
print(documents.select("id", shingle_count("text").alias("shingles")).orderBy("id").collect())
spark.stop()

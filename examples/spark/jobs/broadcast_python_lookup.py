"""Enriches click events from a product catalogue shipped to the Python workers with `sparkContext.broadcast`.

The catalogue is a Python dict of PRODUCTS products (a 96-character description each), built in the driver and
broadcast; every Python worker that runs the lookup (an RDD mapPartitions) unpickles the whole dict into its own
memory before handling its first click. `spark.executor.pyspark.memory` limits each Python worker's address space
(RLIMIT_AS, applied in local mode too). At ROWS=400000 and PRODUCTS=1000000 a 256m limit fails while the worker
unpickles the broadcast (`MemoryError` in `pickle.load` of pyspark's broadcast.py, a `PythonException`, exit code 1);
512m succeeds. The JVM heap plays no part. Usage: broadcast_python_lookup.py ROWS PRODUCTS
"""
import sys

from pyspark.sql import SparkSession

rows, products = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("broadcast-python-lookup").getOrCreate()
sc = spark.sparkContext
catalogue = sc.broadcast({
    p: (f"category-{p % 311}", format(p * 2654435761 % 2**64, "016x") * 6) for p in range(products)
})


def enrich(clicks):
    lookup = catalogue.value
    for click in clicks:
        category, description = lookup[(click * 7919) % products]
        yield category, len(description)


clicks = sc.range(0, rows, numSlices=4).mapPartitions(enrich)
print(sorted(clicks.reduceByKey(lambda a, b: a + b).collect())[:3])
spark.stop()

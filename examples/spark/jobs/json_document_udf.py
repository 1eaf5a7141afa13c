"""Archives each order as a zlib-compressed, pretty-printed JSON document built in a Python UDF.

Each order has ITEMS line items; the UDF (a pickled, non-Arrow Python UDF) builds them as a list of dicts and renders
them with json.dumps(indent=2), whose pure-Python encoder holds every chunk of the document before joining them. The
compressed result is small, so the JVM is not loaded; the Python worker's peak is per order (about 1.7 KB per line
item). At ROWS=4 and ITEMS=250000 `spark.executor.pyspark.memory` (the workers' RLIMIT_AS) of 256m and 384m fails
with a Python `MemoryError` (a `PythonException`, exit code 1); 512m succeeds. Usage: json_document_udf.py ROWS ITEMS
"""
import json
import sys
import zlib

from pyspark.sql import SparkSession
from pyspark.sql.functions import udf

rows, items = int(sys.argv[1]), int(sys.argv[2])


def archive(order_id, customer):
    lines = [{"line": i, "sku": f"SKU-{(order_id * 31 + i) % 100003:06d}", "quantity": 1 + (order_id + i) % 5,
              "unit_price": round(((order_id * 2654435761 + i) % 99991) / 100.0, 2), "tags": ["promo", "retail"]}
             for i in range(items)]
    document = json.dumps({"order": order_id, "customer": customer, "lines": lines}, indent=2)
    return zlib.compress(document.encode("utf-8"))


spark = SparkSession.builder.appName("json-document-udf").getOrCreate()
archive = udf(archive, "binary", useArrow=False)
orders = spark.range(0, rows, 1, 2).selectExpr("id as order_id", "concat('customer-', id % 5000) as customer")
archived = orders.select("order_id", archive("order_id", "customer").alias("document"))
print(archived.selectExpr("sum(length(document)) as compressed_bytes", "count(*) as orders").collect())
spark.stop()

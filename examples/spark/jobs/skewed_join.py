"""Joins orders to customers and gathers every order's receipt per customer, where one customer is hot.

90% of the ROWS orders belong to customer 0 (say, the guest-checkout account). The join itself is fine (the customer
table is small and broadcast), but the per-customer `collect_list` puts all of the hot customer's 128-character
receipts into one list in one task. At ROWS=2000000 (1.8 million receipts for the hot customer) the task runs out
of heap (`java.lang.OutOfMemoryError: Java heap space`, exit code 52, an executor_oom) with 512 MiB, 1 GiB and 2 GiB
drivers; 3 GiB succeeds. (At ROWS=3000000 a 512 MiB driver did not exit: the OutOfMemoryError recurred in the
JVM's own handler threads and the run hung until it was killed after 240 s.) Usage: skewed_join.py ROWS
"""
import sys

from pyspark.sql import SparkSession

rows = int(sys.argv[1])
spark = SparkSession.builder.appName("skewed-join").getOrCreate()
orders = spark.range(0, rows, 1, 2).selectExpr(
    "id as order_id", "if(id % 10 = 0, id % 10000, 0) as customer_id", "sha2(cast(id as string), 512) as receipt"
)
customers = spark.range(0, 10000, 1, 1).selectExpr("id as customer_id", "concat('tier-', id % 3) as tier")
per_customer = orders.join(customers, "customer_id").groupBy("customer_id", "tier").agg({"receipt": "collect_list"})
print(per_customer.selectExpr("max(size(`collect_list(receipt)`)) as largest", "count(*) as customers").collect())
spark.stop()

"""Explodes each document's array of attachments into one wide row per attachment and sorts the rows by content hash.

DOCS documents each carry 4 attachments of MB megabytes (an array column); explode turns them into 4 * DOCS rows
whose single string column is MB megabytes wide, and the global sort (by sha2 of the content) shuffles and sorts
those wide records. At DOCS=4 and MB=32 (16 rows of 32 MiB) the heap runs out while the rows are exploded and copied
(`java.lang.OutOfMemoryError: Java heap space`, exit code 52, an executor_oom) with 512 MiB and 768 MiB drivers;
1 GiB is on the edge (one run failed, one passed); 1536 MiB succeeds. Usage: explode_sort.py DOCS MB
"""
import sys

from pyspark.sql import SparkSession
from pyspark.sql.functions import sha2

docs, megabytes = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("explode-sort").getOrCreate()
documents = spark.range(0, docs, 1, 2).selectExpr(
    "id as doc_id",
    "transform(sequence(1, 4), "
    f"i -> repeat(sha2(cast(id * 4 + i as string), 256), {megabytes} * 16384)) as attachments",
)
rows = documents.selectExpr("doc_id", "explode(attachments) as attachment").orderBy(sha2("attachment", 256))
print(rows.selectExpr("doc_id", "length(attachment) as length").collect()[:4])
spark.stop()

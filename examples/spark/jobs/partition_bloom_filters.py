"""Builds one Bloom filter of customer ids per partition in Python and collects the filters to the driver as an index.

Every task returns one KIB-kibibyte filter (3 hash functions per id), which the driver keeps to prune partitions
later; no task result is large, but together they exceed the cap on the total size of serialized task results. At
ROWS=2400000, PARTITIONS=96 and KIB=128 (12 MiB of filters) Spark aborts the job once the results pass the cap
(`Total size of serialized results of 32 tasks (4.0 MiB) is bigger than spark.driver.maxResultSize (4.0 MiB)`, exit
code 1); 8m fails the same way, 16m succeeds. Usage: partition_bloom_filters.py ROWS PARTITIONS KIB
"""
import hashlib
import sys

from pyspark.sql import SparkSession

rows, partitions, kib = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
bits = kib * 1024 * 8


def bloom(ids):
    # A KIB-kibibyte bit array with 3 hash functions per id.
    filter_bits = bytearray(bits // 8)
    for customer in ids:
        digest = hashlib.blake2b(str(customer).encode(), digest_size=12).digest()
        for k in range(3):
            position = int.from_bytes(digest[4 * k:4 * k + 4], "little") % bits
            filter_bits[position // 8] |= 1 << (position % 8)
    yield bytes(filter_bits)


spark = SparkSession.builder.appName("partition-bloom-filters").getOrCreate()
ids = spark.sparkContext.range(0, rows, numSlices=partitions)
filters = ids.mapPartitions(bloom).collect()
# A pruning index: one filter per partition, kept by the driver to skip partitions that cannot hold a customer.
fill = [sum(bin(byte).count("1") for byte in part[:4096]) / (4096 * 8) for part in filters]
print("collected", len(filters), "filters of", kib, "KiB; mean fill", round(sum(fill) / len(fill), 3))
spark.stop()

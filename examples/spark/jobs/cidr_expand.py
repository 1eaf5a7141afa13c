"""Expands allow-listed IPv4 CIDR blocks into single addresses with `sequence` and counts the addresses per /16.

`explode(sequence(first, last))` first builds the whole array of a block's addresses as one array value in the
task's heap (8 bytes per address, plus the copies made while it is written and exploded), before any row is
produced. There are BLOCKS blocks, one with a /PREFIX mask and the others small (/24). At BLOCKS=8 and PREFIX=6
(67 million addresses, a 512 MiB array) the task runs out of heap in the generated code of the explode
(`java.lang.OutOfMemoryError: Java heap space`, exit code 52, an executor_oom: in local mode the executor is a thread
of the driver's JVM) with 512 MiB, 768 MiB and 1 GiB drivers; 1536 MiB succeeds. Usage: cidr_expand.py BLOCKS PREFIX
"""
import sys

from pyspark.sql import SparkSession

blocks, prefix = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("cidr-expand").getOrCreate()
cidrs = spark.range(0, blocks, 1, 2).selectExpr(
    "id as block",
    f"if(id = 0, {prefix}, 24) as mask",
    "cast(((10 + id) * 16777216) as bigint) as network",
)
addresses = cidrs.selectExpr("block", "explode(sequence(network, network + shiftleft(1L, 32 - mask) - 1)) as address")
print(addresses.groupBy((addresses.address / 65536).cast("long").alias("slash16")).count()
      .agg({"count": "sum", "slash16": "count"}).collect())
spark.stop()

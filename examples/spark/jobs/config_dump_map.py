"""Parses device configuration dumps (`key=value;key=value;...` strings) into maps with `str_to_map`.

Each of DEVICES devices reports one dump; device 0 is a gateway whose dump has KEYS entries (about 27 bytes each,
so 4 000 000 keys make a 108 MB string), the others have 50. The dumps are built in the task with `concat_ws` over
an array of KEYS strings. `str_to_map` then splits the whole dump into an array of entries and each entry into key
and value strings, and builds the map in the task's heap (hashing the keys to check for duplicates) before the job
reads the map's size and a few settings, so the gateway's dump, its pieces and its map must fit in the heap at once.
Usage: config_dump_map.py DEVICES KEYS
"""
import sys

from pyspark.sql import SparkSession

devices, keys = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("config-dump-map").getOrCreate()
dumps = spark.range(0, devices, 1, 2).selectExpr(
    "id as device",
    f"concat_ws(';', transform(sequence(1, if(id = 0, {keys}, 50)),"
    " k -> concat('param.', lpad(cast(k as string), 9, '0'), '=', cast(k * 2654435761 % 1000000007 as string))))"
    " as dump",
)
settings = dumps.selectExpr("device", "str_to_map(dump, ';', '=') as config")
print(settings.selectExpr(
    "device", "size(config) as entries", "config['param.000000001'] as first", "length(config['param.000000050']) as l"
).orderBy("device").collect())
spark.stop()

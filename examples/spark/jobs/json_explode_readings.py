"""Ingests one JSON document per device and day (every reading of the day in one array) with from_json and explode.

The job writes the export itself (DOCS lines of READINGS readings each, about 40 bytes of JSON per reading) to a
temporary folder, reads it with spark.read.text, parses each line with from_json and explodes the readings to
average them per device. Parsing materialises a document's whole array of structs in the task's heap. At DOCS=4 and
READINGS=600000 (27 MB per line) a 512 MiB driver fails (`java.lang.OutOfMemoryError: Java heap space`, exit code
52); 768 MiB succeeds. (At READINGS=1000000, 512m and 768m fail and 1g passes, in 70-80 s.)
Usage: json_explode_readings.py DOCS READINGS
"""
import json
import os
import shutil
import sys
import tempfile

from pyspark.sql import SparkSession

docs, readings = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("json-explode-readings").getOrCreate()
folder = tempfile.mkdtemp(prefix="json-explode-readings-")
try:
    # The export: DOCS lines, each a device's day as one JSON document of READINGS readings.
    with open(os.path.join(folder, "export.jsonl"), "w") as export:
        for device in range(docs):
            day = [{"t": i, "temp": round(15 + (device * 7 + i * 13) % 200 / 10, 1),
                    "status": "ok" if i % 97 else "warn"} for i in range(readings)]
            export.write(json.dumps({"device": f"dev-{device:04d}", "day": "2026-12-02", "readings": day}) + "\n")
    schema = "device string, day string, readings array<struct<t: bigint, temp: double, status: string>>"
    lines = spark.read.text(folder).repartition(2)
    parsed = lines.selectExpr(f"from_json(value, '{schema}') as doc").selectExpr(
        "doc.device", "explode(doc.readings) as r"
    )
    summary = parsed.groupBy("device").agg({"r.temp": "avg", "r.t": "count"})
    print(sorted(summary.collect())[:3])
finally:
    shutil.rmtree(folder, ignore_errors=True)
spark.stop()

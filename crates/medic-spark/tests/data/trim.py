#!/usr/bin/env python3
"""Trims a real Spark event log into a small test fixture: drops the environment dump (machine paths, ~100 KB),
plan descriptions and per-frame stack traces, and empties accumulables. Every event medic reads keeps its fields.

    zstdcat events_1_app.zstd | python3 trim.py > trimmed.jsonl      # then `zstd -q trimmed.jsonl -o ...zstd`

The fixtures: `rolling/` is the execution-memory failure (UNABLE_TO_ACQUIRE_MEMORY) of Spark 4.3.0 here, its
trimmed events split in two zstd files as a rolling log; `plain/` is a driver out of heap in collect(), written with
`spark.eventLog.rolling.enabled=false` and `spark.eventLog.compress=false`. `broken/local-*.inprogress` is the plain
one with a mistyped and a non-JSON line added after line 8; `broken/eventlog_v2_*` is the local-mode executor OOM
(exit 52), trimmed, compressed four lines per zstd frame (as Spark's flushes make frames) and cut at two thirds.
"""
import json
import sys

DROPPED_EVENTS = {"SparkListenerEnvironmentUpdate", "SparkListenerResourceProfileAdded"}


def trim(value):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("Stack Trace", "physicalPlanDescription", "details", "description", "Properties"):
                continue
            if key == "Accumulables":
                out[key] = []
            elif key == "Full Stack Trace" and isinstance(item, str):
                lines = item.splitlines()
                kept = lines[:3] + [line for line in lines[3:] if line.startswith("Caused by:")]
                out[key] = "\n".join(kept)
            elif key in ("errorMessage", "Message") and isinstance(item, str):
                lines = item.splitlines()
                kept = [l for l in lines if not l.lstrip().startswith("at ")][:12]
                out[key] = "\n".join(kept[:1] + ["\tat org.apache.spark.Example.frame(Example.scala:1)"] + kept[1:])
            else:
                out[key] = trim(item)
        return out
    if isinstance(value, list):
        return [trim(item) for item in value]
    return value


for line in sys.stdin:
    event = json.loads(line)
    if event["Event"].rsplit(".", 1)[-1] in DROPPED_EVENTS:
        continue
    print(json.dumps(trim(event), separators=(",", ":")))

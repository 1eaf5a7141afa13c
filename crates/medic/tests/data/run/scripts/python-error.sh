#!/bin/sh
# Fails as a PySpark job with a bug in its own code.
cat <<'LOG'
Traceback (most recent call last):
  File "/jobs/rollup.py", line 3, in <module>
    df = spark.table(source_table)
NameError: name 'source_table' is not defined
LOG
exit 1

#!/usr/bin/env bash
# Installs a complete Spark for the real-Spark tests and examples: PySpark from PyPI (it bundles Spark's jars and
# `spark-submit`) in a Python virtual environment under .cache/spark/ (git-ignored). Idempotent: a stamp naming
# the version is written last, so a second run returns at once and an interrupted one starts over. Prints the
# environment's bin folder (what medic's Spark runner looks for) on standard output; progress goes to stderr.
#
# Needs python3 (with venv) and Java 17 or newer. MEDIC_SPARK_HOME overrides where the environment goes (medic's
# Spark runner looks there first, then in this repository's .cache/spark/venv, then on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

PYSPARK_VERSION=4.3.0
# pandas and pyarrow: PySpark's own "sql" extra, which pandas UDFs and toPandas() need (the Spark benchmark's jobs
# use both). Pinned, so that every machine runs the same Python side.
PYTHON_EXTRAS=(pandas==2.3.3 pyarrow==21.0.0)
venv="${MEDIC_SPARK_HOME:-$PWD/.cache/spark/venv}"
stamp="$venv/.medic-pyspark-$PYSPARK_VERSION-$(IFS=-; echo "${PYTHON_EXTRAS[*]}" | sed "s/==/-/g")"

if [ -f "$stamp" ]; then
  echo "$venv/bin"
  exit 0
fi

for tool in python3 java; do
  if ! command -v "$tool" >/dev/null; then
    echo "install-spark: \`$tool\` is not on PATH; Spark needs python3 (with venv) and Java 17 or newer" >&2
    exit 1
  fi
done

started=$(date +%s)
echo "install-spark: installing pyspark $PYSPARK_VERSION into $venv (a ~500 MB download and a ~800 MB folder)" >&2
# Whatever is there without a stamp is a broken or older install: start over.
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --no-input "pyspark==$PYSPARK_VERSION" "${PYTHON_EXTRAS[@]}" >&2
# A Spark that cannot start is not installed. PySpark's spark-submit finds its Spark through the `python` on PATH.
PATH="$venv/bin:$PATH" spark-submit --version >/dev/null 2>&1 || {
  echo "install-spark: $venv/bin/spark-submit --version failed (is Java 17+ installed?)" >&2
  exit 1
}
touch "$stamp"
echo "install-spark: done in $(($(date +%s) - started)) s" >&2
echo "$venv/bin"

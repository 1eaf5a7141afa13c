#!/bin/sh
# Succeeds, telling what it was run with: its folder, its environment and its arguments (one per line).
echo "cwd=$(pwd)"
echo "job=$MEDIC_JOB workflow=$MEDIC_WORKFLOW attempt=$MEDIC_ATTEMPT"
for arg in "$@"; do
  echo "arg=$arg"
done
echo "a line on standard error" >&2

#!/usr/bin/env bash
# The fault campaign at length: every target of crates/medic/tests/faults.rs with CASES cases each (default
# 20000) from SEED (default: a new one, printed, so that a failure can be replayed), in release. CI runs the same
# targets with 64 cases each from a fixed seed, as part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/medic/target}"
cases="${1:-20000}"
seed="${2:-$(date +%s)}"
echo "seed $seed (replay: scripts/fuzz.sh $cases $seed)"
targets=$(sed -n 's/^    fn \([a-z_]*\)(.* in .*/\1/p' crates/medic/tests/faults.rs)
cargo test --release --locked -p medic --test faults --no-run
for target in $targets; do
  started=$(date +%s)
  PROPTEST_CASES="$cases" PROPTEST_RNG_SEED="$seed" cargo test --release --locked -q -p medic --test faults -- --exact "$target" >/dev/null
  echo "$target: $cases cases, $(( $(date +%s) - started )) s, no failure"
done
